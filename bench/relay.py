"""Relay benchmark: `chat-widget serve` vs a minimal websockets relay, same run, loopback.

N conversations (customer socket + agent socket each) on 127.0.0.1. Phase 1 sends
customer messages at a fixed aggregate rate and measures relay latency (customer
send -> agent receive) p50/p95/p99; phase 2 keeps a window of messages in flight
per conversation and measures sustained messages/s. Server memory per connection
is the server processes' RSS growth from idle to all sockets open, divided by the
sockets. Our server runs as `chat-widget serve` with validation, escaping and
synchronous commits on (SQLite `synchronous=FULL`; PostgreSQL `synchronous_commit`
on, and `fsync` on in the throw-away cluster); only the per-connection rate limit is
raised, since the load generator deliberately exceeds a human's typing rate (and all
its clients share one address, so the per-chat and per-address limits are raised too).

Set-ups (issue 18), each measured beside the relay of the same run: SQLite with one
process, and PostgreSQL + Redis with one and with N processes. With several
processes, agent n connects to process n mod N and its customer to process
(n + 1) mod N: every chat crosses processes (through the router and Redis).
"lost" counts messages sent and never delivered, plus the difference between the
messages sent and the messages stored (both must be 0).

    python bench/relay.py            # full: the three set-ups, 500 conversations, 1,000 msg/s
    python bench/relay.py --smoke    # a few seconds each, for CI
    python bench/relay.py --store postgresql://... --bus redis://... --processes 2
    python bench/relay.py --store auto --bus auto --processes 3   # throw-away instances

"auto" starts a throw-away PostgreSQL cluster (tests/pg.py) or Redis (tests/redis_instance.py)
for the run and stops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from chat_widget.cli import event_loop_factory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the package tests/: pg.py, redis_instance.py, cluster.py

MAX_ITERATIONS = 10_000_000  # every loop here is bounded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ minimal relay
async def relay_main(port: int) -> None:
    """The baseline: pair two sockets by a key, forward text frames, nothing else."""
    waiting: dict[str, ServerConnection] = {}
    peers: dict[ServerConnection, ServerConnection] = {}

    async def handler(ws: ServerConnection) -> None:
        key = await ws.recv()
        assert isinstance(key, str)
        if key in waiting:
            other = waiting.pop(key)
            peers[ws], peers[other] = other, ws
            await ws.send("paired")
            await other.send("paired")
        else:
            waiting[key] = ws
        async for msg in ws:
            target = peers.get(ws)
            if target is not None:
                await target.send(msg)

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=64 * 1024):
        print(f"relay ready on :{port}/", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


# ------------------------------------------------------------------ measurement
@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    delivered: int = 0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q / 100 * len(data)))] * 1000


@dataclass
class Pair:
    send: ClientConnection
    recv: ClientConnection
    conversation: str = ""


class Harness:
    """Drives pairs of sockets; ``frame`` builds a customer message for the target."""

    def __init__(self, pairs: list[Pair], ours: bool) -> None:
        self.pairs = pairs
        self.ours = ours
        self.sent: dict[str, float] = {}
        self.stats = Stats()
        self.window: list[asyncio.Semaphore] = []
        self.sent_total = 0
        self.lost = 0  # sent, and still not delivered when a phase settled
        self._n = 0

    def frame(self, i: int) -> tuple[str, str]:
        self._n += 1
        self.sent_total += 1
        mid = f"m{self._n}"
        if self.ours:
            text = json.dumps(
                {
                    "v": 1,
                    "type": "SendMessage",
                    "id": mid,
                    "conversation": self.pairs[i].conversation,
                    "text": f"benchmark message {mid} <b>escaped as text</b>",
                }
            )
        else:
            text = json.dumps({"id": mid, "text": f"benchmark message {mid}"})
        return mid, text

    async def reader(self, i: int) -> None:
        ws = self.pairs[i].recv
        async for raw in ws:
            now = time.perf_counter()
            if self.ours:
                if '"Message"' not in raw:
                    continue
                frame = json.loads(raw)
                mid = frame.get("clientId")
            else:
                mid = json.loads(raw).get("id")
            sent = self.sent.pop(mid, None)
            if sent is not None:
                self.stats.latencies.append(now - sent)
                self.stats.delivered += 1
                if self.window:
                    self.window[i].release()

    async def drain_sender(self, i: int) -> None:
        """Customers' sockets get Acks and echoes: read them so they never back up."""
        async for _ in self.pairs[i].send:
            pass

    async def fixed_rate(self, rate: float, seconds: float) -> Stats:
        self.stats = Stats()
        total = int(rate * seconds)
        t0 = time.perf_counter()
        for k in range(min(total, MAX_ITERATIONS)):
            target = t0 + k / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            i = k % len(self.pairs)
            mid, text = self.frame(i)
            self.sent[mid] = time.perf_counter()
            await self.pairs[i].send.send(text)
        await self.settle()
        return self.stats

    async def saturate(self, seconds: float, window: int) -> float:
        self.stats = Stats()
        self.window = [asyncio.Semaphore(window) for _ in self.pairs]
        deadline = time.perf_counter() + seconds

        async def pump(i: int) -> None:
            for _ in range(MAX_ITERATIONS):
                await self.window[i].acquire()
                if time.perf_counter() >= deadline:
                    return
                mid, text = self.frame(i)
                self.sent[mid] = time.perf_counter()
                await self.pairs[i].send.send(text)

        start = time.perf_counter()
        await asyncio.gather(*(pump(i) for i in range(len(self.pairs))))
        elapsed = time.perf_counter() - start
        rate = self.stats.delivered / elapsed
        self.window = []
        await self.settle()
        return rate

    async def settle(self, limit: float = 10.0) -> None:
        end = time.perf_counter() + limit
        while self.sent and time.perf_counter() < end:
            await asyncio.sleep(0.01)
        self.lost += len(self.sent)
        self.sent.clear()


