"""Routing: which ready agent is offered which waiting chat, and who owns it.

Sans-I/O and single-threaded: it keeps presence and offers in memory, takes
time only from the injected clock (re-offer timeouts are clock callbacks),
and tells the outside world through two callbacks. ``try_accept`` checks and
takes the offer in one synchronous step, so two agents can never both own a
chat. (With several server processes that step moves into the store as a
compare-and-set on the conversation row; callers do not change.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..model.clock import Clock, ScheduledCall

OfferSink = Callable[[str, str, float], None]  # agent_id, conversation, expires_at
RevokeSink = Callable[[str, str, str], None]  # agent_id, conversation, reason


@dataclass(slots=True)
class AgentPresence:
    ready: bool = False
    online: int = 0  # open authenticated connections
    active: set[str] = field(default_factory=set)  # owned chats not yet ended
    offered: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Offer:
    agent: str
    expires_at: float
    handle: ScheduledCall


class Router:
    """Offers each waiting chat to one ready agent at a time (F1).

    A reject passes the chat on at once; an unanswered offer is revoked and
    passed on after ``offer_timeout`` seconds. An agent who had it is skipped
    until every ready agent had a turn; then a new round starts with anyone
    but the last holder. If the last holder is the only ready agent, it gets
    the chat again ``offer_timeout`` later, so a chat never waits forever
    while someone is ready.
    """

    def __init__(
        self,
        clock: Clock,
        send_offer: OfferSink,
        revoke_offer: RevokeSink,
        *,
        offer_timeout: float = 20.0,
        capacity: int = 3,
    ) -> None:
        self.clock = clock
        self.offer_timeout = offer_timeout
        self.capacity = capacity
        self._send_offer = send_offer
        self._revoke_offer = revoke_offer
        self.agents: dict[str, AgentPresence] = {}
        self.waiting: deque[str] = deque()
        self.offers: dict[str, _Offer] = {}
        self.owners: dict[str, str] = {}
        self._tried: dict[str, set[str]] = {}
        self._retry: dict[str, ScheduledCall] = {}
        self._last: dict[str, str] = {}  # who had the latest offer of a chat
        self._turn = 0

    # -- presence ----------------------------------------------------------------
    def _agent(self, agent_id: str) -> AgentPresence:
        return self.agents.setdefault(agent_id, AgentPresence())

    def agent_connected(self, agent_id: str, ready: bool) -> None:
        agent = self._agent(agent_id)
        agent.online += 1
        agent.ready = ready
        self.dispatch()

    def agent_disconnected(self, agent_id: str) -> None:
        agent = self._agent(agent_id)
        agent.online = max(0, agent.online - 1)
        if agent.online == 0:
            agent.ready = False
            for conv in list(agent.offered):
                self._withdraw(conv, "agent disconnected", requeue=True)
            self.dispatch()

    def set_ready(self, agent_id: str, ready: bool) -> None:
        agent = self._agent(agent_id)
        agent.ready = ready and agent.online > 0
        if not agent.ready:
            for conv in list(agent.offered):
                self._withdraw(conv, "agent not ready", requeue=True)
        self.dispatch()

    # -- chats -------------------------------------------------------------------
    def enqueue(self, conversation: str) -> None:
        """A chat waits for an agent (new, or restored after a restart)."""
        if conversation in self.owners or conversation in self.offers:
            return
        if conversation not in self.waiting:
            self.waiting.append(conversation)
        self.dispatch()

    def restore_owner(self, conversation: str, agent_id: str) -> None:
        """After a restart: ``agent_id`` owns this chat (it is active)."""
        self.owners[conversation] = agent_id
        self._agent(agent_id).active.add(conversation)

    def reject(self, agent_id: str, conversation: str) -> bool:
        offer = self.offers.get(conversation)
        if offer is None or offer.agent != agent_id:
            return False
        self._withdraw(conversation, "rejected", requeue=True, notify=False)
        self.dispatch()
        return True

    def try_accept(self, agent_id: str, conversation: str) -> bool:
        """Take the offer if it is still this agent's; atomic (no await inside)."""
        offer = self.offers.get(conversation)
        if offer is None or offer.agent != agent_id:
            return False
        offer.handle.cancel()
        del self.offers[conversation]
        agent = self._agent(agent_id)
        agent.offered.discard(conversation)
        agent.active.add(conversation)
        self.owners[conversation] = agent_id
        self._forget(conversation)
        return True

    def finish(self, conversation: str) -> None:
        """The chat ended (or was abandoned before anyone took it)."""
        owner = self.owners.pop(conversation, None)
        if owner is not None:
            self._agent(owner).active.discard(conversation)
        if conversation in self.offers:
            self._withdraw(conversation, "chat ended", requeue=False)
        if conversation in self.waiting:
            self.waiting.remove(conversation)
        self._forget(conversation)
        self.dispatch()

    def owner(self, conversation: str) -> str | None:
        return self.owners.get(conversation)

    def offered_to(self, conversation: str) -> str | None:
        offer = self.offers.get(conversation)
        return None if offer is None else offer.agent

    # -- internal ----------------------------------------------------------------
    def _forget(self, conversation: str) -> None:
        self._tried.pop(conversation, None)
        self._last.pop(conversation, None)
        retry = self._retry.pop(conversation, None)
        if retry is not None:
            retry.cancel()

    def _withdraw(
        self, conversation: str, reason: str, *, requeue: bool, notify: bool = True
    ) -> None:
        offer = self.offers.pop(conversation, None)
        if offer is None:
            return
        offer.handle.cancel()
        self._agent(offer.agent).offered.discard(conversation)
        self._tried.setdefault(conversation, set()).add(offer.agent)
        self._last[conversation] = offer.agent
        if notify:
            self._revoke_offer(offer.agent, conversation, reason)
        if requeue and conversation not in self.waiting:
            self.waiting.appendleft(conversation)

    def _expire(self, conversation: str, agent_id: str) -> None:
        offer = self.offers.get(conversation)
        if offer is not None and offer.agent == agent_id:
            self._withdraw(conversation, "offer timed out", requeue=True)
            self.dispatch()

    def _expiry(self, conversation: str, agent_id: str) -> Callable[[], None]:
        return lambda: self._expire(conversation, agent_id)

    def _free(self, agent_id: str, agent: AgentPresence) -> bool:
        return (
            agent.ready
            and agent.online > 0
            and (len(agent.active) + len(agent.offered) < self.capacity)
        )

    def _pick(self, conversation: str) -> str | None:
        tried = self._tried.get(conversation, set())
        free_all = [a for a, p in self.agents.items() if self._free(a, p)]
        free = [a for a in free_all if a not in tried]
        if not free:
            # everyone had a turn: a new round, but not straight back to the last holder
            last = self._last.get(conversation)
            free = [a for a in free_all if a != last]
            if not free:
                return None
            self._tried[conversation] = {last} if last else set()
        # least loaded first; ties rotate so equal agents share the work
        free.sort()
        self._turn += 1
        start = self._turn % len(free)
        rotated = free[start:] + free[:start]
        return min(rotated, key=lambda a: len(self.agents[a].active) + len(self.agents[a].offered))

    def dispatch(self) -> None:
        """Offer waiting chats, oldest first, to free agents."""
        for _ in range(len(self.waiting)):
            conversation = self.waiting.popleft()
            agent_id = self._pick(conversation)
            if agent_id is None:
                self.waiting.append(conversation)
                self._schedule_retry(conversation)
                continue
            expires = self.clock.now() + self.offer_timeout
            handle = self.clock.call_at(expires, self._expiry(conversation, agent_id))
            self.offers[conversation] = _Offer(agent_id, expires, handle)
            self._agent(agent_id).offered.add(conversation)
            self._send_offer(agent_id, conversation, expires)

    def _schedule_retry(self, conversation: str) -> None:
        """Only the last holder is free: offer again after ``offer_timeout``."""
        if conversation not in self._last or conversation in self._retry:
            return

        def again() -> None:
            self._retry.pop(conversation, None)
            self._tried.pop(conversation, None)
            self._last.pop(conversation, None)
            self.dispatch()

        self._retry[conversation] = self.clock.call_at(self.clock.now() + self.offer_timeout, again)
