"""Shared fixtures: a virtual clock and ready-made sessions; hypothesis profile for CI."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from chat_widget import AgentDesk, ChatSession, ContactRecord, VirtualClock

from .pg import Cluster
from .redis_instance import RedisInstance

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=150)
settings.register_profile("dev", deadline=None, max_examples=150)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throw-away PostgreSQL cluster for the whole run, started on first use."""
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh, empty database on the session's cluster."""
    return pg_cluster.create_database()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisInstance]:
    """One throw-away Redis for the whole run, started on first use."""
    instance = RedisInstance()
    try:
        instance.start()
        yield instance
    finally:
        instance.remove()


@pytest.fixture
def redis_url(redis_server: RedisInstance) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.flush()
    return redis_server.url()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1_000.0)


@pytest.fixture
def desk(clock: VirtualClock) -> AgentDesk:
    return AgentDesk(clock)


@pytest.fixture
def session(desk: AgentDesk) -> ChatSession:
    return desk.offer("c1", ContactRecord("Maria Weber", ("+49 30 1234567",), ("m@example.com",)))