async def open_ours(urls: list[str], origin: str, tokens: list[str]) -> list[Pair]:
    """Agent n on process n mod N, its customer on process (n + 1) mod N."""
    pairs: list[Pair] = []
    n_proc = len(urls)
    for n, token in enumerate(tokens):
        agent = await connect(urls[n % n_proc], compression=None)
        await agent.send(json.dumps({"v": 1, "type": "Auth", "id": f"auth{n}", "token": token}))
        assert json.loads(await agent.recv())["type"] == "AuthOk"
        customer = await connect(urls[(n + 1) % n_proc], origin=origin, compression=None)  # type: ignore[arg-type]
        await customer.send(
            json.dumps(
                {"v": 1, "type": "RequestChat", "id": f"req{n}", "nickname": f"Customer {n}"}
            )
        )
        started = json.loads(await customer.recv())
        conv = started["conversation"]
        for _ in range(100):  # the offer comes to the only free agent: this one
            frame = json.loads(await agent.recv())
            if frame["type"] == "Offer" and frame["conversation"] == conv:
                break
        await agent.send(
            json.dumps({"v": 1, "type": "Accept", "id": f"acc{n}", "conversation": conv})
        )
        pairs.append(Pair(customer, agent, conv))
    return pairs


async def open_relay(port: int, n: int) -> list[Pair]:
    url = f"ws://127.0.0.1:{port}/"
    pairs: list[Pair] = []
    for i in range(n):
        a = await connect(url, compression=None)
        b = await connect(url, compression=None)
        await a.send(f"pair{i}")
        await b.send(f"pair{i}")
        assert await a.recv() == "paired" and await b.recv() == "paired"
        pairs.append(Pair(a, b))
    return pairs


def redis_parser(chosen: list[Setup]) -> str:
    """Which reply parser redis-py uses (the pure-Python one doubles the relayed tail)."""
    if not any(setup.bus for setup in chosen):
        return ""
    from redis.utils import HIREDIS_AVAILABLE

    return "; redis-py parser: " + ("hiredis" if HIREDIS_AVAILABLE else "pure Python (no hiredis)")


