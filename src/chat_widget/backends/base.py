"""What every backend offers the widgets: a desk, a clock, and command handling."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

from ..clock_driver import ClockDriver
from ..model import commands as cmd
from ..model.clock import VirtualClock
from ..model.desk import AgentDesk
from ..model.session import ChatSession


class Backend(ABC):
    """A backend serves one agent (``desk``) and many chats."""

    desk: AgentDesk
    clock: VirtualClock
    driver: ClockDriver | None = None

    @abstractmethod
    def handle(self, command: cmd.Command) -> None:
        """Perform a command a session produced."""

    @property
    def virtual_clock(self) -> bool:
        """True when trainers may pause/step/speed the clock (the mock)."""
        return False

    def first_session(self) -> ChatSession | None:
        """The oldest chat on the desk, if any."""
        return next(iter(self.desk.sessions.values()), None)

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

    def close(self) -> None:
        """Stop background work."""
        self.stop_realtime()
