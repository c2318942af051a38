"""One clock abstraction for model, mock backend, widget and server.

The clock never reads the wall clock: time moves only through ``advance`` /
``advance_to``. A ``ClockDriver`` (an I/O layer, see ``chat_widget.clock_driver``)
advances it at a real or sped-up rate; tests and notebooks under nbval
advance it by hand, and scheduled callbacks then fire synchronously, in order.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """What the model needs from time."""

    def now(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> ScheduledCall: ...


@dataclass(frozen=True, slots=True)
class ClockState:
    """What the view needs to draw the timer itself (SPEC section 9)."""

    clock_ms: float
    wall_anchor_ms: float
    rate: float
    paused: bool

    def to_dict(self) -> dict[str, float | bool]:
        return {
            "clock_ms": self.clock_ms,
            "wall_anchor_ms": self.wall_anchor_ms,
            "rate": self.rate,
            "paused": self.paused,
        }


class ScheduledCall:
    """Handle of a scheduled callback; ``cancel()`` prevents it from firing."""

    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


DEFAULT_START = 1_767_603_600.0  # 2026-01-05 09:00:00 UTC: timestamps in trainings look real


class VirtualClock:
    """A controllable clock: pause, step, speed up.

    ``advance(seconds)`` fires every callback scheduled up to the new time, in
    time order (ties in scheduling order), with ``now()`` equal to the
    callback's time while it runs. Callbacks may schedule further callbacks.
    """

    def __init__(self, start: float = DEFAULT_START, *, rate: float = 1.0) -> None:
        if rate <= 0:
            raise ValueError(f"clock rate must be positive, got {rate!r}")
        self._now = float(start)
        self._rate = float(rate)
        self._paused = False
        self._driven = False
        self._wall_anchor_ms = 0.0
        self._anchor_clock = self._now  # clock time at the wall anchor (driver's re-anchor)
        self._queue: list[tuple[float, int, ScheduledCall]] = []
        self._seq = itertools.count()
        self._listeners: list[Callable[[ClockState], None]] = []

    # -- reading -----------------------------------------------------------
    def now(self) -> float:
        return self._now

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def driven(self) -> bool:
        """True while a driver moves this clock with the wall clock."""
        return self._driven

    def state(self) -> ClockState:
        """Clock state for the view; a clock nobody drives looks paused.

        While driven, the pair sent is the one the driver anchored: the clock time *at*
        the wall anchor, not the current clock time (which already includes the wall
        time since the anchor: the view would count that twice and run ahead)."""
        running = self._driven and not self._paused
        return ClockState(
            clock_ms=(self._anchor_clock if running else self._now) * 1000.0,
            wall_anchor_ms=self._wall_anchor_ms,
            rate=self._rate,
            paused=not running,
        )

    def on_change(
        self, listener: Callable[[ClockState], None], *, first: bool = False
    ) -> Callable[[], None]:
        """Call ``listener`` when rate, pause or anchor change (not on every tick).

        ``first``: before the other listeners (the driver re-anchors there, so everyone
        after it reads the new anchor)."""
        if first:
            self._listeners.insert(0, listener)
        else:
            self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- scheduling --------------------------------------------------------
    def call_at(self, when: float, callback: Callable[[], None]) -> ScheduledCall:
        handle = ScheduledCall(max(float(when), self._now), callback)
        heapq.heappush(self._queue, (handle.when, next(self._seq), handle))
        return handle

    def call_later(self, delay: float, callback: Callable[[], None]) -> ScheduledCall:
        return self.call_at(self._now + delay, callback)

    def next_due(self) -> float | None:
        """Clock time of the next pending callback, if any."""
        while self._queue and self._queue[0][2].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0][0] if self._queue else None

    # -- moving ------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing what falls due (works while paused:
        a trainer's "+10 s" step)."""
        if seconds < 0:
            raise ValueError(f"cannot advance the clock backwards ({seconds!r} s)")
        self.advance_to(self._now + seconds)

    def advance_to(self, when: float, *, notify: bool = True) -> None:
        """Move time forward to ``when``, firing what falls due on the way.

        ``notify=False`` is for the driver's own ticks: the view extrapolates
        those from the anchor, so they need no message."""
        if when < self._now:
            raise ValueError(f"cannot move the clock back from {self._now} to {when}")
        while True:
            due = self.next_due()
            if due is None or due > when:
                break
            _, _, handle = heapq.heappop(self._queue)
            self._now = max(self._now, handle.when)
            handle.callback()
        self._now = when
        if notify:
            self._notify()

    def run_until_idle(self, limit: float = 24 * 3600.0) -> None:
        """Advance through every scheduled callback (bounded by ``limit`` seconds)."""
        end = self._now + limit
        while (due := self.next_due()) is not None and due <= end:
            self.advance_to(due, notify=False)
        self._notify()

    # -- control (trainers) -------------------------------------------------
    def pause(self) -> None:
        self._paused = True
        self._notify()

    def resume(self) -> None:
        self._paused = False
        self._notify()

    def set_rate(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"clock rate must be positive, got {rate!r}")
        self._rate = float(rate)
        self._notify()

    def anchor(self, wall_ms: float, *, driven: bool = True) -> None:
        """Driver hook: ``now()`` corresponds to wall time ``wall_ms``."""
        self._wall_anchor_ms = float(wall_ms)
        self._anchor_clock = self._now
        self._driven = driven
        self._notify()

    def notify(self) -> None:
        """Tell listeners the state changed (after a manual step)."""
        self._notify()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener(self.state())  # fresh each time: a listener may have re-anchored
