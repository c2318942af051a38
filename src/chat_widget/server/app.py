"""``ChatServer``: wires store, fan-out, routing and the service to websockets.

One asyncio server on one port: plain GETs get the customer page, websocket
upgrades become peers. Browser connections must send an allowed Origin and
can only act as customers; connections without an Origin (agents from the
kernel) must authenticate with a token within ``auth_timeout`` clock seconds.

Every close the server starts is bounded by ``close_timeout`` wall seconds: a
client that does not read cannot take the close frame (its TCP buffers are
full, and websockets' ``close`` waits for them without a deadline), so its
transport is aborted then, instead of waiting for the keepalive ping.

Several processes (``config.bus``, issue 18; docs/scale-out.md): the process
holding PostgreSQL's serving lock is the *router* (``role``), runs the service
and writes the store; every other one is a *gateway* relaying its connections
through Redis (``gateway``). A relayed connection runs, on the router, the very
path a local socket runs (``_serve_peer``). A router that loses the lock closes
every connection with 1012 and sets ``lost`` (``run_server`` then exits with 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterable, Callable
from typing import TYPE_CHECKING, Any, cast

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from ..clock_driver import ClockDriver
from ..formats import protocol as p
from ..model.clock import VirtualClock
from .client_address import FORWARDED_FOR, client_address, parse_proxies
from .config import ServerConfig
from .fanout import FanOut, LocalFanOut
from .http import handle_http
from .limits import KeyedBuckets, TokenBucket
from .peer import FLOOD_CODE, RESTART_CODE, RESTART_REASON, CustomerPrincipal, Peer
from .service import ChatService
from .store import EventStore, NotRouter, StoreInUse
from .store_factory import server_store
from .tasks import Tasks

if TYPE_CHECKING:
    from .bus import RedisBus
    from .gateway import Gateway
    from .leadership import Leadership, LeaderStore
    from .relayed_peers import RelayedPeers

log = logging.getLogger(__name__)

AUTH_TIMEOUT_CODE = 1008
FLOOD_REASON = "flooding: too many frames over the rate limit"
# frames that count against their chat's rate (across all its connections)
CHAT_RATED = (p.SendMessage, p.SendPushUrl, p.StartTyping, p.StopTyping)
# bytes a socket's transport may buffer before frames wait in the peer's outbox
# (websockets' own default write limit: above it, ``send`` waits for the reader)
WRITE_LIMIT = 32 * 1024
ROUTER = "router"
GATEWAY = "gateway"


def writer(ws: ServerConnection) -> Callable[[list[str]], bool]:
    """Write frames now, in one write, if the socket takes them; False: the reader is
    behind (or the connection is closing), queue them.

    The frames are made by websockets' Sans-I/O protocol (``send_text``, then
    ``data_to_send``: its public API, as ``broadcast`` uses it) and handed to the
    transport together: one system call for a turn's frames instead of one each."""

    def write_many(texts: list[str]) -> bool:
        if ws.state is not State.OPEN or ws.transport.get_write_buffer_size() > WRITE_LIMIT:
            return False
        protocol = ws.protocol
        for text in texts:
            protocol.send_text(text.encode())
        ws.transport.write(b"".join(protocol.data_to_send()))
        return True

    return write_many


def own_origins(host: str, port: int) -> list[str]:
    """The default allowlist: the origin the customer page is served from."""
    hosts = {host}
    if host in ("127.0.0.1", "localhost"):
        hosts |= {"127.0.0.1", "localhost"}
    return sorted(f"http://{h}:{port}" for h in hosts)


