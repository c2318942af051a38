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
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from chat_widget.backends.websocket import ReconnectPolicy
from chat_widget.cli import main
from chat_widget.server import ChatServer, ServerConfig
from chat_widget.server.pg_store import PostgresStore
from chat_widget.server.store import StoreInUse
from tests.pg import free_port
from tests.redis_instance import RedisInstance

from .conftest import make_config
from .helpers import (
    TIMEOUT,
    AcceptedChat,
    Client,
    accepted_chat,
    agent,
    customer,
    first_to_get,
    until,
)

PROCESS_TIMEOUT = 60.0  # wall seconds a server process may take to start
TAKEOVER_BOUND = 5.0  # wall seconds a gateway may take to route after the router died
FAST = {"takeover_interval": 0.1, "beat_interval": 0.2, "beat_timeout": 1.0}
RECONNECT = ReconnectPolicy(initial=0.01, maximum=0.2, auth_timeout=5.0)


def scale_config(tmp_path: Path, pg_url: str, redis_url: str, **overrides: Any) -> ServerConfig:
    return make_config(tmp_path, store=pg_url, bus=redis_url, **{**FAST, **overrides})


@contextlib.asynccontextmanager
async def processes(
    config: ServerConfig, n: int, *, router: bool = True
) -> AsyncIterator[list[ChatServer]]:
    """``n`` servers on one database and one Redis; the first one started routes
    (``router=False``: a router runs elsewhere, all ``n`` are gateways)."""
    servers: list[ChatServer] = []
    try:
        for _ in range(n):
            srv = ChatServer(config)
            await srv.start()
            servers.append(srv)
        roles = ["router"] * router + ["gateway"] * (n - router)
        assert [s.role for s in servers] == roles
        await until(lambda: all(s.epoch == servers[-1].epoch > 0 for s in servers))
        yield servers
    finally:
        for srv in reversed(servers):  # gateways first: no take-over while tearing down
            await srv.stop()


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


# -- atomic accept -------------------------------------------------------------------------


async def test_two_agents_on_two_processes_accept_one_chat_at_once_one_wins(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    tokens = [add_agent(pg_url, "Alice"), add_agent(pg_url, "Bob")]
    async with processes(scale_config(tmp_path, pg_url, redis_url), 2) as (router, gateway):
        alice = await agent(router.url, tokens[0], "alice")  # on the router
        bob = await agent(gateway.url, tokens[1], "bob")  # relayed by the gateway
        winners = []
        for round_ in range(4):
            carla, conv = await customer(gateway.url, origin_of(gateway), f"carla{round_}")
            offered = await first_to_get([alice, bob], "Offer", conversation=conv)
            ids = await asyncio.gather(
                alice.send("Accept", conversation=conv), bob.send("Accept", conversation=conv)
            )
            replies = [await c.reply(i) for c, i in zip((alice, bob), ids, strict=True)]
            kinds = sorted(r["type"] for r in replies)
            assert kinds == ["Ack", "Error"], replies
            winner = (alice, bob)[[r["type"] for r in replies].index("Ack")]
            loser_reply = next(r for r in replies if r["type"] == "Error")
            assert winner is offered
            winners.append(winner.name)
            assert loser_reply["code"] == "offer_not_available", loser_reply
            events = await stored(pg_url, conv)
            joins = [e["sender"] for e in events if e["type"] == "ParticipantJoined"]
            assert joins == ["customer", winner.name], joins  # one agent joined, once
            # the chat ends so that the next round's offer may go to either agent
            end = await winner.send("EndChat", conversation=conv)
            assert (await winner.reply(end))["type"] == "Ack"
            done = await winner.send("MarkDone", conversation=conv)
            assert (await winner.reply(done))["type"] == "Ack"
            await carla.close()
        assert set(winners) == {"alice", "bob"}  # the local and the relayed agent both won
        await alice.close()
        await bob.close()


# -- the router dies: a gateway takes over ------------------------------------------------


def serve_process(pg_url: str, redis_url: str, port: int, log: Path) -> subprocess.Popen[str]:
    """``chat-widget serve --store --bus`` as a real process (stderr to ``log``)."""
    limits = ["--rate", "1000", "--rate-burst", "100000", "--chat-rate", "1000",
              "--chat-rate-burst", "100000", "--address-chats", "100000",
              "--address-chat-burst", "100000"]  # fmt: skip
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "chat_widget.cli", "serve", "--port", str(port),
             "--store", pg_url, "--bus", redis_url, "--log-level", "WARNING", *limits],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


