"""Issue 14 supervision journeys: a customer, two agents and a supervisor on the real
server (websockets on 127.0.0.1, SQLite).

"Never received" is checked after a later event of the same chat arrived: events
are fanned out in seq order, so whoever got the later one would have got the
earlier one first.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from chat_widget.cli import _parser, main
from chat_widget.formats import protocol as p
from chat_widget.formats.transcript import Kind, Role, Visibility
from chat_widget.model.clock import VirtualClock
from chat_widget.model.reply_timer import is_reply_kind
from chat_widget.server import ChatServer
from chat_widget.server.sqlite_store import SQLiteStore

from .conftest import make_config
from .helpers import Client, Frame, agent, customer

TESS = "tess-trainer"


class Team:
    """Alice and Bob (agents), Tess (supervisor), Carla (customer) in one chat of Alice's."""

    def __init__(self, server: ChatServer) -> None:
        self.server = server
        _, self.alice_token = server.store.add_agent("Alice")
        _, self.bob_token = server.store.add_agent("Bob")
        _, self.tess_token = server.store.add_agent("Tess Trainer", supervisor=True)
        self.tess: Client
        self.alice: Client
        self.bob: Client
        self.carla: Client
        self.conv = ""

    async def start(self, origin: str, *, bob_ready: bool = False) -> Team:
        url = self.server.url
        self.tess = await agent(url, self.tess_token, "tess")
        self.alice = await agent(url, self.alice_token, "alice")
        self.bob = await agent(url, self.bob_token, "bob", ready=bob_ready)
        self.carla, self.conv = await self.new_chat(origin, self.alice, "Carla")
        return self

    async def new_chat(self, origin: str, owner: Client, nickname: str) -> tuple[Client, str]:
        carla, conv = await customer(self.server.url, origin, f"cust-{nickname}", nickname)
        await owner.expect("Offer", conversation=conv)
        assert (await owner.reply(await owner.send("Accept", conversation=conv)))["type"] == "Ack"
        await carla.expect("ParticipantJoined", conversation=conv, seq=2)
        return carla, conv

    async def ok(self, client: Client, type_: str, **fields: Any) -> Frame:
        reply = await client.reply(await client.send(type_, **fields))
        assert reply["type"] == "Ack", reply
        return reply

    async def error(self, client: Client, type_: str, **fields: Any) -> str:
        reply = await client.reply(await client.send(type_, **fields))
        assert reply["type"] == "Error", reply
        return str(reply["code"])

    async def carla_says(self, text: str) -> None:
        """A later event everyone in the chat reads (see the module's docstring)."""
        await self.carla.send("SendMessage", conversation=self.conv, text=text)
        for client in (self.carla, self.alice, self.tess):
            await client.expect("Message", conversation=self.conv, text=text)


def supervision(frames: list[Frame]) -> list[Frame]:
    return [f for f in frames if f.get("type") in p.SUPERVISION_EVENTS]


async def test_roles_team_state_and_dashboard_rows(server: ChatServer, origin: str) -> None:
    t = await Team(server).start(origin)
    ok = next(f for f in t.tess.frames if f["type"] == "AuthOk")
    assert ok["role"] == "supervisor"
    team = await t.tess.expect("TeamState")
    assert [a["id"] for a in team["agents"]] == ["alice", "bob"]
    assert team["announceMonitoring"] is False
    # the supervisor is no colleague: not in the agents' directory, never offered a chat
    alice_ok = next(f for f in t.alice.frames if f["type"] == "AuthOk")
    assert alice_ok["role"] == "agent"
    assert TESS not in [a["id"] for a in alice_ok["directory"]["agents"]]
    assert not any(f["type"] == "Offer" for f in t.tess.frames)
    # the new chat: a queued row, then Alice owns it; its events reach Tess
    row = await t.tess.expect("TeamChatChanged")
    assert row["chat"]["conversation"] == t.conv and row["chat"]["state"] == "queued"
    owned = await t.tess.wait_for(
        lambda f: f["type"] == "TeamChatChanged" and f["chat"]["state"] == "active"
    )
    assert owned["chat"]["owner"] == {"id": "alice", "nickname": "Alice"}
    assert owned["chat"]["members"] == ["alice"] and owned["chat"]["acceptedAt"] is not None
    await t.tess.expect("ParticipantJoined", conversation=t.conv, seq=2)
    # a supervisor who logs in now gets the chat in TeamState and its whole history
    late = await agent(server.url, t.tess_token, "tess2")
    state = await late.expect("TeamState")
    (chat,) = state["chats"]
    assert chat["conversation"] == t.conv and chat["owner"]["id"] == "alice"
    await late.expect("ParticipantJoined", conversation=t.conv, seq=1)
    await late.expect("ParticipantJoined", conversation=t.conv, seq=2)
    # flag and monitors are in the rows; done: the row goes
    await t.ok(t.alice, "RaiseFlag", conversation=t.conv, text="refund over my limit")
    flagged = await t.tess.wait_for(
        lambda f: f["type"] == "TeamChatChanged" and f["chat"].get("flag") is not None
    )
    assert flagged["chat"]["flag"]["agent"] == "alice"
    assert flagged["chat"]["flag"]["text"] == "refund over my limit"
    await t.ok(t.tess, "Monitor", conversation=t.conv, mode="silent")
    watched = await t.tess.wait_for(
        lambda f: f["type"] == "TeamChatChanged" and f["chat"]["monitors"] == {TESS: "silent"}
    )
    assert watched["chat"]["flag"] is not None  # the flag stays up
    await t.ok(t.alice, "EndChat", conversation=t.conv)
    await t.ok(t.alice, "MarkDone", conversation=t.conv)
    done = await t.tess.wait_for(
        lambda f: f["type"] == "TeamChatChanged" and f["chat"]["state"] == "done"
    )
    assert done["chat"]["members"] == []
    await t.tess.expect("ChatDone", conversation=t.conv)


