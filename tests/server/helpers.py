"""Protocol-level test clients: real websockets against a real server."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from chat_widget import WebSocketBackend
from chat_widget.backends.websocket import ReconnectPolicy
from chat_widget.model.clock import VirtualClock
from chat_widget.model.session import ChatSession

TIMEOUT = 5.0  # wall seconds a protocol event may take to arrive (never a sleep)

Frame = dict[str, Any]


class Client:
    """A websockets client that keeps every frame it got, in order."""

    _ids = itertools.count(1)

    def __init__(self, ws: ClientConnection, name: str) -> None:
        self.ws = ws
        self.name = name
        self.frames: list[Frame] = []
        self._taken: set[int] = set()

    @classmethod
    async def open(cls, url: str, name: str, origin: str | None = None) -> Client:
        ws = await connect(url, origin=origin, max_size=2**20)  # type: ignore[arg-type]
        return cls(ws, name)

    def next_id(self) -> str:
        return f"{self.name}-{next(self._ids)}"

    async def send(self, type_: str, *, id: str | None = None, **fields: Any) -> str:
        frame_id = id or self.next_id()
        await self.ws.send(json.dumps({"v": 1, "type": type_, "id": frame_id, **fields}))
        return frame_id

    async def send_raw(self, raw: str | bytes) -> None:
        await self.ws.send(raw)

    async def _read(self) -> Frame:
        raw = await self.ws.recv()
        frame: Frame = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def wait_for(self, pred: Callable[[Frame], bool], timeout: float = TIMEOUT) -> Frame:
        """The first frame matching ``pred`` that no earlier wait_for returned."""

        async def run() -> Frame:
            seen = 0
            while True:
                for i in range(seen, len(self.frames)):
                    if i not in self._taken and pred(self.frames[i]):
                        self._taken.add(i)
                        return self.frames[i]
                seen = len(self.frames)
                await self._read()

        return await asyncio.wait_for(run(), timeout)

    async def expect(self, type_: str, timeout: float = TIMEOUT, **match: Any) -> Frame:
        return await self.wait_for(
            lambda f: f.get("type") == type_ and all(f.get(k) == v for k, v in match.items()),
            timeout,
        )

    async def reply(self, frame_id: str, timeout: float = TIMEOUT) -> Frame:
        """The Ack/Error/ChatStarted/AuthOk/Pong answering ``frame_id``."""
        return await self.wait_for(lambda f: f.get("id") == frame_id, timeout)

    def events(self, conversation: str) -> list[Frame]:
        return [
            f
            for f in self.frames
            if "seq" in f and f.get("conversation") == conversation and f.get("type") != "Ack"
        ]

    async def close(self) -> None:
        await self.ws.close()


async def agent(url: str, token: str, name: str, **auth: Any) -> Client:
    client = await Client.open(url, name)
    frame_id = await client.send("Auth", token=token, **auth)
    reply = await client.reply(frame_id)
    assert reply["type"] == "AuthOk", reply
    return client


async def customer(url: str, origin: str, name: str, nickname: str = "Carla") -> tuple[Client, str]:
    client = await Client.open(url, name, origin=origin)
    frame_id = await client.send("RequestChat", nickname=nickname, email="carla@example.com")
    reply = await client.reply(frame_id)
    assert reply["type"] == "ChatStarted", reply
    return client, reply["conversation"]


async def first_to_get(
    clients: list[Client], type_: str, timeout: float = TIMEOUT, **match: Any
) -> Client:
    """Which of ``clients`` receives a matching frame first (the others are left as they were)."""
    tasks = {asyncio.ensure_future(c.expect(type_, timeout, **match)): c for c in clients}
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    winner = next(iter(done))
    winner.result()
    return tasks[winner]


class ResilientCustomer:
    """A customer client like the web page: resumes from its last seq and resends
    unacknowledged frames with their original ids after every reconnect."""

    def __init__(self, url: Callable[[], str], origin: Callable[[], str], nickname: str) -> None:
        self._url = url
        self._origin = origin
        self.nickname = nickname
        self.conversation: str | None = None
        self.token: str | None = None
        self.last_seq = 0
        self.events: list[Frame] = []
        self.errors: list[Frame] = []
        self.duplicates = 0
        self.connects = 0
        self.outbox: dict[str, str] = {}
        self._ws: ClientConnection | None = None
        self._live = False
        self._closing = False
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self.started = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def drop(self) -> None:
        """Cut the connection as a network failure would."""
        if self._ws is not None:
            self._ws.transport.abort()

    def send_message(self, text: str) -> str:
        frame_id = f"{self.nickname}-m{next(self._ids)}"
        self.outbox[frame_id] = json.dumps(
            {
                "v": 1,
                "type": "SendMessage",
                "id": frame_id,
                "conversation": self.conversation,
                "text": text,
            }
        )
        if self._ws is not None and self._live:
            asyncio.get_running_loop().create_task(self._send(self._ws, self.outbox[frame_id]))
        return frame_id

    @staticmethod
    async def _send(ws: ClientConnection, text: str) -> None:
        import contextlib

        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            await ws.send(text)  # if lost, it stays in the outbox

    def messages(self) -> list[Frame]:
        return [e for e in self.events if e["type"] == "Message"]

    async def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        attempt = 0
        for _ in range(100_000):  # bounded: each pass is one connection attempt
            if self._closing:
                return
            try:
                async with connect(self._url(), origin=self._origin()) as ws:  # type: ignore[arg-type]
                    self._ws = ws
                    if self.conversation is None:
                        await ws.send(
                            json.dumps(
                                {
                                    "v": 1,
                                    "type": "RequestChat",
                                    "id": f"{self.nickname}-start",
                                    "nickname": self.nickname,
                                }
                            )
                        )
                    else:
                        await ws.send(
                            json.dumps(
                                {
                                    "v": 1,
                                    "type": "ResumeChat",
                                    "id": f"{self.nickname}-r{attempt}",
                                    "conversation": self.conversation,
                                    "token": self.token,
                                    "lastSeq": self.last_seq,
                                }
                            )
                        )
                    async for raw in ws:
                        await self._on(json.loads(raw), ws)
                        attempt = 0
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                pass
            finally:
                self._ws = None
                self._live = False
            attempt += 1
            await asyncio.sleep(min(0.5, 0.01 * 2**attempt))  # reconnect backoff (I/O retry)

    async def _on(self, frame: Frame, ws: ClientConnection) -> None:
        kind = frame.get("type")
        if kind == "ChatStarted":
            self.conversation = frame["conversation"]
            self.token = frame["token"]
            self.connects += 1
            self._live = True
            self.started.set()
            for text in list(self.outbox.values()):
                await ws.send(text)
        elif kind == "Ack":
            self.outbox.pop(frame["id"], None)
        elif kind == "Error":
            self.errors.append(frame)
        elif "seq" in frame:
            if frame["seq"] <= self.last_seq:
                self.duplicates += 1
                return
            self.last_seq = frame["seq"]
            self.events.append(frame)


async def until(cond: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait (bounded) until ``cond()`` holds: polls for I/O, not for time to pass."""
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


