"""Server settings: limits and timeouts in one place (all times in clock seconds)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..formats.notices import DEFAULT_PUSH_URL_TEXT
from ..formats.protocol import MAX_TEXT_LENGTH
from ..model.idle_rule import IdleTimes
from .client_address import parse_proxies


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Defaults are what ``chat-widget serve`` runs with."""

    host: str = "127.0.0.1"
    port: int = 8765
    db: str = "chats.sqlite"
    # a PostgreSQL URL (postgresql://USER@HOST:PORT/DB): the store instead of ``db``
    store: str | None = None
    # a Redis URL (redis://HOST:PORT/DB, issue 18): several processes on ``store`` form one
    # service; one routes (the holder of the serving lock), the others relay through Redis
    bus: str | None = None
    takeover_interval: float = 0.25  # wall seconds between a gateway's tries of the lock
    beat_interval: float = 1.0  # wall seconds between a gateway's heartbeats
    beat_timeout: float = 3.0  # a gateway silent this long: its connections are dropped
    origins: tuple[str, ...] = ()  # empty: the server's own origin (see ChatServer)
    # load balancers whose X-Forwarded-For names the client (``client_address``)
    trusted_proxies: tuple[str, ...] = ()
    synchronous: str = "FULL"
    store_busy_timeout: float = 5.0  # wall seconds a write waits for SQLite's write lock
    max_frame_bytes: int = 64 * 1024
    max_text_length: int = MAX_TEXT_LENGTH
    rate_per_second: float = 20.0  # frames per connection, token bucket
    rate_burst: float = 40.0
    chat_rate_per_second: float = 20.0  # frames per conversation, all its connections
    chat_rate_burst: float = 40.0
    address_chats_per_minute: float = 5.0  # new chats (RequestChat) per client address
    address_chat_burst: float = 10.0
    auth_failure_limit: int = 5  # failed Auth per address within auth_failure_window ...
    auth_failure_window: float = 60.0
    auth_backoff: float = 30.0  # ... then that address waits this long (server clock)
    abandon_timeout: float = 60.0  # a queued chat whose customer is gone this long ends
    flood_refusals: int = 200  # rate-limited frames within flood_window: 1008 disconnect
    flood_window: float = 10.0
    send_queue_limit: int = 1000  # frames waiting for a slow reader before disconnect
    auth_timeout: float = 5.0
    offer_timeout: float = 20.0
    typing_timeout: float = 10.0
    agent_capacity: int = 3
    replay_page: int = 500
    request_retry_window: float = 60.0  # a RequestChat resent with its id gets the same chat
    close_timeout: float = 5.0  # wall seconds a close may take before the connection is dropped
    push_url_text: str = DEFAULT_PUSH_URL_TEXT
    # agents see that a supervisor monitors them silently (issue 14; coach and barge-in
    # are always shown)
    announce_monitoring: bool = False
    # the standard response library file agents get with AuthOk (issue 16), or None
    responses: str | None = None
    # the customer idle timers (issue 16, ``model.idle_rule``; None: off): seconds the
    # customer may be silent while the agent waits before the alert, then before the close
    idle_alert_after: float | None = None
    idle_close_after: float | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (
            "rate_per_second",
            "rate_burst",
            "chat_rate_per_second",
            "chat_rate_burst",
            "address_chats_per_minute",
            "address_chat_burst",
            "auth_failure_window",
            "auth_backoff",
            "abandon_timeout",
            "flood_window",
            "auth_timeout",
            "offer_timeout",
            "typing_timeout",
            "close_timeout",
            "takeover_interval",
            "beat_interval",
            "beat_timeout",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        self.idle_times()  # checks the idle timers
        parse_proxies(self.trusted_proxies)  # each an IP address
        if self.bus is not None:
            if self.store is None:
                raise ValueError(
                    "--bus needs a PostgreSQL store (--store postgresql://...): a SQLite "
                    "file is served by one process only"
                )
            if not self.bus.startswith(("redis://", "rediss://", "unix://")):
                raise ValueError(f"--bus takes a redis://HOST:PORT/DB URL, got {self.bus!r}")
        for name in ("auth_failure_limit", "flood_refusals", "agent_capacity"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.beat_timeout <= self.beat_interval:
            raise ValueError("beat_timeout must be longer than beat_interval")
        if self.max_frame_bytes < 1024:
            raise ValueError("max_frame_bytes must be at least 1024")
        if self.send_queue_limit < 10:
            raise ValueError("send_queue_limit must be at least 10")

    def idle_times(self) -> IdleTimes:
        """The customer idle timers (``ValueError`` when they do not fit together)."""
        return IdleTimes(self.idle_alert_after, self.idle_close_after)
