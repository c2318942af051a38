"""Customer idle alert and auto-close on a real server (issue 16), on the virtual clock:
stored, seen by the customer and the agent, the agent wraps up; a customer message
cancels the close; off by default."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chat_widget import WebSocketBackend
from chat_widget.analysis import conversation_metrics, load_store
from chat_widget.model.clock import VirtualClock
from chat_widget.model.session import ChatSession, SessionState
from chat_widget.server import ChatServer

from .conftest import make_config
from .helpers import Client, agent, customer
from .test_websocket_backend import until

ALERT, CLOSE = 60.0, 30.0


@pytest.fixture
async def idle_server(tmp_path: Path, clock: VirtualClock) -> AsyncIterator[ChatServer]:
    config = make_config(tmp_path, idle_alert_after=ALERT, idle_close_after=CLOSE)
    srv = ChatServer(config, clock=clock)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def accepted_chat(srv: ChatServer) -> tuple[Client, Client, str]:
    """A raw agent accepted Carla's chat; Carla asked, the agent answered."""
    _, token = srv.store.add_agent("Alice")
    alice = await agent(srv.url, token, "alice")
    carla, conv = await customer(srv.url, f"http://127.0.0.1:{srv.port}", "carla")
    await alice.expect("Offer", conversation=conv)
    await alice.send("Accept", conversation=conv)
    await carla.expect("ParticipantJoined", seq=2)
    await carla.send("SendMessage", conversation=conv, text="Where is my parcel?")
    await alice.expect("Message", conversation=conv, text="Where is my parcel?")
    await alice.send("SendMessage", conversation=conv, text="Which order number?")
    await carla.expect("Message", conversation=conv, text="Which order number?")
    return alice, carla, conv


def stored(srv: ChatServer, conv: str) -> list[tuple[str, str]]:
    with sqlite3.connect(srv.config.db) as db:
        return db.execute(
            "SELECT type, sender FROM events WHERE conversation = ? ORDER BY seq", (conv,)
        ).fetchall()


async def test_idle_alert_then_close_stored_seen_and_wrapped_up(
    idle_server: ChatServer, clock: VirtualClock
) -> None:
    srv = idle_server
    _, token = srv.store.add_agent("Alice")
    carla, conv = await customer(srv.url, f"http://127.0.0.1:{srv.port}", "carla")
    backend = WebSocketBackend(srv.url, token=token, clock=VirtualClock(start=clock.now()))
    try:
        session: ChatSession = await backend.next_offer()
        session.accept()
        await carla.expect("ParticipantJoined", seq=2)
        clock.advance(500)  # nobody wrote since the accept: nothing runs
        await carla.send("SendMessage", conversation=conv, text="Hello?")
        await until(lambda: any(e.text == "Hello?" for e in session.transcript))
        session.send("Hi Carla, which order is it?")
        await carla.expect("Message", conversation=conv, text="Hi Carla, which order is it?")

        clock.advance(ALERT - 0.001)
        clock.advance(0.001)
        alert = await carla.expect("IdleAlert", conversation=conv)
        assert alert["closesIn"] == 30 and alert["visibility"] == "all"
        assert alert["from"]["type"] == "System"
        await until(lambda: session.transcript[-1].code == "idle_alert")
        assert session.transcript[-1].params == {"seconds": "30"}
        assert session.state is SessionState.ACCEPTED

        clock.advance(CLOSE)
        ended = await carla.expect("ChatEnded", conversation=conv)
        assert ended["reason"] == "idle" and ended["from"]["type"] == "System"
        assert ended["utcTime"] - alert["utcTime"] == CLOSE * 1000
        await until(lambda: session.state is SessionState.CONTACT_LEFT)
        assert session.transcript[-1].code == "idle_closed"
        assert session.timer.pending_since is None

        # the agent wraps up as after a customer who left
        session.set_disposition("No action")
        session.end()
        session.mark_done()
        await until(lambda: session.state is SessionState.DONE)
        await until(lambda: backend.pending == 0)
        assert backend.errors == []
    finally:
        await backend.aclose()
    types = [t for t, _ in stored(srv, conv)]
    assert types.count("IdleAlert") == 1 and types.count("ChatEnded") == 1
    assert ("IdleAlert", "system") in stored(srv, conv)
    assert types.index("IdleAlert") < types.index("ChatEnded") < types.index("ChatDone")
    await carla.close()
    # analysis reads the same from the database
    row = conversation_metrics(load_store(srv.config.db)).iloc[0]
    assert row["idle_alerts"] == 1 and row["closed_idle"]