async def reap(proc: subprocess.Popen[str]) -> None:
    """Kill the process if it still runs; wait until it is gone (bounded)."""
    if proc.poll() is None:
        proc.kill()
    await asyncio.to_thread(proc.wait, PROCESS_TIMEOUT)


async def line_with(proc: subprocess.Popen[str], text: str, log: Path) -> str:
    """The process's next stdout line containing ``text`` (bounded)."""
    assert proc.stdout is not None
    async with asyncio.timeout(PROCESS_TIMEOUT):
        for _ in range(100):
            line = await asyncio.to_thread(proc.stdout.readline)
            if not line:
                raise AssertionError(f"the process ended: {log.read_text()[-3000:]}")
            if text in line:
                return line
    raise AssertionError(f"no line with {text!r}")


async def closed_with(client: Client) -> int:
    """The close code the server sends ``client`` (bounded)."""
    with pytest.raises(ConnectionClosed) as closed:
        await client.expect("NeverSent", timeout=TIMEOUT + TAKEOVER_BOUND)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def check_exact(pg_url: str, chat: AcceptedChat) -> None:
    """PostgreSQL, the customer and the agent hold each message exactly once, in order,
    with gapless seqs."""
    events = await stored(pg_url, chat.session.id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    chat.check_exact([(e["sender"], e["text"]) for e in events if e["type"] == "Message"])


async def test_kill_9_of_the_router_a_gateway_takes_over_and_nothing_is_lost(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    token = add_agent(pg_url, "Alice")
    log = tmp_path / "router.log"
    proc = serve_process(pg_url, redis_url, free_port(), log)
    try:
        await line_with(proc, "customer page", log)
        await line_with(proc, "role router", log)
        config = scale_config(tmp_path, pg_url, redis_url)
        async with processes(config, 2, router=False) as (g1, g2):
            chat = accepted_chat(g1.url, token, lambda: g2.url, lambda: origin_of(g2), RECONNECT)
            async with chat as c:
                probe, _ = await customer(g2.url, origin_of(g2), "probe")  # idle, relayed
                took = 0.0
                for i in range(60):
                    c.both(str(i))
                    await asyncio.sleep(0.005)
                    if i == 20:  # mid-stream: frames are in flight
                        proc.send_signal(signal.SIGKILL)
                        killed = time.monotonic()
                        await asyncio.to_thread(proc.wait, PROCESS_TIMEOUT)
                        await until(lambda: "router" in (g1.role, g2.role), TAKEOVER_BOUND)
                        took = time.monotonic() - killed
                assert await closed_with(probe) == 1012  # relayed: service restart
                await c.settled(20)
                await check_exact(pg_url, c)
                assert c.backend.duplicates == 0
                assert c.carla.connects >= 2 and c.backend.connects >= 2  # both were moved
                print(f"take-over {took:.3f} s after kill -9")
                assert took < TAKEOVER_BOUND
                assert sorted((g1.role, g2.role)) == ["gateway", "router"]
                assert g1.epoch == g2.epoch
    finally:
        await reap(proc)


async def test_a_router_that_stops_hands_over_to_a_gateway(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    token = add_agent(pg_url, "Alice")
    config = scale_config(tmp_path, pg_url, redis_url)
    async with processes(config, 2) as (router, gateway):
        carla, conv = await customer(gateway.url, origin_of(gateway), "carla")
        epoch = gateway.epoch
        await router.stop()  # SIGTERM's path: commits, releases the lock
        assert await closed_with(carla) == 1012
        await until(lambda: gateway.role == "router", TAKEOVER_BOUND)
        assert gateway.epoch > epoch
        alice = await agent(gateway.url, token, "alice")
        await accept(alice, conv)  # the queued chat was restored from PostgreSQL
        await alice.close()


# -- a gateway dies -------------------------------------------------------------------------


async def test_a_dead_gateways_agent_is_dropped_after_beat_timeout(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    ann_token, bob_token = add_agent(pg_url, "Ann"), add_agent(pg_url, "Bob")
    # the gateway process beats every second (the default): the router waits 2.5 s
    config = scale_config(tmp_path, pg_url, redis_url, beat_timeout=2.5)
    log = tmp_path / "gateway.log"
    async with processes(config, 1) as (router,):
        assert router.relayed is not None
        port = free_port()
        proc = serve_process(pg_url, redis_url, port, log)
        try:
            await line_with(proc, "role gateway", log)
            ann = await agent(f"ws://127.0.0.1:{port}/ws", ann_token, "ann")  # relayed
            bob = await agent(router.url, bob_token, "bob", ready=False)  # local, not ready
            await until(lambda: len(router.relayed.conns) == 1)  # type: ignore[union-attr]
            proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            await asyncio.to_thread(proc.wait, PROCESS_TIMEOUT)
            carla, conv = await customer(router.url, origin_of(router), "carla")
            offers = router.service.router.offers
            await until(lambda: conv in offers and offers[conv].agent == "ann")
            ready = await bob.send("SetReady", ready=True)
            assert (await bob.reply(ready))["type"] == "Ack"
            # the offer went to Ann (the router does not know yet); once her gateway is
            # silent for beat_timeout she leaves, and the offer goes to Bob, long before
            # the offer timeout (20 s)
            await bob.expect("Offer", conversation=conv, timeout=config.beat_timeout + TIMEOUT)
            waited = time.monotonic() - killed
            assert config.beat_timeout - 1.5 < waited < config.beat_timeout + 3.0, waited
            assert not router.relayed.conns
            accepted = await bob.send("Accept", conversation=conv)
            assert (await bob.reply(accepted))["type"] == "Ack"
            await ann.ws.close()
            await bob.close()
            await carla.close()
        finally:
            if proc.poll() is None:
                proc.kill()
            await asyncio.to_thread(proc.wait, PROCESS_TIMEOUT)


# -- Redis restarts --------------------------------------------------------------------------


async def test_a_redis_restart_mid_chat_loses_nothing(pg_url: str, tmp_path: Path) -> None:
    token = add_agent(pg_url, "Alice")
    redis = RedisInstance()  # its own: this test restarts it
    redis.start()
    try:
        config = scale_config(tmp_path, pg_url, redis.url())
        async with processes(config, 2) as (router, gateway):
            chat = accepted_chat(
                router.url, token, lambda: gateway.url, lambda: origin_of(gateway), RECONNECT
            )
            async with chat as c:
                for i in range(10):
                    c.both(str(i))
                    await asyncio.sleep(0.005)
                epoch = router.epoch
                connects = c.carla.connects
                await asyncio.to_thread(redis.stop)
                await until(lambda: not gateway.gateway.ready)  # type: ignore[union-attr]
                for i in range(10, 20):  # the router's own agent goes on without Redis
                    c.both(str(i))
                    await asyncio.sleep(0.005)
                await until(lambda: c.backend.pending == 0)  # stored and acknowledged
                await asyncio.to_thread(redis.start)  # empty, on the same port
                await until(lambda: router.epoch > epoch, 10)
                for i in range(20, 30):
                    c.both(str(i))
                    await asyncio.sleep(0.005)
                await c.settled(20)
                await check_exact(pg_url, c)
                assert c.carla.connects > connects  # moved off the relay and back
                assert c.backend.duplicates == 0
                assert (router.role, gateway.role) == ("router", "gateway")
                await until(lambda: gateway.epoch == router.epoch)
    finally:
        redis.remove()


# -- fencing: a router that loses the lock stops -------------------------------------------


async def _terminate_lock_holder(pg_url: str) -> int:
    """End the session holding the serving lock (as a network cut would); its pid."""
    import psycopg

    from chat_widget.server.pg_schema import SERVE_LOCK

    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
            " AND objid = %s AND granted",
            (SERVE_LOCK >> 32, SERVE_LOCK & 0xFFFFFFFF),
        )
        row = await cur.fetchone()
        assert row is not None, "nobody holds the serving lock"
        await conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        return int(row[0])


async def test_a_router_that_loses_the_lock_stops_routing(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    token = add_agent(pg_url, "Alice")
    async with processes(scale_config(tmp_path, pg_url, redis_url), 2) as (router, gateway):
        alice = await agent(router.url, token, "alice")
        pid = await _terminate_lock_holder(pg_url)
        assert pid == router.store.writer.backend_pid  # type: ignore[attr-defined]
        await until(lambda: router.lost.is_set(), TAKEOVER_BOUND)
        assert await closed_with(alice) == 1012
        await until(lambda: gateway.role == "router", TAKEOVER_BOUND)
        # the old router writes nothing any more
        assert router.store.writer.fenced  # type: ignore[attr-defined]
        alice = await agent(gateway.url, token, "alice")  # the service goes on
        carla, conv = await customer(gateway.url, origin_of(gateway), "carla")
        await accept(alice, conv)
        await alice.close()
        await carla.close()


async def test_a_router_process_that_loses_the_lock_exits_with_status_1(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "router.log"
    proc = serve_process(pg_url, redis_url, free_port(), log)
    try:
        await line_with(proc, "role router", log)
        await _terminate_lock_holder(pg_url)
        code = await asyncio.wait_for(asyncio.to_thread(proc.wait), PROCESS_TIMEOUT)
        assert code == 1, log.read_text()
        err = log.read_text()
        assert "chat-widget: lost the serving lock" in err and "Traceback" not in err, err
    finally:
        await reap(proc)


# -- what is refused -------------------------------------------------------------------------


async def test_without_bus_a_second_process_still_refuses(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with processes(scale_config(tmp_path, pg_url, redis_url), 1):
        with pytest.raises(StoreInUse, match=r"started with --bus .* same --store and --bus"):
            await ChatServer(make_config(tmp_path, store=pg_url)).start()


async def test_a_bus_process_beside_a_server_without_bus_refuses_to_start(
    pg_url: str, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The holder of the lock was started without --bus: it would never route for a
    gateway, whose clients would wait for nothing. The gateway says so and stops."""
    alone = ChatServer(make_config(tmp_path, store=pg_url))
    await alone.start()
    try:
        with pytest.raises(StoreInUse, match="started without --bus"):
            await ChatServer(scale_config(tmp_path, pg_url, redis_url)).start()
        argv = ["serve", "--port", "0", "--store", pg_url, "--bus", redis_url]
        assert await asyncio.to_thread(main, argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("chat-widget: this database is served by a chat-widget server "
                              "started without --bus") and err.count("\n") == 1, err  # fmt: skip
        # a second server without --bus is told how to run several
        with pytest.raises(StoreInUse, match="--bus redis://"):
            await ChatServer(make_config(tmp_path, store=pg_url)).start()
    finally:
        await alone.stop()
    # once it is gone, the same command serves (and routes)
    srv = ChatServer(scale_config(tmp_path, pg_url, redis_url))
    await srv.start()
    try:
        assert srv.role == "router"
    finally:
        await srv.stop()


def test_bus_needs_a_postgresql_store(
    tmp_path: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (["--bus", redis_url], ["--db", str(tmp_path / "c.sqlite"), "--bus", redis_url]):
        assert main(["serve", "--port", "0", *args]) == 2
        err = capsys.readouterr().err
        assert "--bus needs --store postgresql://" in err and "SQLite" in err, err
    with pytest.raises(ValueError, match="PostgreSQL store"):
        ServerConfig(db=str(tmp_path / "c.sqlite"), bus=redis_url)


def test_a_bad_or_unreachable_bus_is_one_clear_line(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", "--store", pg_url, "--bus", "http://x"]) == 2
    assert "redis://" in capsys.readouterr().err
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    assert main(["serve", "--port", "0", "--store", pg_url, "--bus", nobody]) == 1
    err = capsys.readouterr().err
    assert err.startswith("chat-widget: redis at ") and "Traceback" not in err, err


# -- flow control through the relay -------------------------------------------------------


async def test_a_long_backlog_reaches_a_relayed_reader_without_overflowing(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    """A resumed chat's history is ten times the outbox limit: a reader that reads gets
    all of it through the gateway (the router waits for the gateway's reports, as it
    waits for a local socket), and stays connected."""
    token = add_agent(pg_url, "Alice")
    config = scale_config(tmp_path, pg_url, redis_url, send_queue_limit=40)
    async with processes(config, 2) as (router, gateway):
        alice = await agent(router.url, token, "alice")
        carla, conv = await customer(router.url, origin_of(router), "carla")
        chat_token = next(f["token"] for f in carla.frames if f["type"] == "ChatStarted")
        await accept(alice, conv)
        await carla.close()
        for chunk in range(40):
            ids = [
                await alice.send("SendMessage", conversation=conv, text=f"m{chunk}.{i}")
                for i in range(10)
            ]
            for frame_id in ids:
                assert (await alice.reply(frame_id))["type"] == "Ack"
        last = (await stored(pg_url, conv))[-1]["seq"]
        assert last > 10 * config.send_queue_limit
        reader = await Client.open(gateway.url, "carla2", origin=origin_of(gateway))
        rid = await reader.send("ResumeChat", conversation=conv, token=chat_token, lastSeq=0)
        assert (await reader.reply(rid))["type"] == "ChatStarted"
        async with asyncio.timeout(TIMEOUT * 4):
            while len(reader.events(conv)) < last:
                await reader._read()
        assert [f["seq"] for f in reader.events(conv)] == list(range(1, last + 1))
        mid = await reader.send("SendMessage", conversation=conv, text="still here")
        assert (await reader.reply(mid))["seq"] == last + 1
        await reader.close()
        await alice.close()
