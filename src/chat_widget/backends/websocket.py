"""``WebSocketBackend``: an agent's desk connected to ``chat-widget serve``.

It runs as one asyncio task on the running loop (the kernel's): it
authenticates with the agent's token in the first frame, turns server offers
into ``desk.offer(...)`` sessions, sends the sessions' commands as protocol
frames and maps server events onto ``session.receive_*``. The connection
status (F12) of every chat follows the real socket. After a drop it
reconnects with exponential backoff and jitter, resumes each owned chat
from the last ``seq`` it saw (the server sends exactly what was missed) and
resends every unacknowledged frame with its original client id, so the
server stores each message once.

    backend = WebSocketBackend("ws://127.0.0.1:8765/ws", token="...")
    ChatWidget(backend)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from ..clock_driver import ClockDriver, wall_ms
from ..formats import protocol as p
from ..formats.transcript import AgentProfile, ContactRecord, Role, Sender
from ..model import commands as cmd
from ..model.clock import VirtualClock
from ..model.desk import AgentDesk
from ..model.session import CallState, ChatSession, Connection, SessionConfig, SessionState
from .base import Backend

log = logging.getLogger(__name__)

CALL_CONNECT_SECONDS = 3.0
OWNED_STATES = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT, SessionState.ENDED)


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff with full jitter, in wall seconds (this is network I/O)."""

    initial: float = 0.2
    maximum: float = 10.0
    auth_timeout: float = 10.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0.5, 1.0) * min(self.maximum, self.initial * 2.0 ** min(attempt, 30))


class AuthenticationError(ConnectionError):
    """The server refused the token; reconnecting will not help."""


