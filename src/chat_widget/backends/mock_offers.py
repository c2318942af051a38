"""How the mock's scenario offers reach the desk: capacity and auto-answer (issue 16).

``MockBackend(..., capacity=N)``: a scenario offer that comes while the agent has
``N`` active chats (offered, accepted, or ended but not yet done) waits, and is
offered as soon as one of them is done, declined, ignored or transferred, oldest
first, as the server's router does. With auto-answer the desk accepts the offer
itself; the scripted customer then starts as if the agent had clicked Accept.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from ..model import commands as cmd
from ..model.session import SessionState
from .scenario import Scenario

if TYPE_CHECKING:
    from .mock import MockBackend


class OfferGate:
    """Lets scenario offers through while the agent has room (``capacity``; None: always)."""

    def __init__(self, backend: MockBackend, capacity: int | None) -> None:
        if capacity is not None and capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity!r}")
        self.backend = backend
        self.capacity = capacity
        self.waiting: deque[Scenario] = deque()  # offers held back, oldest first
        self._offering = False
        backend.desk.subscribe(self._on_desk)

    def arrive(self, scenario: Scenario) -> None:
        """A scenario's offer is due: offer it now, or hold it until there is room."""
        self.waiting.append(scenario)
        self._release()

    def _room(self) -> bool:
        active = len(self.backend.desk.active_sessions())
        return self.capacity is None or active < self.capacity

    def _release(self) -> None:
        if self._offering:  # an offer in progress changes the desk: no nested offers
            return
        self._offering = True
        try:
            while self.waiting and self._room():
                self._offer(self.waiting.popleft())
        finally:
            self._offering = False

    def _offer(self, scenario: Scenario) -> None:
        backend = self.backend
        before = set(backend.desk.sessions)
        backend._offer(scenario)
        for session_id in backend.desk.sessions.keys() - before:
            if backend.desk.sessions[session_id].state is SessionState.ACCEPTED:
                # auto-answered inside ``desk.offer``, before the customer existed
                backend.handle(cmd.Accept(session_id))

    def _on_desk(self, change: str, payload: Any) -> None:
        if change == "session" and self.waiting:
            self._release()
