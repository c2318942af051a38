"""The router's side of the gateways (``--bus``, issue 18): ``cw:in`` entries → ``Peer``s.

Each ``open`` from a gateway becomes a ``Peer`` whose ``send``, ``write_many``
and ``close`` write to that gateway's stream ``cw:out:<gw>``, and whose frames
come from the gateway's ``frame`` entries. It is served by the same
per-connection path as a local socket (``ChatServer._serve_peer``: rate limits,
flood, authentication timeout, parse errors, the service), so nothing depends
on where a client connected.

The router ignores entries for connections it has no ``open`` for in its epoch
(a stale router's, or a dropped gateway's), and answers their frames with a
1012 close, so the gateway lets them go; entries stamped with a newer epoch than
its own belong to another router and are left alone. A gateway not heard from
for ``beat_timeout`` is dropped: each of its connections leaves as if it had
closed (offers go to other agents). When Redis is lost every relayed connection
is dropped; the router keeps serving its own sockets and, once Redis answers,
announces a new epoch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from .bus import CONTROL, IN, RETRY_INTERVAL, BusError, Fields, RedisBus, out_stream
from .config import ServerConfig
from .gateway import credit_window
from .peer import FLOOD_CODE, RESTART_CODE, RESTART_REASON, Peer
from .tasks import Tasks, cancel_and_wait

log = logging.getLogger(__name__)

# frames queued for one relayed connection before it counts as flooding (the router
# handles them one at a time, as a socket's frames)
INBOX_LIMIT = 2000
GATEWAY_LOST = "gateway lost; reconnect"
MAX_DROPPED = 10_000  # dropped gateways remembered (to reset one that comes back)

Frames = AsyncIterator[str | bytes]
ServePeer = Callable[[Peer, Frames], Coroutine[Any, Any, None]]


class RelayedConnection:
    """One relayed connection: its ``Peer``'s callables write to the gateway's stream."""

    def __init__(self, bus: RedisBus, gateway: str, conn: str, window: int) -> None:
        self.bus = bus
        self.gateway = gateway
        self.conn = conn
        self.stream = out_stream(gateway)
        self.window = window
        self.inflight = 0  # frames sent that the gateway has not reported written
        self._room = asyncio.Event()
        self._room.set()
        self._inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.silent = False  # dropped: nothing more goes to the gateway
        self._ended = False
        self.peer: Peer | None = None

    def write_many(self, texts: list[str]) -> bool:
        """Post now, or False (the peer queues them): over the window, or Redis lost."""
        if self.silent or self.inflight + len(texts) > self.window:
            return False
        if not self.bus.post(self.stream, {"conn": self.conn, "data": json.dumps(texts)}):
            return False
        self.inflight += len(texts)
        return True

    async def send(self, text: str) -> None:
        """The peer's sender task: wait for the gateway's room, then post one frame."""
        for _ in range(1 << 62):  # bounded: one pass per report from the gateway
            if self.silent or not self.bus.up:
                raise ConnectionError("relay lost")
            if self.inflight < self.window:
                break
            self._room.clear()
            await self._room.wait()
        self.bus.post(self.stream, {"conn": self.conn, "data": json.dumps([text])})
        self.inflight += 1

    def credit(self, n: int) -> None:
        self.inflight = max(0, self.inflight - n)
        self._room.set()

    async def close(self, code: int, reason: str) -> None:
        """The peer's close: tell the gateway (unless dropped), end the frames."""
        if not self.silent:
            self.bus.post(self.stream, {"conn": self.conn, "close": f"{code} {reason}"})
        self.end()

    def receive(self, raw: str | bytes) -> None:
        if self._ended:
            return
        if self._inbox.qsize() >= INBOX_LIMIT and self.peer is not None:
            self.peer.close(FLOOD_CODE, "flooding: frames arrive faster than they are handled")
            return
        self._inbox.put_nowait(raw)

    def end(self) -> None:
        """No more frames: the connection is gone (its ``_serve_peer`` finishes)."""
        if not self._ended:
            self._ended = True
            self._inbox.put_nowait(None)

    def drop(self, reason: str) -> None:
        """Gone without a word (gateway or Redis lost): leave, tell nobody."""
        self.silent = True
        self._room.set()
        if self.peer is not None:
            self.peer.close(RESTART_CODE, reason)
        self.end()

    async def frames(self) -> Frames:
        for _ in range(1 << 62):  # bounded: one pass per frame
            raw = await self._inbox.get()
            if raw is None:
                return
            yield raw


