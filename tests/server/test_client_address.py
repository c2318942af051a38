"""Behind a trusted load balancer, per-address limits count each customer, not the site."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer, ServerConfig
from chat_widget.server.client_address import client_address, parse_proxies

from .helpers import Client

LB = frozenset({"10.0.0.5"})


def test_the_right_most_untrusted_hop_is_the_client() -> None:
    assert client_address("10.0.0.5", "198.51.100.7", LB) == "198.51.100.7"
    # a client may put anything on the left: only what the balancer appended counts
    assert client_address("10.0.0.5", "1.2.3.4, 198.51.100.7", LB) == "198.51.100.7"
    # two balancers in a row, both trusted
    two = frozenset({"10.0.0.5", "10.0.0.6"})
    assert client_address("10.0.0.5", "198.51.100.7, 10.0.0.6", two) == "198.51.100.7"


def test_the_header_is_ignored_unless_the_peer_is_trusted() -> None:
    assert client_address("198.51.100.7", "1.2.3.4", LB) == "198.51.100.7"
    assert client_address("10.0.0.5", None, LB) == "10.0.0.5"
    assert client_address("10.0.0.5", "not-an-address", LB) == "10.0.0.5"
    assert client_address("10.0.0.5", "2001:DB8::1", LB) == "2001:db8::1"


def test_a_trusted_proxy_must_be_an_ip_address() -> None:
    assert parse_proxies([" ::1 ", "127.0.0.1"]) == {"::1", "127.0.0.1"}
    with pytest.raises(ValueError, match=r"'lb\.example' is not an IP address"):
        ServerConfig(trusted_proxies=("lb.example",))
    done = subprocess.run(
        [sys.executable, "-m", "chat_widget.cli", "serve", "--trusted-proxy", "lb.example"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "'lb.example' is not an IP address" in done.stderr


async def _started(server: ChatServer, forwarded_for: str, name: str) -> str:
    """RequestChat through the 'balancer' (this test, on 127.0.0.1); the answer's type
    or error code."""
    origin = f"http://127.0.0.1:{server.port}"
    ws = await connect(
        server.url,
        origin=origin,  # type: ignore[arg-type]
        additional_headers={"X-Forwarded-For": forwarded_for},
    )
    client = Client(ws, name)
    try:
        rid = await client.send("RequestChat", nickname=name)
        answer = await client.reply(rid)
        return str(answer.get("code") or answer["type"])
    finally:
        await client.close()


@pytest.fixture(params=[True, False], ids=["trusted", "not-trusted"])
async def behind_lb(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[ChatServer]:
    trusted = ("127.0.0.1",) if request.param else ()
    config = ServerConfig(
        host="127.0.0.1", port=0, db=str(tmp_path / "lb.sqlite"), trusted_proxies=trusted
    )
    server = ChatServer(config, clock=VirtualClock())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_new_chat_limits_count_each_customer_behind_a_trusted_balancer(
    behind_lb: ChatServer,
) -> None:
    server = behind_lb
    burst = int(server.config.address_chat_burst)
    # one customer over their burst: refused, trusted balancer or not
    own = [await _started(server, "198.51.100.7", f"c{i}") for i in range(burst + 1)]
    assert own[:burst] == ["ChatStarted"] * burst and own[burst] == "rate_limited"
    # another customer through the same balancer
    other = await _started(server, "198.51.100.8", "d")
    if server.config.trusted_proxies:
        assert other == "ChatStarted"  # their own limit
    else:
        assert other == "rate_limited"  # the header was not believed: one address for all
