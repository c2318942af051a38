"""Background tasks that are kept until they finish (the loop holds tasks only weakly)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Tasks:
    """Runs coroutines as tasks and keeps a reference to each until it is done, so none
    is garbage-collected half-way."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    def __len__(self) -> int:
        return len(self._running)


async def cancel_and_wait(tasks: list[asyncio.Task[Any]], timeout: float = 5.0) -> None:
    """Cancel ``tasks`` and wait until they are done, cancelling again while one runs on
    (Python 3.11's ``wait_for`` can swallow a cancellation that arrives as its inner
    future completes): at most ``timeout`` wall seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for _ in range(100):  # bounded: one pass per re-cancel
        running = [t for t in tasks if not t.done()]
        left = deadline - loop.time()
        if not running or left <= 0:
            return
        for task in running:
            task.cancel()
        await asyncio.wait(running, timeout=min(left, 0.1))
