"""Issue 16 on the real server: per-agent capacity, auto-answer, nickname, migration."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from chat_widget import WebSocketBackend
from chat_widget.cli import main
from chat_widget.model.clock import VirtualClock
from chat_widget.model.session import SessionState
from chat_widget.server import ChatServer
from chat_widget.server.sqlite_store import SQLiteStore

from .conftest import make_config
from .helpers import TIMEOUT, Client, Frame, agent, customer


async def until(cond: Callable[[], bool]) -> None:
    """Wait (bounded) for frames to arrive; nothing here waits for a timer."""

    async def run() -> None:
        while not cond():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(run(), TIMEOUT)


async def agent_joined(customer: Client, conv: str) -> Frame:
    """The customer's ParticipantJoined of the agent (the customer's own comes first)."""
    return await customer.wait_for(
        lambda f: (
            f.get("type") == "ParticipantJoined"
            and f.get("conversation") == conv
            and f["from"]["type"] == "Agent"
        )
    )


def offers(client: Client, conv: str) -> list[Frame]:
    return [f for f in client.frames if f.get("type") == "Offer" and f["conversation"] == conv]


async def test_an_agent_with_capacity_one_never_gets_a_second_chat(
    server: ChatServer, origin: str
) -> None:
    _, one_token = server.store.add_agent("Alice Agent", capacity=1)
    _, wide_token = server.store.add_agent("Bob Agent")  # the server's default (3)
    alice = await agent(server.url, one_token, "alice", ready=True)
    c1, conv1 = await customer(server.url, origin, "c1")
    await alice.expect("Offer", conversation=conv1)
    await alice.reply(await alice.send("Accept", conversation=conv1))

    c2, conv2 = await customer(server.url, origin, "c2")  # Alice is full: it waits
    bob = await agent(server.url, wide_token, "bob", ready=True)
    await bob.expect("Offer", conversation=conv2)  # another agent gets it
    await bob.reply(await bob.send("Accept", conversation=conv2))
    c3, conv3 = await customer(server.url, origin, "c3")
    await bob.expect("Offer", conversation=conv3)  # Bob takes more than one
    assert offers(alice, conv2) == [] and offers(alice, conv3) == []

    await bob.send("SetReady", ready=False)  # Bob's offer goes back to the queue
    await alice.reply(await alice.send("EndChat", conversation=conv1))
    await alice.expect("Offer", conversation=conv3)  # Alice has room again
    for c in (alice, bob, c1, c2, c3):
        await c.close()


async def test_auto_answer_accepts_over_the_websocket_backend(
    server: ChatServer, origin: str
) -> None:
    _, token = server.store.add_agent("Alice Agent")
    backend = WebSocketBackend(server.url, token=token, clock=VirtualClock(), auto_answer=True)
    try:
        await backend.wait_connected()
        carla, conv = await customer(server.url, origin, "carla-auto")
        joined = await agent_joined(carla, conv)
        assert joined["from"]["nickname"] == "Alice Agent"  # accepted without a call
        session = backend.desk.sessions[conv]
        assert session.state is SessionState.ACCEPTED
        assert "auto_accepted" in [e.code for e in session.transcript]
        await carla.send("SendMessage", conversation=conv, text="Hello?")
        await until(lambda: any(e.text == "Hello?" for e in session.transcript))
        await carla.close()
    finally:
        await backend.aclose()


async def test_customers_see_the_nickname_colleagues_the_name(
    server: ChatServer, origin: str
) -> None:
    _, token = server.store.add_agent("Alice Agent", nickname="Ally")
    _, colleague_token = server.store.add_agent("Bob Agent")
    alice = await agent(server.url, token, "alice", ready=True)
    carla, conv = await customer(server.url, origin, "carla-nick")
    await alice.expect("Offer", conversation=conv)
    await alice.send("Accept", conversation=conv)
    joined = await agent_joined(carla, conv)
    assert joined["from"]["nickname"] == "Ally"
    await alice.send("SendMessage", conversation=conv, text="Hi, Ally here.")
    message = await carla.expect("Message", conversation=conv, text="Hi, Ally here.")
    assert message["from"]["nickname"] == "Ally"
    assert message["from"]["participantId"] == "alice-agent"

    bob = await agent(server.url, colleague_token, "bob", ready=False)
    ok = next(f for f in bob.frames if f["type"] == "AuthOk")
    names = {a["id"]: a["nickname"] for a in ok["directory"]["agents"]}
    assert names["alice-agent"] == "Alice Agent"  # the directory keeps the real name
    for c in (alice, bob, carla):
        await c.close()


async def test_the_agents_own_desk_keeps_its_real_name(server: ChatServer, origin: str) -> None:
    _, token = server.store.add_agent("Alice Agent", nickname="Ally")
    backend = WebSocketBackend(server.url, token=token, clock=VirtualClock())
    try:
        await backend.wait_connected()
        assert backend.desk.agent.name == "Alice Agent"
        assert backend.desk.agent.nickname == "Ally"  # {agent.nickname} fills "Ally"
        carla, conv = await customer(server.url, origin, "carla-own")
        session = await backend.next_offer()
        session.accept()
        session.send("Hello from Ally")
        got = await carla.expect("Message", conversation=conv, text="Hello from Ally")
        assert got["from"]["nickname"] == "Ally"
        mine = [e for e in session.transcript if e.text == "Hello from Ally"]
        assert [e.sender.name for e in mine] == ["Alice Agent"]
        await carla.close()
    finally:
        await backend.aclose()


def old_database(path: Path) -> str:
    """An agents table from before issues 14 and 16 (no role, nickname, capacity)."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE agents (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " token_hash TEXT NOT NULL UNIQUE, created REAL NOT NULL)"
        )
        from chat_widget.server.store import hash_token

        conn.execute(
            "INSERT INTO agents VALUES (?, ?, ?, ?)", ("old", "Olga Old", hash_token("t-old"), 1.0)
        )
    return str(path)


