"""Reconnect storms and server crashes: no message lost, none duplicated."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from chat_widget.backends.websocket import ReconnectPolicy
from chat_widget.server import ChatServer, SQLiteStore

from .helpers import accepted_chat
from .test_websocket_backend import until

FAST = ReconnectPolicy(initial=0.01, maximum=0.2, auth_timeout=5.0)


def stored_messages(db: str, conv: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT sender, body FROM events WHERE conversation = ? AND type = 'Message'"
            " ORDER BY seq",
            (conv,),
        ).fetchall()
    import json

    return [(sender, json.loads(body)["text"]) for sender, body in rows]


async def test_reconnect_storm(server: ChatServer, origin: str) -> None:
    _, token = server.store.add_agent("Alice")
    async with accepted_chat(server.url, token, lambda: server.url, lambda: origin, FAST) as c:
        carla, backend = c.carla, c.backend
        drops = 0
        rounds = 20
        for r in range(rounds):
            c_before, a_before = carla.connects, backend.connects
            for i in range(6):
                c.both(f"{r}.{i}")
                if i == 2:
                    carla.drop()  # mid-stream: some frames are in flight
                if i == 4:
                    backend.drop_connection()
                await asyncio.sleep(0)
            drops += 2
            # both come back (with backoff) before the next round cuts them again
            await until(
                lambda c=c_before, a=a_before: carla.connects > c and backend.connects > a  # type: ignore[misc]
            )
        await c.settled()
        c.check_exact(stored_messages(server.config.db, c.session.id))
        assert drops == 2 * rounds
        assert carla.connects == rounds + 1 and backend.connects == rounds + 1
        assert backend.duplicates == 0


def start_server_process(db: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chat_widget.cli",
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
            "--log-level",
            "WARNING",
            "--rate",
            "1000",
            "--rate-burst",
            "100000",
            "--chat-rate",
            "1000",
            "--chat-rate-burst",
            "100000",
            "--address-chats",
            "100000",
            "--address-chat-burst",
            "100000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "chat-widget: customer page http://127.0.0.1:PORT/ ..."
    assert re.search(rf":{port}/", line), (line, proc.stderr.read() if proc.poll() else "")
    return proc


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sigkill_and_restart_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "chats.sqlite"
    store = SQLiteStore(db)
    _, token = store.add_agent("Alice")
    port = free_port()
    url, origin = f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}"
    proc = await asyncio.to_thread(start_server_process, db, port)
    kills = 0
    try:
        async with accepted_chat(url, token, lambda: url, lambda: origin, FAST) as c:
            for i in range(90):
                c.both(str(i))
                await asyncio.sleep(0)
                if i % 30 == 15:  # mid-stream: kill -9, restart on the same database
                    proc.send_signal(signal.SIGKILL)
                    await asyncio.to_thread(proc.wait)
                    kills += 1
                    proc = await asyncio.to_thread(start_server_process, db, port)
            await c.settled()
            c.check_exact(stored_messages(str(db), c.session.id))
            assert kills == 3 and c.backend.duplicates == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 10)


async def test_sigterm_closes_with_1001(tmp_path: Path) -> None:
    db = tmp_path / "chats.sqlite"
    port = free_port()
    url, origin = f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}"
    proc = await asyncio.to_thread(start_server_process, db, port)
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with connect(url, origin=origin) as ws:  # type: ignore[arg-type]
        await ws.send('{"v":1,"type":"RequestChat","id":"r1","nickname":"Carla"}')
        await ws.recv()
        await ws.send('{"v":1,"type":"Ping","id":"p1"}')
        proc.send_signal(signal.SIGTERM)
        try:
            for _ in range(10):
                await asyncio.wait_for(ws.recv(), 5)
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == 1001
    assert await asyncio.to_thread(proc.wait, 10) == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
