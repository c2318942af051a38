"""Who routes (``--bus``, issue 18): the holder of PostgreSQL's serving lock.

A gateway tries the lock every ``takeover_interval`` wall seconds; the router's
lock lives on its writer's connection (``PostgresStore.try_lead``), so when the
router dies its session ends, the lock is free, and the first gateway to try
takes over. The router watches its own lock at the same interval (through
``pg_locks``): if its writer's session no longer holds it, the process stops
routing. A router never gets the lock back: losing it ends the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from .tasks import cancel_and_wait

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0  # wall seconds one try or check may take
# the application_name of the PostgreSQL session holding the serving lock, so that a
# process that cannot take it can tell how the holder was started (and say what to do)
SOLE_SERVER_NAME = "chat-widget serve (one process)"
ROUTER_NAME = "chat-widget serve --bus (router)"


class LeaderStore(Protocol):
    """The store's part in the election (``PostgresStore``)."""

    async def try_lead(self) -> bool: ...

    async def still_leading(self) -> bool | None: ...

    def on_lost(self, callback: Callable[[], None]) -> None: ...

    def lose(self) -> None: ...

    async def lock_holder(self) -> str | None: ...


class Leadership:
    """The lock loop: try (gateway) or watch (router) every ``interval`` seconds."""

    def __init__(
        self,
        store: LeaderStore,
        interval: float,
        elected: Callable[[], Awaitable[None]],
        lost: Callable[[], None],
    ) -> None:
        self.store = store
        self.interval = interval
        self._elected = elected
        self._lost = lost
        self.leading = False
        self.gone = False  # the lock was held and lost: this process routes no more
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        store.on_lost(self._lose)

    async def try_now(self) -> bool:
        """One try (at start): True, this process routes now (``elected`` not called)."""
        async with asyncio.timeout(CHECK_TIMEOUT):
            self.leading = await self.store.try_lead()
        return self.leading

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        self._stopped = True
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            await cancel_and_wait([task])

    async def check(self) -> bool:
        """Whether this process still routes (asks PostgreSQL); False ends routing."""
        if self.gone or not self.leading:
            return False
        held: bool | None = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CHECK_TIMEOUT):
                held = await self.store.still_leading()
        if held is False:
            self.store.lose()  # the writer refuses from now on; calls ``_lose``
            self._lose()
            return False
        return True

    def _lose(self) -> None:
        if self.gone:
            return
        self.gone = True
        self.leading = False
        log.error("lost the serving lock: this process stops routing")
        self._lost()

    async def _run(self) -> None:
        for _ in range(1 << 62):  # bounded: one pass per interval
            if self.gone or self._stopped:
                return
            if self.leading:
                if not await self.check():
                    return
            else:
                try:
                    won = await self.try_now()
                except Exception as exc:  # PostgreSQL away: try again next time
                    log.warning("could not try the serving lock: %r", exc)
                    won = False
                if won:
                    log.info("took the serving lock: this process routes now")
                    try:
                        await self._elected()
                    except Exception:  # holding the lock without routing: give it up
                        log.exception("could not take over routing")
                        with contextlib.suppress(Exception):
                            self.store.lose()
                        self._lose()
                        return
            await asyncio.sleep(self.interval)
