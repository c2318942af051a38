"""Issue 11 item 5: a slow reader leaves routing at once and is closed within ``close_timeout``.

Alice's client stops reading (its transport is paused and its receive buffer is
tiny), then her customer floods the chat she owns until her send queue (20 frames
here) overflows. From that moment she gets no offers (new chats and her pending
offers go to Bob at once, on a virtual clock that never moves: while her socket
is still open, with a ``close_timeout`` of 5 s there) and the server drops her
connection within ``close_timeout`` of wall time although the close
frame cannot reach her; Bob and the customer are acknowledged throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.client import connect

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer
from chat_widget.server.peer import AgentPrincipal, Peer

from .conftest import make_config
from .helpers import TIMEOUT, Client, agent, customer

LIMIT = 20  # send queue frames
CLOSE_TIMEOUT = 0.5  # wall seconds
TEXT = "x" * 4000
BATCH = 20  # messages sent before waiting for their acks


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path, clock: VirtualClock, close_timeout: float
) -> AsyncIterator[tuple[ChatServer, str]]:
    config = make_config(
        tmp_path, send_queue_limit=LIMIT, close_timeout=close_timeout, synchronous="NORMAL"
    )
    srv = ChatServer(config, clock=clock)
    await srv.start()
    try:
        yield srv, f"http://127.0.0.1:{srv.port}"
    finally:
        await srv.stop()


def out_of_routing(server: ChatServer, agent_id: str) -> bool:
    presence = server.service.router.agents[agent_id]
    return presence.online == 0 and not presence.ready and not presence.offered


async def non_reader(url: str, token: str, name: str) -> Client:
    """An agent whose client can be told to stop reading (``stop_reading``)."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small window
    sock.connect((parts.hostname, parts.port))
    sock.setblocking(False)
    ws = await connect(url, sock=sock, max_queue=1, max_size=2**20)
    client = Client(ws, name)
    auth = await client.send("Auth", token=token)
    assert (await client.reply(auth))["type"] == "AuthOk"
    return client


def stop_reading(client: Client) -> None:
    client.ws.transport.pause_reading()  # type: ignore[attr-defined]


def add_agent(server: ChatServer, name: str) -> tuple[str, str]:
    record, token = server.store.add_agent(name)
    return record.id, token


def peer_of(server: ChatServer, agent_id: str) -> Peer:
    return next(
        p
        for p in server.peers
        if isinstance(p.principal, AgentPrincipal) and p.principal.agent.id == agent_id
    )


async def accept(client: Client, conversation: str) -> None:
    await client.expect("Offer", conversation=conversation)
    aid = await client.send("Accept", conversation=conversation)
    assert (await client.reply(aid))["type"] == "Ack"


async def presence(client: Client, value: str) -> None:
    fid = await client.send("SetPresence", presence=value)
    assert (await client.reply(fid))["type"] == "Ack"


async def acked(client: Client, conversation: str, text: str) -> float:
    """Send a message and wait for its Ack; the wall seconds it took."""
    t0 = time.monotonic()
    mid = await client.send("SendMessage", conversation=conversation, text=text)
    reply = await client.reply(mid)
    assert reply["type"] == "Ack", reply
    return time.monotonic() - t0


async def flood(
    carla: Client,
    conversation: str,
    slow: Peer,
    bob: tuple[Client, str] | None = None,
    lags: list[float] | None = None,
) -> int:
    """Carla's messages until the slow peer's send queue overflowed; how many it took.
    With ``bob``, Bob sends one message per batch and its ack time goes to ``lags``."""
    sent = 0
    for _ in range(500):  # bounded: 10,000 messages of 4,000 characters at most
        ids = [
            await carla.send("SendMessage", conversation=conversation, text=TEXT)
            for _ in range(BATCH)
        ]
        for mid in ids:
            assert (await carla.reply(mid))["type"] == "Ack"
        sent += BATCH
        if bob is not None and lags is not None:
            lags.append(await acked(bob[0], bob[1], f"still here after {sent}"))
        if slow.closed:
            return sent
    raise AssertionError("the send queue never overflowed")


async def test_pending_offer_of_a_slow_reader_goes_to_another_agent_at_once(
    tmp_path: Path, clock: VirtualClock
) -> None:
    async with serving(tmp_path, clock, close_timeout=5.0) as (server, origin):
        await pending_offer_goes_to_bob(server, origin)


