"""Protocol clients that move between server processes (issue 18's multi-process tests).

Like the customer page and ``WebSocketBackend``, but on raw websockets so the
tests see every frame: each client keeps the last ``seq`` per conversation,
and after any close or drop it reconnects to the *next* URL of its list and
resumes there (customers ``ResumeChat``, agents ``Auth`` with ``resume``),
then resends every unacknowledged frame, in order, with its original id.
One sender task per connection sends the outbox in order, so a resend never
overtakes a newer frame. Everything a client receives is kept, so the tests
can assert that every message reached it exactly once.

Every wait is bounded; every loop is bounded in count.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

Frame = dict[str, Any]

WAIT = 30.0  # wall seconds a test waits for an outcome (never a sleep for time itself)
CONNECT_TIMEOUT = 5.0
MAX_ATTEMPTS = 10_000  # connection attempts per client (bounded; backoff caps at 0.3 s)
#: server errors after which the same frame is sent again (the store did not take it)
RETRY_CODES = frozenset({"internal", "unavailable"})
#: frames a customer must never receive (agents' frames and agents-only events)
AGENT_FRAMES = frozenset(
    {
        "AuthOk",
        "Offer",
        "OfferRevoked",
        "ConsultationOffered",
        "PresenceChanged",
        "ImMessage",
        "ImRead",
        "ContactHistory",
        "HistoryTranscript",
        "TeamState",
        "TeamChatChanged",
        "TransferRequested",
        "ConsultationState",
        "ConsultMessage",
        "MonitoringChanged",
        "CoachMessage",
        "HelpFlagChanged",
    }
)


async def until(
    cond: Callable[[], bool], timeout: float = WAIT, what: str | Callable[[], str] = ""
) -> None:
    """Poll ``cond`` (wall clock, bounded); fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            detail = what() if callable(what) else what
            raise AssertionError(f"not within {timeout:g} s: {detail}")
        await asyncio.sleep(0.01)


