"""Moves a ``VirtualClock`` with the wall clock, at its rate, on the asyncio loop.

This is the only place that reads the wall clock for the model. One task per
clock; the view extrapolates between ticks from the anchor it was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from .model.clock import ClockState, VirtualClock


def wall_ms() -> float:
    return time.time() * 1000.0


class ClockDriver:
    """Advance ``clock`` so that clock time = anchor + wall elapsed × rate."""

    def __init__(
        self,
        clock: VirtualClock,
        *,
        interval: float = 0.05,
        wall: Callable[[], float] = wall_ms,
    ) -> None:
        self.clock = clock
        self.interval = interval
        self._wall = wall
        self._task: asyncio.Task[None] | None = None
        self._anchoring = False
        self._wall0 = 0.0
        self._clock0 = 0.0
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start ticking on the running loop (the kernel's, in a notebook)."""
        if self.running:
            return
        loop = asyncio.get_running_loop()
        self._unsubscribe = self.clock.on_change(self._on_clock_change, first=True)
        self._reanchor()
        self._task = loop.create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._anchoring = True
        try:
            self.clock.anchor(0.0, driven=False)
        finally:
            self._anchoring = False

    def tick(self) -> None:
        """One step: bring the clock up to the wall clock (public for tests)."""
        if self.clock.paused:
            return
        target = self._clock0 + (self._wall() - self._wall0) / 1000.0 * self.clock.rate
        if target > self.clock.now():
            self.clock.advance_to(target, notify=False)

    async def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(self.interval)
                self.tick()

    def _reanchor(self) -> None:
        self._wall0 = self._wall()
        self._clock0 = self.clock.now()
        self._anchoring = True
        try:
            self.clock.anchor(self._wall0)
        finally:
            self._anchoring = False

    def _on_clock_change(self, _state: ClockState) -> None:
        # pause, resume, rate change or a manual step: restart extrapolation here
        if not self._anchoring:
            self._reanchor()
