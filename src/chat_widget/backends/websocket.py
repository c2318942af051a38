"""``WebSocketBackend``: an agent's desk connected to ``chat-widget serve``.

It runs as one asyncio task on the running loop (the kernel's) and does only
the I/O: connect, authenticate with the agent's token in the first frame,
reconnect with exponential backoff and jitter after a drop, and pump text
between the socket and the sans-I/O ``AgentClient`` (``backends.agent_client``),
which turns server offers into ``desk.offer(...)`` sessions, maps server events
onto the sessions and the sessions' commands onto protocol frames, resumes
each chat from the last ``seq`` it saw (the server sends exactly what was
missed) and resends every unacknowledged frame with its original client id, so
the server stores each message once. The connection status (F12) of every chat
follows the real socket.

    backend = WebSocketBackend("ws://127.0.0.1:8765/ws", token="...")
    ChatWidget(backend)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from ..clock_driver import ClockDriver, wall_ms
from ..formats import protocol as p
from ..formats.transcript import AgentProfile
from ..model import commands as cmd
from ..model.clock import VirtualClock
from ..model.desk import AgentDesk
from ..model.session import ChatSession, Connection, SessionConfig, SessionState
from .agent_client import AgentClient
from .agent_client.outgoing import CALL_CONNECT_SECONDS
from .base import Backend

__all__ = [
    "CALL_CONNECT_SECONDS",
    "CONNECTION_ERRORS",
    "AuthenticationError",
    "ReconnectPolicy",
    "WebSocketBackend",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff with full jitter, in wall seconds (this is network I/O)."""

    initial: float = 0.2
    maximum: float = 10.0
    auth_timeout: float = 10.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0.5, 1.0) * min(self.maximum, self.initial * 2.0 ** min(attempt, 30))


#: what ends one connection but not the backend: it reconnects (shared with
#: ``backends.supervisor_websocket``)
CONNECTION_ERRORS = (
    OSError,
    ConnectionClosed,
    InvalidHandshake,
    InvalidURI,
    TimeoutError,
    ValidationError,
    ValueError,
)


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
        self.client = AgentClient(self.desk)  # the protocol; this class only does the I/O
        self.connects = 0
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
        """The next chat the server offers this agent that is still waiting for an answer
        (offers answered, withdrawn or finished meanwhile are skipped)."""

        async def waiting() -> ChatSession:
            while True:
                session = await self._offers.get()
                if session.state is SessionState.OFFERED:
                    return session

        return await asyncio.wait_for(waiting(), timeout)

    def drop_connection(self) -> None:
        """Cut the socket as a network failure would (tests, demos); it reconnects."""
        if self._ws is not None:
            self._ws.transport.abort()

    @property
    def pending(self) -> int:
        """Frames sent or queued but not yet acknowledged by the server."""
        return self.client.pending

    @property
    def last_seq(self) -> dict[str, int]:
        """The last event ``seq`` seen per chat (where a reconnect resumes)."""
        return self.client.last_seq

    @property
    def errors(self) -> list[p.Error]:
        """The server's errors, in order."""
        return self.client.errors

    @property
    def duplicates(self) -> int:
        """Events received twice (should stay 0: resume is exact)."""
        return self.client.duplicates

    @property
    def im_last(self) -> int:
        """The last team IM id seen."""
        return self.client.im_last

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
            except CONNECTION_ERRORS as exc:
                log.info("websocket backend: connection lost (%r)", exc)
            if self._closing:
                return
            self._set_status(Connection.RECONNECTING)
            await asyncio.sleep(self.policy.delay(attempt))
            attempt += 1

    async def _session(self) -> None:
        ws, ok = await self._open()
        try:
            if self.client.adopt(ok):
                # the server replays a chat only for Auth.resume: open a second connection
                # that resumes the adopted chats from seq 0, then let this one go (the
                # agent stays online in between, so pending offers stay with us)
                first = ws
                try:
                    ws, _ = await self._open()
                finally:
                    await first.close()
            self._ws = ws
            self.connects += 1
            self._set_status(Connection.CONNECTED)
            self._connected.set()
            for frame in self.client.connection_made():  # resend, same client ids
                await ws.send(frame)
            async for raw in ws:
                self._receive(p.parse_server_frame(raw))
        finally:
            self._ws = None
            self.client.connection_lost()
            self._connected.clear()
            await ws.close()

    async def _open(self) -> tuple[ClientConnection, p.AuthOk]:
        """A new connection, authenticated."""
        ws = await connect(self.url, max_size=4 * 2**20, compression=None)
        try:
            return ws, await self._authenticate(ws)
        except BaseException:
            await ws.close()
            raise

    async def _authenticate(self, ws: ClientConnection) -> p.AuthOk:
        await ws.send(self.client.auth_frame(self._token, ready=self.ready))

        async def answer() -> p.AuthOk:
            async for raw in ws:
                frame = p.parse_server_frame(raw)
                if isinstance(frame, p.AuthOk):
                    return frame
                refused = self.client.refusal(frame)
                if refused is not None:
                    raise AuthenticationError(refused)
                self._receive(frame)
            raise ConnectionError("connection closed during authentication")

        ok = await asyncio.wait_for(answer(), self.policy.auth_timeout)
        self.client.authenticated(ok, name_agent=not self._agent_given)
        return ok

    # -- the desk's commands → server ---------------------------------------------------
    def handle(self, command: cmd.Command) -> None:
        self.client.handle(command)
        self._flush()

    def _flush(self) -> None:
        """Write what the client core decided to send (lost ones stay in its outbox)."""
        ws = self._ws
        for text in self.client.data_to_send():
            if ws is not None and self._connected.is_set():
                asyncio.get_running_loop().create_task(self._transmit(ws, text))

    @staticmethod
    async def _transmit(ws: ClientConnection, text: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(text)  # lost ones stay in the outbox and are resent

    def _receive(self, frame: p.ServerFrame) -> None:
        self.client.receive_frame(frame)
        for session in self.client.offers_received():
            self._offers.put_nowait(session)
        self._flush()

    def _set_status(self, status: Connection) -> None:
        self.status = status
        self.desk.set_connection(status)
