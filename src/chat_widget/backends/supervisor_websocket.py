"""``WebSocketSupervisor``: a supervisor's dashboard connected to ``chat-widget serve``.

The I/O around the sans-I/O ``SupervisorClient``, as ``WebSocketBackend`` is
for an agent: one asyncio task on the running loop (the kernel's) connects,
authenticates with the supervisor's token in the first frame (resuming every
team chat from the last ``seq`` seen), pumps text both ways and reconnects
with backoff after a drop; frames not yet acknowledged go again, same ids.

    SupervisorWidget(WebSocketSupervisor("ws://127.0.0.1:8765/ws", token="..."))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ..clock_driver import ClockDriver, wall_ms
from ..formats import protocol as p
from ..model.clock import VirtualClock
from ..model.reply_timer import Thresholds
from ..model.supervisor_desk import SupervisorDesk
from .supervisor_client import SupervisorClient
from .websocket import CONNECTION_ERRORS, AuthenticationError, ReconnectPolicy

log = logging.getLogger(__name__)


class WebSocketSupervisor:
    """One supervisor on the live chat server (``.desk``, ``.clock``, ``.close()``).

    ``clock``: a ``VirtualClock`` for tests; by default it runs with the wall clock.
    """

    virtual_clock = False

    def __init__(
        self,
        url: str,
        token: str,
        *,
        clock: VirtualClock | None = None,
        thresholds: Thresholds | None = None,
        reconnect: ReconnectPolicy | None = None,
        start: bool = True,
    ) -> None:
        self.url = url
        self._token = token
        self._own_clock = clock is None
        self.clock = clock or VirtualClock(start=wall_ms() / 1000.0)
        self.desk = SupervisorDesk(self.clock, thresholds=thresholds)
        self.client = SupervisorClient(self.desk)
        self.desk.on_commands(self._on_commands)
        self.policy = reconnect or ReconnectPolicy()
        self.connects = 0
        self.driver: ClockDriver | None = None
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.desk.set_connection("disconnected")
        if start:
            self.start()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background on the running loop."""
        if self._task is not None:
            return
        loop = asyncio.get_running_loop()
        self.start_realtime()
        self._closing = False
        self._task = loop.create_task(self._run())

    def start_realtime(self) -> bool:
        """Move the (own) clock with the wall clock; False without a running loop."""
        if not self._own_clock:
            return False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        if self.driver is None:
            self.driver = ClockDriver(self.clock)
        self.driver.start()
        return True

    def close(self) -> None:
        """Disconnect for good."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.driver is not None:
            self.driver.stop()
        self.desk.set_connection("disconnected")

    async def aclose(self) -> None:
        task = self._task
        self.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    def drop_connection(self) -> None:
        """Cut the socket as a network failure would (tests, demos); it reconnects."""
        if self._ws is not None:
            self._ws.transport.abort()

    @property
    def errors(self) -> list[p.Error]:
        return self.client.errors

    # -- connection loop -------------------------------------------------------------
    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                await self._session()
                attempt = 0
            except AuthenticationError as exc:
                log.error("supervisor: %s", exc)
                self.desk.refused(None, str(exc))
                self.desk.set_connection("disconnected")
                return
            except asyncio.CancelledError:
                raise
            except CONNECTION_ERRORS as exc:
                log.info("supervisor: connection lost (%r)", exc)
            if self._closing:
                return
            self.desk.set_connection("reconnecting")
            await asyncio.sleep(self.policy.delay(attempt))
            attempt += 1

    async def _session(self) -> None:
        ws = await connect(self.url, max_size=4 * 2**20, compression=None)
        try:
            await asyncio.wait_for(self._authenticate(ws), self.policy.auth_timeout)
            self._ws = ws
            self.connects += 1
            self._connected.set()
            self.desk.set_connection("connected")
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

    def _flush(self) -> None:
        ws = self._ws
        for text in self.client.data_to_send():
            if ws is not None and self._connected.is_set():
                asyncio.get_running_loop().create_task(self._transmit(ws, text))

    @staticmethod
    async def _transmit(ws: ClientConnection, text: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(text)  # lost ones stay in the outbox and are resent
