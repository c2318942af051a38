"""Issue 11 item 8: limits across connections — per chat, per client address, failed
authentication — and a flooder refused cheaply, then disconnected.

Real server on 127.0.0.1, real SQLite; the server's VirtualClock is stepped, never slept on.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer, ServerConfig

from .helpers import TIMEOUT, Client, agent, customer


def _defaults(tmp_path: Path) -> ServerConfig:
    """The shipped limits (not conftest's raised ones), with a big per-connection rate
    where a test is about the limits across connections."""
    return ServerConfig(host="127.0.0.1", port=0, db=str(tmp_path / "limits.sqlite"))


@pytest.fixture
async def shipped(tmp_path: Path) -> AsyncIterator[tuple[ChatServer, VirtualClock, str]]:
    clock = VirtualClock()
    server = ChatServer(_defaults(tmp_path), clock=clock)
    await server.start()
    try:
        yield server, clock, f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


async def test_a_chat_is_limited_across_all_its_connections(
    shipped: tuple[ChatServer, VirtualClock, str],
) -> None:
    server, clock, origin = shipped
    cfg = server.config
    _, token = server.store.add_agent("Alice")
    alice = await agent(server.url, token, "alice")
    carla, conv = await customer(server.url, origin, "carla")
    dana, other = await customer(server.url, origin, "dana", nickname="Dana")
    started = next(f for f in carla.frames if f.get("type") == "ChatStarted")
    await alice.expect("Offer", conversation=conv)
    aid = await alice.send("Accept", conversation=conv)
    assert (await alice.reply(aid))["type"] == "Ack"
    # ten connections on Carla's chat (the same customer, resumed ten times)
    tabs = [carla]
    for i in range(9):
        tab = await Client.open(server.url, f"tab{i}", origin=origin)
        rid = await tab.send("ResumeChat", conversation=conv, token=started["token"], lastSeq=0)
        assert (await tab.reply(rid))["type"] == "ChatStarted"
        tabs.append(tab)
    replies = []
    for round_ in range(5):  # 50 messages at one instant of the server clock
        for tab in tabs:
            mid = await tab.send("SendMessage", conversation=conv, text=f"spam {round_}")
            replies.append(await tab.reply(mid))
    acked = [r for r in replies if r["type"] == "Ack"]
    limited = [r for r in replies if r.get("code") == "rate_limited"]
    assert len(acked) == cfg.chat_rate_burst and len(limited) == 50 - cfg.chat_rate_burst
    assert "in this chat" in limited[0]["message"]
    # another chat is not touched; Carla's chat may write again a second later
    mid = await dana.send("SendMessage", conversation=other, text="hello")
    assert (await dana.reply(mid))["type"] == "Ack"
    # the customer cannot lock the agent out of the chat
    mid = await alice.send("SendMessage", conversation=conv, text="Please stop.")
    assert (await alice.reply(mid))["type"] == "Ack"
    clock.advance(1.0)
    mid = await carla.send("SendMessage", conversation=conv, text="sorry")
    assert (await carla.reply(mid))["type"] == "Ack"


async def test_new_chats_are_limited_per_client_address(
    shipped: tuple[ChatServer, VirtualClock, str],
) -> None:
    server, clock, origin = shipped
    cfg = server.config
    answers = []
    for i in range(int(cfg.address_chat_burst) + 3):
        client = await Client.open(server.url, f"bot{i}", origin=origin)
        rid = await client.send("RequestChat", nickname=f"Bot {i}")
        answers.append(await client.reply(rid))
        await client.close()
    started = [a for a in answers if a["type"] == "ChatStarted"]
    refused = [a for a in answers if a.get("code") == "rate_limited"]
    assert len(started) == cfg.address_chat_burst and len(refused) == 3
    assert "per minute from this address" in refused[0]["message"]
    assert len(server.service.router.waiting) == cfg.address_chat_burst  # refused: not queued
    # after a minute of server clock the address may start chats again
    clock.advance(60.0)
    _, conv = await customer(server.url, origin, "later")
    assert conv


async def test_failed_authentication_is_throttled_per_address(
    shipped: tuple[ChatServer, VirtualClock, str],
) -> None:
    server, clock, _ = shipped
    cfg = server.config
    _, token = server.store.add_agent("Alice")
    codes = []
    for i in range(cfg.auth_failure_limit + 2):
        guesser = await Client.open(server.url, f"guess{i}")
        aid = await guesser.send("Auth", token=f"wrong-{i}")
        codes.append((await guesser.reply(aid))["code"])
    assert codes == ["auth_failed"] * cfg.auth_failure_limit + ["rate_limited"] * 2
    # even the right token waits out the back-off (guessing gains nothing) ...
    right = await Client.open(server.url, "right")
    aid = await right.send("Auth", token=token)
    blocked = await right.reply(aid)
    assert blocked["code"] == "rate_limited" and "retry in" in blocked["message"]
    # ... and works after it
    clock.advance(cfg.auth_backoff)
    await agent(server.url, token, "alice")


async def test_a_flooder_is_refused_cheaply_then_disconnected(
    shipped: tuple[ChatServer, VirtualClock, str],
) -> None:
    server, clock, origin = shipped
    cfg = server.config
    _, token = server.store.add_agent("Alice")
    alice = await agent(server.url, token, "alice")
    bystander, conv = await customer(server.url, origin, "bystander")
    flooder, _flood_conv = await customer(server.url, origin, "flooder", nickname="Flo")
    big = "x" * 60_000  # not even valid frames: refused before parsing
    for i in range(cfg.flood_refusals * 3):
        if i % 20 == 19:  # the bucket refills a frame's worth between refusals
            await flooder.send("Ping")
            await flooder.wait_for(lambda f: f.get("type") in ("Pong", "Error"))
            clock.advance(1.0 / cfg.rate_per_second)
        try:
            await flooder.send_raw('{"v":1,"type":"SendMessage","id":"f-1","text":"' + big)
        except ConnectionClosed:
            break
    try:
        for _ in range(100_000):  # bounded: read until the server closes
            await flooder.wait_for(lambda f: False, timeout=TIMEOUT)
    except ConnectionClosed:
        pass
    assert flooder.ws.close_code == 1008
    assert "flooding" in (flooder.ws.close_reason or "")
    limited = [f for f in flooder.frames if f.get("code") == "rate_limited"]
    assert any(f["id"] == "f-1" for f in limited)  # the id, found without parsing
    # the bystander was served all along
    mid = await bystander.send("SendMessage", conversation=conv, text="still here?")
    assert (await bystander.reply(mid))["type"] == "Ack"
    offer = await alice.expect("Offer", conversation=conv)  # and routing goes on
    assert offer["conversation"] == conv


async def test_a_queued_chat_whose_customer_is_gone_is_ended_not_offered(
    shipped: tuple[ChatServer, VirtualClock, str],
) -> None:
    server, clock, origin = shipped
    timeout = server.config.abandon_timeout
    _, token = server.store.add_agent("Alice")
    alice = await agent(server.url, token, "alice", ready=False)  # nobody takes chats yet
    gone, conv_gone = await customer(server.url, origin, "gone", nickname="Gone")
    back, conv_back = await customer(server.url, origin, "back", nickname="Back")
    started = next(f for f in back.frames if f.get("type") == "ChatStarted")
    await gone.close()
    await back.close()
    await _until(lambda: server.service.conversations[conv_gone].customer_connections == 0)
    await _until(lambda: server.service.conversations[conv_back].customer_connections == 0)
    clock.advance(timeout / 2)
    # "back" reconnects in time (a dropped connection): its chat stays queued
    again = await Client.open(server.url, "back-again", origin=origin)
    rid = await again.send("ResumeChat", conversation=conv_back, token=started["token"])
    assert (await again.reply(rid))["type"] == "ChatStarted"
    clock.advance(timeout)
    # nobody ever took it: nothing to wrap up, so it is done and leaves memory at once
    await _until(lambda: _stored_state(server, conv_gone) == "done")  # once committed
    assert conv_gone not in server.service.conversations
    assert conv_gone not in server.service.router.waiting
    assert server.service.conversations[conv_back].record.state == "queued"
    # Alice gets ready: she is offered the chat with a customer, not the abandoned one
    sid = await alice.send("SetReady", ready=True)
    assert (await alice.reply(sid))["type"] == "Ack"
    offer = await alice.expect("Offer")
    assert offer["conversation"] == conv_back
    assert not any(
        f.get("type") == "Offer" and f.get("conversation") == conv_gone for f in alice.frames
    )


async def test_chats_customers_leave_in_the_queue_do_not_pile_up_in_memory(
    server: ChatServer, origin: str
) -> None:
    before = len(server.service.conversations)
    for n in range(30):  # a client that opens chats and leaves each before anyone answers
        carla, conv = await customer(server.url, origin, f"leaver{n}", nickname=f"L{n}")
        eid = await carla.send("EndChat", conversation=conv)
        assert (await carla.reply(eid))["type"] == "Ack"
        assert _stored_state(server, conv) == "done"
        await carla.close()
    assert len(server.service.conversations) == before
    # a retry of the EndChat after the chat left memory is still acknowledged
    again, conv = await customer(server.url, origin, "again", nickname="Again")
    eid = await again.send("EndChat", conversation=conv)
    assert (await again.reply(eid))["type"] == "Ack"
    await again.send("EndChat", id=eid, conversation=conv)
    assert (await again.reply(eid))["type"] == "Ack"


async def _until(condition: Callable[[], bool]) -> None:
    """Bounded wait for the server to notice a closed connection (wall clock)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), TIMEOUT)


def _stored_state(server: ChatServer, conversation: str) -> str:
    with sqlite3.connect(server.config.db) as db:
        row = db.execute("SELECT state FROM conversations WHERE id = ?", (conversation,))
        return str(row.fetchone()[0])
