"""What every backend offers the widgets: a desk, a clock, and command handling."""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..model import commands as cmd
from ..model.clock import VirtualClock
from ..model.desk import AgentDesk
from ..model.session import ChatSession


class Backend(ABC):
    """A backend serves one agent (``desk``) and many chats."""

    desk: AgentDesk
    clock: VirtualClock

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

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop background work."""