class ChatServer:
    """The live chat server. ``clock=None``: real time (a ``ClockDriver`` moves it)."""

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        clock: VirtualClock | None = None,
        store: EventStore | None = None,
        fanout: FanOut | None = None,
    ) -> None:
        self.config = config or ServerConfig()
        self.realtime = clock is None
        self.clock = clock or VirtualClock(start=time.time())
        self.store: EventStore = store or server_store(self.config)
        self.fanout: FanOut = fanout or LocalFanOut()
        self.service = ChatService(self.store, self.fanout, self.clock, self.config)
        self.chat_buckets = KeyedBuckets(
            self.clock, self.config.chat_rate_per_second, self.config.chat_rate_burst
        )
        self.peers: set[Peer] = set()
        self._sockets: set[ServerConnection] = set()  # the peers' connections
        self.origins: list[str] = []
        self._trusted = parse_proxies(self.config.trusted_proxies)
        self.port = 0
        self._server: Server | None = None
        self._driver: ClockDriver | None = None
        self._tasks = Tasks()  # closes the server started on its own
        # several processes (``config.bus``): who routes, and the parts that do it
        self.role = ROUTER
        self.id = uuid.uuid4().hex  # this process, in the router's announcements
        self.lost = asyncio.Event()  # the serving lock was lost: routing stopped
        self.role_listeners: list[Callable[[str], None]] = []
        self.bus: RedisBus | None = None
        self.gateway: Gateway | None = None
        self.relayed: RelayedPeers | None = None
        self.leadership: Leadership | None = None
        self._epoch = 0

    @property
    def url(self) -> str:
        """Websocket URL for agents (and the page's own)."""
        return f"ws://{self.config.host}:{self.port}/ws"

    @property
    def http_url(self) -> str:
        return f"http://{self.config.host}:{self.port}/"

    @property
    def epoch(self) -> int:
        """The routing epoch this process knows (0 without ``bus``; None yet: 0)."""
        if self.relayed is not None:
            return self.relayed.epoch
        if self.gateway is not None:
            return self.gateway.epoch or 0
        return self._epoch

    async def start(self) -> None:
        """Claim the store (``StoreInUse``: another server serves this database), restore
        the open chats, listen. If any step fails, the store is released again.

        With ``config.bus``: take the serving lock if it is free (router), else relay
        (gateway) and try it every ``takeover_interval``."""
        loop = asyncio.get_running_loop()
        leading = True
        try:
            if self.config.bus is None:
                await self.store.claim()
            else:
                leading = await self._elect()
            if leading:
                self.store.start(loop)
                await self.service.restore()
            sock = socket.create_server((self.config.host, self.config.port), reuse_port=False)
        except BaseException:
            await self.store.close()
            if self.bus is not None:
                await self.bus.close()
            raise
        self.port = sock.getsockname()[1]
        self.origins = list(self.config.origins) or own_origins(self.config.host, self.port)
        allowed: list[str | None] = [*self.origins, None]  # None: no Origin (agents)
        self._server = await serve(
            self._handler,
            sock=sock,
            origins=allowed,  # type: ignore[arg-type]
            process_request=self._process_request,
            max_size=self.config.max_frame_bytes,
            max_queue=16,
            compression=None,
            close_timeout=self.config.close_timeout,
            server_header="chat-widget",
        )
        if self.realtime:
            self._driver = ClockDriver(self.clock)
            self._driver.start()
        if self.leadership is not None:
            if leading:
                await self._route(floor=0)
            else:
                await self._relay()
            self.leadership.start()
        log.info("serving on %s (customer page %s)", self.url, self.http_url)

    # -- several processes (bus) ------------------------------------------------------
    async def _elect(self) -> bool:
        """Connect to Redis (``BusError`` if it does not answer), try the serving lock."""
        from .bus import RedisBus
        from .leadership import SOLE_SERVER_NAME, Leadership

        if not hasattr(self.store, "try_lead"):
            raise ValueError("--bus needs a PostgreSQL store (--store postgresql://...)")
        self.bus = RedisBus(self.config.bus or "")
        await self.bus.ping()
        self.bus.start()
        store = cast("LeaderStore", self.store)
        self.leadership = Leadership(
            store, self.config.takeover_interval, self._take_over, self._routing_lost
        )
        if await self.leadership.try_now():
            return True
        if await store.lock_holder() == SOLE_SERVER_NAME:  # it would never route for us
            raise StoreInUse(
                "this database is served by a chat-widget server started without --bus: "
                "stop it, then start every process with the same --store and --bus"
            )
        return False

    async def _relay(self) -> None:
        from .gateway import Gateway

        assert self.bus is not None
        self.gateway = Gateway(self.bus, self.config, self._close, writer)
        await self.gateway.start()
        self._set_role(GATEWAY)

    async def _route(self, floor: int) -> None:
        """Read the gateways' connections (a new epoch above ``floor``)."""
        from .relayed_peers import RelayedPeers

        assert self.bus is not None and self.leadership is not None
        self.relayed = RelayedPeers(
            self.bus,
            self.config,
            self._serve_peer,
            router_id=self.id,
            floor=floor,
            still_leading=self.leadership.check,
            on_epoch=self._new_epoch,
        )
        await self.relayed.start()
        self._set_role(ROUTER)

    async def _take_over(self) -> None:
        """This gateway won the lock (the router is gone): restore the service from the
        store, close the relayed connections (1012), route from a new epoch."""
        self.store.start(asyncio.get_running_loop())
        await self.service.restore()
        floor = 0
        if self.gateway is not None:
            floor = self.gateway.epoch or 0
            await self.gateway.stop(RESTART_CODE, RESTART_REASON)  # new ones: 1013 meanwhile
            self.gateway = None  # from now on connections are served here
        await self._route(floor)

    def _new_epoch(self, epoch: int) -> None:
        self._epoch = epoch

    def _set_role(self, role: str) -> None:
        self.role = role
        for listener in list(self.role_listeners):
            listener(role)

    def _routing_lost(self) -> None:
        """The lock is lost (another process routes): close every connection with 1012,
        accept no more; ``run_server`` exits with status 1."""
        if self.lost.is_set():
            return
        self.lost.set()
        if self._server is not None:
            self._server.close(close_connections=False)  # no new connections
        if self.relayed is not None:  # stop reading cw:in: the new router answers now
            self._tasks.spawn(self.relayed.stop(RESTART_CODE, RESTART_REASON))
        for peer in list(self.peers):
            peer.close(RESTART_CODE, RESTART_REASON)

    async def stop(self) -> None:
        """Close every connection with 1001 (going away), then commit what is queued.

        A connection that cannot take its close frame within ``close_timeout`` (a
        client that does not read) is aborted. With ``bus``: relayed connections on the
        router are closed with 1012 (the service goes on elsewhere)."""
        if self.leadership is not None:
            await self.leadership.stop()
        if self.relayed is not None:
            await self.relayed.stop()
        if self._server is not None:
            server = self._server
            server.close(close_connections=True)
            try:  # asyncio.timeout, not wait_for: 3.11's can swallow a cancellation
                async with asyncio.timeout(self.config.close_timeout):
                    await server.wait_closed()
            except TimeoutError:
                for ws in list(self._sockets):
                    ws.transport.abort()
                await server.wait_closed()
            self._server = None
        if self.gateway is not None:
            await self.gateway.stop()
        if self._driver is not None:
            self._driver.stop()
        if self.bus is not None:
            await self.bus.close()  # what is posted goes first (bounded)
        await self.store.close()  # releases the serving lock last: everything is committed

    async def __aenter__(self) -> ChatServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- connections ----------------------------------------------------------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        return handle_http(request)

    async def _handler(self, ws: ServerConnection) -> None:
        origin = ws.request.headers.get("Origin") if ws.request is not None else None
        peer_address = str(ws.remote_address[0]) if ws.remote_address else ""
        forwarded = ws.request.headers.get(FORWARDED_FOR) if ws.request is not None else None
        address = client_address(peer_address, forwarded, self._trusted)
        self._sockets.add(ws)
        try:
            if self.lost.is_set():
                await self._close(ws, RESTART_CODE, RESTART_REASON)
            elif self.gateway is not None:  # relayed to the router
                await self.gateway.serve(ws, origin is not None, address)
            else:
                peer = Peer(
                    ws.send,
                    lambda code, reason: self._close(ws, code, reason),
                    limit=self.config.send_queue_limit,
                    browser=origin is not None,
                    address=address,
                    write_many=writer(ws),
                )
                await self._serve_peer(peer, ws)
        finally:
            self._sockets.discard(ws)

    async def _serve_peer(self, peer: Peer, frames: AsyncIterable[str | bytes]) -> None:
        """One connection, local (``frames`` is its socket) or relayed by a gateway: the
        same limits, authentication timeout and service for both."""
        cfg = self.config
        peer.start()
        self.peers.add(peer)
        deadline = self.clock.call_later(cfg.auth_timeout, lambda: self._auth_expired(peer))
        peer.on_close(deadline.cancel)
        bucket = TokenBucket(self.clock, cfg.rate_per_second, cfg.rate_burst)
        try:
            async for raw in frames:
                if peer.closed:
                    # closing (bounded by close_timeout): read and drop what still comes, or
                    # a client that keeps sending could not take the close frame
                    continue
                await self._frame(peer, bucket, raw)
                if peer.refused >= cfg.flood_refusals:  # a persistent flooder: 1008, gone
                    peer.close(FLOOD_CODE, FLOOD_REASON)
        except ConnectionClosed:
            pass
        finally:
            peer.cleanup()
            self.peers.discard(peer)

    async def _close(self, ws: ServerConnection, code: int, reason: str) -> None:
        """Close with ``code``; abort the transport if that takes over ``close_timeout``."""
        try:
            async with asyncio.timeout(self.config.close_timeout):
                await ws.close(code, reason)
        except TimeoutError:
            log.info("%s: close (%d %s) timed out; aborting", ws.remote_address, code, reason)
            ws.transport.abort()

    async def _frame(self, peer: Peer, bucket: TokenBucket, raw: str | bytes) -> None:
        cfg = self.config
        if not bucket.take():
            # refused before parsing: a flooder costs a regex, not a validation. Counted
            # per flood_window, so the frames the refilling bucket lets through between
            # refusals do not wipe a steady flooder's record
            now = self.clock.now()
            if now - peer.refused_since >= cfg.flood_window:
                peer.refused, peer.refused_since = 0, now
            peer.refused += 1
            peer.push(
                p.Error(
                    id=p.cheap_frame_id(raw),
                    code=p.ErrorCode.RATE_LIMITED,
                    message=f"more than {cfg.rate_per_second:g} frames per second; "
                    "slow down and retry this frame",
                ).to_json()
            )
            return
        try:
            frame = p.parse_client_frame(raw)
        except p.FrameError as exc:
            peer.push(p.Error(id=exc.frame_id, code=exc.code, message=exc.message).to_json())
            return
        conversation = getattr(frame, "conversation", None)
        if (
            conversation is not None
            and isinstance(peer.principal, CustomerPrincipal)  # the agent is never locked out
            and isinstance(frame, CHAT_RATED)
            and not self.chat_buckets.take(conversation)
        ):
            peer.push(
                p.Error(
                    id=frame.id,
                    code=p.ErrorCode.RATE_LIMITED,
                    message=f"more than {cfg.chat_rate_per_second:g} frames per second in "
                    "this chat; slow down and retry this frame",
                    conversation=conversation,
                ).to_json()
            )
            return
        try:
            await self.service.handle(peer, frame)
        except Exception:  # a bug must not take the connection (or others) down
            log.exception("error handling %s", frame.type)
            peer.push(
                p.Error(id=frame.id, code=p.ErrorCode.INTERNAL, message="internal error").to_json()
            )

    def _auth_expired(self, peer: Peer) -> None:
        """Clock callback: no Auth/RequestChat/ResumeChat in time."""
        if peer.principal is None and not peer.closed:
            peer.push(
                p.Error(
                    code=p.ErrorCode.AUTH_TIMEOUT, message="no authentication frame in time"
                ).to_json()
            )
            self._tasks.spawn(peer.flush_and_close(AUTH_TIMEOUT_CODE, "authentication timeout"))


async def run_server(config: ServerConfig, **kwargs: Any) -> None:
    """Serve until SIGTERM/SIGINT; then close with 1001 and flush the store."""
    import signal

    server = ChatServer(config, **kwargs)
    await server.start()
    # What exists now (modules, classes, the restored chats) lives as long as the process:
    # out of the collector's full passes, which otherwise walk it about once a second
    # under load (bench/relay.py: 70-90 ms pauses in the router became 25-35 ms).
    gc.freeze()
    print(f"chat-widget: customer page {server.http_url}  agents {server.url}", flush=True)
    if config.bus is not None:

        def say_role(role: str) -> None:
            print(f"chat-widget: role {role}", flush=True)

        say_role(server.role)
        server.role_listeners.append(say_role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    lost = loop.create_task(server.lost.wait())
    stopped = loop.create_task(stop.wait())
    try:
        await asyncio.wait({lost, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        lost.cancel()
        stopped.cancel()
        await server.stop()
    if server.lost.is_set():
        raise NotRouter("lost the serving lock: another process routes now; stopped routing")