async def test_coaching_never_reaches_the_customer(server: ChatServer, origin: str) -> None:
    t = await Team(server).start(origin)
    # an agent cannot answer a coach who is not there
    assert await t.error(t.alice, "SendCoaching", conversation=t.conv, text="hi?") == (
        "invalid_state"
    )
    # nor coach in silent mode
    await t.ok(t.tess, "Monitor", conversation=t.conv, mode="silent")
    assert await t.error(t.tess, "SendCoaching", conversation=t.conv, text="x") == "invalid_state"
    await t.ok(t.tess, "Monitor", conversation=t.conv, mode="coach")
    coach = await t.alice.expect("MonitoringChanged", conversation=t.conv, mode="coach")
    assert coach["previous"] == "silent" and coach["from"]["type"] == "Supervisor"
    assert coach["visibility"] == "agents"
    await t.ok(t.tess, "SendCoaching", conversation=t.conv, text="Apologise first")
    line = await t.alice.expect("CoachMessage", conversation=t.conv, text="Apologise first")
    assert line["from"] == {
        "nickname": "Tess Trainer",
        "participantId": TESS,
        "type": "Supervisor",
    }
    await t.tess.expect("CoachMessage", conversation=t.conv, text="Apologise first")
    # the agent answers the coach: Tess reads it, Carla does not
    await t.ok(t.alice, "SendCoaching", conversation=t.conv, text="Done, what next?")
    answer = await t.tess.expect("CoachMessage", conversation=t.conv, text="Done, what next?")
    assert answer["from"]["participantId"] == "alice"
    await t.carla_says("Hello?")
    assert supervision(t.carla.frames) == []
    # nor on resume, nor in what the customer reads back from the start
    chat_started = next(f for f in t.carla.frames if f["type"] == "ChatStarted")
    again = await Client.open(server.url, "carla-again", origin=origin)
    rid = await again.send(
        "ResumeChat", conversation=t.conv, token=chat_started["token"], lastSeq=0
    )
    assert (await again.reply(rid))["type"] == "ChatStarted"
    await again.expect("Message", conversation=t.conv, text="Hello?")
    assert supervision(again.frames) == []
    seqs = [f["seq"] for f in again.events(t.conv)]
    assert len(seqs) == len(set(seqs))
    # an agent who takes the chat over later does not read the coaching as history
    await t.ok(t.bob, "SetPresence", presence="ready")
    await t.alice.expect("PresenceChanged", agent="bob", presence="ready")
    await t.ok(t.alice, "RequestTransfer", conversation=t.conv, targetKind="agent", targetId="bob")
    await t.bob.expect("Offer", conversation=t.conv)
    await t.ok(t.bob, "Accept", conversation=t.conv)
    await t.bob.expect("Message", conversation=t.conv, text="Hello?")
    await t.bob.expect("ChatTransferred", conversation=t.conv)
    assert supervision(t.bob.frames) == []
    # Tess still coaches: now Bob is the chat's agent and gets it
    await t.ok(t.tess, "SendCoaching", conversation=t.conv, text="Bob, check the invoice")
    await t.bob.expect("CoachMessage", conversation=t.conv, text="Bob, check the invoice")
    with sqlite3.connect(server.config.db) as db:
        rows = db.execute(
            "SELECT visibility, audience FROM events WHERE conversation = ? AND type = ?",
            (t.conv, "CoachMessage"),
        ).fetchall()
    assert rows == [("agents", "alice"), ("agents", "alice"), ("agents", "bob")]


