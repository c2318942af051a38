"""``FailedChats``: how a group-commit writer keeps a conversation's seqs without gaps.

Both writers (SQLite, PostgreSQL) batch what is queued into one transaction. When
an event fails, the later events of the same conversation already queued behind
it must fail too (``RolledBack``): storing them would leave a gap at the failed
seq. The event log reuses the failed seq for the next event of that
conversation, which clears the mark. One rule, shared, so the two stores cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence

from .store import RolledBack, StoredEvent


class FailedChats:
    """conversation -> seq of its failed event, until that seq is written again."""

    def __init__(self) -> None:
        self.failed: dict[str, int] = {}

    def triage(
        self, events: Sequence[StoredEvent | None]
    ) -> tuple[list[BaseException | None], list[int]]:
        """Before a batch: the error of each write known already (queued behind a failed
        event of its chat) and the indices of the writes to attempt."""
        errors: list[BaseException | None] = [None] * len(events)
        todo: list[int] = []
        for i, e in enumerate(events):
            if e is not None and e.conversation in self.failed:
                failed = self.failed[e.conversation]
                if e.seq > failed:
                    errors[i] = RolledBack(
                        f"event {failed} of {e.conversation} failed; {e.seq} was not stored"
                    )
                    continue
                del self.failed[e.conversation]  # the failed seq, written again
            todo.append(i)
        return errors, todo

    def blocked(self, event: StoredEvent | None) -> RolledBack | None:
        """Row by row after a bad row: an event behind a failed one of its chat fails."""
        if event is not None and event.conversation in self.failed:
            return RolledBack(f"an earlier event of {event.conversation} failed")
        return None

    def mark(self, event: StoredEvent | None) -> None:
        """``event`` was not stored: its chat's later events must not be either."""
        if event is not None:
            self.failed[event.conversation] = event.seq

    def snapshot(self) -> dict[str, int]:
        return dict(self.failed)

    def fail_all(
        self,
        events: Sequence[StoredEvent | None],
        todo: Sequence[int],
        errors: list[BaseException | None],
        error: BaseException,
        before: dict[str, int],
    ) -> None:
        """The whole transaction failed: back to the marks from ``before`` it, then every
        attempted write fails with ``error`` (or ``RolledBack`` behind its chat's first)."""
        self.failed = dict(before)
        for i in todo:
            blocked = self.blocked(events[i])
            if blocked is not None:
                errors[i] = blocked
            else:
                errors[i] = error
                self.mark(events[i])
