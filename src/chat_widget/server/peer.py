"""A connected client as the service sees it: who it is, and a bounded outbox.

The outbox decouples fan-out from the socket: publishing never waits for a
client. A client that stops reading lets its outbox grow to
``limit`` frames and is then disconnected; the others are not slowed.

Backlogs (a resumed chat's history, missed IMs) are different: they are
streamed with flow control (``backlog``), which waits while the outbox is
above half its limit. A client that is reading is therefore never "slow",
however long the history; only live frames can overflow the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ..formats.protocol import Participant
from .store import AgentRecord


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
    ) -> None:
        self._send = send
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
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.refused = 0  # rate-limited frames in a row (a flooder is disconnected)
        self.subscriptions: dict[str, Callable[[], None]] = {}  # conversation -> unsubscribe

    @property
    def pending(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._drain())

    def push(self, text: str) -> None:
        """Queue a frame; disconnect the peer if it does not keep up."""
        if self.closed:
            return
        if len(self._queue) >= self.limit:
            self.close(SLOW_READER_CODE, SLOW_READER_REASON)
            return
        self._queue.append(text)
        self._wake.set()

    async def backlog(self, text: str) -> None:
        """Queue a backlog frame with flow control: wait while the outbox is half full."""
        if len(self._queue) >= self.high_water:
            await self.room()
        self.push(text)

    async def room(self) -> None:
        """Wait until the outbox is down to the low-water mark (or the peer is closed)."""
        while not self.closed and len(self._queue) > self.low_water:
            self._room.clear()
            await self._room.wait()

    def on_close(self, cleanup: Callable[[], None]) -> None:
        self._cleanups.append(cleanup)

    def close(self, code: int, reason: str) -> None:
        """Stop sending (queued frames are dropped) and close the socket in the background."""
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self._wake.set()
        self._room.set()
        asyncio.get_running_loop().create_task(self._close(code, reason))

    async def flush_and_close(self, code: int, reason: str) -> None:
        """Send what is queued (an error frame), then close."""
        if self.closed:
            return
        if self._queue and self._task is not None and not self._task.done():
            self._drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), FLUSH_TIMEOUT)
        self.close(code, reason)

    def cleanup(self) -> None:
        """Run once the connection is gone: unsubscribe, presence, timers."""
        self.closed = True
        self._wake.set()
        self._room.set()
        cleanups, self._cleanups = self._cleanups, []
        subscriptions, self.subscriptions = self.subscriptions, {}
        for unsubscribe in subscriptions.values():
            unsubscribe()
        for fn in reversed(cleanups):
            fn()
        if self._task is not None:
            self._task.cancel()

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