class WebSocketBackend(Backend):
    """One agent on the live chat server; ``ChatWidget(WebSocketBackend(url, token=...))``.

    ``agent``: how the agent appears locally (default: the name the server
    knows for the token). ``clock``: a ``VirtualClock`` for tests; by default
    the clock runs with the wall clock (a ``ClockDriver`` on the loop).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str,
        agent: AgentProfile | None = None,
        config: SessionConfig | None = None,
        clock: VirtualClock | None = None,
        ready: bool = True,
        reconnect: ReconnectPolicy | None = None,
        start: bool = True,
    ) -> None:
        self.url = url
        self._token = token
        self._agent_given = agent is not None
        self._own_clock = clock is None
        self.clock = clock or VirtualClock(start=wall_ms() / 1000.0)
        self.desk = AgentDesk(self.clock, agent=agent, config=config)
        self.desk.connect(self.handle)
        self.ready = ready
        self.policy = reconnect or ReconnectPolicy()
        self.status = Connection.DISCONNECTED
        self.last_seq: dict[str, int] = {}
        self.errors: list[p.Error] = []
        self.connects = 0
        self.duplicates = 0  # events received twice (should stay 0: resume is exact)
        self._outbox: OrderedDict[str, str] = OrderedDict()  # client id -> frame, until acked
        self._frame_conv: dict[str, str] = {}
        self._lost: set[str] = set()  # chats another agent won: ignore their commands
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._offers: asyncio.Queue[ChatSession] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.driver: ClockDriver | None = None
        if start:
            self.start()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background on the running loop (the kernel's, in a notebook)."""
        if self._task is not None:
            return
        loop = asyncio.get_running_loop()
        if self.driver is None and self._own_clock:
            self.driver = ClockDriver(self.clock)
            self.driver.start()
        self._closing = False
        self._task = loop.create_task(self._run())

    def close(self) -> None:
        """Disconnect for good."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.driver is not None:
            self.driver.stop()
        self._set_status(Connection.DISCONNECTED)

    async def aclose(self) -> None:
        task = self._task
        self.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def next_offer(self, timeout: float = 10.0) -> ChatSession:
        """The next chat the server offers this agent."""
        return await asyncio.wait_for(self._offers.get(), timeout)

    def drop_connection(self) -> None:
        """Cut the socket as a network failure would (tests, demos); it reconnects."""
        if self._ws is not None:
            self._ws.transport.abort()

    @property
    def pending(self) -> int:
        """Frames sent or queued but not yet acknowledged by the server."""
        return len(self._outbox)

    # -- connection loop -------------------------------------------------------------
    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                await self._session()
                attempt = 0
            except AuthenticationError as exc:
                log.error("websocket backend: %s", exc)
                self._set_status(Connection.DISCONNECTED)
                return
            except asyncio.CancelledError:
                raise
            except (
                OSError,
                ConnectionClosed,
                InvalidHandshake,
                InvalidURI,
                TimeoutError,
                ValidationError,
                ValueError,
            ) as exc:
                log.info("websocket backend: connection lost (%r)", exc)
            if self._closing:
                return
            self._set_status(Connection.RECONNECTING)
            await asyncio.sleep(self.policy.delay(attempt))
            attempt += 1

    async def _session(self) -> None:
        async with connect(self.url, max_size=4 * 2**20, compression=None) as ws:
            self._ws = ws
            try:
                await self._authenticate(ws)
                self.connects += 1
                self._set_status(Connection.CONNECTED)
                self._connected.set()
                for frame in list(self._outbox.values()):  # resend, same client ids
                    await ws.send(frame)
                async for raw in ws:
                    self._on_frame(p.parse_server_frame(raw))
            finally:
                self._ws = None
                self._connected.clear()

    async def _authenticate(self, ws: ClientConnection) -> None:
        resume = {
            s.id: self.last_seq.get(s.id, 0)
            for s in self.desk.sessions.values()
            if s.state in OWNED_STATES and s.id in self.last_seq and s.id not in self._lost
        }
        auth_id = self._next_id("auth")
        await ws.send(
            p.Auth(id=auth_id, token=self._token, resume=resume, ready=self.ready).to_json()
        )

        async def answer() -> p.AuthOk:
            async for raw in ws:
                frame = p.parse_server_frame(raw)
                if isinstance(frame, p.AuthOk):
                    return frame
                if isinstance(frame, p.Error) and frame.code in (
                    p.ErrorCode.AUTH_FAILED,
                    p.ErrorCode.AUTH_TIMEOUT,
                ):
                    raise AuthenticationError(f"server refused the agent token: {frame.message}")
                self._on_frame(frame)
            raise ConnectionError("connection closed during authentication")

        ok = await asyncio.wait_for(answer(), self.policy.auth_timeout)
        if not self._agent_given:
            permissions = self.desk.agent.permissions
            self.desk.agent = AgentProfile(ok.agent.nickname, ok.agent.id, permissions)

    # -- server → model ----------------------------------------------------------------
    def _on_frame(self, frame: p.ServerFrame) -> None:
        if isinstance(frame, p.Ack):
            self._acked(frame.id)
        elif isinstance(frame, p.Error):
            self._error(frame)
        elif isinstance(frame, p.Offer):
            self._offer(frame)
        elif isinstance(frame, p.OfferRevoked):
            session = self.desk.sessions.get(frame.conversation)
            if session is not None and session.state is SessionState.OFFERED:
                self._lost.add(session.id)
                session.receive_notice(f"Offer withdrawn: {frame.reason}")
                session.ignore()
        elif p.is_event(frame):
            self._event(frame)  # type: ignore[arg-type]

    def _acked(self, frame_id: str) -> None:
        self._outbox.pop(frame_id, None)
        self._frame_conv.pop(frame_id, None)

    def _error(self, frame: p.Error) -> None:
        self.errors.append(frame)
        log.warning("server error %s: %s", frame.code, frame.message)
        if frame.id is None or frame.id not in self._outbox:
            return
        conversation = self._frame_conv.get(frame.id)
        self._acked(frame.id)  # not retried: the server has decided
        session = self.desk.sessions.get(conversation or "")
        if session is None:
            return
        if frame.code is p.ErrorCode.OFFER_NOT_AVAILABLE and session.state is SessionState.ACCEPTED:
            self._lost.add(session.id)
            hand_over = getattr(session, "hand_over", None)
            if callable(hand_over):
                hand_over("Another agent took this chat.")
            else:
                session.receive_notice("Another agent took this chat.")
        else:
            session.receive_notice(f"Server refused: {frame.message}")

    def _offer(self, frame: p.Offer) -> None:
        existing = self.desk.sessions.get(frame.conversation)
        if existing is not None:
            if existing.state is SessionState.OFFERED:
                return
            if existing.state in OWNED_STATES and frame.conversation not in self._lost:
                return
            del self.desk.sessions[frame.conversation]  # offered again after a withdrawal
        self._lost.discard(frame.conversation)
        c = frame.contact
        contact = ContactRecord(
            name=c.nickname,
            phones=(c.phone,) if c.phone else (),
            emails=(c.email,) if c.email else (),
            id="customer",
        )
        session = self.desk.offer(frame.conversation, contact)
        self._offers.put_nowait(session)

    def _event(self, event: p._Event) -> None:
        conv = event.conversation
        if event.seq <= self.last_seq.get(conv, 0):
            self.duplicates += 1  # the server resends nothing twice; this is a guard
            return
        self.last_seq[conv] = event.seq
        session = self.desk.sessions.get(conv)
        if session is None or conv in self._lost:
            return
        sender = event.from_
        mine = sender.type is p.ParticipantType.AGENT and sender.participant_id == session.agent.id
        client = sender.type is p.ParticipantType.CLIENT
        if isinstance(event, p.Message):
            if client:
                session.receive_message(event.text, client_id=f"{conv}#{event.seq}")
            elif not (
                mine
                and event.client_id is not None
                and any(e.client_id == event.client_id for e in session.transcript)
            ):
                role = Role.AGENT if sender.type is p.ParticipantType.AGENT else Role.EXTERNAL
                session.receive_message(
                    event.text,
                    sender=Sender(role, sender.nickname, sender.participant_id),
                    client_id=event.client_id,
                )
        elif isinstance(event, p.TypingStarted | p.TypingStopped):
            if client and session.state is SessionState.ACCEPTED:
                session.receive_typing(isinstance(event, p.TypingStarted))
        elif isinstance(event, p.ParticipantJoined):
            if not client:
                session.receive_notice(f"{sender.nickname} joined the chat")
        elif isinstance(event, p.ParticipantLeft):
            if client:
                session.contact_left()
            else:
                session.receive_notice(f"{sender.nickname} left the chat")
        elif isinstance(event, p.Notice):
            session.receive_notice(event.text)
        elif isinstance(event, p.ChatEnded) and not mine:
            session.receive_notice(f"{sender.nickname} ended the chat")

    # -- model → server ------------------------------------------------------------------
    def _next_id(self, what: str) -> str:
        return f"{self._prefix}:{what}:{next(self._ids)}"

    def _send(self, frame: p._ClientFrame, *, durable: bool = True) -> None:
        """Queue ``frame`` until acknowledged (``durable``) or send it if connected."""
        text = frame.to_json()
        if durable:
            self._outbox[frame.id] = text
            conversation = getattr(frame, "conversation", None)
            if conversation is not None:
                self._frame_conv[frame.id] = conversation
        ws = self._ws
        if ws is not None and self._connected.is_set():
            asyncio.get_running_loop().create_task(self._transmit(ws, text))

    @staticmethod
    async def _transmit(ws: ClientConnection, text: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(text)  # lost ones stay in the outbox and are resent

    def handle(self, command: cmd.Command) -> None:
        conv = command.session_id
        if conv in self._lost:
            return
        if isinstance(command, cmd.Accept):
            self._send(p.Accept(id=self._next_id("accept"), conversation=conv))
        elif isinstance(command, cmd.Reject):
            self._send(p.Reject(id=self._next_id("reject"), conversation=conv))
        elif isinstance(command, cmd.SendMessage):
            self._send(p.SendMessage(id=command.client_id, conversation=conv, text=command.text))
        elif isinstance(command, cmd.PushUrl):
            self._send(
                p.SendPushUrl(
                    id=command.client_id, conversation=conv, url=command.url, text=command.text
                )
            )
        elif isinstance(command, cmd.SetTyping):
            kind = p.StartTyping if command.typing else p.StopTyping
            frame: Any = kind(id=self._next_id("typing"), conversation=conv)
            self._send(frame, durable=False)  # typing is not worth resending
        elif isinstance(command, cmd.SetDisposition):
            self._send(
                p.SetDisposition(
                    id=self._next_id("disposition"), conversation=conv, code=command.code
                )
            )
        elif isinstance(command, cmd.AddNote):
            self._send(p.AddNote(id=self._next_id("note"), conversation=conv, text=command.text))
        elif isinstance(command, cmd.End):
            self._send(p.EndChat(id=self._next_id("end"), conversation=conv))
        elif isinstance(command, cmd.MarkDone):
            self._send(p.MarkDone(id=self._next_id("done"), conversation=conv))
        elif isinstance(command, cmd.StartCall):
            self._simulate_call(conv)
        # Ignore: no frame (the server re-offers after its timeout). Transfer, conference,
        # consultation and IM frames arrive with the multi-agent issue.

    def _simulate_call(self, conv: str) -> None:
        """Calls are simulated (no telephony), as in the mock."""
        session = self.desk.sessions.get(conv)
        if session is None:
            return

        def connect_call() -> None:
            if session.call_state is CallState.DIALING:
                session.set_call_state(CallState.CONNECTED)

        self.clock.call_at(self.clock.now() + CALL_CONNECT_SECONDS, connect_call)

    def _set_status(self, status: Connection) -> None:
        self.status = status
        for session in self.desk.sessions.values():
            session.set_connection(status)
