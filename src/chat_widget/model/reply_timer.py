"""The reply-reminder timer (F2), one rule for the widget, the server and analysis.

A wait starts when the chat is accepted and at every contact message that
arrives while no wait is running; a reply (a message or pushed URL from an
agent, or a supervisor who barged in, that the contact can see) ends it.
Coaching (agents-only) is never a reply. Colours: green until
``yellow_after`` seconds, yellow until ``red_after``, then red and blinking.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from enum import StrEnum

from ..formats.transcript import Entry, Kind, Role, Visibility


class TimerColour(StrEnum):
    IDLE = "idle"
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Seconds without a reply before the indicator turns yellow, then red.

    Defaults 30 s / 60 s: the seed's agent desktop configures two thresholds in
    seconds and gives no values; these are the customary ones.
    """

    yellow_after: float = 30.0
    red_after: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.yellow_after < self.red_after:
            raise ValueError(
                "thresholds need 0 < yellow_after < red_after, got "
                f"yellow_after={self.yellow_after!r}, red_after={self.red_after!r}"
            )


def is_reply(entry: Entry) -> bool:
    """Does this entry reset the timer? (SPEC 9: visible agent message or pushed URL.)"""
    return is_reply_kind(entry.sender.role, entry.kind, entry.visibility)


def starts_wait(entry: Entry) -> bool:
    """Does this entry start a wait when none is running? (A contact message.)"""
    return starts_wait_kind(entry.sender.role, entry.kind, entry.visibility)


def is_reply_kind(role: Role, kind: Kind, visibility: Visibility) -> bool:
    """The reply rule on the three fields it depends on.

    Analysis classifies whole columns by calling this (and ``starts_wait_kind``)
    once per (role, kind, visibility) combination: one rule, not two. Keep the
    rule a function of these three fields only.
    """
    return (
        role in (Role.AGENT, Role.SUPERVISOR)  # a supervisor who barged in answers too
        and kind in (Kind.MESSAGE, Kind.PUSH_URL)
        and visibility is Visibility.ALL
    )


def starts_wait_kind(role: Role, kind: Kind, visibility: Visibility) -> bool:
    """The wait-start rule on the fields it depends on (see ``is_reply_kind``)."""
    return role is Role.CONTACT and kind is Kind.MESSAGE


def colour_for_elapsed(elapsed: float, thresholds: Thresholds) -> TimerColour:
    """Colour after ``elapsed`` seconds of waiting; exactly at a threshold it has turned."""
    if elapsed < thresholds.yellow_after:
        return TimerColour.GREEN
    if elapsed < thresholds.red_after:
        return TimerColour.YELLOW
    return TimerColour.RED


class ReplyTimer:
    """Remembers when each wait started and ended, so it can answer for any time."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        # change points: (time, wait start or None), times non-decreasing
        self._times: list[float] = []
        self._starts: list[float | None] = []

    @property
    def pending_since(self) -> float | None:
        """Start of the running wait, or None when no reply is due."""
        return self._starts[-1] if self._starts else None

    @property
    def last_change(self) -> float:
        """Time of the last start or stop (-inf before any): later events come after."""
        return self._times[-1] if self._times else float("-inf")

    def start(self, t: float) -> None:
        """A wait starts at ``t`` (accept); no-op when one is running. A time before the
        last change (the server's clock a few ms behind the kernel's) counts from it."""
        if self.pending_since is None:
            t = max(t, self.last_change)
            self._set(t, t)

    def stop(self, t: float) -> None:
        """A reply at ``t`` (or the chat ended or was handed over): no wait any more. A
        time before the last change counts from it, as in ``start``."""
        if self.pending_since is not None:
            self._set(max(t, self.last_change), None)

    def observe(self, entry: Entry) -> None:
        """Apply the reply rule to a transcript entry (stamped with the server's time,
        which may lie before the last change: ``start``/``stop`` count from that)."""
        if is_reply(entry):
            self.stop(entry.time)
        elif starts_wait(entry):
            self.start(entry.time)

    def pending_at(self, t: float) -> float | None:
        """Start of the wait running at time ``t``, if any."""
        i = bisect_right(self._times, t) - 1
        return self._starts[i] if i >= 0 else None

    def colour_at(self, t: float) -> TimerColour:
        since = self.pending_at(t)
        if since is None:
            return TimerColour.IDLE
        return colour_for_elapsed(t - since, self.thresholds)

    def waits(self) -> list[tuple[float, float | None]]:
        """Every wait as (start, end); end None while still running."""
        out: list[tuple[float, float | None]] = []
        for t, start in zip(self._times, self._starts, strict=True):
            if out and out[-1][1] is None and (start is None or start != out[-1][0]):
                # a reply at t ends the wait; a new start at the same t overwrote the
                # reply's change point (``_set``), so it ends the wait too
                out[-1] = (out[-1][0], t)
            if start is not None and not (out and out[-1] == (start, None)):
                out.append((start, None))
        return out

    def _set(self, t: float, start: float | None) -> None:
        if self._times and t < self._times[-1]:
            raise ValueError(f"timer events must not go back in time ({t} < {self._times[-1]})")
        if self._times and self._times[-1] == t:
            self._starts[-1] = start
        else:
            self._times.append(t)
            self._starts.append(start)
