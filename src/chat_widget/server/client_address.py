"""The client's address behind a load balancer (``--trusted-proxy``).

Per-address limits (new chats per minute, failed logins) need the customer's
own address. Behind nginx or HAProxy every connection comes from the balancer,
so one address would stand for the whole site. A balancer the server is told
to trust appends the address it saw to ``X-Forwarded-For``; the client's
address is the right-most entry that is not itself a trusted proxy. The header
is ignored from anyone else: a client cannot choose its own address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

FORWARDED_FOR = "X-Forwarded-For"


def parse_proxies(addresses: Iterable[str]) -> frozenset[str]:
    """Trusted proxy addresses, normalised (``ValueError`` naming a bad one)."""
    trusted = set()
    for text in addresses:
        try:
            trusted.add(str(ipaddress.ip_address(text.strip())))
        except ValueError:
            raise ValueError(f"--trusted-proxy: {text!r} is not an IP address") from None
    return frozenset(trusted)


def _normalised(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: str | None, trusted: frozenset[str]) -> str:
    """``peer`` (the TCP peer's address), unless it is a trusted proxy that says whom
    it forwards: then the right-most untrusted address of ``X-Forwarded-For``. A
    malformed entry ends the walk (nothing left of it can be believed)."""
    if not forwarded_for or _normalised(peer) not in trusted:
        return peer
    address = peer
    for entry in reversed(forwarded_for.split(",")):
        hop = _normalised(entry)
        if hop is None:
            break
        address = hop
        if hop not in trusted:
            break
    return address
