"""One peer's subscription to one conversation: exactly-once, audience-filtered delivery."""

from __future__ import annotations

from collections import deque

from ..formats import protocol as p
from .peer import Peer
from .store import StoredEvent

CONSULT_EVENTS = frozenset({"ConsultMessage", "ConsultationState"})


class Feed:
    """One peer's subscription to one conversation, with exactly-once delivery.

    ``agent``: deliver only events whose audience names this agent, or history
    up to seq ``history`` (None: every event, the agents' view before issue 6, and
    the supervisors' view). Supervision events (coaching, monitoring, help flags) reach
    an agent only by their audience, never as history, and never a customer.

    While the backlog streams (``replaying``), live events wait in ``buffer``;
    if more than the peer's send-queue limit pile up there, the buffer is
    dropped (``lost``) and the replay reads them from the store instead (every
    published event is already committed), so a long replay never closes a
    reader that keeps reading."""

    def __init__(
        self,
        peer: Peer,
        agents_view: bool,
        high: int,
        agent: str | None = None,
        history: int = 0,
    ) -> None:
        self.peer = peer
        self.agents_view = agents_view
        self.agent = agent
        self.history = history
        self.high = high
        self.replaying = True
        self.lost = False
        self.stopped = False
        self.buffer: deque[StoredEvent] = deque()

    def on_event(self, event: StoredEvent) -> None:
        if self.replaying:
            if len(self.buffer) >= self.peer.limit:
                self.buffer.clear()
                self.lost = True
            else:
                self.buffer.append(event)
        else:
            self.deliver(event)

    def wants(self, event: StoredEvent) -> bool:
        """Whether ``event`` is new for this feed and visible to its peer (moves ``high``)."""
        if event.seq <= self.high:
            return False
        self.high = event.seq
        if self.agents_view:
            if self.agent is None or event.audience is None or self.agent in event.audience:
                return True
            return event.seq <= self.history and event.type not in p.SUPERVISION_EVENTS
        return (
            event.visibility == p.Visibility.ALL
            and event.type not in CONSULT_EVENTS
            and event.type not in p.SUPERVISION_EVENTS
        )

    def deliver(self, event: StoredEvent) -> None:
        if self.wants(event):
            self.peer.push(event.body)

    def go_live(self) -> None:
        """End the replay at once, delivering what was buffered (no flow control)."""
        self.replaying = False
        buffered, self.buffer = self.buffer, deque()
        for event in buffered:
            self.deliver(event)