class WireClient:
    """The reconnecting core shared by customers and agents."""

    def __init__(self, name: str, urls: Sequence[str], start: int = 0) -> None:
        self.name = name
        self.urls = list(urls)
        self.at = start % len(self.urls)  # index of the URL of the current/next connection
        self.first = self.at  # where it connected first
        self.outbox: dict[str, str] = {}  # id -> frame text, unacknowledged, in send order
        self.replies: dict[str, Frame] = {}  # id -> its Ack/Error/... (the latest)
        self.last_seq: dict[str, int] = {}
        self.events: dict[str, list[Frame]] = {}  # per conversation, each seq once
        self.frames: list[Frame] = []  # everything received, in order
        self.errors: list[Frame] = []
        self.duplicates = 0
        self.connects = 0
        self.closes: list[int | None] = []
        self.live = asyncio.Event()  # welcomed on the current connection
        self.ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._wake = asyncio.Event()
        self._sent: set[str] = set()  # ids sent on the current connection
        self._ever_sent: set[str] = set()
        self.resent = 0  # frames sent again on a later connection (unacknowledged at a drop)
        self.deaf: set[str] = set()  # ids whose next Ack is ignored (see ``send``)
        self.lost_acks: dict[str, int] = {}  # id -> the seq of the Ack it ignored
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    # -- to override -------------------------------------------------------------------
    def hello(self) -> str:
        """The first frame of every connection."""
        raise NotImplementedError

    def origin(self) -> str | None:
        return None

    def welcome(self, frame: Frame) -> bool:
        """Is ``frame`` the answer to ``hello`` that makes the connection live?"""
        raise NotImplementedError

    def on_frame(self, frame: Frame) -> None:
        """Anything else the subclass wants to track."""

    # -- public ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.urls[self.at]

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._closing = True
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 5)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def drop(self) -> None:
        """Cut the connection as a network failure would (no closing handshake)."""
        if self.ws is not None:
            self.ws.transport.abort()

    def next_id(self, kind: str) -> str:
        return f"{self.name}-{kind}{next(self._ids)}"

    def send(
        self, type_: str, *, id: str | None = None, lose_ack: bool = False, **fields: Any
    ) -> str:
        """Queue a frame; it is (re)sent until answered. Returns its id.

        ``lose_ack``: the first Ack of this frame is ignored, as if the connection had
        died just before it arrived: the frame is stored, but the client resends it
        after its next reconnect (``deaf`` holds it until that Ack came)."""
        frame_id = id or self.next_id(type_[:3].lower())
        self.outbox[frame_id] = json.dumps({"v": 1, "type": type_, "id": frame_id, **fields})
        if lose_ack:
            self.deaf.add(frame_id)
        self._wake.set()
        return frame_id

    async def request(self, type_: str, timeout: float = WAIT, **fields: Any) -> Frame:
        """Send and wait (bounded) for the answer naming the frame's id."""
        frame_id = self.send(type_, **fields)
        await until(lambda: frame_id in self.replies, timeout, f"{self.name}: answer to {type_}")
        return self.replies[frame_id]

    async def ping(self, timeout: float = WAIT) -> None:
        """A round trip on the current connection (through the router, if relayed)."""
        frame_id = self.next_id("ping")
        await until(
            lambda: self.ws is not None and self.live.is_set(), timeout, f"{self.name} live"
        )
        ws = self.ws
        assert ws is not None
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps({"v": 1, "type": "Ping", "id": frame_id}))
        await until(lambda: frame_id in self.replies, timeout, f"{self.name}: Pong")

    def replies_for_lost_acks(self) -> dict[str, int]:
        """The seq each frame whose first Ack was lost got when it was resent."""
        return {i: self.replies[i]["seq"] for i in self.lost_acks if i in self.replies}

    def messages(self, conversation: str) -> list[Frame]:
        return [e for e in self.events.get(conversation, []) if e["type"] == "Message"]

    def texts(self, conversation: str) -> list[str]:
        return [str(e["text"]) for e in self.messages(conversation)]

    # -- the connection loop ---------------------------------------------------------------
    async def _run(self) -> None:
        failures = 0
        for attempt in range(MAX_ATTEMPTS):
            if self._closing:
                return
            if attempt:
                self.at = (self.at + 1) % len(self.urls)  # the next process, every reconnect
                await asyncio.sleep(min(0.3, 0.01 * 2**failures))
            try:
                async with connect(
                    self.url,
                    origin=self.origin(),  # type: ignore[arg-type]
                    open_timeout=CONNECT_TIMEOUT,
                    max_size=2**22,
                    compression=None,
                ) as ws:
                    self.ws = ws
                    self._sent = set()
                    await ws.send(self.hello())
                    pump: asyncio.Task[None] | None = None
                    try:
                        async for raw in ws:
                            frame: Frame = json.loads(raw)
                            if pump is None and self.welcome(frame):
                                self.connects += 1
                                failures = 0
                                self.live.set()
                                pump = asyncio.get_running_loop().create_task(self._pump(ws))
                            self._on(frame)
                    finally:
                        if pump is not None:
                            pump.cancel()
                            await asyncio.gather(pump, return_exceptions=True)
                    self.closes.append(ws.close_code)
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                if isinstance(exc, ConnectionClosed):
                    self.closes.append(exc.rcvd.code if exc.rcvd is not None else None)
            finally:
                self.ws = None
                self.live.clear()
            failures += 1

    async def _pump(self, ws: ClientConnection) -> None:
        """Send the outbox in order, each frame once per connection, then wait for more."""
        for _ in range(10_000_000):
            self._wake.clear()
            pending = [(i, t) for i, t in list(self.outbox.items()) if i not in self._sent]
            if not pending:
                await self._wake.wait()
                continue
            for frame_id, text in pending:
                if frame_id in self.outbox:  # answered meanwhile: not again
                    self._sent.add(frame_id)
                    if frame_id in self._ever_sent:
                        self.resent += 1
                    self._ever_sent.add(frame_id)
                    await ws.send(text)

    def _on(self, frame: Frame) -> None:
        self.frames.append(frame)
        kind = frame.get("type")
        frame_id = frame.get("id")
        if kind == "Ack" and frame_id in self.deaf:
            self.deaf.discard(frame_id)
            self.lost_acks[frame_id] = frame["seq"]
            return
        if isinstance(frame_id, str) and kind in ("Ack", "Error", "Pong", "ChatStarted", "AuthOk"):
            self.replies[frame_id] = frame
            if kind == "Error":
                self.errors.append(frame)
                if frame.get("code") in RETRY_CODES and frame_id in self.outbox:
                    self._sent.discard(frame_id)  # not stored: the pump sends it again
                    self._wake.set()
                else:
                    self.outbox.pop(frame_id, None)
            else:
                self.outbox.pop(frame_id, None)
        elif kind == "Error":
            self.errors.append(frame)
        if "seq" in frame and kind != "Ack" and "conversation" in frame:
            conv = frame["conversation"]
            if frame["seq"] <= self.last_seq.get(conv, 0):
                self.duplicates += 1
            else:
                self.last_seq[conv] = frame["seq"]
                self.events.setdefault(conv, []).append(frame)
        self.on_frame(frame)


