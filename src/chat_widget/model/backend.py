"""The interface a widget reaches a backend through (SPEC 5: widget → model ← backends).

A backend serves one agent (``desk``) and many chats on one clock. The widget asks
it what it can do (``virtual_clock``, ``replay``) instead of asking what class it
is, so the widget imports no backend; ``backends.base.Backend`` adds the I/O part
every backend shares (the wall-clock driver).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from . import commands as cmd
from .clock import VirtualClock
from .desk import AgentDesk
from .session import ChatSession


@runtime_checkable
class Replay(Protocol):
    """A stored chat played back: the view's timeline and its controls."""

    def view_state(self) -> dict[str, Any]:
        """What the view's timeline needs (times in clock ms)."""

    def perform(self, name: str, args: Mapping[str, Any]) -> None:
        """Run a ``replay_*`` action of the view."""

    def subscribe(self, listener: Callable[[str, Any], None]) -> Callable[[], None]:
        """``listener("session", new_session)`` after a seek back rebuilt the chat."""

    def seek(self, t: float) -> Any:
        """Show the chat as it was at clock time ``t``."""


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

    @property
    def replay(self) -> Replay | None:
        """The replay controls when this backend plays a stored chat back, else None
        (then the widget follows the agent's chats and shows the agent's controls)."""
        return self if isinstance(self, Replay) else None

    def first_session(self) -> ChatSession | None:
        """The oldest chat on the desk, if any."""
        return next(iter(self.desk.sessions.values()), None)

    @abstractmethod
    def start_realtime(self) -> bool:
        """Let the clock run with the wall clock; False when it cannot (no running loop)."""

    @abstractmethod
    def stop_realtime(self) -> None:
        """Stop moving the clock with the wall clock."""

    def close(self) -> None:
        """Stop background work."""
        self.stop_realtime()
