"""Stateful property test of routing across two real server processes (issue 18).

The rules of ``test_collab_routing_stateful.py`` (agents connecting and leaving,
readiness, new chats, accepting and rejecting offers, offer timeouts, messages,
chats ending), played by real clients against two ``chat-widget serve``
processes on one PostgreSQL and one Redis, each client on either process and
moving between them. The invariants are those a user can see, checked after every
step from what the clients received and from PostgreSQL:

- at most one owner per chat: one acknowledged ``Accept``, one agent's
  ``ParticipantJoined`` stored, ``conversations.owner`` that agent; an ``Accept``
  is acknowledged only after an ``Offer`` of that chat reached that agent;
- offers only to ready agents with capacity: no ``Offer`` reaches an agent after
  the server confirmed it not ready, nor while it holds ``capacity`` chats, nor
  for a chat that has ended;
- customers never receive agents' frames or agents-only events;
- every client receives each seq once, in order, and what the store holds at
  that seq; at the end of each run every customer has every visible event.

Checks across connections are made only after a round trip through the router
(a Ping on every connection), since frames of one connection arrive in order
but different connections race. One cluster serves every example; each example
has its own agents and chats and ends them all, so examples do not meet. Offers
time out after 1 wall second; agents hold one chat at a time, so short runs
reach the capacity rule (a server allowing two is caught).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from chat_widget.server.store_factory import admin_store

from ..cluster import ServerCluster
from .wire_clients import (
    AGENT_FRAMES,
    Frame,
    WireAgentClient,
    WireCustomerClient,
    stop_all,
    until,
)

CAPACITY = 1  # reached by one accept: the capacity rule is tested in short runs
OFFER_TIMEOUT = 1.0  # wall seconds (the processes run on the real clock)
STEP_TIMEOUT = 20.0
AGENTS = 3
MAX_CHATS = 4
EXAMPLES = itertools.count(1)
RUNS = {"examples": 0, "steps": 0, "offers": 0, "accepted": 0, "refused": 0, "revoked": 0}


@dataclass
class AgentSlot:
    """One agent of an example: its connection (if any) and what the test confirmed."""

    name: str
    agent_id: str
    token: str
    client: WireAgentClient | None = None
    past: list[WireAgentClient] = field(default_factory=list)
    ready_request: tuple[str, bool] | None = None  # the last SetReady: (id, ready)

    def clients(self) -> list[WireAgentClient]:
        return [*self.past, *([self.client] if self.client is not None else [])]

    def confirmed_not_ready(self) -> bool:
        """The server said it took this agent out of routing (and no SetReady(true) since)."""
        c = self.client
        if c is None:
            return False
        if self.ready_request is None:
            return not c.ready  # Auth(ready=False): before any offer on this connection
        frame_id, ready = self.ready_request
        return not ready and frame_id in c.replies


def seqs(customer: WireCustomerClient) -> list[int]:
    return [f["seq"] for f in customer.events.get(customer.conversation or "", [])]


class CrossProcessRouting(RuleBasedStateMachine):
    def __init__(self, cluster: ServerCluster, store: str) -> None:
        super().__init__()
        RUNS["examples"] += 1
        self.cluster = cluster
        self.store = store
        self.loop = asyncio.new_event_loop()
        example = next(EXAMPLES)
        admin = admin_store("", store)
        self.agents: list[AgentSlot] = []
        for j in range(AGENTS):
            record, token = admin.add_agent(f"E{example} Agent{j}")
            self.agents.append(AgentSlot(f"e{example}a{j}", record.id, token))
        self.customers: list[WireCustomerClient] = []
        self.ended: set[str] = set()  # conversations an end was requested for
        self.closed: set[str] = set()  # conversations whose end was acknowledged
        # ... and a round trip through the router since: an offer of one of these was
        # made after the end (frames of one connection arrive in order)
        self.closed_settled: set[str] = set()
        self.violations: list[str] = []
        self.example = example

    # -- helpers -----------------------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, STEP_TIMEOUT))

    def urls(self, process: int) -> list[str]:
        return [self.cluster.url(process), self.cluster.url(1 - process)]

    def live_chats(self) -> list[WireCustomerClient]:
        return [c for c in self.customers if c.conversation not in self.ended]

    def owner_of(self, conv: str) -> AgentSlot | None:
        for slot in self.agents:
            if any(conv in c.owned for c in slot.clients()):
                return slot
        return None

    def active(self, slot: AgentSlot) -> int:
        """A lower bound of the chats the router counts for ``slot``: accepted, not ended."""
        owned = {conv for c in slot.clients() for conv in c.owned}
        return len(owned - self.ended)

    def on_offer(self, slot: AgentSlot, client: WireAgentClient, offer: Frame) -> None:
        RUNS["offers"] += 1
        conv = offer["conversation"]
        if client is not slot.client:
            return
        if slot.confirmed_not_ready():
            self.violations.append(f"{slot.name} offered {conv} while not ready")
        if self.active(slot) >= CAPACITY:
            self.violations.append(f"{slot.name} offered {conv} at capacity")
        if conv in self.closed_settled:
            self.violations.append(f"{slot.name} offered {conv} after it ended")
        if any(conv in c.owned for c in slot.clients()):
            self.violations.append(f"{slot.name} offered {conv} it owns")

    async def settle(self) -> None:
        """A round trip through the router for every connected client."""
        closed = set(self.closed)
        clients = [s.client for s in self.agents if s.client is not None]
        await asyncio.gather(*(c.ping() for c in [*clients, *self.live_chats()]))
        self.closed_settled |= closed

    def pending_offers(self, slot: AgentSlot) -> list[str]:
        """Chats offered to ``slot`` on this connection, neither answered nor revoked."""
        c = slot.client
        if c is None:
            return []
        open_: dict[str, None] = {}
        for f in c.frames:
            if f.get("type") == "Offer":
                open_[f["conversation"]] = None
            elif f.get("type") == "OfferRevoked":
                open_.pop(f.get("conversation", ""), None)
        return [
            conv
            for conv in open_
            if conv not in c.accepts and conv not in self.ended and conv not in c.refused
        ]

    def connected(self) -> list[AgentSlot]:
        return [s for s in self.agents if s.client is not None]

    def offered(self) -> list[tuple[AgentSlot, str]]:
        return [(s, conv) for s in self.connected() for conv in self.pending_offers(s)]

    def unowned(self) -> list[str]:
        return [
            x.conversation
            for x in self.live_chats()
            if x.conversation is not None and self.owner_of(x.conversation) is None
        ]

    # -- rules -------------------------------------------------------------------------
    @initialize()
    def two_agents_two_chats(self) -> None:
        """A ready agent and a new chat on each process to begin with."""
        self._connect(self.agents[0], 0, True)
        self._connect(self.agents[1], 1, True)
        self.new_chat(0)
        self.new_chat(1)

    def _connect(self, slot: AgentSlot, process: int, ready: bool) -> None:
        last_seq = {k: v for c in slot.past for k, v in c.last_seq.items()}
        client = WireAgentClient(slot.name, self.urls(process), slot.token, ready=ready)
        client.last_seq = last_seq  # it resumes every chat it was in
        client.on_offer = lambda c, f: self.on_offer(slot, c, f)
        slot.client, slot.ready_request = client, None

        async def go() -> None:
            client.start()
            await until(client.live.is_set, STEP_TIMEOUT, f"{slot.name} authenticated")

        self.run(go())

    @precondition(lambda self: len(self.connected()) < AGENTS)
    @rule(data=st.data(), process=st.integers(0, 1), ready=st.booleans())
    def connect(self, data: st.DataObject, process: int, ready: bool) -> None:
        offline = [s for s in self.agents if s.client is None]
        self._connect(data.draw(st.sampled_from(offline)), process, ready)

    @precondition(lambda self: bool(self.connected()))
    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        slot = data.draw(st.sampled_from(self.connected()))
        assert slot.client is not None
        self.run(slot.client.stop())
        slot.past.append(slot.client)
        slot.client = None

    @precondition(lambda self: bool(self.connected()))
    @rule(data=st.data(), ready=st.booleans())
    def set_ready(self, data: st.DataObject, ready: bool) -> None:
        slot = data.draw(st.sampled_from(self.connected()))
        c = slot.client
        assert c is not None
        c.ready = ready  # a reconnect says the same in its Auth
        frame_id = c.send("SetReady", ready=ready)
        slot.ready_request = (frame_id, ready)
        self.run(until(lambda: frame_id in c.replies, STEP_TIMEOUT, "SetReady answered"))
        assert c.replies[frame_id]["type"] == "Ack", c.replies[frame_id]

    @precondition(lambda self: len(self.live_chats()) < MAX_CHATS)
    @rule(process=st.integers(0, 1))
    def new_chat(self, process: int) -> None:
        name = f"e{self.example}c{len(self.customers)}"
        customer = WireCustomerClient(name, self.urls(process), self.cluster.page_origin(process))
        self.customers.append(customer)

        async def go() -> None:
            customer.start()
            await until(customer.started.is_set, STEP_TIMEOUT, f"{name} chat started")

        self.run(go())

    def _answer(self, data: st.DataObject, accept: bool) -> None:
        slot, conv = data.draw(st.sampled_from(self.offered()))
        c = slot.client
        assert c is not None
        frame_id = c.accept(conv) if accept else c.send("Reject", conversation=conv)
        self.run(until(lambda: frame_id in c.replies, STEP_TIMEOUT, "answer to the offer"))
        reply = c.replies[frame_id]
        # Ack, or the offer timed out (or went elsewhere) meanwhile
        assert reply["type"] == "Ack" or reply.get("code") == "offer_not_available", reply

    @precondition(lambda self: bool(self.offered()))
    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        self._answer(data, accept)

    @precondition(lambda self: bool(self.offered()))
    @rule(data=st.data())
    def accept_offer(self, data: st.DataObject) -> None:
        """A second rule that accepts: agents mostly take what they are offered."""
        self._answer(data, True)

    @precondition(lambda self: bool(self.connected()) and bool(self.unowned()))
    @rule(data=st.data())
    def rival_accept(self, data: st.DataObject) -> None:
        """An agent accepts a waiting chat, offered to it or not (perhaps to another)."""
        slot = data.draw(st.sampled_from(self.connected()))
        conv = data.draw(st.sampled_from(self.unowned()))
        c = slot.client
        assert c is not None
        frame_id = c.accept(conv)
        self.run(until(lambda: frame_id in c.replies, STEP_TIMEOUT, "answer to the accept"))

    @precondition(lambda self: bool(self.live_chats()))
    @rule(data=st.data(), customer_writes=st.booleans())
    def message(self, data: st.DataObject, customer_writes: bool) -> None:
        customer = data.draw(st.sampled_from(self.live_chats()))
        conv = customer.conversation
        assert conv is not None
        owner = self.owner_of(conv)
        if customer_writes or owner is None or owner.client is None:
            frame_id = customer.say(f"{customer.name} says {len(customer.frames)}")
            sender: WireCustomerClient | WireAgentClient = customer
        else:
            sender = owner.client
            frame_id = sender.say(conv, f"{owner.name} says {len(sender.frames)}")
        self.run(until(lambda: frame_id in sender.replies, STEP_TIMEOUT, "message acknowledged"))
        assert sender.replies[frame_id]["type"] == "Ack", sender.replies[frame_id]

    @precondition(lambda self: bool(self.live_chats()))
    @rule(data=st.data(), by_agent=st.booleans())
    def end(self, data: st.DataObject, by_agent: bool) -> None:
        customer = data.draw(st.sampled_from(self.live_chats()))
        conv = customer.conversation
        assert conv is not None
        owner = self.owner_of(conv)
        ender: WireCustomerClient | WireAgentClient = customer
        if by_agent and owner is not None and owner.client is not None:
            ender = owner.client
        self.ended.add(conv)
        frame_id = ender.send("EndChat", conversation=conv)
        self.run(until(lambda: frame_id in ender.replies, STEP_TIMEOUT, "EndChat answered"))
        assert ender.replies[frame_id]["type"] == "Ack", ender.replies[frame_id]
        self.closed.add(conv)

    @precondition(lambda self: bool(self.live_chats()))
    @rule(data=st.data())
    def customer_moves(self, data: st.DataObject) -> None:
        """The customer's connection drops; it resumes on the other process."""
        customer = data.draw(st.sampled_from(self.live_chats()))
        before = customer.connects
        customer.drop()
        self.run(until(lambda: customer.connects > before, STEP_TIMEOUT, "customer back"))

    @precondition(lambda self: bool(self.connected()))
    @rule(data=st.data())
    def agent_moves(self, data: st.DataObject) -> None:
        """The agent's connection drops; it resumes on the other process."""
        c = data.draw(st.sampled_from(self.connected())).client
        assert c is not None
        before = c.connects
        c.drop()
        self.run(until(lambda: c.connects > before, STEP_TIMEOUT, "agent back"))

    @rule(seconds=st.sampled_from([0.3, 1.2]))
    def wait(self, seconds: float) -> None:
        """Wall time passes: unanswered offers time out and go round."""
        self.run(asyncio.sleep(seconds))

    # -- invariants ----------------------------------------------------------------------
    def stored(self) -> tuple[dict[str, list[tuple[int, str, str, str | None]]], dict[str, Any]]:
        convs = [c.conversation for c in self.customers if c.conversation is not None]
        events: dict[str, list[tuple[int, str, str, str | None]]] = {c: [] for c in convs}
        with psycopg.connect(self.store, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT conversation, seq, type, visibility, sender FROM events"
                " WHERE conversation = ANY(%s) ORDER BY conversation, seq",
                (convs,),
            ).fetchall()
            owners = dict(
                conn.execute(
                    "SELECT id, owner FROM conversations WHERE id = ANY(%s)", (convs,)
                ).fetchall()
            )
        for conv, seq, kind, vis, sender in rows:
            events[conv].append((seq, kind, vis, sender))
        return events, owners

    @invariant()
    def routing_holds(self) -> None:
        RUNS["steps"] += 1
        self.run(self.settle())
        assert self.violations == []
        events, owners = self.stored()
        agent_ids = {s.agent_id: s for s in self.agents}
        for customer in self.customers:
            conv = customer.conversation
            assert conv is not None
            winners = {s.name for s in self.agents if any(conv in c.owned for c in s.clients())}
            assert len(winners) <= 1, (conv, winners)  # one acknowledged Accept
            joined = {
                e[3] for e in events[conv] if e[1] == "ParticipantJoined" and e[3] in agent_ids
            }
            assert len(joined) <= 1, (conv, joined)  # one agent's join stored
            if winners:
                winner = next(s for s in self.agents if s.name in winners)
                assert joined == {winner.agent_id}
                if conv not in self.closed:
                    assert owners[conv] == winner.agent_id
            else:
                assert owners[conv] is None and not joined
        for slot in self.agents:
            for c in slot.clients():
                for conv in c.owned:  # an Ack for Accept comes after an Offer of that chat
                    ack = next(i for i, f in enumerate(c.frames) if f.get("id") == c.accepts[conv])
                    assert any(
                        f.get("type") == "Offer" and f.get("conversation") == conv
                        for f in c.frames[:ack]
                    ), (slot.name, conv)
        for customer in self.customers:
            assert customer.agent_frames() == [], customer.agent_frames()
        clients = [*self.customers, *(c for s in self.agents for c in s.clients())]
        for client in clients:
            assert client.duplicates == 0, client.name
            for conv, got in client.events.items():
                by_seq = {e[0]: e for e in events.get(conv, [])}
                for frame in got:
                    assert frame["seq"] in by_seq, (client.name, conv, frame)
                    assert by_seq[frame["seq"]][1] == frame["type"], (client.name, frame)

    def teardown(self) -> None:
        for slot in self.agents:
            for c in slot.clients():
                RUNS["accepted"] += len(c.owned)
                RUNS["refused"] += len(c.refused)
                RUNS["revoked"] += sum(f.get("type") == "OfferRevoked" for f in c.frames)
        try:
            for customer in self.live_chats():
                conv = customer.conversation
                assert conv is not None
                self.ended.add(conv)
                frame_id = customer.send("EndChat", conversation=conv)
                self.run(until(lambda: frame_id in customer.replies, STEP_TIMEOUT))  # noqa: B023
                self.closed.add(conv)
            events, _ = self.stored()
            for customer in self.customers:  # every visible event reached the customer
                conv = customer.conversation
                assert conv is not None
                visible = [e[0] for e in events[conv] if e[2] == "all" and e[1] not in AGENT_FRAMES]
                self.run(until(lambda: seqs(customer) == visible, STEP_TIMEOUT, customer.name))  # noqa: B023
                assert seqs(customer) == visible, (customer.name, customer.events)
        finally:
            clients = [*self.customers, *(s.client for s in self.agents if s.client is not None)]
            self.loop.run_until_complete(stop_all(clients))
            self.loop.close()


def test_routing_across_two_processes(pg_url: str, redis_url: str) -> None:
    cluster = ServerCluster(
        2,
        store=pg_url,
        bus=redis_url,
        extra=["--agent-capacity", str(CAPACITY), "--offer-timeout", str(OFFER_TIMEOUT)],
    )
    cluster.start()
    try:
        cluster.router()
        run_state_machine_as_test(
            lambda: CrossProcessRouting(cluster, pg_url),
            settings=settings(
                max_examples=12,
                stateful_step_count=20,
                deadline=None,
                derandomize=True,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{cluster.report()}") from exc
    finally:
        cluster.stop()
    print(f"\ncross-process routing: {json.dumps(RUNS)}")