async def test_a_customer_message_after_the_alert_cancels_the_close(
    idle_server: ChatServer, clock: VirtualClock
) -> None:
    alice, carla, conv = await accepted_chat(idle_server)
    clock.advance(ALERT)
    await carla.expect("IdleAlert", conversation=conv)
    await alice.expect("IdleAlert", conversation=conv)
    clock.advance(CLOSE / 2)
    await carla.send("SendMessage", conversation=conv, text="Sorry, it is 4711")
    await alice.expect("Message", conversation=conv, text="Sorry, it is 4711")
    clock.advance(CLOSE * 10)  # the customer waits for the agent now: nothing runs
    await alice.send("SendMessage", conversation=conv, text="Found it")
    found = await carla.expect("Message", conversation=conv, text="Found it")
    later = [f["type"] for f in carla.events(conv) if f["seq"] < found["seq"]]
    assert "ChatEnded" not in later and later.count("IdleAlert") == 1
    # a new wait from "Found it": the alert comes again, a full ALERT later
    clock.advance(ALERT - 1)
    clock.advance(1)
    again = await carla.expect("IdleAlert", conversation=conv)
    assert again["utcTime"] - found["utcTime"] == ALERT * 1000
    types = [t for t, _ in stored(idle_server, conv)]
    assert types.count("IdleAlert") == 2 and "ChatEnded" not in types
    for c in (alice, carla):
        await c.close()


async def test_off_by_default_nothing_happens(server: ChatServer, clock: VirtualClock) -> None:
    alice, carla, conv = await accepted_chat(server)
    clock.advance(100_000)
    await alice.send("SendMessage", conversation=conv, text="Still there?")
    still = await carla.expect("Message", conversation=conv, text="Still there?")
    assert [f for f in carla.events(conv) if f["type"] in ("IdleAlert", "ChatEnded")] == []
    assert still["seq"] == 5  # joined, joined, two messages, this one
    for c in (alice, carla):
        await c.close()


async def test_nothing_while_the_customer_waits_for_the_agent(
    idle_server: ChatServer, clock: VirtualClock
) -> None:
    alice, carla, conv = await accepted_chat(idle_server)
    await carla.send("SendMessage", conversation=conv, text="4711")
    await alice.expect("Message", conversation=conv, text="4711")
    clock.advance(100_000)  # the agent is slow: not the customer's idleness
    await alice.send("SendMessage", conversation=conv, text="Thanks")
    thanks = await carla.expect("Message", conversation=conv, text="Thanks")
    assert [
        f for f in carla.events(conv) if f["seq"] < thanks["seq"] and f["type"] == "IdleAlert"
    ] == []
    for c in (alice, carla):
        await c.close()


def test_config_checks_the_idle_timers(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="close_after"):
        make_config(tmp_path, idle_alert_after=10.0)
    with pytest.raises(ValueError, match="positive"):
        make_config(tmp_path, idle_alert_after=-1.0, idle_close_after=5.0)


async def test_the_timers_survive_a_restart(tmp_path: Path, clock: VirtualClock) -> None:
    """Read back from the store: no second alert, the close at its time."""
    config = make_config(tmp_path, idle_alert_after=ALERT, idle_close_after=CLOSE)
    async with ChatServer(config, clock=clock) as srv:
        alice, carla, conv = await accepted_chat(srv)
        clock.advance(ALERT)
        alert = await carla.expect("IdleAlert", conversation=conv)
        for c in (alice, carla):
            await c.close()
    # a new process: its own clock, the old one's timers gone with it
    clock = VirtualClock(start=clock.now() + CLOSE / 2)
    async with ChatServer(config, clock=clock) as srv:
        alice = await agent(srv.url, srv.store.add_agent("Bob")[1], "bob")
        chat = srv.service.events.conversations[conv]
        clock.advance(CLOSE / 2 - 0.001)
        assert chat.state == "active" and chat.record.last_seq == alert["seq"]
        clock.advance(0.001)
        assert chat.state == "ended"
        types = [t for t, _ in stored(srv, conv)]
        while "ChatEnded" not in types:  # the write is durable after the group commit
            await alice.send("Ping")
            await alice.expect("Pong")
            types = [t for t, _ in stored(srv, conv)]
        assert types.count("IdleAlert") == 1
        with sqlite3.connect(srv.config.db) as db:
            (ended_at,) = db.execute(
                "SELECT time FROM events WHERE conversation = ? AND type = 'ChatEnded'", (conv,)
            ).fetchone()
        assert ended_at * 1000 - alert["utcTime"] == pytest.approx(CLOSE * 1000)
        await alice.close()


def test_serve_options_reach_the_server_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from chat_widget import cli
    from chat_widget.server import ServerConfig, app

    seen: list[ServerConfig] = []

    async def run_server(config: ServerConfig) -> None:
        seen.append(config)

    monkeypatch.setattr(app, "run_server", run_server)
    assert cli.main(["serve", "--idle-alert", "90", "--idle-close", "60"]) == 0
    assert cli.main(["serve"]) == 0
    assert [(c.idle_alert_after, c.idle_close_after) for c in seen] == [(90, 60), (None, None)]