class RelayedPeers:
    """Reads ``cw:in`` while this process routes; owns the relayed connections."""

    def __init__(
        self,
        bus: RedisBus,
        config: ServerConfig,
        serve: ServePeer,
        *,
        router_id: str,
        floor: int,
        still_leading: Callable[[], Awaitable[bool]],
        on_epoch: Callable[[int], None],
    ) -> None:
        self.bus = bus
        self.config = config
        self._serve = serve
        self.router_id = router_id
        self.epoch = floor  # the next one is announced above this
        self._still_leading = still_leading
        self._on_epoch = on_epoch
        self.conns: dict[tuple[str, str], RelayedConnection] = {}
        self.gateways: dict[str, float] = {}  # gateway id -> loop time last heard from
        self.dropped: dict[str, None] = {}  # gateways dropped as silent (oldest first)
        self._window = credit_window(config)
        self._tasks = Tasks()
        self._loops: list[asyncio.Task[None]] = []
        self._after: dict[str, str] | None = None

    async def start(self) -> None:
        """Announce a new epoch (if Redis answers now), then read ``cw:in``."""
        try:
            self._after = await self._announce()
        except BusError:
            self._after = None  # the read loop waits for Redis
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._run(), name="relayed-read"),
            loop.create_task(self._watch(), name="relayed-beats"),
        ]

    async def stop(self, code: int = RESTART_CODE, reason: str = RESTART_REASON) -> None:
        """Close every relayed connection with ``code`` (told to its gateway)."""
        loops, self._loops = self._loops, []
        await cancel_and_wait(loops)
        conns = list(self.conns.values())
        for conn in conns:
            if conn.peer is not None:
                conn.peer.close(code, reason)
            conn.end()

    async def _announce(self) -> dict[str, str]:
        """A new epoch: where to read ``cw:in`` from (nothing after now is missed), then
        the announcement (gateways close their relayed connections on it)."""
        after = {IN: await self.bus.last_id(IN), CONTROL: await self.bus.last_id(CONTROL)}
        self.epoch = await self.bus.next_epoch(self.epoch)
        self.bus.announce(self.epoch, self.router_id)
        log.info("routing epoch %d", self.epoch)
        self._on_epoch(self.epoch)
        return after

    # -- reading ------------------------------------------------------------------------
    async def _run(self) -> None:
        for _ in range(1 << 62):  # bounded: one pass per Redis session
            try:
                if self._after is None:
                    self._after = await self._announce()
                await self._read(self._after)
            except BusError:
                pass
            except Exception:  # a bug must not stop the relay for good
                log.exception("router: reading the gateways failed; starting again")
                await asyncio.sleep(RETRY_INTERVAL)
            self._after = None
            self._drop_all()
            await self.bus.wait_up()

    async def _read(self, after: dict[str, str]) -> None:
        for _ in range(1 << 62):  # bounded: one pass per read
            for stream, entry_id, fields in await self.bus.read(after):
                after[stream] = entry_id
                try:
                    if stream == IN:
                        self._entry(fields)
                    elif fields.get("router") != self.router_id:
                        self._tasks.spawn(self._foreign(int(fields.get("epoch", "0"))))
                except (KeyError, ValueError, TypeError):  # not ours to crash on
                    log.warning("router: ignoring a malformed %s entry %r", stream, fields)

    async def _foreign(self, epoch: int) -> None:
        """Another process announced an epoch: if this one still holds the lock, that
        was a stale router; announce above it so the gateways follow this one."""
        if not await self._still_leading():
            return
        log.warning("a stale router announced epoch %d; announcing above it", epoch)
        self.epoch = max(self.epoch, epoch)
        with contextlib.suppress(BusError):
            await self._announce()

    def _entry(self, fields: Fields) -> None:
        gw = fields.get("gw", "")
        if not gw:
            return
        op = fields.get("op")
        cid = fields.get("conn", "")
        if gw in self.dropped:  # back after being dropped: it must drop everything too
            del self.dropped[gw]
            self.bus.post(out_stream(gw), {"conn": "*", "close": f"{RESTART_CODE} {GATEWAY_LOST}"})
            return
        self.gateways[gw] = asyncio.get_running_loop().time()
        try:
            epoch = int(fields.get("epoch", "0"))
        except ValueError:
            epoch = 0
        if epoch > self.epoch:  # the gateway follows a newer router: not ours to answer
            return
        key = (gw, cid)
        conn = self.conns.get(key)
        if op == "frame":
            if conn is None:  # not opened in this epoch: the gateway must let it go
                self._refuse(gw, cid)
            elif fields.get("binary") == "1":
                conn.receive(b"")
            else:
                conn.receive(fields.get("data", ""))
        elif op == "read":
            if conn is not None:
                conn.credit(int(fields.get("n", "0")))
        elif op == "open":
            if epoch < self.epoch:  # opened before this router's epoch: reconnect
                self._refuse(gw, cid)
            elif conn is None:
                self._open(gw, cid, fields.get("browser") == "1", fields.get("address", ""))
        elif op == "close" and conn is not None:
            conn.end()

    def _refuse(self, gw: str, cid: str) -> None:
        self.bus.post(out_stream(gw), {"conn": cid, "close": f"{RESTART_CODE} {RESTART_REASON}"})

    def _open(self, gw: str, cid: str, browser: bool, address: str) -> None:
        conn = RelayedConnection(self.bus, gw, cid, self._window)
        conn.peer = Peer(
            conn.send,
            conn.close,
            limit=self.config.send_queue_limit,
            browser=browser,
            address=address,
            write_many=conn.write_many,
        )
        self.conns[(gw, cid)] = conn
        self._tasks.spawn(self._serve_relayed(conn))

    async def _serve_relayed(self, conn: RelayedConnection) -> None:
        assert conn.peer is not None
        try:
            await self._serve(conn.peer, conn.frames())
        finally:
            key = (conn.gateway, conn.conn)
            if self.conns.get(key) is conn:
                del self.conns[key]

    # -- losing gateways and Redis ------------------------------------------------------
    async def _watch(self) -> None:
        """Drop the gateways not heard from for ``beat_timeout`` seconds."""
        loop = asyncio.get_running_loop()
        for _ in range(1 << 62):  # bounded: one check per beat interval
            await asyncio.sleep(self.config.beat_interval)
            now = loop.time()
            for gw, heard in list(self.gateways.items()):
                if now - heard > self.config.beat_timeout:
                    self._drop_gateway(gw)

    def _drop_gateway(self, gw: str) -> None:
        log.warning("gateway %s silent for %.1f s: dropping its connections", gw,
                    self.config.beat_timeout)  # fmt: skip
        del self.gateways[gw]
        self.dropped[gw] = None
        if len(self.dropped) > MAX_DROPPED:
            del self.dropped[next(iter(self.dropped))]
        for (owner, _), conn in list(self.conns.items()):
            if owner == gw:
                conn.drop(GATEWAY_LOST)
        self._tasks.spawn(self._forget_stream(gw))

    async def _forget_stream(self, gw: str) -> None:
        with contextlib.suppress(BusError):
            await self.bus.delete(out_stream(gw))

    def _drop_all(self) -> None:
        """Redis is lost: every relayed connection leaves (its gateway closes it too)."""
        for conn in list(self.conns.values()):
            conn.drop(RESTART_REASON)
        self.gateways.clear()
