"""The Redis Streams between the processes of one service (``--bus``, issue 18).

Three streams and one key (docs/scale-out.md):

- ``cw:in``: gateways → router; ``op`` = ``open`` | ``frame`` | ``close`` | ``beat`` |
  ``read`` (frames a gateway wrote to a socket: the router's flow control).
- ``cw:out:<gw>``: router → one gateway; ``conn`` and ``data`` (a JSON array of text
  frames) or ``close`` (``"code reason"``); ``conn`` ``*``: every connection.
- ``cw:control``: the router announces each new ``epoch``; ``cw:epoch`` holds the latest.

Posting never waits: ``post`` queues the entry and one task writes whatever is
queued in one pipelined round trip, in posting order. Any Redis error marks the
bus down (``broken``); what is queued is dropped, since nothing lives only in
Redis (every event is in PostgreSQL). The users (``gateway``, ``relayed_peers``)
drop their relayed connections and call ``wait_up``, which retries every
``RETRY_INTERVAL`` seconds.

redis-py is imported here only, and this module only when ``--bus`` is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .tasks import cancel_and_wait

log = logging.getLogger(__name__)

IN = "cw:in"
CONTROL = "cw:control"
EPOCH = "cw:epoch"
MAXLEN = 100_000  # entries kept per stream (approximately: MAXLEN ~)
RETRY_INTERVAL = 0.5  # wall seconds between tries while Redis does not answer
READ_BLOCK_MS = 1000  # a blocking read returns at least this often
CONNECT_TIMEOUT = 2.0
SOCKET_TIMEOUT = 5.0  # longer than READ_BLOCK_MS: a blocked read is not a dead socket
PIPELINE_MAX = 1000  # entries per round trip
HIGH_WATER = 10_000  # queued entries above which ``room`` waits ...
LOW_WATER = 2_000  # ... until they are down to this

Fields = dict[str, str]
Entry = tuple[str, str, Fields]  # stream, entry id, fields


def out_stream(gateway: str) -> str:
    """The stream the router writes a gateway's frames to."""
    return f"cw:out:{gateway}"


class BusError(ConnectionError):
    """Redis did not answer (down, restarted, unreachable)."""


class RedisBus:
    """One Redis client for a process: posting, blocking reads, the epoch."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._redis: Redis = Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0),  # a failure is reported at once, not retried
        )
        self.up = True
        self.broken = asyncio.Event()  # set while Redis is considered lost
        self._pending: list[tuple[str, Fields]] = []
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None
        self.posted = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._flush(), name="redis-bus")

    async def close(self) -> None:
        """Write what is queued (bounded), then close the client."""
        if self._pending and self.up:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SOCKET_TIMEOUT):
                    while self._pending and self.up:
                        await asyncio.sleep(0.01)
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None
        # ``aclose`` since redis-py 5.0.1, ``close`` before (deprecated since)
        closer = getattr(self._redis, "aclose", None) or self._redis.close
        with contextlib.suppress(RedisError, OSError):
            await closer()

    # -- posting ------------------------------------------------------------------------
    def post(self, stream: str, fields: Fields) -> bool:
        """Queue an entry; False (dropped) while Redis is lost."""
        if not self.up:
            return False
        self._pending.append((stream, fields))
        if len(self._pending) >= HIGH_WATER:
            self._room.clear()
        self._wake.set()
        return True

    async def room(self) -> None:
        """Wait while too many entries are queued (a client sending faster than Redis
        takes: its socket waits, as it would for a slow server)."""
        if not self._room.is_set():
            await self._room.wait()

    async def _flush(self) -> None:
        for _ in range(1 << 62):  # bounded: one pass per round trip
            await self._wake.wait()
            self._wake.clear()
            for _ in range(1 << 62):  # bounded: by what is queued
                if not self._pending or not self.up:
                    break
                batch = self._pending[:PIPELINE_MAX]
                del self._pending[:PIPELINE_MAX]
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for stream, fields in batch:
                            pipe.xadd(stream, fields, maxlen=MAXLEN, approximate=True)  # type: ignore[arg-type]
                        await pipe.execute()
                    self.posted += len(batch)
                except (RedisError, OSError) as exc:
                    self.fail(exc)
                if len(self._pending) <= LOW_WATER:
                    self._room.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    # -- losing and finding Redis -------------------------------------------------------
    def fail(self, exc: BaseException) -> None:
        """Redis is lost: drop what is queued, tell the users (``broken``)."""
        if self.up:
            log.warning("redis lost (%s): relayed connections are dropped", exc)
        self.up = False
        self._pending.clear()
        self._room.set()
        self.broken.set()

    async def wait_up(self) -> None:
        """Return once Redis answers again (tried every ``RETRY_INTERVAL`` seconds)."""
        for _ in range(1 << 62):  # bounded: one try per interval
            try:
                await self._redis.ping()
            except (RedisError, OSError):
                await asyncio.sleep(RETRY_INTERVAL)
                continue
            if not self.up:
                log.info("redis answers again")
            self.up = True
            self.broken.clear()
            self._wake.set()
            return

    async def _call(self, coro: Any) -> Any:
        """A command's answer; ``BusError`` (and the bus marked lost) if Redis fails."""
        try:
            return await coro
        except (RedisError, OSError) as exc:
            self.fail(exc)
            raise BusError(f"redis at {self.url}: {exc}") from None

    async def ping(self) -> None:
        await self._call(self._redis.ping())

    # -- reading ------------------------------------------------------------------------
    async def read(self, after: dict[str, str], block_ms: int = READ_BLOCK_MS) -> list[Entry]:
        """Entries after the given ids (blocking up to ``block_ms``), in stream order."""
        if self.broken.is_set():
            raise BusError("redis lost")
        reply = await self._call(self._redis.xread(after, count=1000, block=block_ms))  # type: ignore[arg-type]
        entries: list[Entry] = []
        for stream, items in reply or ():
            for entry_id, fields in items:
                entries.append((stream, entry_id, fields))
        return entries

    async def last_id(self, stream: str) -> str:
        """The id of the stream's newest entry ("0-0" if none): read from here to get only
        what comes after now, with nothing in between missed."""
        rows = await self._call(self._redis.xrevrange(stream, "+", "-", count=1))
        return str(rows[0][0]) if rows else "0-0"

    async def delete(self, key: str) -> None:
        await self._call(self._redis.delete(key))

    # -- the epoch ----------------------------------------------------------------------
    async def epoch(self) -> int | None:
        """The latest announced epoch (None: none since Redis started empty)."""
        value = await self._call(self._redis.get(EPOCH))
        return None if value is None else int(value)

    async def next_epoch(self, floor: int) -> int:
        """A new epoch, above ``floor`` (the highest this process has seen) even if Redis
        restarted empty. Only the router calls this."""
        epoch = int(await self._call(self._redis.incr(EPOCH)))
        if epoch <= floor:
            epoch = floor + 1
            await self._call(self._redis.set(EPOCH, epoch))
        return epoch

    def announce(self, epoch: int, router: str) -> None:
        self.post(CONTROL, {"epoch": str(epoch), "router": router})