def start(cmd: list[str], ready: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not re.search(ready, line):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):  # a backend that ended meanwhile
            total += sum(p.cpu_times()[:2])
    return total


def with_children(procs: list[psutil.Process]) -> list[psutil.Process]:
    """PostgreSQL: the postmaster and its backends (one per connection) and workers."""
    return [q for p in procs for q in (p, *p.children(recursive=True))]


def rss(procs: list[psutil.Process]) -> int:
    return sum(p.memory_info().rss for p in procs)


async def measure(
    name: str,
    pids: list[int],
    opener: Awaitable[list[Pair]],
    ours: bool,
    args: argparse.Namespace,
    engines: list[psutil.Process] | None = None,
) -> dict[str, float]:
    """``engines``: PostgreSQL's and Redis's processes, when this run started them."""
    procs = [psutil.Process(pid) for pid in pids]
    rss0 = rss(procs)
    pairs = await opener
    await asyncio.sleep(0.5)  # let the servers settle before reading RSS
    rss1 = rss(procs)
    harness = Harness(pairs, ours)
    readers = [asyncio.create_task(harness.reader(i)) for i in range(len(pairs))]
    drains = [asyncio.create_task(harness.drain_sender(i)) for i in range(len(pairs))]
    await harness.fixed_rate(args.rate, min(1.0, args.seconds))  # warm-up
    lat = await harness.fixed_rate(args.rate, args.seconds)
    engine_procs = with_children(engines or [])
    cpu0, engine0 = cpu_seconds(procs), cpu_seconds(engine_procs)
    sat = await harness.saturate(args.seconds, args.window)
    cpu = cpu_seconds(procs) - cpu0
    engine_cpu = cpu_seconds(engine_procs) - engine0
    saturated_delivered = max(1, harness.stats.delivered)  # saturate's own Stats
    for pair in pairs:
        await pair.send.close()
        await pair.recv.close()
    for task in readers + drains:
        task.cancel()
    await asyncio.gather(*readers, *drains, return_exceptions=True)
    result = {
        "p50_ms": lat.pct(50),
        "p95_ms": lat.pct(95),
        "p99_ms": lat.pct(99),
        "delivered": float(lat.delivered),
        "sent": args.rate * args.seconds,
        "sent_total": float(harness.sent_total),
        "lost": float(harness.lost),
        "saturated_msgs_per_s": sat,
        "kib_per_connection": (rss1 - rss0) / 1024 / (2 * len(pairs)),
        "server_cpu_us_per_msg": cpu / saturated_delivered * 1e6,
        "engine_cpu_us_per_msg": (
            engine_cpu / saturated_delivered * 1e6 if engines else float("nan")
        ),
    }
    print(
        f"{name:>14}: p50 {result['p50_ms']:.2f} ms  p95 {result['p95_ms']:.2f} ms  "
        f"p99 {result['p99_ms']:.2f} ms at {args.rate:g} msg/s "
        f"({lat.delivered}/{int(args.rate * args.seconds)} delivered); "
        f"saturated {sat:,.0f} msg/s ({result['server_cpu_us_per_msg']:.0f} µs server CPU "
        f"per message{engine_note(result)}); {result['kib_per_connection']:.1f} KiB/connection",
        flush=True,
    )
    return result


def engine_note(result: dict[str, float]) -> str:
    us = result["engine_cpu_us_per_msg"]
    return "" if us != us else f", + {us:.0f} µs in PostgreSQL and Redis"  # NaN: not ours


# ------------------------------------------------------------------ set-ups
@dataclass
class Setup:
    """One way to run the server: SQLite (``store`` None) or PostgreSQL, a bus or not."""

    name: str
    store: str | None  # "auto", a postgresql:// URL, or None for SQLite
    bus: str | None  # "auto", a redis:// URL, or None
    processes: int


