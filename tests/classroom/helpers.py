"""A real-time server and trainees answering from code, for classroom runs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from chat_widget.server import ChatServer

from ..server.conftest import make_config

WAIT = 10.0  # wall seconds any classroom test waits for an outcome, at most


@contextlib.asynccontextmanager
async def realtime_server(tmp_path: Path, **config: Any) -> AsyncIterator[ChatServer]:
    """A server on the real clock (the classroom's customers live on the wall clock)."""
    server = ChatServer(make_config(tmp_path, **config))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Trainee:
    """An agent who accepts every offer and answers each customer message after
    ``delay`` wall seconds (while ``answering``)."""

    def __init__(self, ws: ClientConnection, name: str, delay: float) -> None:
        self.ws = ws
        self.name = name
        self.delay = delay
        self.answering = True
        self.accepted: list[str] = []
        self.answered = 0
        self._ids = itertools.count(1)
        self._task = asyncio.get_running_loop().create_task(self._run())

    @classmethod
    async def join(cls, server: ChatServer, name: str, delay: float = 0.05) -> Trainee:
        _, token = server.store.add_agent(name)
        ws = await connect(server.url)
        await ws.send(json.dumps({"v": 1, "type": "Auth", "id": f"{name}-auth", "token": token}))
        reply = json.loads(await ws.recv())
        assert reply["type"] == "AuthOk", reply
        return cls(ws, name, delay)

    async def send(self, type_: str, **fields: Any) -> None:
        frame = {"v": 1, "type": type_, "id": f"{self.name}-{next(self._ids)}", **fields}
        await self.ws.send(json.dumps(frame))

    async def _run(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "Offer":
                    self.accepted.append(frame["conversation"])
                    await self.send("Accept", conversation=frame["conversation"])
                elif (
                    kind == "Message"
                    and frame.get("from", {}).get("type") == "Client"
                    and self.answering
                ):
                    loop = asyncio.get_running_loop()
                    loop.call_later(self.delay, self._answer, frame["conversation"])

    def _answer(self, conversation: str) -> None:
        if self.answering:
            self.answered += 1
            asyncio.get_running_loop().create_task(
                self.send("SendMessage", conversation=conversation, text="I'm on it.")
            )

    async def close(self) -> None:
        self._task.cancel()
        await self.ws.close()
        await asyncio.gather(self._task, return_exceptions=True)


def stored(db: str, conversation: str) -> list[tuple[str, float, str, dict[str, Any]]]:
    """The conversation's events in SQLite: (type, time, sender type, body), in seq order."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT type, time, body FROM events WHERE conversation = ? ORDER BY seq",
            (conversation,),
        ).fetchall()
    finally:
        con.close()
    out = []
    for type_, time_, body in rows:
        data = json.loads(body)
        out.append((type_, float(time_), str(data.get("from", {}).get("type", "")), data))
    return out


def conversations(db: str) -> list[tuple[str, dict[str, Any], str]]:
    """(id, contact, state) of every stored conversation."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT id, contact, state FROM conversations").fetchall()
    finally:
        con.close()
    return [(i, json.loads(c), s) for i, c, s in rows]
