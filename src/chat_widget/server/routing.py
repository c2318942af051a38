"""Routing: which ready agent is offered which waiting chat, and who owns it.

Sans-I/O and single-threaded: it keeps presence and offers in memory, takes
time only from the injected clock (re-offer timeouts are clock callbacks),
and tells the outside world through callbacks. It is the one owner of who is
in a chat (``members``): the service asks it, never keeps a copy. ``try_accept`` checks and
takes the offer in one synchronous step, so two agents can never both own a
chat. (With several server processes that step moves into the store as a
compare-and-set on the conversation row; callers do not change.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from ..model.clock import Clock, ScheduledCall

OfferSink = Callable[[str, str, float], None]  # agent_id, conversation, expires_at
RevokeSink = Callable[[str, str, str], None]  # agent_id, conversation, reason
DeclineSink = Callable[[str, "OfferKind", str, str], None]  # conversation, kind, target, reason


class OfferKind(StrEnum):
    """What an offer hands an agent: a new chat, a transferred one, a conference seat."""

    CHAT = "chat"
    TRANSFER = "transfer"
    CONFERENCE = "conference"


CHAT, TRANSFER, CONFERENCE = OfferKind.CHAT, OfferKind.TRANSFER, OfferKind.CONFERENCE


@dataclass(slots=True)
class Handover:
    """A pending transfer (F5) or conference invitation (F6) of an owned chat."""

    kind: OfferKind  # TRANSFER | CONFERENCE
    from_agent: str
    target_kind: str  # "agent" | "queue"
    target_id: str
    note: str | None = None
    skill: str = ""  # queue transfers: agents with this skill ("" = anyone)


@dataclass(slots=True)
class AgentPresence:
    ready: bool = False
    online: int = 0  # open authenticated connections
    active: set[str] = field(default_factory=set)  # owned chats not yet ended
    offered: set[str] = field(default_factory=set)
    skills: frozenset[str] = frozenset()
    capacity: int | None = None  # chats at a time (issue 16); None: the router's default


@dataclass(slots=True)
class _Offer:
    agent: str
    expires_at: float
    handle: ScheduledCall
    kind: OfferKind = CHAT


class Router:
    """Offers each waiting chat to one ready agent at a time (F1), never beyond the
    agent's capacity (its own, issue 16, else ``capacity``).

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
        declined: DeclineSink | None = None,
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
        self._declined = declined or (lambda conv, kind, target, reason: None)
        self.handovers: dict[str, Handover] = {}
        self.transfer_waiting: deque[str] = deque()  # queue transfers waiting for an agent
        self.conference: dict[str, str] = {}  # chat -> the second agent
        self.wrapping: dict[str, list[str]] = {}  # ended chat -> the agents who wrap it up

    # -- presence ----------------------------------------------------------------
    def _agent(self, agent_id: str) -> AgentPresence:
        return self.agents.setdefault(agent_id, AgentPresence())

    def agent_connected(
        self,
        agent_id: str,
        ready: bool,
        skills: frozenset[str] | None = None,
        capacity: int | None = None,
    ) -> None:
        """``capacity``: this agent's chats at a time (None: the router's ``capacity``)."""
        agent = self._agent(agent_id)
        if skills is not None:
            agent.skills = skills
        agent.capacity = capacity
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

    def restore_wrap_up(self, conversation: str, agent_id: str) -> None:
        """After a restart: ``agent_id`` wraps up this ended chat."""
        self.wrapping[conversation] = [agent_id]

    def reject(self, agent_id: str, conversation: str) -> bool:
        offer = self.offers.get(conversation)
        if offer is None or offer.agent != agent_id:
            return False
        self._withdraw(conversation, "rejected", requeue=True, notify=False)
        self.dispatch()
        return True

    def try_accept(self, agent_id: str, conversation: str) -> OfferKind | None:
        """Take the offer if it is still this agent's; atomic (no await inside).

        Returns the offer's kind (``chat``, ``transfer``, ``conference``) or None."""
        offer = self.offers.get(conversation)
        if offer is None or offer.agent != agent_id:
            return None
        offer.handle.cancel()
        del self.offers[conversation]
        agent = self._agent(agent_id)
        agent.offered.discard(conversation)
        agent.active.add(conversation)
        self._forget(conversation)
        if offer.kind == CONFERENCE:
            self.handovers.pop(conversation, None)
            self.conference[conversation] = agent_id
        else:
            if offer.kind == TRANSFER:
                self.handovers.pop(conversation, None)
                previous = self.owners.get(conversation)
                if previous is not None and previous != agent_id:
                    self._agent(previous).active.discard(conversation)
            self.owners[conversation] = agent_id
        return offer.kind

    # -- owned chats: transfer, conference (issue 6) ------------------------------
    def request_transfer(
        self,
        conversation: str,
        from_agent: str,
        target_kind: str,
        target_id: str,
        note: str | None = None,
        skill: str = "",
    ) -> None:
        """Hand an owned chat to an agent or a queue; raises ValueError when not possible."""
        self._check_handover(conversation, from_agent, "transfer")
        if conversation in self.conference:
            raise ValueError("leave the conference instead of transferring")
        if target_kind == "agent" and target_id == from_agent:
            raise ValueError("that is you")
        h = Handover(TRANSFER, from_agent, target_kind, target_id, note, skill)
        self.handovers[conversation] = h
        if target_kind == "agent":
            self._offer_direct(conversation, h)
        else:
            self._tried[conversation] = {from_agent}
            self.transfer_waiting.append(conversation)
            self.dispatch()

    def invite(self, conversation: str, from_agent: str, target_id: str) -> None:
        """Offer a conference seat (F6) to ``target_id``."""
        self._check_handover(conversation, from_agent, "invite")
        if conversation in self.conference:
            raise ValueError("there is a conference already")
        if target_id == from_agent:
            raise ValueError("that is you")
        h = Handover(CONFERENCE, from_agent, "agent", target_id)
        self.handovers[conversation] = h
        self._offer_direct(conversation, h)

    def cancel_handover(self, conversation: str, reason: str = "cancelled") -> bool:
        h = self.handovers.pop(conversation, None)
        if h is None:
            return False
        if conversation in self.transfer_waiting:
            self.transfer_waiting.remove(conversation)
        if conversation in self.offers:
            self._withdraw(conversation, reason, requeue=False)
        self._forget(conversation)
        self.dispatch()
        return True

    def leave(self, conversation: str, agent_id: str) -> str | None:
        """An agent of a conference leaves; returns who owns the chat now (None: no change)."""
        other = self.conference.get(conversation)
        owner = self.owners.get(conversation)
        if other is None or agent_id not in (other, owner):
            return None
        del self.conference[conversation]
        self._agent(agent_id).active.discard(conversation)
        if agent_id == owner:
            self.owners[conversation] = other
        self.dispatch()
        return self.owners[conversation]

    def members(self, conversation: str) -> list[str]:
        """Agents in the chat: the owner first, then the conference colleague; after
        ``finish``, the agents who wrap it up, until ``release``."""
        wrapping = self.wrapping.get(conversation)
        if wrapping is not None:
            return list(wrapping)
        out = [a for a in (self.owners.get(conversation),) if a is not None]
        other = self.conference.get(conversation)
        if other is not None:
            out.append(other)
        return out

    def _check_handover(self, conversation: str, from_agent: str, what: str) -> None:
        if self.owners.get(conversation) != from_agent:
            raise ValueError(f"only the owner of the chat can {what}")
        if conversation in self.handovers:
            raise ValueError("a transfer or invitation is pending already")

    def _offer_direct(self, conversation: str, h: Handover) -> None:
        target = self.agents.get(h.target_id)
        if target is None or target.online == 0 or not target.ready:
            state = "offline" if target is None or target.online == 0 else "not ready"
            del self.handovers[conversation]
            self._declined(conversation, h.kind, h.target_id, f"{h.target_id} is {state}")
            return
        self._make_offer(conversation, h.target_id, h.kind)

    def _make_offer(self, conversation: str, agent_id: str, kind: OfferKind) -> None:
        expires = self.clock.now() + self.offer_timeout
        handle = self.clock.call_at(expires, self._expiry(conversation, agent_id))
        self.offers[conversation] = _Offer(agent_id, expires, handle, kind)
        self._agent(agent_id).offered.add(conversation)
        self._send_offer(agent_id, conversation, expires)

    def finish(self, conversation: str) -> None:
        """The chat ended (or was abandoned before anyone took it): its agents are free
        for new chats and stay its members for the wrap-up."""
        members = self.members(conversation)
        if members:
            self.wrapping[conversation] = members
        self.handovers.pop(conversation, None)
        if conversation in self.transfer_waiting:
            self.transfer_waiting.remove(conversation)
        other = self.conference.pop(conversation, None)
        if other is not None:
            self._agent(other).active.discard(conversation)
        owner = self.owners.pop(conversation, None)
        if owner is not None:
            self._agent(owner).active.discard(conversation)
        if conversation in self.offers:
            self._withdraw(conversation, "chat ended", requeue=False)
        if conversation in self.waiting:
            self.waiting.remove(conversation)
        self._forget(conversation)
        self.dispatch()

    def release(self, conversation: str) -> None:
        """The chat is done: forget who wrapped it up."""
        self.wrapping.pop(conversation, None)

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
        if offer.kind != CHAT:
            h = self.handovers.get(conversation)
            if not requeue or h is None:
                return
            if h.target_kind == "queue":
                if conversation not in self.transfer_waiting:
                    self.transfer_waiting.appendleft(conversation)
            else:  # a direct transfer/invitation ends with the first answer
                del self.handovers[conversation]
                self._forget(conversation)
                self._declined(conversation, h.kind, h.target_id, reason)
            return
        if requeue and conversation not in self.waiting:
            self.waiting.appendleft(conversation)

    def _expire(self, conversation: str, agent_id: str) -> None:
        offer = self.offers.get(conversation)
        if offer is not None and offer.agent == agent_id:
            self._withdraw(conversation, "offer timed out", requeue=True)
            self.dispatch()

    def _expiry(self, conversation: str, agent_id: str) -> Callable[[], None]:
        return lambda: self._expire(conversation, agent_id)

    def capacity_of(self, agent_id: str) -> int:
        """How many chats (active or offered) the agent takes at a time."""
        agent = self.agents.get(agent_id)
        own = None if agent is None else agent.capacity
        return self.capacity if own is None else own

    def _free(self, agent_id: str, agent: AgentPresence) -> bool:
        return (
            agent.ready
            and agent.online > 0
            and (len(agent.active) + len(agent.offered) < self.capacity_of(agent_id))
        )

    def _pick(self, conversation: str) -> str | None:
        tried = self._tried.get(conversation, set())
        free_all = [a for a, p in self.agents.items() if self._free(a, p)]
        h = self.handovers.get(conversation)
        if h is not None:  # a queue transfer: skill match, never back to the owner
            free_all = [
                a
                for a in free_all
                if a != h.from_agent and (not h.skill or h.skill in self.agents[a].skills)
            ]
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
            self._make_offer(conversation, agent_id, CHAT)
        for _ in range(len(self.transfer_waiting)):
            conversation = self.transfer_waiting.popleft()
            agent_id = self._pick(conversation)
            if agent_id is None:  # nobody ready with the skill: the chat waits
                self.transfer_waiting.append(conversation)
                self._schedule_retry(conversation)
                continue
            self._make_offer(conversation, agent_id, TRANSFER)

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