async def test_silent_monitoring_is_invisible(server: ChatServer, origin: str) -> None:
    t = await Team(server).start(origin)
    await t.ok(t.tess, "Monitor", conversation=t.conv, mode="silent")
    mine = await t.tess.expect("MonitoringChanged", conversation=t.conv, mode="silent")
    assert mine["previous"] == "stopped"
    await t.ok(t.tess, "Monitor", conversation=t.conv, mode="silent")  # no change: no event
    await t.carla_says("Are you there?")
    await t.ok(t.tess, "StopMonitoring", conversation=t.conv)
    await t.tess.expect("MonitoringChanged", conversation=t.conv, mode="stopped")
    await t.carla_says("Hello?")
    assert supervision(t.alice.frames) == [] and supervision(t.carla.frames) == []
    assert len(supervision(t.tess.frames)) == 2
    # Tess read the chat all along
    assert [f["text"] for f in t.tess.frames if f["type"] == "Message"] == [
        "Are you there?",
        "Hello?",
    ]


async def test_announced_monitoring_is_visible_to_the_agent(
    tmp_path: Path, clock: VirtualClock
) -> None:
    async with ChatServer(make_config(tmp_path, announce_monitoring=True), clock=clock) as srv:
        t = await Team(srv).start(f"http://127.0.0.1:{srv.port}")
        assert (await t.tess.expect("TeamState"))["announceMonitoring"] is True
        await t.ok(t.tess, "Monitor", conversation=t.conv, mode="silent")
        seen = await t.alice.expect("MonitoringChanged", conversation=t.conv, mode="silent")
        assert seen["from"]["nickname"] == "Tess Trainer"
        await t.carla_says("Hi")
        assert supervision(t.carla.frames) == []


async def test_barge_in(server: ChatServer, origin: str) -> None:
    t = await Team(server).start(origin)
    assert await t.error(t.tess, "SendMessage", conversation=t.conv, text="x") == ("invalid_state")
    await t.ok(t.tess, "Monitor", conversation=t.conv, mode="barge_in")
    for client in (t.carla, t.alice):
        joined = await client.wait_for(
            lambda f: f["type"] == "ParticipantJoined" and f["from"]["type"] == "Supervisor"
        )
        assert joined["from"]["nickname"] == "Tess Trainer" and joined["visibility"] == "all"
    await t.alice.expect("MonitoringChanged", conversation=t.conv, mode="barge_in")
    await t.ok(t.tess, "SendMessage", conversation=t.conv, text="Hi Carla, I am Tess")
    for client in (t.carla, t.alice):
        said = await client.expect("Message", conversation=t.conv, text="Hi Carla, I am Tess")
        assert said["from"]["type"] == "Supervisor" and said["visibility"] == "all"
    # a barged-in supervisor's message is a reply for the reply timer (contract rule)
    assert is_reply_kind(Role.SUPERVISOR, Kind.MESSAGE, Visibility.ALL)
    assert not is_reply_kind(Role.SUPERVISOR, Kind.COACHING, Visibility.AGENTS)
    # coaching works while barged in; leaving barge-in for coaching: ParticipantLeft
    await t.ok(t.tess, "SendCoaching", conversation=t.conv, text="Offer the refund")
    await t.alice.expect("CoachMessage", text="Offer the refund")
    await t.ok(t.tess, "Monitor", conversation=t.conv, mode="coach")
    left = await t.carla.wait_for(
        lambda f: f["type"] == "ParticipantLeft" and f["from"]["type"] == "Supervisor"
    )
    assert left["from"]["participantId"] == TESS
    moved = await t.alice.expect("MonitoringChanged", conversation=t.conv, mode="coach")
    assert moved["previous"] == "barge_in"
    assert await t.error(t.tess, "SendMessage", conversation=t.conv, text="x") == ("invalid_state")
    await t.carla_says("Thanks")
    assert supervision(t.carla.frames) == []
    # monitoring never changed who owns or is in the chat
    with sqlite3.connect(server.config.db) as db:
        owner = db.execute("SELECT owner FROM conversations WHERE id = ?", (t.conv,)).fetchone()
    assert owner == ("alice",)
    assert server.service.router.members(t.conv) == ["alice"]
    # the customer's message went to Alice (the owner), who replies as usual
    await t.ok(t.alice, "SendMessage", conversation=t.conv, text="You are welcome")


