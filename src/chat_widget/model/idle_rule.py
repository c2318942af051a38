"""The customer idle rule (issue 16), one rule for the server and the mock.

The agent waits for the customer when the last visible message is the agent's
(or a barged-in supervisor's): the reply rule of ``reply_timer`` says which
entries answer the customer (``is_reply_kind``) and which are the customer's
(``starts_wait_kind``). From the first such reply after the customer last
wrote, ``alert_after`` seconds without a customer message bring the alert;
``close_after`` more close the chat. A customer message resets; nothing runs
before accept, while the customer waits for the agent, or after the end.

Sans-I/O: the owner feeds what happens (with its clock times), asks for the
next deadline, schedules it on its own clock, and calls ``fire`` when it comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..formats.transcript import Kind, Role, Visibility
from .reply_timer import is_reply_kind, starts_wait_kind


class IdleStep(StrEnum):
    """What a deadline brings."""

    ALERT = "alert"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class IdleTimes:
    """Seconds of customer silence before the alert, and after it before the close.

    ``None`` switches a step off; without an alert the close counts from the start
    of the wait. An alert needs a close: it tells the customer when the chat closes.
    """

    alert_after: float | None = None
    close_after: float | None = None

    def __post_init__(self) -> None:
        for name in ("alert_after", "close_after"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"idle {name} must be positive, got {value!r}")
        if self.alert_after is not None and self.close_after is None:
            raise ValueError(
                "an idle alert needs idle close_after: the alert says when the chat closes"
            )

    @property
    def enabled(self) -> bool:
        return self.alert_after is not None or self.close_after is not None

    @property
    def closes_in(self) -> int:
        """Whole seconds the alert announces (``IdleAlert.closesIn``), rounded up."""
        return -int(-(self.close_after or 0) // 1)


class IdleRule:
    """One chat's idle timers: feed it events, ask ``next_deadline``, call ``fire``."""

    def __init__(self, times: IdleTimes) -> None:
        self.times = times
        self.accepted = False
        self.ended = False
        self.waiting_since: float | None = None  # the agent waits for the customer since
        self.alerted_at: float | None = None  # when the running wait's alert was given

    # -- what happens in the chat ------------------------------------------------------
    def accept(self, t: float) -> None:
        """An agent accepted the chat: the customer waits for the agent, nothing runs yet."""
        self.accepted = True

    def message(self, role: Role, kind: Kind, visibility: Visibility, t: float) -> None:
        """A transcript entry at ``t``: a reply starts the wait (if none runs), a customer
        message resets; anything else (notices, coaching, consultations) changes nothing."""
        if not self.accepted or self.ended:
            return
        if starts_wait_kind(role, kind, visibility):
            self.waiting_since = None
            self.alerted_at = None
        elif is_reply_kind(role, kind, visibility) and self.waiting_since is None:
            self.waiting_since = t

    def alerted(self, t: float) -> None:
        """The alert was given at ``t`` (a store read back after a restart: not twice;
        the close counts from it)."""
        if self.waiting_since is not None and self.times.alert_after is not None:
            self.alerted_at = t

    def end(self) -> None:
        """The chat ended (any way): nothing runs any more."""
        self.ended = True
        self.waiting_since = None

    # -- deadlines ---------------------------------------------------------------------
    @property
    def alert_at(self) -> float | None:
        if self.waiting_since is None or self.times.alert_after is None:
            return None
        return self.waiting_since + self.times.alert_after

    @property
    def close_at(self) -> float | None:
        if self.waiting_since is None or self.times.close_after is None:
            return None
        if self.alerted_at is not None:  # late (a restart): the customer still gets it all
            return self.alerted_at + self.times.close_after
        return self.waiting_since + (self.times.alert_after or 0.0) + self.times.close_after

    def next_deadline(self) -> tuple[float, IdleStep] | None:
        """The next step still to come and its time, or None when nothing runs."""
        alert = self.alert_at
        if alert is not None and self.alerted_at is None:
            return alert, IdleStep.ALERT
        close = self.close_at
        return None if close is None else (close, IdleStep.CLOSE)

    def fire(self, now: float) -> IdleStep | None:
        """The step due at ``now`` (and it counts as given), or None if none is due
        (a customer message reset the wait since it was scheduled)."""
        due = self.next_deadline()
        if due is None or due[0] > now:
            return None
        if due[1] is IdleStep.ALERT:
            self.alerted_at = now
        else:
            self.end()
        return due[1]
