"""Batched, incremental sync from Python to the view (SPEC section 9).

Jupyter drops kernel output above ~1,000 messages/s, so bursts are gathered
and flushed at most every ``min_interval`` seconds (5 ms: at most 200 flushes
a second), entries in chunks of ``chunk_size``. A lone change after a quiet
spell goes out on the next turn of the loop (no added latency); everything
that arrives in the same turn or within ``min_interval`` of the last flush
travels together. With no running asyncio loop (a plain script) every change
is flushed at once. The pacing uses the loop's own clock (Jupyter's rate limit
is about wall time); tests pass a ``Pacer`` they move by hand instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from ..formats.transcript import Entry


def entry_to_view(entry: Entry) -> dict[str, Any]:
    """The compact shape the view draws from (times in clock ms); a notice's code and
    parameters (``c``, ``p``) only when it has them, so the view renders it in its locale."""
    view = {
        "i": entry.index,
        "t": entry.time * 1000.0,
        "k": str(entry.kind),
        "r": str(entry.sender.role),
        "n": entry.sender.name,
        "x": entry.text,
        "u": entry.url,
        "v": str(entry.visibility),
    }
    if entry.code is not None:
        view["c"] = entry.code
        view["p"] = dict(entry.params or {})
    return view


def snapshot_chunks(
    transcript: Sequence[Entry], from_index: int, size: int
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A view's snapshot request, answered: the transcript from ``from_index`` as
    ``(first_index, entries)`` chunks of at most ``size`` (one comm message each)."""
    entries = transcript[max(0, from_index) :]
    for start in range(0, len(entries), size):
        chunk = entries[start : start + size]
        yield chunk[0].index, [entry_to_view(e) for e in chunk]


class Handle(Protocol):
    def cancel(self) -> None: ...


class Pacer(Protocol):
    """The part of an event loop the batcher paces itself with."""

    def time(self) -> float: ...

    def call_soon(self, callback: Callable[[], None]) -> Handle: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Handle: ...


def running_loop() -> Pacer | None:
    """The running asyncio loop (the kernel's), or None in a plain script."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class DeltaBatcher:
    """Collects entry deltas and "something else changed" marks, flushes them in batches."""

    def __init__(
        self,
        send_entries: Callable[[int, list[dict[str, Any]]], None],
        flush_state: Callable[[], None],
        *,
        min_interval: float = 0.005,
        chunk_size: int = 500,
        pacer: Callable[[], Pacer | None] = running_loop,
    ) -> None:
        self._send_entries = send_entries
        self._flush_state = flush_state
        self.min_interval = min_interval
        self.chunk_size = chunk_size
        self._queue: list[Entry] = []
        self._state_dirty = False
        self._pacer = pacer
        self._scheduled: Handle | None = None
        self._last_flush = float("-inf")
        self.messages_sent = 0

    def entries(self, entries: list[Entry]) -> None:
        self._queue.extend(entries)
        self._schedule()

    def state(self) -> None:
        self._state_dirty = True
        self._schedule()

    def drop_entries(self) -> None:
        """Forget queued entries (another chat is shown: the view asks for its snapshot)."""
        self._queue = []

    def flush(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        loop = self._pacer()
        if loop is not None:  # no loop: nothing to pace
            self._last_flush = loop.time()
        if self._state_dirty:
            self._state_dirty = False
            self._flush_state()
        queue, self._queue = self._queue, []
        for start in range(0, len(queue), self.chunk_size):
            chunk = queue[start : start + self.chunk_size]
            self._send_entries(chunk[0].index, [entry_to_view(e) for e in chunk])
            self.messages_sent += 1

    def _schedule(self) -> None:
        if self._scheduled is not None:
            return
        loop = self._pacer()
        if loop is None:
            self.flush()
            return
        when = self._last_flush + self.min_interval
        if when <= loop.time():
            self._scheduled = loop.call_soon(self.flush)  # quiet before: go on the next turn
        else:
            self._scheduled = loop.call_at(when, self.flush)
