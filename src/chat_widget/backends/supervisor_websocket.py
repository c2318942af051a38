"""``WebSocketSupervisor``: a supervisor's dashboard connected to ``chat-widget serve``.

The I/O around the sans-I/O ``SupervisorClient``, as ``WebSocketBackend`` is
for an agent: one asyncio task on the running loop (the kernel's) connects,
authenticates with the supervisor's token in the first frame (resuming every
team chat from the last ``seq`` seen), pumps text both ways and reconnects
with backoff after a drop; frames not yet acknowledged go again, same ids.

    SupervisorWidget(WebSocketSupervisor("ws://127.0.0.1:8765/ws", token="..."))

``url`` may list several processes of one service; each reconnect moves to the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from websockets.asyncio.client import ClientConnection, connect

from ..formats import protocol as p
from ..model.clock import VirtualClock
from ..model.reply_timer import Thresholds
from ..model.supervisor_desk import SupervisorDesk
from .socket_loop import AuthenticationError, ReconnectPolicy, SocketLoop
from .supervisor_client import SupervisorClient


class WebSocketSupervisor(SocketLoop):
    """One supervisor on the live chat server (``.desk``, ``.clock``, ``.close()``).

    ``clock``: a ``VirtualClock`` for tests; by default it runs with the wall clock.
    """

    virtual_clock = False
    log_name = "supervisor"

    def __init__(
        self,
        url: str | Sequence[str],
        token: str,
        *,
        clock: VirtualClock | None = None,
        thresholds: Thresholds | None = None,
        reconnect: ReconnectPolicy | None = None,
        start: bool = True,
    ) -> None:
        self._init_socket(url, token, clock, reconnect)
        self.desk = SupervisorDesk(self.clock, thresholds=thresholds)
        self.client = SupervisorClient(self.desk)
        self.desk.on_commands(self._on_commands)
        self.desk.set_connection("disconnected")
        if start:
            self.start()

    @property
    def errors(self) -> list[p.Error]:
        return self.client.errors

    # -- one connection --------------------------------------------------------------
    async def _session(self) -> None:
        ws = await connect(self.url, max_size=4 * 2**20, compression=None)
        try:
            await asyncio.wait_for(self._authenticate(ws), self.policy.auth_timeout)
            self._ws = ws
            self.connects += 1
            self._connected.set()
            self._link("connected")
            for text in self.client.connection_made():  # resend, same client ids
                await ws.send(text)
            async for raw in ws:
                self.client.receive_data(raw)
                self._flush()
        finally:
            self._ws = None
            self.client.connection_lost()
            self._connected.clear()
            await ws.close()

    async def _authenticate(self, ws: ClientConnection) -> None:
        await ws.send(self.client.auth_frame(self._token))
        async for raw in ws:
            frame = p.parse_server_frame(raw)
            refused = self.client.refusal(frame)
            if refused is not None:
                raise AuthenticationError(refused)
            self.client.receive_frame(frame)
            if isinstance(frame, p.AuthOk):
                return
        raise ConnectionError("connection closed during authentication")

    # -- the desk's commands → server ---------------------------------------------------
    def _on_commands(self) -> None:
        self.client.pump()
        self._flush()

    def _data_to_send(self) -> list[str]:
        return self.client.data_to_send()

    def _link(self, status: str) -> None:
        self.desk.set_connection(status)

    def _refused(self, reason: str) -> None:
        self.desk.refused(None, reason)
