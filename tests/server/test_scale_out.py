"""Several server processes on one PostgreSQL and one Redis form one service
(issue 18 step 2, docs/scale-out.md): one routes (the holder of the serving
lock), the others relay their connections through Redis Streams.

Most tests run two or three ``ChatServer`` instances in one event loop (each
with its own connections to PostgreSQL and Redis, as separate processes have);
the take-over after kill -9 runs the router as a real ``chat-widget serve``
process. Real websockets on 127.0.0.1, the real clock with short intervals,
every wait bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from chat_widget.server import ChatServer, ServerConfig
from chat_widget.server.pg_store import PostgresStore

from .conftest import make_config
from .helpers import TIMEOUT, Client, agent, customer

PROCESS_TIMEOUT = 60.0  # wall seconds a server process may take to start
TAKEOVER_BOUND = 5.0  # wall seconds a gateway may take to route after the router died
FAST = {"takeover_interval": 0.1, "beat_interval": 0.2, "beat_timeout": 1.0}


def scale_config(tmp_path: Path, pg_url: str, redis_url: str, **overrides: Any) -> ServerConfig:
    return make_config(tmp_path, store=pg_url, bus=redis_url, **{**FAST, **overrides})


@contextlib.asynccontextmanager
async def processes(config: ServerConfig, n: int) -> AsyncIterator[list[ChatServer]]:
    """``n`` servers on one database and one Redis; the first one started routes."""
    servers: list[ChatServer] = []
    try:
        for _ in range(n):
            srv = ChatServer(config)
            await srv.start()
            servers.append(srv)
        assert [s.role for s in servers] == ["router"] + ["gateway"] * (n - 1)
        await until(lambda: all(s.epoch == servers[0].epoch > 0 for s in servers))
        yield servers
    finally:
        for srv in reversed(servers):  # gateways first: no take-over while tearing down
            await srv.stop()


async def until(cond: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait (bounded) until ``cond()`` holds."""
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


def origin_of(srv: ChatServer) -> str:
    return f"http://127.0.0.1:{srv.port}"


def add_agent(pg_url: str, name: str) -> str:
    _, token = PostgresStore(pg_url).add_agent(name)
    return token


async def stored(pg_url: str, conv: str) -> list[dict[str, Any]]:
    """The conversation's events in PostgreSQL, in seq order (seq, type, sender, text)."""
    store = PostgresStore(pg_url)
    try:
        events = await store.read_events(conv, 0, 100_000)
    finally:
        await store.close()
    return [
        {"seq": e.seq, "type": e.type, "sender": e.sender, "text": json.loads(e.body).get("text")}
        for e in events
    ]


async def accept(alice: Client, conv: str) -> None:
    await alice.expect("Offer", conversation=conv)
    reply = await alice.reply(await alice.send("Accept", conversation=conv))
    assert reply["type"] == "Ack", reply


# -- messages both ways across processes ------------------------------------------------


async def test_a_customer_on_a_gateway_chats_with_an_agent_on_the_router(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    token = add_agent(pg_url, "Alice")
    async with processes(scale_config(tmp_path, pg_url, redis_url), 2) as (router, gateway):
        alice = await agent(router.url, token, "alice")
        carla, conv = await customer(gateway.url, origin_of(gateway), "carla")
        await accept(alice, conv)
        sent_c, sent_a = [], []
        for i in range(10):
            fid = await carla.send("SendMessage", conversation=conv, text=f"c{i}")
            sent_c.append((fid, f"c{i}"))
            aid = await alice.send("SendMessage", conversation=conv, text=f"a{i}")
            sent_a.append((aid, f"a{i}"))
        for fid, _ in sent_c:
            assert (await carla.reply(fid))["type"] == "Ack"
        for aid, _ in sent_a:
            assert (await alice.reply(aid))["type"] == "Ack"
        for _, text in sent_c:
            await alice.expect("Message", conversation=conv, text=text)
        for _, text in sent_a:
            await carla.expect("Message", conversation=conv, text=text)
        # both see one order, the store's
        events = await stored(pg_url, conv)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        texts = [e["text"] for e in events if e["type"] == "Message"]
        assert sorted(texts) == sorted(t for _, t in sent_c + sent_a)  # each stored once
        assert [m["text"] for m in carla.events(conv) if m["type"] == "Message"] == texts
        assert [m["text"] for m in alice.events(conv) if m["type"] == "Message"] == texts
        await alice.close()
        await carla.close()