@dataclass
class AcceptedChat:
    """An agent's backend and a resilient customer in one accepted chat, and what each
    side said, in send order."""

    backend: WebSocketBackend
    carla: ResilientCustomer
    session: ChatSession
    from_customer: list[str] = field(default_factory=list)
    from_agent: list[str] = field(default_factory=list)

    def both(self, tag: str) -> None:
        """The customer says ``c<tag>``, the agent ``a<tag>``."""
        self.carla.send_message(f"c{tag}")
        self.from_customer.append(f"c{tag}")
        self.session.send(f"a{tag}")
        self.from_agent.append(f"a{tag}")

    async def settled(self, timeout: float = TIMEOUT) -> None:
        """Every message acknowledged, and shown to both sides (bounded)."""
        session, carla = self.session, self.carla
        await until(lambda: not carla.outbox and self.backend.pending == 0, timeout)
        total = len(self.from_customer) + len(self.from_agent)
        await until(lambda: len(carla.messages()) == total, timeout)
        await until(lambda: sum(e.kind == "message" for e in session.transcript) == total, timeout)

    def check_exact(self, stored: Sequence[tuple[str, str]]) -> None:
        """``stored`` (sender, text of each stored message, in seq order), the customer and
        the agent hold each sent message exactly once, each sender's in send order."""
        assert [t for s, t in stored if s == "customer"] == self.from_customer
        assert [t for s, t in stored if s != "customer"] == self.from_agent
        assert [m["text"] for m in self.carla.messages()] == [t for _, t in stored]
        local = [e for e in self.session.transcript if e.kind == "message"]  # own ones at once
        assert [e.text for e in local if e.sender.role == "contact"] == self.from_customer
        assert [e.text for e in local if e.sender.role == "agent"] == self.from_agent
        assert self.carla.duplicates == 0


@contextlib.asynccontextmanager
async def accepted_chat(
    agent_url: str,
    token: str,
    customer_url: Callable[[], str],
    origin: Callable[[], str],
    reconnect: ReconnectPolicy,
) -> AsyncIterator[AcceptedChat]:
    """Agent Alice's backend (``token``) accepts the chat of customer Carla, who connects
    to ``customer_url()`` and follows it on every reconnect; both closed at the end."""
    backend = WebSocketBackend(agent_url, token=token, clock=VirtualClock(), reconnect=reconnect)
    carla = ResilientCustomer(customer_url, origin, "carla")
    try:
        await backend.wait_connected()
        carla.start()
        session = await backend.next_offer()
        session.accept()
        await until(lambda: len(carla.events) >= 2)  # customer joined, agent joined
        yield AcceptedChat(backend, carla, session)
    finally:
        await carla.stop()
        await backend.aclose()
