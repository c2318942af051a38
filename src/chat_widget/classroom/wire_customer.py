"""``WireCustomer``: a scenario's customer over the real protocol, like the customer page.

The ``CustomerScript`` engine decides what to do and when, on the class's clock
(moved with the wall clock, paused with the class); this driver turns its actions
into frames (``StartTyping``, ``StopTyping``, ``SendMessage``, ``EndChat``) and the
server's events into the engine's inputs (an agent's ``ParticipantJoined`` →
``accepted``; a ``Message``/``PushUrl`` of an agent or supervisor → ``agent_replied``;
``ChatEnded`` → ``ended``). After a drop it resumes with ``ResumeChat`` (the token
from ``ChatStarted``, the last seq seen) and resends what the server did not
acknowledge, with the same ids (the server drops duplicates). Given several
server addresses (processes of one service), every reconnect moves to the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

from ..backends.scenario import Scenario
from ..backends.server_urls import ServerUrls, UsesServerUrls
from ..model.clock import VirtualClock
from ..model.customer_script import CustomerScript
from ..model.reply_timer import Thresholds

log = logging.getLogger(__name__)

AGENT_TYPES = ("Agent", "Supervisor")  # a supervisor who barged in answers too
MAX_CONNECTS = 1000  # connection attempts per customer (each one backs off)
RATE_LIMIT_RETRY = 2.0  # wall seconds before a rate-limited RequestChat is sent again
STOP_TIMEOUT = 5.0  # wall seconds ``stop`` waits for the server to end the chat

Frame = dict[str, Any]


class CustomerStatus(StrEnum):
    SCHEDULED = "scheduled"  # not arrived yet (the class's clock decides when)
    WAITING = "waiting"  # connected, the chat is queued or offered
    CHATTING = "chatting"  # an agent took it: the script runs
    DONE = "done"  # the script ran out of steps, or the agent ended the chat
    LEFT = "left"  # the script left the chat
    STOPPED = "stopped"  # the class was stopped before the customer was through


FINAL = (CustomerStatus.DONE, CustomerStatus.LEFT, CustomerStatus.STOPPED)


def origin_for(url: str) -> str:
    """The customer page's origin for a websocket URL: ws://h:p/ws → http://h:p."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    return f"{'https' if scheme == 'wss' else 'http'}://{host}"


class _Port:
    """The engine's actions as frames."""

    def __init__(self, customer: WireCustomer) -> None:
        self.customer = customer

    def say(self, text: str) -> None:
        self.customer._send("SendMessage", reliable=True, text=text)

    def typing(self, on: bool) -> None:
        self.customer._send("StartTyping" if on else "StopTyping", reliable=False)

    def leave(self) -> None:
        self.customer._leave(CustomerStatus.LEFT)

    def coach(self, text: str) -> None:
        """Coaching lines are the mock's scripted supervisor: a real supervisor coaches."""