class Engines:
    """The PostgreSQL and Redis a run uses: given URLs, or throw-away ones ("auto")."""

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self._pg: Any = None
        self._redis: Any = None
        self._redis_url: str | None = None

    def database(self, store: str) -> str:
        """A database for one set-up: the given URL, or a fresh one on the throw-away cluster."""
        if store != "auto":
            return store
        if self._pg is None:
            from tests.pg import Cluster

            cluster = Cluster()
            self.stack.callback(cluster.stop)
            cluster.start()
            durable(cluster.url())
            self._pg = cluster
        return str(self._pg.create_database())

    def processes(self, store: str | None, bus: str | None) -> list[psutil.Process]:
        """The throw-away PostgreSQL's postmaster and Redis's server ("auto" only)."""
        out = []
        if store == "auto" and self._pg is not None:
            pid = int((self._pg.data / "postmaster.pid").read_text().split()[0])
            out.append(psutil.Process(pid))
        if bus == "auto" and self._redis is not None and self._redis._proc is not None:
            out.append(psutil.Process(self._redis._proc.pid))
        return out

    def bus(self, bus: str) -> str:
        if bus != "auto":
            return bus
        if self._redis_url is None:
            from tests.redis_instance import RedisInstance

            instance = RedisInstance()
            self.stack.callback(instance.remove)
            instance.start()
            self._redis = instance
            self._redis_url = instance.url()
        return self._redis_url