async def test_supervisor_leaving_stops_monitoring(server: ChatServer, origin: str) -> None:
    t = await Team(server).start(origin)
    await t.ok(t.tess, "Monitor", conversation=t.conv, mode="coach")
    await t.alice.expect("MonitoringChanged", conversation=t.conv, mode="coach")
    second = await agent(server.url, t.tess_token, "tess-second")
    await second.close()  # not the last connection: nothing stops
    await t.carla_says("Still here")
    await t.tess.close()
    stopped = await t.alice.expect("MonitoringChanged", conversation=t.conv, mode="stopped")
    assert stopped["previous"] == "coach"
    assert server.service.supervision.monitors == {}
    # a barged-in supervisor who leaves leaves the chat too
    t.tess = await agent(server.url, t.tess_token, "tess-back")
    await t.ok(t.tess, "Monitor", conversation=t.conv, mode="barge_in")
    await t.carla.wait_for(
        lambda f: f["type"] == "ParticipantJoined" and f["from"]["type"] == "Supervisor"
    )
    await t.tess.close()
    await t.carla.wait_for(
        lambda f: f["type"] == "ParticipantLeft" and f["from"]["type"] == "Supervisor"
    )
    await t.alice.expect("MonitoringChanged", conversation=t.conv, mode="stopped")
    assert await t.error(t.alice, "SendCoaching", conversation=t.conv, text="?") == (
        "invalid_state"
    )


async def test_help_flags_survive_a_restart(tmp_path: Path, clock: VirtualClock) -> None:
    config = make_config(tmp_path)
    async with ChatServer(config, clock=clock) as srv:
        origin = f"http://127.0.0.1:{srv.port}"
        t = await Team(srv).start(origin)
        # only the chat's agent raises; a supervisor cannot
        assert await t.error(t.tess, "RaiseFlag", conversation=t.conv) == "forbidden"
        assert await t.error(t.bob, "RaiseFlag", conversation=t.conv) == "forbidden"
        await t.ok(t.alice, "RaiseFlag", conversation=t.conv, text="angry customer")
        raised = await t.tess.expect("HelpFlagChanged", conversation=t.conv, raised=True)
        assert raised["text"] == "angry customer" and raised["from"]["participantId"] == "alice"
        await t.alice.expect("HelpFlagChanged", conversation=t.conv, raised=True)
        # the supervisor lowers it; the agent reads who did
        await t.ok(t.tess, "LowerFlag", conversation=t.conv)
        lowered = await t.alice.expect("HelpFlagChanged", conversation=t.conv, raised=False)
        assert lowered["from"]["type"] == "Supervisor"
        await t.ok(t.tess, "LowerFlag", conversation=t.conv)  # down already: fine
        # raised and lowered by the agent, then raised again and left up
        await t.ok(t.alice, "RaiseFlag", conversation=t.conv)
        await t.ok(t.alice, "LowerFlag", conversation=t.conv)
        await t.ok(t.alice, "RaiseFlag", conversation=t.conv, text="still stuck")
        await t.ok(t.tess, "Monitor", conversation=t.conv, mode="coach")
        await t.carla_says("Hello?")
        assert supervision(t.carla.frames) == []
    async with ChatServer(config, clock=clock) as srv:
        tess = await agent(srv.url, t.tess_token, "tess-after")
        state = await tess.expect("TeamState")
        (chat,) = state["chats"]
        assert chat["flag"]["agent"] == "alice" and chat["flag"]["text"] == "still stuck"
        assert chat["monitors"] == {}  # monitoring ends with a restart
        assert chat.get("acceptedAt") is not None
        # the history Tess reads ends with the monitoring stopped
        stops = [
            f
            for f in tess.frames
            if f.get("type") == "MonitoringChanged" and f["conversation"] == t.conv
        ]
        while not stops or stops[-1]["mode"] != "stopped":
            await tess.expect("MonitoringChanged", conversation=t.conv)
            stops = [
                f
                for f in tess.frames
                if f.get("type") == "MonitoringChanged" and f["conversation"] == t.conv
            ]
        alice = await agent(srv.url, t.alice_token, "alice-after", resume={t.conv: 0})
        flags = [await alice.expect("HelpFlagChanged", conversation=t.conv) for _ in range(5)]
        assert [f["raised"] for f in flags] == [True, False, True, False, True]
        await t.ok(alice, "LowerFlag", conversation=t.conv)
        row = await tess.wait_for(
            lambda f: f["type"] == "TeamChatChanged" and f["chat"].get("flag") is None
        )
        assert row["chat"]["owner"]["id"] == "alice"


