"""The contact's history on one chat (issue 16): earlier conversations, and their
transcripts once the agent asks for them.

The backend fills ``session.history`` (the server's ``ContactHistory``, or the mock
scenario's ``history:``); ``load_history_transcript`` asks for one transcript (the
command ``GetHistoryTranscript``) unless it is there already or on its way, and the
backend hands it over with ``set_history_transcript``. Read-only: nothing here
changes the current chat or its transcript.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..formats.transcript import Entry
from . import commands as cmd
from .session_input import SessionInput


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One earlier conversation of the same contact (matched on e-mail or phone).

    ``created``: clock seconds; ``agent``: who owned it (a name); ``transcript``: its
    entries once fetched (None until then); ``loading``: asked for, not here yet."""

    conversation: str
    created: float
    state: str = "done"
    agent: str | None = None
    disposition: str | None = None
    notes: tuple[str, ...] = ()
    transcript: tuple[Entry, ...] | None = None
    loading: bool = False

    def to_view(self) -> dict[str, Any]:
        """JSON-ready, times in clock ms (the view state's unit)."""
        return {
            "conversation": self.conversation,
            "created_ms": self.created * 1000.0,
            "state": self.state,
            "agent": self.agent,
            "disposition": self.disposition,
            "notes": list(self.notes),
            "loading": self.loading,
        }


class SessionHistory(SessionInput):
    """``history`` and the transcripts the agent opened, as a layer of the session."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.history: list[HistoryItem] = []

    # ------------------------------------------------------------ queries
    def history_item(self, conversation: str) -> HistoryItem:
        for item in self.history:
            if item.conversation == conversation:
                return item
        raise LookupError(f"{conversation!r} is not in the contact history of chat {self.id!r}")

    # ------------------------------------------------------------ agent acts
    def load_history_transcript(self, conversation: str) -> HistoryItem:
        """Ask for an earlier conversation's transcript (once: a fetched or requested one
        is not asked for again). The view shows it when it arrives."""
        item = self.history_item(conversation)
        if item.transcript is not None or item.loading:
            return item
        item = self._put(replace(item, loading=True))
        self._emit(cmd.GetHistoryTranscript(self.id, conversation))
        self._changed()
        return item

    # ------------------------------------------------------------ backend reports
    def set_history(self, items: Iterable[HistoryItem]) -> None:
        """The contact's earlier conversations, newest first (replaces the list; a
        transcript already fetched is kept)."""
        known = {i.conversation: i for i in self.history}
        fresh: list[HistoryItem] = []
        for item in items:
            old = known.get(item.conversation)
            if old is not None and item.transcript is None and old.transcript is not None:
                item = replace(item, transcript=old.transcript)
            fresh.append(item)
        self.history = fresh
        self._changed()

    def set_history_transcript(self, conversation: str, entries: Sequence[Entry]) -> None:
        """An earlier conversation's transcript arrived."""
        try:
            item = self.history_item(conversation)
        except LookupError:
            return
        self._put(replace(item, transcript=tuple(entries), loading=False))
        self._changed()

    def history_transcript_refused(self, conversation: str) -> None:
        """The transcript did not come (refused): the agent may ask again."""
        try:
            item = self.history_item(conversation)
        except LookupError:
            return
        self._put(replace(item, loading=False))
        self._changed()

    def _put(self, item: HistoryItem) -> HistoryItem:
        self.history = [item if i.conversation == item.conversation else i for i in self.history]
        return item
