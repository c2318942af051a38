"""Relay benchmark: `chat-widget serve` vs a minimal websockets relay, same run, loopback.

N conversations (customer socket + agent socket each) on 127.0.0.1. Phase 1 sends
customer messages at a fixed aggregate rate and measures relay latency (customer
send -> agent receive) p50/p95/p99; phase 2 keeps a window of messages in flight
per conversation and measures sustained messages/s. Server memory per connection
is the server process's RSS growth from idle to all sockets open, divided by the
sockets. Our server runs as `chat-widget serve` with validation, escaping and
`synchronous=FULL` group commits on; only the per-connection rate limit is raised,
since the load generator deliberately exceeds a human's typing rate (and all its
clients share one address, so the per-chat and per-address limits are raised too).

    python bench/relay.py            # full: 500 conversations, 1,000 msg/s, 10 s phases
    python bench/relay.py --smoke    # a few seconds, for CI
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from chat_widget.cli import event_loop_factory

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
        self._n = 0

    def frame(self, i: int) -> tuple[str, str]:
        self._n += 1
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
        self.sent.clear()


async def open_ours(port: int, tokens: list[str]) -> list[Pair]:
    url, origin = f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}"
    pairs: list[Pair] = []
    for n, token in enumerate(tokens):
        agent = await connect(url, compression=None)
        await agent.send(json.dumps({"v": 1, "type": "Auth", "id": f"auth{n}", "token": token}))
        assert json.loads(await agent.recv())["type"] == "AuthOk"
        customer = await connect(url, origin=origin, compression=None)  # type: ignore[arg-type]
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


async def measure(
    name: str, proc: subprocess.Popen[str], opener: object, ours: bool, args: argparse.Namespace
) -> dict[str, float]:
    ps = psutil.Process(proc.pid)
    rss0 = ps.memory_info().rss
    pairs: list[Pair] = await opener  # type: ignore[misc]
    await asyncio.sleep(0.5)  # let the server settle before reading RSS
    rss1 = ps.memory_info().rss
    harness = Harness(pairs, ours)
    readers = [asyncio.create_task(harness.reader(i)) for i in range(len(pairs))]
    drains = [asyncio.create_task(harness.drain_sender(i)) for i in range(len(pairs))]
    await harness.fixed_rate(args.rate, min(1.0, args.seconds))  # warm-up
    lat = await harness.fixed_rate(args.rate, args.seconds)
    cpu0 = sum(ps.cpu_times()[:2])
    sat = await harness.saturate(args.seconds, args.window)
    cpu = sum(ps.cpu_times()[:2]) - cpu0
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
        "saturated_msgs_per_s": sat,
        "kib_per_connection": (rss1 - rss0) / 1024 / (2 * len(pairs)),
        "server_cpu_us_per_msg": cpu / saturated_delivered * 1e6,
    }
    print(
        f"{name:>8}: p50 {result['p50_ms']:.2f} ms  p95 {result['p95_ms']:.2f} ms  "
        f"p99 {result['p99_ms']:.2f} ms at {args.rate:g} msg/s "
        f"({lat.delivered}/{int(args.rate * args.seconds)} delivered); "
        f"saturated {sat:,.0f} msg/s ({result['server_cpu_us_per_msg']:.0f} µs server CPU "
        f"per message); {result['kib_per_connection']:.1f} KiB/connection",
        flush=True,
    )
    return result


async def main(args: argparse.Namespace) -> int:
    from chat_widget.server.sqlite_store import SQLiteStore

    tmp = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    db = tmp / "bench.sqlite"
    store = SQLiteStore(db)
    tokens = [store.add_agent(f"Agent {i}")[1] for i in range(args.conversations)]
    ours_port, relay_port = free_port(), free_port()
    ours = start(
        [
            sys.executable,
            "-m",
            "chat_widget.cli",
            "serve",
            "--port",
            str(ours_port),
            "--db",
            str(db),
            "--log-level",
            "WARNING",
            "--rate",
            "100000",
            "--rate-burst",
            "100000",
            "--chat-rate",
            "100000",
            "--chat-rate-burst",
            "100000",
            "--address-chats",
            "1000000",
            "--address-chat-burst",
            "100000",
        ],
        rf":{ours_port}/",
    )
    relay = start([sys.executable, __file__, "--relay-server", str(relay_port)], rf":{relay_port}/")
    print(
        f"{args.conversations} conversations ({2 * args.conversations} sockets), "
        f"{args.rate:g} msg/s for {args.seconds:g} s, window {args.window}; "
        f"synchronous=FULL, loopback",
        flush=True,
    )
    try:
        base = await measure(
            "relay", relay, open_relay(relay_port, args.conversations), False, args
        )
        mine = await measure("chat", ours, open_ours(ours_port, tokens), True, args)
    finally:
        for proc in (ours, relay):
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    with __import__("sqlite3").connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM events WHERE type='Message'").fetchone()[0]
    conn.close()
    shutil.rmtree(tmp, ignore_errors=True)  # the benchmark's database is thrown away
    throughput = mine["saturated_msgs_per_s"] / base["saturated_msgs_per_s"]
    p99 = mine["p99_ms"] / base["p99_ms"]
    memory = mine["kib_per_connection"] / max(base["kib_per_connection"], 0.001)
    cpu = mine["server_cpu_us_per_msg"] / max(base["server_cpu_us_per_msg"], 0.001)
    print(
        f"ratios chat/relay: throughput {throughput:.0%}, p99 {p99:.1f}x, "
        f"server CPU/message {cpu:.1f}x, memory/connection {memory:.1f}x; "
        f"{stored:,} messages stored",
        flush=True,
    )
    ok = mine["delivered"] >= mine["sent"] * 0.99
    return 0 if ok else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--rate", type=float, default=1000.0, help="msg/s in the latency phase")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--window", type=int, default=4, help="in flight per conversation")
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
