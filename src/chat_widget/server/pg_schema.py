"""The PostgreSQL schema as versioned migrations, and how they are applied.

``schema_version`` holds one row per applied step. ``migrate`` applies the
missing steps in order, each in its own transaction, under a transaction-level
advisory lock, so two processes starting together on an empty database do not
race (the second waits, then finds nothing to do). A database newer than this
code (a version this module does not know) is refused rather than written.

Steps are append-only: never edit a released one, add the next. The tested
upgrade path starts from an empty database (``tests/server/test_pg_migrations``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg

# the key of the migration lock (pg_advisory_xact_lock): "chat-widget migrate"
MIGRATION_LOCK = 0x63_77_6D_69_67
# the key of the serving lock (pg_try_advisory_lock): "chat-widget serve"
SERVE_LOCK = 0x63_77_73_72_76


@dataclass(frozen=True, slots=True)
class Step:
    version: int
    description: str
    sql: str


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "conversations, events, agents, skills, queues, externals, team IM",
        """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    contact JSONB NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL,
    owner TEXT
);
CREATE INDEX conversations_open ON conversations (created, id) WHERE state <> 'done';
CREATE TABLE events (
    conversation TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL CHECK (seq > 0),
    type TEXT NOT NULL,
    time DOUBLE PRECISION NOT NULL,
    visibility TEXT NOT NULL,
    sender TEXT,
    client_id TEXT,
    body TEXT NOT NULL,
    audience TEXT[],
    PRIMARY KEY (conversation, seq)
);
CREATE UNIQUE INDEX events_client_id
    ON events (conversation, sender, client_id) WHERE client_id IS NOT NULL;
CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created DOUBLE PRECISION NOT NULL,
    role TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor')),
    nickname TEXT,
    capacity INTEGER CHECK (capacity IS NULL OR capacity >= 1)
);
CREATE TABLE agent_skills (
    agent TEXT NOT NULL,
    skill TEXT NOT NULL,
    PRIMARY KEY (agent, skill)
);
CREATE TABLE queues (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    skill TEXT NOT NULL DEFAULT ''
);
CREATE TABLE externals (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    organisation TEXT NOT NULL DEFAULT ''
);
CREATE TABLE im_messages (
    id BIGINT PRIMARY KEY,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    text TEXT NOT NULL,
    time DOUBLE PRECISION NOT NULL,
    client_id TEXT
);
CREATE UNIQUE INDEX im_client_id ON im_messages (sender, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX im_recipient ON im_messages (recipient, id);
CREATE TABLE im_reads (
    agent TEXT NOT NULL,
    colleague TEXT NOT NULL,
    up_to BIGINT NOT NULL,
    PRIMARY KEY (agent, colleague)
);
""",
    ),
    Step(
        2,
        "contact history lookups by e-mail (any case) and phone (issue 16)",
        """
CREATE INDEX conversations_email ON conversations (lower(contact ->> 'email'), created);
CREATE INDEX conversations_phone ON conversations ((contact ->> 'phone'), created);
""",
    ),
)

LATEST = STEPS[-1].version

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied DOUBLE PRECISION NOT NULL
)
"""


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer chat-widget than this one."""


def current_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The newest applied step (0: an empty database)."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row is not None else 0  # type: ignore[call-overload]


def migrate(url: str, steps: tuple[Step, ...] = STEPS) -> list[int]:
    """Bring the database at ``url`` to the newest version; the versions applied now."""
    applied: list[int] = []
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        for step in steps:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                conn.execute(_VERSION_TABLE)
                version = current_version(conn)
                known = {s.version for s in STEPS}
                if version > steps[-1].version or (version and version not in known):
                    raise SchemaTooNew(
                        f"the database is at schema version {version}; this chat-widget "
                        f"knows up to {steps[-1].version}: upgrade chat-widget"
                    )
                if step.version <= version:
                    continue
                conn.execute(step.sql.encode())
                conn.execute(
                    "INSERT INTO schema_version (version, description, applied)"
                    " VALUES (%s, %s, %s)",
                    (step.version, step.description, time.time()),
                )
                applied.append(step.version)
    return applied
