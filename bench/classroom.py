"""Classroom benchmark: scripted customers keep their scenario timing while the server
serves a class of trainees.

Three processes on 127.0.0.1: `chat-widget serve` (only the per-address new-chat
limit is raised: every scripted customer comes from this one address), the trainees
(lightweight protocol agents that accept every offer and answer each customer message
after a short delay) and the class (``Classroom``, one clock for all customers). Each
scripted frame's lateness is its wall time when written to the socket minus the wall
time its clock time was due at; the goal is p99 <= 100 ms.

    python bench/classroom.py                 # 100 customers, 100 trainees
    python bench/classroom.py --customers 200 --trainees 100
    python bench/classroom.py --smoke         # a few seconds, for bench/smoke.sh
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from chat_widget.classroom import Classroom
from chat_widget.cli import event_loop_factory
from chat_widget.model.reply_timer import Thresholds
from chat_widget.server.sqlite_store import SQLiteStore

GOAL_P99_MS = 100.0


def scenario(count: int, every: float) -> dict[str, Any]:
    """About 10 s of chat per customer: typing, lines, waits, a typing pause, leaving."""
    return {
        "name": "Bench customer",
        "contact": {"name": "Bench Customer", "emails": ["bench@example.com"]},
        "count": count,
        "every": every,
        "when_red": "Hello? Are you still there?",
        "steps": [
            {"say": "Hello, my invoice is wrong", "typing": 1.0, "delay": 0.2},
            {"wait_for_reply": 5},
            {"say": "It is invoice 2026-0315", "typing": 0.8, "delay": 0.5},
            {"typing_pause": 0.6},
            {"pause": 0.4},
            {"say": "Can you refund the second payment?", "typing": 0.7, "delay": 0.2},
            {"wait_for_reply": 5},
            {"say": "Thanks!", "typing": 0.3, "delay": 0.3},
            {"leave": "Bye"},
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ trainees (a process)
async def trainees_main(url: str, tokens: list[str], delay: float, seconds: float) -> None:
    """Accept every offer; answer each customer message after ``delay`` seconds."""
    ids = itertools.count(1)
    answered = 0

    async def trainee(token: str) -> None:
        nonlocal answered
        async with connect(url) as ws:
            await ws.send(json.dumps({"v": 1, "type": "Auth", "id": "auth", "token": token}))

            async def send(type_: str, **fields: Any) -> None:
                with contextlib.suppress(Exception):
                    frame = {"v": 1, "type": type_, "id": f"t{next(ids)}", **fields}
                    await ws.send(json.dumps(frame))

            def answer(conv: str) -> None:
                nonlocal answered
                answered += 1
                asyncio.get_running_loop().create_task(
                    send("SendMessage", conversation=conv, text="Let me check that.")
                )

            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "Offer":
                    await send("Accept", conversation=frame["conversation"])
                elif kind == "Message" and frame.get("from", {}).get("type") == "Client":
                    asyncio.get_running_loop().call_later(delay, answer, frame["conversation"])
                elif kind == "ChatEnded":  # wrap-up done at once: capacity for the next
                    await send("MarkDone", conversation=frame["conversation"])

    tasks = [asyncio.ensure_future(trainee(t)) for t in tokens]
    await asyncio.wait(tasks, timeout=seconds)
    for task in tasks:
        task.cancel()
    print(f"trainees answered {answered} messages", flush=True)


# ------------------------------------------------------------------ the class
async def run_class(url: str, customers: int, every: float, timeout: float) -> dict[str, float]:
    room = Classroom(
        url, [scenario(customers, every)], thresholds=Thresholds(3.0, 6.0), class_id="bench"
    )
    started = time.perf_counter()
    await room.start()
    try:
        through = await room.finished(timeout=timeout)
    finally:
        await room.stop()
    timing = room.timing()
    statuses: dict[str, int] = {}
    for c in room.customers:
        statuses[c.status] = statuses.get(c.status, 0) + 1
    timing["seconds"] = time.perf_counter() - started
    timing["through"] = float(through)
    print(f"customers: {statuses}", flush=True)
    return timing


async def wait_listening(port: int, seconds: float = 20.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--trainees", type=int, default=100)
    parser.add_argument("--every", type=float, default=0.05, help="seconds between arrivals")
    parser.add_argument("--answer-delay", type=float, default=0.5)
    parser.add_argument("--timeout", type=float, default=120.0, help="bound on the class")
    parser.add_argument("--smoke", action="store_true", help="10 customers, 10 trainees")
    parser.add_argument("--trainees-worker", nargs=4, metavar=("URL", "TOKENS", "DELAY", "SECS"))
    args = parser.parse_args()
    if args.trainees_worker:
        url, tokens, delay, secs = args.trainees_worker
        tokens_list = Path(tokens).read_text().split()
        asyncio.run(trainees_main(url, tokens_list, float(delay), float(secs)))
        return 0
    if args.smoke:
        args.customers, args.trainees, args.every, args.timeout = 10, 10, 0.1, 30.0

    tmp = Path(tempfile.mkdtemp(prefix="bench-class-"))
    db = tmp / "chats.sqlite"
    store = SQLiteStore(str(db))
    tokens = [store.add_agent(f"Trainee {n}")[1] for n in range(args.trainees)]
    store._reader.close()
    (tmp / "tokens").write_text("\n".join(tokens))
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws"
    # the venv's command (CI runs bench/smoke.sh with the venv's python, not its PATH)
    exe = shutil.which("chat-widget", path=str(Path(sys.executable).parent)) or "chat-widget"
    limits = ["--address-chats", "1000000", "--address-chat-burst", "100000"]
    serve = [exe, "serve", "--port", str(port), "--db", str(db), "--log-level", "WARNING"]
    server = subprocess.Popen([*serve, *limits])
    trainees: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(wait_listening(port))
        worker = [url, str(tmp / "tokens"), str(args.answer_delay), str(args.timeout + 10)]
        trainees = subprocess.Popen([sys.executable, __file__, "--trainees-worker", *worker])
        time.sleep(1.0 if args.smoke else 3.0)  # the trainees log in (ready) first
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            timing = runner.run(run_class(url, args.customers, args.every, args.timeout))
    finally:
        if trainees is not None:
            trainees.terminate()
            trainees.wait(10)
        server.terminate()
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    ok = timing["p99_ms"] <= GOAL_P99_MS
    print(
        f"classroom: {args.customers} customers, {args.trainees} trainees, "
        f"{timing['actions']:.0f} scripted frames in {timing['seconds']:.1f} s "
        f"({'all through' if timing['through'] else 'TIMED OUT'})"
    )
    print(
        f"lateness: p50 {timing['p50_ms']:.1f} ms, p99 {timing['p99_ms']:.1f} ms, "
        f"max {timing['max_ms']:.1f} ms; p99 / goal {GOAL_P99_MS:.0f} ms = "
        f"{timing['p99_ms'] / GOAL_P99_MS:.2f} ({'ok' if ok else 'over'})"
    )
    return 0 if timing["through"] else 1


if __name__ == "__main__":
    sys.exit(main())
