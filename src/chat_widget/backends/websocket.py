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

Several processes of one service (docs/scale-out.md): pass their addresses,
``WebSocketBackend(["ws://a:8765/ws", "ws://b:8765/ws"], token=...)``; it
connects to the first and moves to the next on every reconnect (``backend.url``
is the current one, ``backend.urls`` all of them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from websockets.asyncio.client import ClientConnection, connect

from ..formats import protocol as p
from ..formats.transcript import AgentProfile
from ..model import commands as cmd
from ..model.clock import VirtualClock
from ..model.desk import AgentDesk
from ..model.session import ChatSession, Connection, SessionConfig, SessionState
from .agent_client import AgentClient
from .agent_client.outgoing import CALL_CONNECT_SECONDS
from .base import Backend
from .socket_loop import CONNECTION_ERRORS, AuthenticationError, ReconnectPolicy, SocketLoop

__all__ = [
    "CALL_CONNECT_SECONDS",
    "CONNECTION_ERRORS",
    "AuthenticationError",
    "ReconnectPolicy",
    "WebSocketBackend",
]


class WebSocketBackend(SocketLoop, Backend):
    """One agent on the live chat server; ``ChatWidget(WebSocketBackend(url, token=...))``.

    ``agent``: how the agent appears locally (default: the name the server
    knows for the token). ``clock``: a ``VirtualClock`` for tests; by default
    the clock runs with the wall clock (a ``ClockDriver`` on the loop).
    ``auto_answer``: the desk accepts each offer itself as it arrives (default:
    ``config.auto_answer``). ``url``: one ws:// or wss:// URL or several (round
    robin on reconnect).
    """

    log_name = "websocket backend"

    def __init__(
        self,
        url: str | Sequence[str],
        *,
        token: str,
        agent: AgentProfile | None = None,
        config: SessionConfig | None = None,
        clock: VirtualClock | None = None,
        ready: bool = True,
        reconnect: ReconnectPolicy | None = None,
        start: bool = True,
        auto_answer: bool | None = None,
    ) -> None:
        self._init_socket(url, token, clock, reconnect)
        self._agent_given = agent is not None
        self.desk = AgentDesk(self.clock, agent=agent, config=config, auto_answer=auto_answer)
        self.desk.connect(self.handle)
        self.ready = ready
        self.status = Connection.DISCONNECTED
        self.client = AgentClient(self.desk)  # the protocol; this class only does the I/O
        self._offers: asyncio.Queue[ChatSession] = asyncio.Queue()
        if start:
            self.start()

    async def next_offer(self, timeout: float = 10.0) -> ChatSession:
        """The next chat the server offers this agent that is still waiting for an answer
        (offers answered, withdrawn or finished meanwhile are skipped)."""

        async def waiting() -> ChatSession:
            while True:
                session = await self._offers.get()
                if session.state is SessionState.OFFERED:
                    return session

        return await asyncio.wait_for(waiting(), timeout)

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

    # -- one connection --------------------------------------------------------------
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
            self._link("connected")
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

    def _data_to_send(self) -> list[str]:
        return self.client.data_to_send()

    def _receive(self, frame: p.ServerFrame) -> None:
        self.client.receive_frame(frame)
        for session in self.client.offers_received():
            self._offers.put_nowait(session)
        self._flush()

    def _link(self, status: str) -> None:
        self.status = Connection(status)
        self.desk.set_connection(self.status)
