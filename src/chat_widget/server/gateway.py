"""A gateway's relayed connections (``--bus``, issue 18).

A process that does not hold the serving lock relays: each websocket it accepts
becomes an ``open`` entry on ``cw:in``, each text frame a ``frame`` entry, its
end a ``close`` entry; what the router writes to ``cw:out:<gw>`` goes to the
socket through a ``Peer`` (the same outbox and write path as the router's own
sockets). The router does everything else: rate limits, authentication,
routing. A ``beat`` every ``beat_interval`` tells the router this gateway lives.

Flow control: the gateway reports the frames it has written to each socket
(``read``, every ``credit_step`` frames and with each beat); the router keeps at
most ``credit_window`` frames unreported per connection and queues the rest in
its own outbox, so a slow reader is found where it would be on a local socket
(the router's outbox limit) and long backlogs wait for the reader.

On a new epoch (another router) and when Redis is lost, every relayed
connection is closed with 1012; while Redis is lost, or no router has announced
an epoch yet, new connections are closed at once with 1013 (try again later).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from .bus import CONTROL, IN, RETRY_INTERVAL, BusError, Fields, RedisBus, out_stream
from .config import ServerConfig
from .peer import RESTART_CODE, RESTART_REASON, Peer
from .tasks import Tasks, cancel_and_wait

log = logging.getLogger(__name__)

TRY_LATER_CODE = 1013
TRY_LATER_REASON = "try again later"
READY_WAIT = 5.0  # wall seconds a starting gateway waits for the router's epoch

CloseSocket = Callable[[ServerConnection, int, str], Coroutine[Any, Any, None]]
Writer = Callable[[ServerConnection], Callable[[list[str]], bool]]


def credit_window(config: ServerConfig) -> int:
    """Frames the router may have sent to a relayed connection that the gateway has not
    reported written (half the outbox limit, as a local socket's outbox high-water)."""
    return max(1, config.send_queue_limit // 2)


def credit_step(config: ServerConfig) -> int:
    """Written frames a gateway reports at once (sooner: with its beat)."""
    return max(1, credit_window(config) // 4)


@dataclass(eq=False, slots=True)
class _Relayed:
    id: str
    peer: Peer | None = None
    written: int = 0
    reported: int = 0
    by_router: bool = False  # the router closed it: no ``close`` entry back
    gone: asyncio.Event = field(default_factory=asyncio.Event)


class Gateway:
    """Relays this process's websocket connections to the router."""

    def __init__(
        self, bus: RedisBus, config: ServerConfig, close_socket: CloseSocket, writer: Writer
    ) -> None:
        self.id = uuid.uuid4().hex  # fresh per process start
        self.bus = bus
        self.config = config
        self._close_socket = close_socket
        self._writer = writer
        self.epoch: int | None = None  # the router's, as last announced
        self._ready = asyncio.Event()  # Redis answers and an epoch is known: relaying
        self.conns: dict[str, _Relayed] = {}
        self._ids = itertools.count(1)
        self._unsent_closes: list[str] = []  # closed while Redis was lost
        self._step = credit_step(config)
        self._tasks = Tasks()
        self._loops: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start relaying; return once ready (an epoch is known), or after ``READY_WAIT``
        seconds (no router yet: connections get 1013 until one announces itself)."""
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._run(), name="gateway-read"),
            loop.create_task(self._beat(), name="gateway-beat"),
        ]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(READY_WAIT):
                await self._ready.wait()

    async def stop(self, code: int = 1001, reason: str = "going away") -> None:
        """Stop relaying: close every relayed connection with ``code`` (bounded)."""
        self._ready.clear()
        loops, self._loops = self._loops, []
        await cancel_and_wait(loops)
        await self.close_all(code, reason)

    async def close_all(self, code: int, reason: str) -> None:
        """Close every relayed connection; wait (bounded) until their handlers end."""
        conns = list(self.conns.values())
        for conn in conns:
            if conn.peer is not None:
                conn.peer.close(code, reason)
        if conns:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.close_timeout + 1):
                    for conn in conns:
                        await conn.gone.wait()

    @property
    def ready(self) -> bool:
        """Redis answers and a router's epoch is known: new connections are relayed."""
        return self._ready.is_set()

    # -- a relayed connection -----------------------------------------------------------
    async def serve(self, ws: ServerConnection, browser: bool, address: str) -> None:
        """Relay one websocket until it closes (the gateway's ``_handler``)."""
        if not self.ready or self.epoch is None:
            await self._close_socket(ws, TRY_LATER_CODE, TRY_LATER_REASON)
            return
        conn = _Relayed(str(next(self._ids)))
        write = self._writer(ws)

        def write_many(texts: list[str]) -> bool:
            if not write(texts):
                return False
            self._wrote(conn, len(texts))
            return True

        async def send(text: str) -> None:
            await ws.send(text)
            self._wrote(conn, 1)

        peer = Peer(
            send,
            lambda code, reason: self._close_socket(ws, code, reason),
            limit=self.config.send_queue_limit,
            browser=browser,
            address=address,
            write_many=write_many,
        )
        conn.peer = peer
        peer.start()
        self.conns[conn.id] = conn
        self._post(
            {"op": "open", "conn": conn.id, "browser": "1" if browser else "0", "address": address}
        )
        try:
            async for raw in ws:
                if peer.closed:
                    continue  # closing: read and drop (see ChatServer._serve_peer)
                await self.bus.room()
                if isinstance(raw, str):
                    self._post({"op": "frame", "conn": conn.id, "data": raw})
                else:  # refused by the router as any binary frame is: the bytes do not matter
                    self._post({"op": "frame", "conn": conn.id, "data": "", "binary": "1"})
        except ConnectionClosed:
            pass
        finally:
            peer.cleanup()
            if self.conns.get(conn.id) is conn:
                del self.conns[conn.id]
            if not conn.by_router and not self._post({"op": "close", "conn": conn.id}):
                self._unsent_closes.append(conn.id)
            conn.gone.set()

    def _post(self, fields: Fields) -> bool:
        return self.bus.post(IN, {"gw": self.id, "epoch": str(self.epoch), **fields})

    def _wrote(self, conn: _Relayed, n: int) -> None:
        conn.written += n
        if conn.written - conn.reported >= self._step:
            self._report(conn)

    def _report(self, conn: _Relayed) -> None:
        n = conn.written - conn.reported
        if n > 0 and self._post({"op": "read", "conn": conn.id, "n": str(n)}):
            conn.reported = conn.written

    # -- what the router sends ----------------------------------------------------------
    def _deliver(self, fields: Fields) -> None:
        cid = fields.get("conn", "")
        if cid == "*":  # the router dropped this gateway (it was silent too long)
            for each in list(self.conns.values()):
                each.by_router = True
                if each.peer is not None:
                    each.peer.close(RESTART_CODE, RESTART_REASON)
            return
        conn = self.conns.get(cid)
        if conn is None or conn.peer is None:
            return
        data = fields.get("data")
        if data is not None:
            for text in json.loads(data):
                conn.peer.push(text)
        close = fields.get("close")
        if close is not None:
            code, _, reason = close.partition(" ")
            conn.by_router = True
            self._tasks.spawn(conn.peer.flush_and_close(int(code), reason))

    def _adopt(self, epoch: int) -> None:
        """A router announced ``epoch``: a new one closes every relayed connection."""
        if epoch != self.epoch:
            if self.epoch is not None:
                log.info("new router (epoch %d): closing relayed connections", epoch)
            self.epoch = epoch
            for conn in list(self.conns.values()):
                if conn.peer is not None:
                    conn.peer.close(RESTART_CODE, RESTART_REASON)
        self._ready.set()

    def _lost(self) -> None:
        """Redis is lost: close every relayed connection; refuse new ones for now."""
        self._ready.clear()
        for conn in list(self.conns.values()):
            if conn.peer is not None:
                conn.peer.close(RESTART_CODE, RESTART_REASON)

    # -- the loops ----------------------------------------------------------------------
    async def _run(self) -> None:
        for _ in range(1 << 62):  # bounded: one pass per Redis session
            try:
                await self._session()
            except BusError:
                pass
            except Exception:  # a bug must not stop the relay for good
                log.exception("gateway: relay failed; starting again")
                await asyncio.sleep(RETRY_INTERVAL)
            self._lost()
            await self.bus.wait_up()

    async def _session(self) -> None:
        out = out_stream(self.id)
        after = {out: await self.bus.last_id(out), CONTROL: await self.bus.last_id(CONTROL)}
        epoch = await self.bus.epoch()
        if epoch is not None:
            self._adopt(epoch)
        closes, self._unsent_closes = self._unsent_closes, []
        for cid in closes:
            self._post({"op": "close", "conn": cid})
        for _ in range(1 << 62):  # bounded: one pass per read
            for stream, entry_id, fields in await self.bus.read(after):
                after[stream] = entry_id
                try:
                    if stream == CONTROL:
                        self._adopt(int(fields["epoch"]))
                    else:
                        self._deliver(fields)
                except (KeyError, ValueError, TypeError):  # not ours to crash on
                    log.warning("gateway: ignoring a malformed %s entry %r", stream, fields)

    async def _beat(self) -> None:
        for _ in range(1 << 62):  # bounded: one beat per interval
            await asyncio.sleep(self.config.beat_interval)
            if not self.bus.up:
                continue
            self._post({"op": "beat"})
            for conn in list(self.conns.values()):
                self._report(conn)
            with contextlib.suppress(BusError):
                epoch = await self.bus.epoch()  # in case an announcement was missed
                if epoch is not None and self.epoch is not None:
                    self._adopt(epoch)
