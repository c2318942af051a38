from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer, ServerConfig


def make_config(tmp_path: Path, **overrides: object) -> ServerConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "db": str(tmp_path / "chats.sqlite"),
        "rate_per_second": 1000.0,
        "rate_burst": 100_000.0,
        # the limits across connections are tested in test_limits.py with their defaults
        "chat_rate_per_second": 1000.0,
        "chat_rate_burst": 100_000.0,
        "address_chats_per_minute": 1_000_000.0,
        "address_chat_burst": 100_000.0,
        "auth_failure_limit": 1000,
        "offer_timeout": 20.0,
    }
    values.update(overrides)
    return ServerConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def server(tmp_path: Path, clock: VirtualClock) -> AsyncIterator[ChatServer]:
    srv = ChatServer(make_config(tmp_path), clock=clock)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def origin(server: ChatServer) -> str:
    return f"http://127.0.0.1:{server.port}"
