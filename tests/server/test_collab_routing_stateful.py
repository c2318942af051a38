"""Stateful property test of the routing core (sans sockets) on the injected clock.

Random offers, accepts, rejects, timeouts, transfers (agent/queue), conferences,
consultations, disconnects and reconnects, and supervision (issue 14: the real
``Supervision`` over a stub event log: monitoring in every mode, barge-in, coaching,
help flags, the supervisor leaving). Invariants after every step:
exactly one owner per live chat, nobody orphaned (a live chat is owned, offered or
waiting), offers only to online agents and never to the chat's own agents, and,
through the service's real ``Feed`` filter, every event reaches exactly the agents
in its audience once (supervision events never as history), a supervisor every
event, and the customer only what a customer may see (never a supervision event).
Monitoring never changes who owns or is in a chat.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chat_widget.formats import protocol as p
from chat_widget.model.clock import VirtualClock
from chat_widget.server.config import ServerConfig
from chat_widget.server.conversation import Conversation
from chat_widget.server.directory import Directory
from chat_widget.server.fanout import LocalFanOut
from chat_widget.server.routing import Router
from chat_widget.server.service import Feed
from chat_widget.server.store import AgentRecord, ConversationRecord, StoredEvent
from chat_widget.server.supervision import Supervision

AGENTS = ("a0", "a1", "a2", "a3")
SKILLS = {"a0": {"billing"}, "a1": set(), "a2": {"billing"}, "a3": set()}
RUNS = {"examples": 0, "steps": 0}
SUPERVISOR = AgentRecord("s0", "Tess", 0.0, supervisor=True)
AGENTS_ONLY = {"ConsultMessage", "TransferRequested", *p.SUPERVISION_EVENTS}


class FakePeer:
    limit = 10_000

    def __init__(self) -> None:
        self.got: list[int] = []

    def push(self, body: str) -> None:
        self.got.append(json.loads(body)["seq"])

    def close(self, code: int, reason: str) -> None:  # pragma: no cover - never full
        raise AssertionError("buffer full")


class StubLog:
    """The event log as ``Supervision`` uses it, emitting into the state machine."""

    def __init__(self, machine: Routing) -> None:
        self.machine = machine
        self.conversations: dict[str, Conversation] = {}
        self.on_change: Any = None

    def emit(
        self,
        conv: Conversation,
        model: type[p._Event],
        sender: p.Participant,
        *,
        audience: tuple[str, ...] | None = None,
        **fields: Any,
    ) -> tuple[int, None]:
        members = self.machine.router.members(conv.id) if audience is None else audience
        kind = p._frame_type(model)
        self.machine._emit(conv.id, kind, tuple(members))
        return self.machine.seq[conv.id], None


class Routing(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        RUNS["examples"] += 1
        self.clock = VirtualClock()
        self.revoked: list[tuple[str, str]] = []
        self.declines: list[tuple[str, str]] = []
        self.router = Router(
            self.clock,
            lambda a, c, e: None,
            lambda a, c, r: self.revoked.append((a, c)),
            offer_timeout=20.0,
            capacity=2,
            declined=lambda c, k, t, r: self.declines.append((c, k)),
        )
        self.live: set[str] = set()
        self.ended: set[str] = set()
        self.n = 0
        # delivery: per chat, its events and one feed per agent and the customer
        self.seq: dict[str, int] = {}
        self.events: dict[str, list[StoredEvent]] = {}
        self.feeds: dict[tuple[str, str], tuple[Feed, FakePeer]] = {}
        self.joined: dict[tuple[str, str], int] = {}
        # supervision: the real collaborator over a stub log; a supervisor's feed per chat
        self.log = StubLog(self)
        self.config = ServerConfig(announce_monitoring=False)
        directory = Directory(None)  # type: ignore[arg-type]
        directory.agents = {SUPERVISOR.id: SUPERVISOR}
        self.supervision = Supervision(
            self.log,  # type: ignore[arg-type]
            self.router,
            directory,
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            LocalFanOut(),
            self.clock,
            self.config,
            dict,
        )
        self.supervision.peers[SUPERVISOR.id] = {None}  # type: ignore[arg-type]

    # -- helpers ---------------------------------------------------------------
    def _emit(
        self, conv: str, kind: str, audience: tuple[str, ...], vis: str | None = None
    ) -> None:
        self.seq[conv] += 1
        seq = self.seq[conv]
        vis = vis or ("agents" if kind in AGENTS_ONLY else "all")
        body = json.dumps({"type": kind, "seq": seq})
        ev = StoredEvent(conv, seq, kind, 0.0, vis, None, None, body, audience)
        self.events[conv].append(ev)
        for (c, _who), (feed, _peer) in list(self.feeds.items()):
            if c == conv:
                feed.on_event(ev)

    def _attach(self, conv: str, agent: str, history: int) -> None:
        peer = FakePeer()
        feed = Feed(peer, True, 0, agent, history)  # type: ignore[arg-type]
        for ev in self.events[conv]:
            feed.deliver(ev)
        feed.go_live()
        self.feeds[(conv, agent)] = (feed, peer)
        self.joined[(conv, agent)] = history

    def _owned(self) -> list[str]:
        return sorted(c for c in self.live if self.router.owner(c) is not None)

    # -- rules -----------------------------------------------------------------
    @rule(agent=st.sampled_from(AGENTS), ready=st.booleans())
    def connect(self, agent: str, ready: bool) -> None:
        if self.router.agents.get(agent) is None or self.router.agents[agent].online == 0:
            self.router.agent_connected(agent, ready, frozenset(SKILLS[agent]))

    @rule(agent=st.sampled_from(AGENTS))
    def disconnect(self, agent: str) -> None:
        if agent in self.router.agents and self.router.agents[agent].online:
            self.router.agent_disconnected(agent)

    @rule(agent=st.sampled_from(AGENTS), ready=st.booleans())
    def set_ready(self, agent: str, ready: bool) -> None:
        self.router.set_ready(agent, ready)

    @precondition(lambda self: len(self.live) < 6)
    @rule()
    def new_chat(self) -> None:
        self.n += 1
        conv = f"c{self.n}"
        self.live.add(conv)
        self.seq[conv] = 0
        self.events[conv] = []
        feed = Feed(FakePeer(), False, 0)  # type: ignore[arg-type]
        feed.go_live()
        self.feeds[(conv, "customer")] = (feed, feed.peer)  # type: ignore[assignment]
        watcher = Feed(FakePeer(), True, 0)  # type: ignore[arg-type]
        watcher.go_live()
        self.feeds[(conv, SUPERVISOR.id)] = (watcher, watcher.peer)  # type: ignore[assignment]
        record = ConversationRecord(conv, "", {"nickname": "Carla"}, 0.0)
        self.log.conversations[conv] = Conversation(record)
        self._emit(conv, "ParticipantJoined", ())
        self.router.enqueue(conv)

    @rule(data=st.data())
    def answer_offer(self, data: st.DataObject) -> None:
        if not self.router.offers:
            return
        conv = data.draw(st.sampled_from(sorted(self.router.offers)))
        offer = self.router.offers[conv]
        if data.draw(st.booleans()):
            previous = self.router.owner(conv)
            kind = self.router.try_accept(offer.agent, conv)
            assert kind is not None
            # a second accept by anyone loses
            assert all(self.router.try_accept(a, conv) is None for a in AGENTS)
            if kind == "transfer":
                self._emit(conv, "ChatTransferred", (offer.agent, previous or ""))
            else:
                self._emit(conv, "ParticipantJoined", tuple(self.router.members(conv)))
            self._attach(conv, offer.agent, self.seq[conv])
        else:
            assert self.router.reject(offer.agent, conv)

    @rule(seconds=st.sampled_from([1.0, 10.0, 20.0, 45.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        owned = [c for c in self._owned() if c not in self.router.handovers]
        if not owned:
            return
        conv = data.draw(st.sampled_from(owned))
        owner = self.router.owner(conv)
        assert owner is not None
        if conv in self.router.conference:
            return
        if data.draw(st.booleans()):
            target = data.draw(st.sampled_from([a for a in AGENTS if a != owner]))
            self.router.request_transfer(conv, owner, "agent", target, "note")
        else:
            self.router.request_transfer(conv, owner, "queue", "q", None, "billing")
        self._emit(conv, "TransferRequested", tuple(self.router.members(conv)))

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        if self.router.handovers:
            self.router.cancel_handover(data.draw(st.sampled_from(sorted(self.router.handovers))))

    @rule(data=st.data())
    def invite(self, data: st.DataObject) -> None:
        owned = [
            c
            for c in self._owned()
            if c not in self.router.handovers and c not in self.router.conference
        ]
        if owned:
            conv = data.draw(st.sampled_from(owned))
            owner = self.router.owner(conv)
            assert owner is not None
            target = data.draw(st.sampled_from([a for a in AGENTS if a != owner]))
            self.router.invite(conv, owner, target)

    @rule(data=st.data(), owner_leaves=st.booleans())
    def leave(self, data: st.DataObject, owner_leaves: bool) -> None:
        if self.router.conference:
            conv = data.draw(st.sampled_from(sorted(self.router.conference)))
            members = self.router.members(conv)
            leaver = members[0] if owner_leaves else members[1]
            assert self.router.leave(conv, leaver) == members[1 if owner_leaves else 0]
            self._emit(conv, "ParticipantLeft", (*self.router.members(conv), leaver))

    @rule(data=st.data(), kind=st.sampled_from(["Message", "ConsultMessage"]))
    def message(self, data: st.DataObject, kind: str) -> None:
        owned = self._owned()
        if owned:
            conv = data.draw(st.sampled_from(owned))
            members = tuple(self.router.members(conv))
            consultant = data.draw(st.sampled_from(AGENTS))
            audience = (members[0], consultant) if kind == "ConsultMessage" else members
            if kind == "ConsultMessage" and (conv, consultant) not in self.feeds:
                self._attach(conv, consultant, 0)  # the consultant reads consult events only
            self._emit(conv, kind, audience)

    @rule(data=st.data())
    def end(self, data: st.DataObject) -> None:
        if self.live:
            conv = data.draw(st.sampled_from(sorted(self.live)))
            self._emit(conv, "ChatEnded", tuple(self.router.members(conv)))
            self.router.finish(conv)
            self.live.discard(conv)
            self.ended.add(conv)

    # -- supervision (issue 14) ------------------------------------------------------
    def _routing_state(self) -> tuple[object, ...]:
        r = self.router
        return (
            dict(r.owners),
            dict(r.conference),
            list(r.waiting),
            {c: o.agent for c, o in r.offers.items()},
            {a: (set(x.active), set(x.offered), x.ready, x.online) for a, x in r.agents.items()},
            {c: r.members(c) for c in self.seq},
        )

    @rule(data=st.data(), mode=st.sampled_from(["silent", "coach", "barge_in", "stopped"]))
    def monitor(self, data: st.DataObject, mode: str) -> None:
        if not self.live:  # queued chats too: a supervisor sees them
            return
        conv = data.draw(st.sampled_from(sorted(self.live)))
        self.config = ServerConfig(announce_monitoring=data.draw(st.booleans()))
        self.supervision.config = self.config
        before = self._routing_state()
        if mode != self.supervision.mode(conv, SUPERVISOR.id):
            self.supervision._set_mode(self.log.conversations[conv], SUPERVISOR, mode)
        assert self._routing_state() == before  # monitoring never changes membership

    @rule(
        data=st.data(),
        kind=st.sampled_from(["CoachMessage", "HelpFlagChanged"]),
        vis=st.sampled_from(["agents", "all"]),
    )
    def coach_or_flag(self, data: st.DataObject, kind: str, vis: str) -> None:
        """``all``: an emitter that got the visibility wrong; the Feed's type rule still
        keeps the customer from it."""
        if self.live:
            conv = data.draw(st.sampled_from(sorted(self.live)))
            self._emit(conv, kind, tuple(self.router.members(conv)), vis)

    @rule()
    def supervisor_leaves(self) -> None:
        before = self._routing_state()
        self.supervision._gone(SUPERVISOR, None)  # type: ignore[arg-type]
        self.supervision.peers[SUPERVISOR.id] = {None}  # type: ignore[arg-type]
        assert self.supervision.monitors == {}
        assert self._routing_state() == before

    # -- invariants --------------------------------------------------------------
    @invariant()
    def one_owner_never_orphaned(self) -> None:
        RUNS["steps"] += 1
        r = self.router
        for conv in self.live:
            owner = r.owner(conv)
            waiting = conv in r.waiting
            offered = conv in r.offers and r.offers[conv].kind == "chat"
            # exactly one of: owned, offered as a new chat, waiting
            assert [owner is not None, offered, waiting].count(True) == 1, conv
            if conv in r.conference:
                assert owner is not None and r.conference[conv] != owner
            if conv in r.handovers:
                assert owner is not None and r.handovers[conv].from_agent == owner
        for conv in self.ended:
            assert r.owner(conv) is None and conv not in r.offers and conv not in r.waiting
        for conv, offer in r.offers.items():
            agent = r.agents[offer.agent]
            assert agent.online > 0 and conv in agent.offered
            assert offer.agent not in r.members(conv)
        for a, presence in r.agents.items():
            assert presence.active == {c for c in r.owners if r.owners[c] == a} | {
                c for c in r.conference if r.conference[c] == a
            }

    @invariant()
    def delivery_exact(self) -> None:
        for (conv, who), (_feed, peer) in self.feeds.items():
            events = self.events[conv]
            if who == "customer":
                expected = [
                    e.seq
                    for e in events
                    if e.visibility == "all"
                    and e.type != "ConsultMessage"
                    and e.type not in p.SUPERVISION_EVENTS
                ]
                got = {e.seq: e.type for e in events if e.seq in peer.got}
                assert not set(got.values()) & p.SUPERVISION_EVENTS, (conv, got)
            elif who == SUPERVISOR.id:
                expected = [e.seq for e in events]
            else:
                history = self.joined[(conv, who)]
                expected = [
                    e.seq
                    for e in events
                    if e.audience is None
                    or who in e.audience
                    or (e.seq <= history and e.type not in p.SUPERVISION_EVENTS)
                ]
            assert peer.got == expected, (conv, who)  # each once, in order, nothing else


TestRouting = Routing.TestCase
TestRouting.settings = settings(
    max_examples=300,
    stateful_step_count=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def teardown_module() -> None:
    print(f"\nrouting state machine: {RUNS['examples']} examples, {RUNS['steps']} steps")
