"""``ServerUrls``: the websocket addresses a client may connect to, in turn.

Several server processes form one service (docs/scale-out.md) and any of them
resumes any client from its last seq, so a client given several addresses
connects to the first and moves to the next one on every reconnect (round
robin): when one process is gone, the next attempt goes elsewhere. One address
(a load balancer, or a single server) is the one-element case.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

SCHEMES = ("ws", "wss")


def server_urls(url: str | Sequence[str]) -> tuple[str, ...]:
    """The checked addresses: one URL or a non-empty sequence of ws:// or wss:// URLs.

    A clear ``ValueError`` rather than a connection that keeps failing later."""
    urls = [url] if isinstance(url, str) else list(url)
    if not urls:
        raise ValueError("no server URL given: pass one ws:// URL or a list of them")
    for item in urls:
        if not isinstance(item, str):
            raise ValueError(f"a server URL must be text, got {type(item).__name__}: {item!r}")
        try:
            parts = urlsplit(item)
            parts.port  # noqa: B018 - raises for a port that is not a number
        except ValueError as exc:
            raise ValueError(f"not a websocket URL: {item!r} ({exc})") from None
        if parts.scheme.lower() not in SCHEMES:
            raise ValueError(
                f"a server URL must start with ws:// or wss://, got {item!r} "
                "(e.g. ws://127.0.0.1:8765/ws)"
            )
        if not parts.hostname:
            raise ValueError(f"a server URL needs a host: {item!r}")
    return tuple(urls)


class ServerUrls:
    """Round robin over the addresses: ``current`` now, ``advance()`` on a reconnect."""

    def __init__(self, url: str | Sequence[str]) -> None:
        self.urls = server_urls(url)
        self._index = 0

    @property
    def current(self) -> str:
        return self.urls[self._index]

    def advance(self) -> str:
        """Move to the next address (back to the first after the last) and return it."""
        self._index = (self._index + 1) % len(self.urls)
        return self.current


class UsesServerUrls:
    """A client's ``url`` and ``urls`` from its ``_servers`` (backends, scripted customers)."""

    _servers: ServerUrls

    @property
    def url(self) -> str:
        """The address this client is connected (or connecting) to."""
        return self._servers.current

    @property
    def urls(self) -> tuple[str, ...]:
        """Every address it may use, in the order it tries them."""
        return self._servers.urls
