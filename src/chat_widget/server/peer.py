"""A connected client as the service sees it: who it is, and a bounded outbox.

The outbox decouples fan-out from the socket: publishing never waits for a
client. A client that stops reading lets its outbox grow to
``limit`` frames and is then disconnected; the others are not slowed. Closing
takes the peer out of everything at once (subscriptions, presence, routing:
``leave``), before the socket is closed; the socket's close is bounded by the
``close`` callable (see ``ChatServer``), never by the keepalive ping.

Writing: frames pushed during one turn of the event loop are written to the
socket together, in one write (``write_many``), once the turn's callbacks
have run: a group commit that stores four messages of a chat reaches its
agent in one write, not four. That needs the socket to take data (its
transport buffer below the write limit) and nothing queued; otherwise the
frames wait in the outbox and the sender task writes them with flow control.

Backlogs (a resumed chat's history, missed IMs) are different: they are
streamed with flow control (``backlog``), which waits while the outbox is
above half its limit. A client that is reading is therefore never "slow",
however long the history; only live frames can overflow the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ..formats.protocol import Participant
from .store import AgentRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AgentPrincipal:
    agent: AgentRecord
    participant: Participant


@dataclass(frozen=True, slots=True)
class CustomerPrincipal:
    conversation: str
    participant: Participant


Principal = AgentPrincipal | CustomerPrincipal

FLUSH_TIMEOUT = 2.0  # wall seconds an error frame may take to leave before we close
SLOW_READER_CODE = 1008
SLOW_READER_REASON = "slow reader: send queue full"
FLOOD_CODE = 1008  # policy violation: frames faster than the limits allow
RESTART_CODE = 1012  # service restart: the client reconnects (to any process)
RESTART_REASON = "service restart; reconnect"


class Peer:
    """Outbox and identity of one connection; ``send`` is the socket's send."""

    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        close: Callable[[int, str], Coroutine[Any, Any, None]],
        *,
        limit: int,
        browser: bool,
        address: str = "",
        write_many: Callable[[list[str]], bool] | None = None,
    ) -> None:
        self._send = send
        self._write_many = write_many  # writes at once, or says the socket is full
        self._batch: list[str] = []  # pushed this turn of the loop, not yet written
        self._close = close
        self.limit = limit
        self.browser = browser  # sent an Origin header: may only ever be a customer
        self.address = address  # the client's IP address (limits, RequestChat retries)
        self.principal: Principal | None = None
        self.closed = False
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._room = asyncio.Event()  # set while the outbox is below the low-water mark
        self._room.set()
        self.high_water = max(1, limit // 2)  # backlog frames wait above this
        self.low_water = max(0, limit // 4)  # ... until the outbox is down to this
        self._cleanups: list[Callable[[], None]] = []
        self._left = False  # ``leave`` ran: later cleanups run as they are registered
        self.gone = asyncio.Event()  # set once the connection is gone (``cleanup``)
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.sent = 0
        self.refused = 0  # rate-limited frames in the current flood window
        self.refused_since = float("-inf")  # clock time that window began
        self.subscriptions: dict[str, Callable[[], None]] = {}  # conversation -> unsubscribe

    @property
    def pending(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._drain())

    def push(self, text: str) -> None:
        """Send a frame (this turn's frames together); disconnect the peer if it does not
        keep up."""
        if self.closed:
            return
        if self._batch or (not self._queue and self._write_many is not None):
            if len(self._batch) >= self.limit:  # unsent frames are bounded, here too
                self._overflow()
                return
            self._batch.append(text)
            if len(self._batch) == 1:
                asyncio.get_running_loop().call_soon(self._flush)
            return
        self._enqueue(text)

    def _flush(self) -> None:
        """Write this turn's frames in one go, or queue them if the socket is full."""
        batch, self._batch = self._batch, []
        if self.closed or not batch:
            return
        if not self._queue and self._write_many is not None and self._write_many(batch):
            self.sent += len(batch)
            return
        for text in batch:
            self._enqueue(text)

    def _overflow(self) -> None:
        log.warning("%s: %d frames unsent, closing (slow reader)", self.address, self.limit)
        self.close(SLOW_READER_CODE, SLOW_READER_REASON)

    def _enqueue(self, text: str) -> None:
        if self.closed:
            return
        if len(self._queue) >= self.limit:
            self._overflow()
            return
        self._queue.append(text)
        self._wake.set()

    async def backlog(self, text: str) -> None:
        """Queue a backlog frame with flow control: wait while the outbox is half full."""
        self._flush()  # what this turn pushed before goes first
        if len(self._queue) >= self.high_water:
            await self.room()
        if not self._queue and self._write_many is not None and self._write_many([text]):
            self.sent += 1
            return
        self._enqueue(text)

    async def room(self) -> None:
        """Wait until the outbox is down to the low-water mark (or the peer is closed)."""
        while not self.closed and len(self._queue) > self.low_water:
            self._room.clear()
            await self._room.wait()

    def on_close(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` when the peer leaves (at once if it already left)."""
        if self._left:
            cleanup()
            return
        self._cleanups.append(cleanup)

    def close(self, code: int, reason: str) -> None:
        """Stop sending (queued frames are dropped), leave at once, close the socket
        in the background."""
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self._batch.clear()
        self._wake.set()
        self._room.set()
        loop = asyncio.get_running_loop()
        # next turn of the loop, not here: ``close`` runs inside fan-out and routing
        # callbacks (a push that overflows), which must not be re-entered
        loop.call_soon(self.leave)
        self._closing = loop.create_task(self._close(code, reason))  # referenced: not collected

    async def flush_and_close(self, code: int, reason: str) -> None:
        """Send what is queued (an error frame), then close."""
        if self.closed:
            return
        self._flush()  # this turn's frames (the error frame) are written or queued first
        if self._queue and self._task is not None and not self._task.done():
            self._drained.clear()
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_TIMEOUT):
                    await self._drained.wait()
        self.close(code, reason)

    def leave(self) -> None:
        """Out of everything: unsubscribe, presence, routing (an agent's offers go to
        others), timers. Runs when the peer is closed, before its socket is; again
        (for what was registered meanwhile) once the connection is gone."""
        self.closed = True
        self._left = True
        self._wake.set()
        self._room.set()
        cleanups, self._cleanups = self._cleanups, []
        subscriptions, self.subscriptions = self.subscriptions, {}
        for unsubscribe in subscriptions.values():
            unsubscribe()
        for fn in reversed(cleanups):
            fn()

    def cleanup(self) -> None:
        """Run once the connection is gone: ``leave`` (if not yet), stop the sender."""
        self.leave()
        if self._task is not None:
            self._task.cancel()
        self.gone.set()

    async def _drain(self) -> None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            while not self.closed:
                if not self._queue:
                    self._drained.set()
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                text = self._queue.popleft()
                if len(self._queue) <= self.low_water:
                    self._room.set()
                await self._send(text)
                self.sent += 1