def durable(url: str) -> None:
    """The tests' cluster runs with fsync off; a benchmark of durable commits needs it on."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("ALTER SYSTEM SET fsync = on")
        conn.execute("ALTER SYSTEM SET full_page_writes = on")
        conn.execute("SELECT pg_reload_conf()")


def add_agents(db: str | None, store: str | None, names: list[str]) -> list[str]:
    from chat_widget.server.store_factory import admin_store

    admin = admin_store(db or "", store)
    return [admin.add_agent(name)[1] for name in names]


def stored_messages(db: str | None, store: str | None) -> int:
    if store is not None:
        import psycopg

        with psycopg.connect(store, connect_timeout=10) as conn:
            row = conn.execute("SELECT COUNT(*) FROM events WHERE type = 'Message'").fetchone()
    else:
        assert db is not None
        with sqlite3.connect(db) as lite:
            row = lite.execute("SELECT COUNT(*) FROM events WHERE type='Message'").fetchone()
        lite.close()
    assert row is not None
    return int(row[0])


@contextmanager
def servers(setup: Setup, db: str | None, store: str | None, bus: str | None) -> Iterator[Any]:
    from tests.cluster import ServerCluster

    cluster = ServerCluster(setup.processes, store=store, db=db, bus=bus)
    try:
        cluster.start()
        if bus is not None:
            cluster.router()  # one router elected; the others are gateways
        yield cluster
    finally:
        cluster.stop()


async def run_setup(
    setup: Setup, number: int, engines: Engines, tmp: Path, args: argparse.Namespace
) -> dict[str, float]:
    store = None if setup.store is None else engines.database(setup.store)
    db = str(tmp / f"bench{number}.sqlite") if store is None else None
    bus = None if setup.bus is None else engines.bus(setup.bus)
    names = [f"Agent {number}-{i}" for i in range(args.conversations)]
    tokens = add_agents(db, store, names)
    with servers(setup, db, store, bus) as cluster:
        origin = cluster.page_origin(0)
        result = await measure(
            setup.name,
            cluster.pids(),
            open_ours(cluster.urls, origin, tokens),
            True,
            args,
            engines.processes(setup.store, setup.bus),
        )
    stored = stored_messages(db, store)
    result["stored"] = float(stored)
    result["lost"] += abs(result["sent_total"] - stored)
    return result


def setups(args: argparse.Namespace) -> list[Setup]:
    if args.store is not None or args.bus is not None or args.processes is not None:
        processes = args.processes or 1
        if processes > 1 and args.bus is None:
            raise SystemExit("--processes N > 1 needs --bus (the processes talk through Redis)")
        if args.bus is not None and args.store is None:
            raise SystemExit("--bus needs --store postgresql://... (SQLite serves one process)")
        if args.store is None:
            return [Setup("sqlite x1", None, None, 1)]
        kind = "pg+redis" if args.bus is not None else "pg"
        return [Setup(f"{kind} x{processes}", args.store, args.bus, processes)]
    every = [
        Setup("sqlite x1", None, None, 1),
        Setup("pg+redis x1", "auto", "auto", 1),
        Setup("pg+redis x2", "auto", "auto", 2),
    ]
    return [every[0], every[2]] if args.smoke else every


async def main(args: argparse.Namespace) -> int:
    chosen = setups(args)
    tmp = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    relay_port = free_port()
    relay = start([sys.executable, __file__, "--relay-server", str(relay_port)], rf":{relay_port}/")
    print(
        f"{args.conversations} conversations ({2 * args.conversations} sockets), "
        f"{args.rate:g} msg/s for {args.seconds:g} s, window {args.window}; "
        f"durable commits, loopback; set-ups: {', '.join(s.name for s in chosen)}"
        f"{redis_parser(chosen)}",
        flush=True,
    )
    results: dict[str, dict[str, float]] = {}
    try:
        with ExitStack() as stack:
            engines = Engines(stack)
            base = await measure(
                "relay", [relay.pid], open_relay(relay_port, args.conversations), False, args
            )
            for number, setup in enumerate(chosen):
                results[setup.name] = await run_setup(setup, number, engines, tmp, args)
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)  # the benchmark's databases are thrown away
    print(
        f"{'set-up':>14}  {'p50 ms':>7}  {'p99 ms':>7}  {'msg/s':>7}  {'thru/relay':>10}  "
        f"{'p99/relay':>9}  {'CPU µs/msg':>10}  {'+engines':>8}  {'mem/relay':>9}  {'lost':>4}",
        flush=True,
    )
    ok = True
    for name, mine in [*results.items(), ("relay", base)]:
        throughput = mine["saturated_msgs_per_s"] / base["saturated_msgs_per_s"]
        p99 = mine["p99_ms"] / base["p99_ms"]
        memory = mine["kib_per_connection"] / max(base["kib_per_connection"], 0.001)
        engines = mine.get("engine_cpu_us_per_msg", float("nan"))
        print(
            f"{name:>14}  {mine['p50_ms']:7.2f}  {mine['p99_ms']:7.2f}  "
            f"{mine['saturated_msgs_per_s']:7,.0f}  {throughput:10.0%}  {p99:8.1f}x  "
            f"{mine['server_cpu_us_per_msg']:10.0f}  "
            f"{'' if engines != engines else f'{engines:.0f}':>8}  "  # NaN: not measured
            f"{memory:8.1f}x  {mine['lost']:4.0f}",
            flush=True,
        )
        ok = ok and mine["lost"] == 0 and mine["delivered"] >= mine["sent"] * 0.99
    return 0 if ok else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--rate", type=float, default=1000.0, help="msg/s in the latency phase")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--window", type=int, default=4, help="in flight per conversation")
    parser.add_argument(
        "--store", metavar="postgresql://...|auto", help="one set-up on PostgreSQL (else SQLite)"
    )
    parser.add_argument("--bus", metavar="redis://...|auto", help="Redis between the processes")
    parser.add_argument("--processes", type=int, metavar="N", help="server processes (needs --bus)")
    parser.add_argument("--relay-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.conversations, args.rate, args.seconds = 10, 200.0, 1.0
    return args


if __name__ == "__main__":
    ns = parse()
    if ns.relay_server:
        # the same event loop as `chat-widget serve` (uvloop where installed): a fair baseline
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(relay_main(ns.relay_server))
        sys.exit(0)
    sys.exit(asyncio.run(main(ns)))
