"""The SQLite schema, its migrations and how the store's connections are opened.

WAL mode everywhere: readers (the server's own, analysis) neither block nor
wait for the writer. A read-only connection (URI ``mode=ro``) writes nothing,
not even the schema: it reads databases the server made.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    contact TEXT NOT NULL,
    created REAL NOT NULL,
    state TEXT NOT NULL,
    owner TEXT
);
CREATE TABLE IF NOT EXISTS events (
    conversation TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    time REAL NOT NULL,
    visibility TEXT NOT NULL,
    sender TEXT,
    client_id TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (conversation, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_client_id
    ON events (conversation, sender, client_id) WHERE client_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    role TEXT NOT NULL DEFAULT 'agent',
    nickname TEXT,
    capacity INTEGER
);
CREATE TABLE IF NOT EXISTS agent_skills (
    agent TEXT NOT NULL,
    skill TEXT NOT NULL,
    PRIMARY KEY (agent, skill)
);
CREATE TABLE IF NOT EXISTS queues (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    skill TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS externals (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    organisation TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS im_messages (
    id INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    text TEXT NOT NULL,
    time REAL NOT NULL,
    client_id TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS im_client_id
    ON im_messages (sender, client_id) WHERE client_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS im_reads (
    agent TEXT NOT NULL,
    colleague TEXT NOT NULL,
    up_to INTEGER NOT NULL,
    PRIMARY KEY (agent, colleague)
);
"""

EVENT_COLUMNS = "conversation, seq, type, time, visibility, sender, client_id, body, audience"


def connect(path: str, synchronous: str) -> sqlite3.Connection:
    """A read-write connection in WAL mode (the store's reader and its writer thread)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection (URI ``mode=ro``): any write fails with "readonly"."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Create the tables, and bring databases of older versions up to date."""
    conn.executescript(SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    if "audience" not in columns:  # databases from before issue 6
        conn.execute("ALTER TABLE events ADD COLUMN audience TEXT")
    agent_columns = {row[1] for row in conn.execute("PRAGMA table_info(agents)")}
    if "role" not in agent_columns:  # databases from before issue 14 (supervisors)
        conn.execute("ALTER TABLE agents ADD COLUMN role TEXT NOT NULL DEFAULT 'agent'")
    if "nickname" not in agent_columns:  # databases from before issue 16
        conn.execute("ALTER TABLE agents ADD COLUMN nickname TEXT")
    if "capacity" not in agent_columns:
        conn.execute("ALTER TABLE agents ADD COLUMN capacity INTEGER")


def audience_text(audience: tuple[str, ...] | None) -> str | None:
    return None if audience is None else ",".join(audience)


def parse_audience(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(a for a in text.split(",") if a)