async def pending_offer_goes_to_bob(server: ChatServer, origin: str) -> None:
    alice_id, alice_token = add_agent(server, "Alice")
    bob_id, bob_token = add_agent(server, "Bob")
    alice = await non_reader(server.url, alice_token, "alice")
    bob = await agent(server.url, bob_token, "bob", ready=False)
    carla, c1 = await customer(server.url, origin, "carla")
    await accept(alice, c1)
    dora, c2 = await customer(server.url, origin, "dora")
    await alice.expect("Offer", conversation=c2)  # Bob is not ready: Alice has it, unanswered
    await presence(bob, "ready")
    assert server.service.router.offers[c2].agent == alice_id
    slow = peer_of(server, alice_id)
    stop_reading(alice)
    await flood(carla, c1, slow)
    # at once, before her socket is closed; the clock never moves, so the offer
    # timeout (20 s) cannot be what passes it on
    assert not slow.gone.is_set()
    assert out_of_routing(server, alice_id)
    assert server.service.router.offers[c2].agent == bob_id
    offer = await bob.expect("Offer", conversation=c2)
    assert offer["conversation"] == c2
    await bob.expect("PresenceChanged", agent=alice_id, presence="offline")
    alice.ws.transport.abort()  # type: ignore[attr-defined]
    for c in (bob, carla, dora):
        await c.close()


async def test_new_chat_is_not_offered_to_a_slow_reader(
    tmp_path: Path, clock: VirtualClock
) -> None:
    async with serving(tmp_path, clock, close_timeout=5.0) as (server, origin):
        await new_chat_goes_to_bob(server, origin)


async def new_chat_goes_to_bob(server: ChatServer, origin: str) -> None:
    alice_id, alice_token = add_agent(server, "Alice")
    bob_id, bob_token = add_agent(server, "Bob")
    alice = await non_reader(server.url, alice_token, "alice")
    bob = await agent(server.url, bob_token, "bob", ready=False)
    carla, c1 = await customer(server.url, origin, "carla")
    await accept(alice, c1)
    # Bob gets two chats, so Alice (one) is the least loaded while she is in routing
    await presence(alice, "not_ready")
    await presence(bob, "ready")
    others = [await customer(server.url, origin, f"guest{i}") for i in range(2)]
    for _, conv in others:
        await accept(bob, conv)
    await presence(alice, "ready")
    slow = peer_of(server, alice_id)
    stop_reading(alice)
    await flood(carla, c1, slow)
    assert not slow.gone.is_set()
    assert out_of_routing(server, alice_id)
    erin, c4 = await customer(server.url, origin, "erin")
    assert server.service.router.offers[c4].agent == bob_id
    await bob.expect("Offer", conversation=c4)  # the normal bounded wait; the clock never moves
    alice.ws.transport.abort()  # type: ignore[attr-defined]
    for c in (bob, carla, erin, *(g for g, _ in others)):
        await c.close()


async def test_slow_reader_is_closed_within_close_timeout_and_others_are_not_slowed(
    tmp_path: Path, clock: VirtualClock
) -> None:
    async with serving(tmp_path, clock, close_timeout=CLOSE_TIMEOUT) as (server, origin):
        await closed_in_time(server, origin)


async def closed_in_time(server: ChatServer, origin: str) -> None:
    alice_id, alice_token = add_agent(server, "Alice")
    _, bob_token = add_agent(server, "Bob")
    alice = await non_reader(server.url, alice_token, "alice")
    bob = await agent(server.url, bob_token, "bob", ready=False)
    carla, c1 = await customer(server.url, origin, "carla")
    await accept(alice, c1)
    await presence(alice, "not_ready")
    await presence(bob, "ready")
    dora, c2 = await customer(server.url, origin, "dora")
    await accept(bob, c2)
    slow = peer_of(server, alice_id)
    stop_reading(alice)
    lags: list[float] = []
    sent = await flood(carla, c1, slow, bob=(bob, c2), lags=lags)
    overflowed = time.monotonic()
    # the close frame cannot be written (Alice reads nothing): the transport is aborted
    await asyncio.wait_for(slow.gone.wait(), CLOSE_TIMEOUT + 1.0)
    closed_after = time.monotonic() - overflowed
    assert closed_after <= CLOSE_TIMEOUT + 0.5, closed_after
    assert slow not in server.peers
    # everyone else carries on, acknowledged as before
    lags.append(await acked(bob, c2, "after the slow reader"))
    lags.append(await acked(carla, c1, "and Carla too"))
    lags.append(await acked(dora, c2, "and Dora"))
    assert max(lags) < TIMEOUT / 5, lags
    print(f"overflow after {sent} messages; closed {closed_after:.3f} s later; lags {lags}")
    for c in (bob, carla, dora):
        await c.close()