async def test_monitor_next(server: ChatServer, origin: str) -> None:
    t = await Team(server).start(origin)
    await t.ok(t.tess, "MonitorNext", agent="alice")
    _carla2, conv2 = await t.new_chat(origin, t.alice, "Dora")
    watched = await t.tess.wait_for(
        lambda f: (
            f["type"] == "TeamChatChanged"
            and f["chat"]["conversation"] == conv2
            and f["chat"]["monitors"] == {TESS: "silent"}
        )
    )
    assert watched["chat"]["owner"]["id"] == "alice"
    await t.tess.expect("MonitoringChanged", conversation=conv2, mode="silent")
    # once: the chat after that is not monitored; a cancelled request does nothing
    await t.ok(t.tess, "MonitorNext", agent="alice")
    await t.ok(t.tess, "MonitorNext", agent="alice", cancel=True)
    _carla3, conv3 = await t.new_chat(origin, t.alice, "Emil")
    await t.tess.expect("ParticipantJoined", conversation=conv3, seq=2)
    assert server.service.supervision.monitors == {conv2: {TESS: "silent"}}
    assert not any(f.get("type") == "MonitoringChanged" for f in t.alice.frames)


async def test_forbidden_frames(server: ChatServer, origin: str) -> None:
    t = await Team(server).start(origin)
    # supervisor-only frames from an agent; agent frames from a supervisor
    assert await t.error(t.alice, "Monitor", conversation=t.conv, mode="silent") == "forbidden"
    assert await t.error(t.alice, "StopMonitoring", conversation=t.conv) == "forbidden"
    assert await t.error(t.alice, "MonitorNext", agent="bob") == "forbidden"
    assert await t.error(t.tess, "Accept", conversation=t.conv) == "forbidden"
    assert await t.error(t.tess, "EndChat", conversation=t.conv) == "forbidden"
    assert await t.error(t.tess, "Monitor", conversation="c-unknown", mode="silent") == (
        "not_found"
    )
    # a supervisor with skills sees only the agents sharing one
    server.store.set_skills("bob", ("billing",))
    _, st = server.store.add_agent("Sam Lead", supervisor=True)
    server.store.set_skills("sam-lead", ("billing",))
    sam = await agent(server.url, st, "sam")
    team = await sam.expect("TeamState")
    assert [a["id"] for a in team["agents"]] == ["bob"] and team["chats"] == []
    assert await t.error(sam, "Monitor", conversation=t.conv, mode="silent") == "forbidden"
    assert await t.error(sam, "LowerFlag", conversation=t.conv) == "forbidden"
    assert await t.error(sam, "MonitorNext", agent="alice") == "forbidden"
    await t.ok(sam, "MonitorNext", agent="bob")
    # Sam is not attached to Alice's chat: nothing of it reaches Sam
    await t.carla_says("Hi")
    assert sam.events(t.conv) == []
    # the CLI makes supervisors too
    assert main(["agents", "add", "Uma Lead", "--supervisor", "--db", server.config.db]) == 0
    uma = await server.store.list_agents()
    assert {a.id: a.supervisor for a in uma}["uma-lead"] is True


def test_older_databases_get_the_role_column(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as conn:  # the agents table before issue 14
        conn.execute(
            "CREATE TABLE agents (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " token_hash TEXT NOT NULL UNIQUE, created REAL NOT NULL)"
        )
        conn.execute("INSERT INTO agents VALUES ('alice', 'Alice', 'h', 0)")
    assert main(["agents", "add", "Tess", "--supervisor", "--db", str(db)]) == 0
    store = SQLiteStore(db)
    try:
        agents = asyncio.run(store.list_agents())
    finally:
        store._reader.close()
    assert [(a.id, a.supervisor, str(a.role)) for a in agents] == [
        ("alice", False, "agent"),
        ("tess", True, "supervisor"),
    ]
    assert _parser().parse_args(["serve", "--announce-monitoring"]).announce_monitoring
    assert not _parser().parse_args(["serve"]).announce_monitoring