class WireCustomer(UsesServerUrls):
    """One scripted customer connected to ``url``; ``run()`` until the chat is over.

    ``url``: one ws:// URL or several (each reconnect moves to the next; ``url`` is
    the current one). ``origin``: the Origin to send (default: the current server's
    own http origin). ``wall_of``: the wall time (ms) a clock time is due at, to
    measure how late each action's frame went out (``lateness``, seconds)."""

    def __init__(
        self,
        url: str | Sequence[str],
        scenario: Scenario,
        clock: VirtualClock,
        *,
        nickname: str | None = None,
        class_id: str | None = None,
        origin: str | None = None,
        thresholds: Thresholds | None = None,
        wall_of: Callable[[float], float] | None = None,
        label: str = "customer",
    ) -> None:
        self._servers = ServerUrls(url)
        self.scenario = scenario
        self.clock = clock
        self.nickname = nickname or scenario.contact.name
        self.class_id = class_id
        self._origin = origin
        self.label = label
        self._status = CustomerStatus.SCHEDULED
        self.conversation: str | None = None
        self.token: str | None = None
        self.last_seq = 0
        self.events: list[Frame] = []  # the chat's events, in seq order, each once
        self.errors: list[Frame] = []
        self.lateness: list[float] = []  # seconds, one per scripted frame sent
        self.connects = 0
        self.script = CustomerScript(scenario, clock, _Port(self), thresholds=thresholds)
        self._wall_of = wall_of
        self._ids = itertools.count(1)
        self._outbox: dict[str, str] = {}  # id -> frame the server has not acknowledged
        self._queue: asyncio.Queue[tuple[str, str, float | None]] = asyncio.Queue()
        self._ws: ClientConnection | None = None
        self._live = False  # ChatStarted seen on this connection
        self._closing = False
        self._over = asyncio.Event()  # the chat is over for this customer
        self._start_id = f"{label}-start"
        self._end_id: str | None = None

    @property
    def origin(self) -> str:
        """The Origin sent to the current server."""
        return self._origin or origin_for(self.url)

    # -- control (the classroom) -----------------------------------------------------
    @property
    def step(self) -> int:
        return self.script.step_index

    @property
    def status(self) -> CustomerStatus:
        if self._status is CustomerStatus.CHATTING and self.script.finished:
            return CustomerStatus.DONE  # nothing more to say: through
        return self._status

    @status.setter
    def status(self, value: CustomerStatus) -> None:
        self._status = value

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def drop(self) -> None:
        """Cut the connection as a network failure would (tests)."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def run(self) -> None:
        """Connect, start (or resume) the chat and play it until it is over."""
        self.status = CustomerStatus.WAITING
        for attempt in range(MAX_CONNECTS):
            if self._closing or self._over.is_set():
                break
            try:
                async with connect(self.url, origin=Origin(self.origin), open_timeout=10) as ws:
                    await self._connected(ws)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                log.debug("%s: connection lost (%s)", self.label, exc)
            finally:
                self._ws = None
                self._live = False
            if self._closing or self._over.is_set():
                break
            if len(self.urls) > 1:
                log.debug("%s: reconnecting to %s", self.label, self._servers.advance())
            await asyncio.sleep(min(1.0, 0.02 * 2 ** min(attempt, 6)))  # reconnect backoff
        self._over.set()

    async def stop(self) -> None:
        """The class stops: end the chat if it is open (a queued one is done at once),
        wait until the server has ended it, and disconnect."""
        if not self.final:
            self.status = CustomerStatus.STOPPED
        self.script.stop()
        if self.conversation is None and self._ws is None:  # never arrived
            self._over.set()
            return
        if not self._over.is_set():
            if self.conversation is None:
                # the RequestChat may be on its way: wait for the chat, then end it
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._started(), STOP_TIMEOUT)
            if self.conversation is not None and not self.script.over:
                self._leave(None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._over.wait(), STOP_TIMEOUT)
        await self.close()

    async def close(self) -> None:
        self._closing = True
        self._over.set()
        if self._ws is not None:
            await self._ws.close()

    async def wait_over(self) -> None:
        await self._over.wait()

    # -- frames out ---------------------------------------------------------------------
    def _send(self, type_: str, *, reliable: bool, **fields: Any) -> str | None:
        if self.conversation is None:
            return None
        frame_id = f"{self.label}-{next(self._ids)}"
        text = json.dumps(
            {"v": 1, "type": type_, "id": frame_id, "conversation": self.conversation, **fields}
        )
        if reliable:
            self._outbox[frame_id] = text
        self._queue.put_nowait((frame_id, text, self.clock.now()))
        return frame_id

    def _leave(self, status: CustomerStatus | None) -> None:
        """``EndChat``: the customer leaves (the script's leave, or the class stops)."""
        if status is not None:
            self.status = status
        self.script.stop()
        self.script.over = True
        self._end_id = self._send("EndChat", reliable=True)

    async def _sender(self, ws: ClientConnection) -> None:
        while True:
            _, text, due = await self._queue.get()
            await ws.send(text)
            if due is not None and self._wall_of is not None:
                self.lateness.append((time.time() * 1000.0 - self._wall_of(due)) / 1000.0)

    # -- frames in ----------------------------------------------------------------------
    async def _connected(self, ws: ClientConnection) -> None:
        if self._closing or self._over.is_set():
            return  # stopped while connecting: no chat is started
        self._ws = ws
        if self.conversation is None:
            await self._request(ws)
        else:
            await ws.send(
                json.dumps(
                    {
                        "v": 1,
                        "type": "ResumeChat",
                        "id": f"{self.label}-r{self.connects}",
                        "conversation": self.conversation,
                        "token": self.token,
                        "lastSeq": self.last_seq,
                    }
                )
            )
        sender: asyncio.Task[None] | None = None
        try:
            async for raw in ws:
                frame: Frame = json.loads(raw)
                if frame.get("type") == "ChatStarted" and sender is None:
                    self._chat_started(frame)
                    sender = asyncio.get_running_loop().create_task(self._sender(ws))
                elif frame.get("type") == "Error":
                    await self._error(ws, frame)
                else:
                    self._on(frame)
                if self._over.is_set():
                    break
        finally:
            if sender is not None:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)

    async def _request(self, ws: ClientConnection) -> None:
        contact = self.scenario.contact
        request: Frame = {
            "v": 1,
            "type": "RequestChat",
            "id": self._start_id,  # resent after a drop: the server gives the same chat
            "nickname": self.nickname[:100],
        }
        if contact.emails:
            request["email"] = contact.emails[0][:254]
        if contact.phones:
            request["phone"] = contact.phones[0][:40]
        if self.class_id is not None:
            request["classId"] = self.class_id
        await ws.send(json.dumps(request))

    def _chat_started(self, frame: Frame) -> None:
        self.conversation = frame["conversation"]
        self.token = frame["token"]
        self.connects += 1
        self._live = True
        # what the server has not acknowledged goes again, in order, with its ids
        while not self._queue.empty():
            self._queue.get_nowait()
        for frame_id, text in self._outbox.items():
            self._queue.put_nowait((frame_id, text, None))

    async def _error(self, ws: ClientConnection, frame: Frame) -> None:
        self.errors.append(frame)
        if frame.get("id") == self._start_id and frame.get("code") == "rate_limited":
            log.warning(
                "%s: the server refuses more new chats from this address for now; "
                "start it with a higher --address-chats / --address-chat-burst",
                self.label,
            )
            await asyncio.sleep(RATE_LIMIT_RETRY)
            await self._request(ws)
        elif frame.get("id") == self._start_id or frame.get("code") == "forbidden":
            log.error("%s: the server refused the chat: %s", self.label, frame.get("message"))
            self.status = CustomerStatus.STOPPED
            self._over.set()

    def _on(self, frame: Frame) -> None:
        kind = frame.get("type")
        if kind == "Ack":
            self._outbox.pop(str(frame.get("id")), None)
            if frame.get("id") == self._end_id:
                self._over.set()  # the customer has left: nothing more to see
            return
        seq = frame.get("seq")
        if not isinstance(seq, int):
            return
        if seq <= self.last_seq:
            return  # seen before the drop
        self.last_seq = seq
        self.events.append(frame)
        sender = frame.get("from") or {}
        by_agent = sender.get("type") in AGENT_TYPES
        if kind == "ParticipantJoined" and by_agent:
            if self.status is CustomerStatus.WAITING:
                self.status = CustomerStatus.CHATTING
            self.script.accepted()
        elif kind in ("Message", "PushUrl") and by_agent:
            self.script.agent_replied()
        elif kind == "ChatEnded":
            if self.status in (CustomerStatus.WAITING, CustomerStatus.CHATTING):
                self.status = CustomerStatus.DONE
            self.script.ended()
            self._over.set()

    async def _started(self) -> None:
        while self.conversation is None and not self._over.is_set():
            await asyncio.sleep(0.01)
