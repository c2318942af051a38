"""A connected client as the service sees it: who it is, and a bounded outbox.

The outbox decouples fan-out from the socket: publishing never waits for a
client. A client that stops reading lets its outbox grow to
``limit`` frames and is then disconnected; the others are not slowed.
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
    ) -> None:
        self._send = send
        self._close = close
        self.limit = limit
        self.browser = browser  # sent an Origin header: may only ever be a customer
        self.principal: Principal | None = None
        self.closed = False
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._cleanups: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
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

    def on_close(self, cleanup: Callable[[], None]) -> None:
        self._cleanups.append(cleanup)

    def close(self, code: int, reason: str) -> None:
        """Stop sending (queued frames are dropped) and close the socket in the background."""
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self._wake.set()
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
                await self._send(text)
                self.sent += 1