class WireCustomerClient(WireClient):
    """A customer page: ``RequestChat`` once, ``ResumeChat`` from its last seq after."""

    def __init__(
        self, name: str, urls: Sequence[str], origin: str, start: int = 0, email: str = ""
    ) -> None:
        super().__init__(name, urls, start)
        self._origin = origin
        self.email = email or f"{name}@example.com"
        self.conversation: str | None = None
        self.token: str | None = None
        self.started = asyncio.Event()
        self._request_id = f"{name}-start"  # one id: a retried RequestChat is the same chat

    def origin(self) -> str | None:
        return self._origin

    def hello(self) -> str:
        if self.conversation is None:
            frame: Frame = {
                "type": "RequestChat",
                "id": self._request_id,
                "nickname": self.name,
                "email": self.email,
            }
        else:
            frame = {
                "type": "ResumeChat",
                "id": self.next_id("resume"),
                "conversation": self.conversation,
                "token": self.token,
                "lastSeq": self.last_seq.get(self.conversation, 0),
            }
        return json.dumps({"v": 1, **frame})

    def welcome(self, frame: Frame) -> bool:
        return frame.get("type") == "ChatStarted"

    def on_frame(self, frame: Frame) -> None:
        if frame.get("type") == "ChatStarted" and self.conversation is None:
            self.conversation = frame["conversation"]
            self.token = frame["token"]
            self.started.set()

    def say(self, text: str, lose_ack: bool = False) -> str:
        assert self.conversation is not None
        return self.send(
            "SendMessage", conversation=self.conversation, text=text, lose_ack=lose_ack
        )

    def agent_frames(self) -> list[Frame]:
        """Whatever reached this customer that only agents may see (must stay empty)."""
        return [
            f
            for f in self.frames
            if f.get("type") in AGENT_FRAMES or f.get("visibility") == "agents"
        ]


class WireAgentClient(WireClient):
    """An agent desk: ``Auth`` (ready, resume from the last seq of every chat it saw),
    optionally accepting every offer; remembers offers, accepts and refusals."""

    def __init__(
        self,
        name: str,
        urls: Sequence[str],
        token: str,
        start: int = 0,
        *,
        ready: bool = True,
        auto_accept: bool = False,
    ) -> None:
        super().__init__(name, urls, start)
        self.token = token
        self.ready = ready
        self.auto_accept = auto_accept
        self.agent_id: str | None = None
        self.offers: list[Frame] = []  # every Offer frame, in arrival order
        self.accepts: dict[str, str] = {}  # conversation -> the Accept's id
        self.owned: list[str] = []  # conversations whose Accept was acknowledged
        self.refused: dict[str, str] = {}  # conversation -> error code of its Accept
        self.on_offer: Callable[[WireAgentClient, Frame], None] | None = None

    def hello(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "type": "Auth",
                "id": self.next_id("auth"),
                "token": self.token,
                "ready": self.ready,
                "resume": dict(self.last_seq),
            }
        )

    def welcome(self, frame: Frame) -> bool:
        if frame.get("type") == "AuthOk":
            self.agent_id = frame["agent"]["id"]
            return True
        return False

    def accept(self, conversation: str) -> str:
        """Accept (one id per chat, so a resend is the same Accept)."""
        frame_id = self.accepts.setdefault(conversation, f"{self.name}-accept-{conversation}")
        return self.send("Accept", id=frame_id, conversation=conversation)

    def say(self, conversation: str, text: str, lose_ack: bool = False) -> str:
        return self.send("SendMessage", conversation=conversation, text=text, lose_ack=lose_ack)

    def on_frame(self, frame: Frame) -> None:
        kind = frame.get("type")
        if kind == "Offer":
            self.offers.append(frame)
            if self.on_offer is not None:
                self.on_offer(self, frame)
            if self.auto_accept:
                self.accept(frame["conversation"])
        elif kind in ("Ack", "Error"):
            for conv, frame_id in self.accepts.items():
                if frame.get("id") == frame_id:
                    if kind == "Ack" and conv not in self.owned:
                        self.owned.append(conv)
                    elif kind == "Error":
                        self.refused[conv] = frame["code"]
                    break


async def stop_all(clients: Sequence[WireClient]) -> None:
    await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)
