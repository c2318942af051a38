"""The model's backend interface (``model.backend``) plus the wall-clock driver every
backend shares: backends subclass this ``Backend``; widgets use the interface only."""

from __future__ import annotations

import asyncio

from ..clock_driver import ClockDriver
from ..model import backend
from ..model.backend import Replay
from ..model.clock import VirtualClock

__all__ = ["Backend", "RealtimeClock", "Replay"]


class RealtimeClock:
    """Moves ``self.clock`` with the wall clock on the running loop (agents' backends,
    the supervisor's, the mock team)."""

    clock: VirtualClock
    driver: ClockDriver | None = None

    def start_realtime(self) -> bool:
        """Let the clock run with the wall clock on the running loop (the kernel's);
        False when there is no running loop (then move the clock by hand)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        if self.driver is None:
            self.driver = ClockDriver(self.clock)
        self.driver.start()
        return True

    def stop_realtime(self) -> None:
        if self.driver is not None:
            self.driver.stop()


class Backend(RealtimeClock, backend.Backend):
    """A backend serves one agent (``desk``) and many chats."""
