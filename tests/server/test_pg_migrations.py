"""PostgreSQL schema migrations (``server.pg_schema``): the documented upgrade path
from an empty database, step by step, with data kept, and the refusals."""

from __future__ import annotations

import asyncio
import threading

import psycopg
import pytest

from chat_widget.server.pg_schema import LATEST, STEPS, SchemaTooNew, migrate
from chat_widget.server.pg_store import PostgresStore


def _versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]


def test_an_empty_database_is_brought_to_the_latest_version_once(pg_url: str) -> None:
    assert migrate(pg_url) == [s.version for s in STEPS]
    assert _versions(pg_url) == list(range(1, LATEST + 1))
    assert migrate(pg_url) == []  # again: nothing to do
    with psycopg.connect(pg_url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }
    assert tables == {
        "schema_version",
        "conversations",
        "events",
        "agents",
        "agent_skills",
        "queues",
        "externals",
        "im_messages",
        "im_reads",
    }


def test_a_version_1_database_with_data_is_upgraded_in_place(pg_url: str) -> None:
    assert migrate(pg_url, STEPS[:1]) == [1]
    with psycopg.connect(pg_url) as conn:  # what a version-1 server stored
        conn.execute(
            "INSERT INTO conversations (id, token_hash, contact, created, state)"
            """ VALUES ('c1', 'h', '{"nickname": "Carla", "email": "C@x.org"}', 1.0, 'done')"""
        )
        conn.execute(
            "INSERT INTO events (conversation, seq, type, time, visibility, body)"
            " VALUES ('c1', 1, 'Message', 2.0, 'all', '{}')"
        )
    store = PostgresStore(pg_url)  # a server on it upgrades it on first use

    async def read() -> None:
        try:
            [found] = await store.conversations_of_contact("c@X.org", None, 5)
            assert found.id == "c1" and found.last_seq == 1
        finally:
            await store.close()

    asyncio.run(read())
    assert _versions(pg_url) == list(range(1, LATEST + 1))
    with psycopg.connect(pg_url) as conn:
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes").fetchall()}
    assert {"conversations_email", "conversations_phone"} <= indexes


def test_two_processes_migrating_together_apply_each_step_once(pg_url: str) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(pg_url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(v for r in results for v in r) == [s.version for s in STEPS]
    assert _versions(pg_url) == list(range(1, LATEST + 1))


def test_a_database_from_a_newer_version_is_refused(pg_url: str) -> None:
    migrate(pg_url)
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            "INSERT INTO schema_version (version, description, applied) VALUES (99, 'x', 0)"
        )
    with pytest.raises(SchemaTooNew, match="upgrade chat-widget"):
        migrate(pg_url)
