"""Issue 11 items 3 and 4: a failed write fails alone; the store never blocks the loop.

Real server on 127.0.0.1, real SQLite file. A second ``sqlite3`` connection plays
the other process (a colliding row, a backup holding the write lock).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer

from .conftest import make_config
from .helpers import Client, agent, customer


async def _accepted(
    server: ChatServer, alice: Client, origin: str, name: str
) -> tuple[Client, str]:
    client, conv = await customer(server.url, origin, name, nickname=name.title())
    await alice.expect("Offer", conversation=conv)
    aid = await alice.send("Accept", conversation=conv)
    assert (await alice.reply(aid))["type"] == "Ack"
    return client, conv


async def _seqs(server: ChatServer, conv: str) -> list[int]:
    return [e.seq for e in await server.store.read_events(conv, 0, 1_000_000)]


async def test_a_failed_write_fails_alone_burns_no_seq_and_its_retry_succeeds(
    server: ChatServer, origin: str
) -> None:
    _, token = server.store.add_agent("Alice")
    alice = await agent(server.url, token, "alice")
    carla, conv_c = await _accepted(server, alice, origin, "carla")
    dana, conv_d = await _accepted(server, alice, origin, "dana")
    # another process wrote the row Carla's next message would take
    taken = (await _seqs(server, conv_c))[-1] + 1
    with sqlite3.connect(server.config.db) as other:
        other.execute(
            "INSERT INTO events (conversation, seq, type, time, visibility, body)"
            " VALUES (?, ?, 'Message', 0, 'all', '{}')",
            (conv_c, taken),
        )
    c_id = await carla.send("SendMessage", conversation=conv_c, text="charged twice")
    d_id = await dana.send("SendMessage", conversation=conv_d, text="my router")
    # Dana, in another chat, is not hurt by Carla's failure
    assert (await dana.reply(d_id))["type"] == "Ack"
    failed = await carla.reply(c_id)
    assert failed["type"] == "Error" and failed["code"] == "internal", failed
    # the cause goes away; the retry with the same id is stored, on the same seq
    with sqlite3.connect(server.config.db) as other:
        other.execute("DELETE FROM events WHERE conversation = ? AND seq = ?", (conv_c, taken))
    await carla.send("SendMessage", id=c_id, conversation=conv_c, text="charged twice")
    ack = await carla.reply(c_id)
    assert ack["type"] == "Ack" and ack["seq"] == taken, ack
    message = await alice.expect("Message", conversation=conv_c, seq=taken)
    assert message["text"] == "charged twice"
    assert await _seqs(server, conv_c) == list(range(1, taken + 1))  # no gap
    # and the next message follows on
    n_id = await carla.send("SendMessage", conversation=conv_c, text="hello?")
    assert (await carla.reply(n_id))["seq"] == taken + 1


async def test_an_agent_accepting_a_chat_transferred_back_with_its_old_accept_id(
    server: ChatServer, origin: str
) -> None:
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    alice = await agent(server.url, at, "alice")
    carla, conv = await customer(server.url, origin, "carla")
    await alice.expect("Offer", conversation=conv)
    accept_id = "alice-accept-1"  # a client whose ids restart (a reloaded page)
    await alice.send("Accept", id=accept_id, conversation=conv)
    assert (await alice.reply(accept_id))["type"] == "Ack"
    bob = await agent(server.url, bt, "bob")
    t1 = await alice.send(
        "RequestTransfer", conversation=conv, target_kind="agent", target_id="bob"
    )
    assert (await alice.reply(t1))["type"] == "Ack"
    await bob.expect("Offer", conversation=conv)
    b_acc = await bob.send("Accept", conversation=conv)
    assert (await bob.reply(b_acc))["type"] == "Ack"
    t2 = await bob.send(
        "RequestTransfer", conversation=conv, target_kind="agent", target_id="alice"
    )
    assert (await bob.reply(t2))["type"] == "Ack"
    await alice.expect("Offer", conversation=conv)
    # the same Accept id again, and a customer in another chat writing at the same time
    dana, conv_d = await customer(server.url, origin, "dana", nickname="Dana")
    await alice.send("Accept", id=accept_id, conversation=conv)
    d_id = await dana.send("SendMessage", conversation=conv_d, text="anyone there?")
    again = await alice.reply(accept_id)
    assert again["type"] == "Ack", again
    assert (await dana.reply(d_id))["type"] == "Ack"
    # the customer sees the chat come back to Alice
    await carla.wait_for(
        lambda f: f.get("type") == "ChatTransferred" and f["from"]["participantId"] == "alice"
    )
    c_id = await carla.send("SendMessage", conversation=conv, text="still here")
    assert (await carla.reply(c_id))["type"] == "Ack"
    assert await _seqs(server, conv) == list(range(1, len(await _seqs(server, conv)) + 1))


async def test_a_locked_database_does_not_stop_the_server(tmp_path: Path) -> None:
    config = make_config(tmp_path, store_busy_timeout=1.0)
    server = ChatServer(config, clock=VirtualClock())
    await server.start()
    origin = f"http://127.0.0.1:{server.port}"
    try:
        _, token = server.store.add_agent("Alice")
        alice = await agent(server.url, token, "alice")
        carla, conv = await _accepted(server, alice, origin, "carla")
        # a backup (another process) holds the write lock
        other = sqlite3.connect(config.db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            c_id = await carla.send("SendMessage", conversation=conv, text="hello?")
            ping = await alice.send("Ping")
            # the server answers others while Carla's write waits for the lock
            await alice.reply(ping)
            assert not any(f.get("id") == c_id for f in carla.frames)
            busy = await carla.reply(c_id)
            assert busy["type"] == "Error" and busy["code"] == "unavailable", busy
            assert "retry" in busy["message"]
        finally:
            other.execute("ROLLBACK")
            other.close()
        # nothing was stored; the retry with the same id is, on the next seq
        before = await _seqs(server, conv)
        await carla.send("SendMessage", id=c_id, conversation=conv, text="hello?")
        ack = await carla.reply(c_id)
        assert ack["type"] == "Ack" and ack["seq"] == before[-1] + 1
        assert await _seqs(server, conv) == list(range(1, ack["seq"] + 1))
        await alice.close()
        await carla.close()
    finally:
        await server.stop()
