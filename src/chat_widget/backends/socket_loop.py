"""``SocketLoop``: the websocket I/O an agent's and a supervisor's backend share.

One asyncio task on the running loop (the kernel's) runs a connection at a
time (``_session``, given by the subclass: connect, authenticate, pump text
through its sans-I/O client) and reconnects with exponential backoff and
jitter after a drop; a refused token ends it for good. What the client core
decides to send goes out as it comes (``_flush``); frames lost with a
connection stay in the core's outbox and are resent, same ids. Given several
server addresses (processes of one service), every reconnect moves to the
next one (``ServerUrls``): any process resumes the chats from the last seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from ..clock_driver import wall_ms
from ..model.clock import VirtualClock
from .base import RealtimeClock
from .server_urls import ServerUrls, UsesServerUrls

log = logging.getLogger(__name__)

#: what ends one connection but not the backend: it reconnects
CONNECTION_ERRORS = (
    OSError,
    ConnectionClosed,
    InvalidHandshake,
    InvalidURI,
    TimeoutError,
    ValidationError,
    ValueError,
)


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


class SocketLoop(UsesServerUrls, RealtimeClock):
    """Connect, reconnect, close; the subclass gives ``_session``, ``_data_to_send`` and
    ``_link`` (the connection status its desk shows)."""

    log_name = "websocket"

    def _init_socket(
        self,
        url: str | Sequence[str],
        token: str,
        clock: VirtualClock | None,
        reconnect: ReconnectPolicy | None,
    ) -> None:
        self._servers = ServerUrls(url)
        self._token = token
        self._own_clock = clock is None
        self.clock = clock or VirtualClock(start=wall_ms() / 1000.0)
        self.policy = reconnect or ReconnectPolicy()
        self.connects = 0
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # -- what the subclass gives ---------------------------------------------------------
    async def _session(self) -> None:
        """One connection, from connect to its end (raises when it drops)."""
        raise NotImplementedError

    def _data_to_send(self) -> list[str]:
        """The client core's frames to write now."""
        raise NotImplementedError

    def _link(self, status: str) -> None:
        """The connection is "connected", "reconnecting" or "disconnected"."""
        raise NotImplementedError

    def _refused(self, reason: str) -> None:
        """The server refused the token (the loop ends)."""

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background on the running loop (the kernel's, in a notebook)."""
        if self._task is not None:
            return
        loop = asyncio.get_running_loop()
        if self._own_clock:
            self.start_realtime()
        self._closing = False
        self._task = loop.create_task(self._run())

    def close(self) -> None:
        """Disconnect for good."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.stop_realtime()
        self._link("disconnected")

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

    # -- the loop --------------------------------------------------------------------
    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                await self._session()
                attempt = 0
            except AuthenticationError as exc:
                log.error("%s: %s", self.log_name, exc)
                self._refused(str(exc))
                self._link("disconnected")
                return
            except asyncio.CancelledError:
                raise
            except CONNECTION_ERRORS as exc:
                log.info("%s: connection lost (%r)", self.log_name, exc)
            if self._closing:
                return
            if len(self.urls) > 1:
                log.info("%s: reconnecting to %s", self.log_name, self._servers.advance())
            self._link("reconnecting")
            await asyncio.sleep(self.policy.delay(attempt))
            attempt += 1

    def _flush(self) -> None:
        """Write what the client core decided to send (lost ones stay in its outbox)."""
        ws = self._ws
        for text in self._data_to_send():
            if ws is not None and self._connected.is_set():
                asyncio.get_running_loop().create_task(self._transmit(ws, text))

    @staticmethod
    async def _transmit(ws: ClientConnection, text: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(text)