async def test_an_old_database_is_migrated(tmp_path: Path) -> None:
    db = old_database(tmp_path / "chats.sqlite")
    store = SQLiteStore(db)
    try:
        [olga] = await store.list_agents()
        assert (olga.name, olga.nickname, olga.capacity, olga.supervisor) == (
            "Olga Old",
            None,
            None,
            False,
        )
        record, _ = store.add_agent("New Agent", nickname="Newt", capacity=2)
        agents = {a.id: a for a in await store.list_agents()}
        assert (agents[record.id].nickname, agents[record.id].capacity) == ("Newt", 2)
    finally:
        await store.close()
    server = ChatServer(make_config(tmp_path, db=db), clock=VirtualClock())
    await server.start()
    try:
        olga_client = await agent(server.url, "t-old", "olga", ready=True)
        origin = f"http://127.0.0.1:{server.port}"
        carla, conv = await customer(server.url, origin, "carla-old")
        await olga_client.expect("Offer", conversation=conv)
        await olga_client.send("Accept", conversation=conv)
        joined = await agent_joined(carla, conv)
        assert joined["from"]["nickname"] == "Olga Old"  # no nickname: the name
        await olga_client.close()
        await carla.close()
    finally:
        await server.stop()


def test_agents_add_takes_nickname_and_capacity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cli.sqlite")
    args = ["agents", "add", "Alice Agent", "--nickname", "Ally", "--capacity", "2", "--db", db]
    assert main(args) == 0
    assert main(["agents", "add", "Bob Agent", "--capacity", "0", "--db", db]) == 1
    assert "capacity" in capsys.readouterr().err
    store = SQLiteStore(db)
    try:
        agents = asyncio.run(store.list_agents())
    finally:
        store._reader.close()
    assert [(a.name, a.nickname, a.capacity) for a in agents] == [("Alice Agent", "Ally", 2)]
