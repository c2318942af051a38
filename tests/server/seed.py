"""Seed a database straight through SQLite: long histories without the wire (fast)."""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path

from chat_widget.formats import protocol as p
from chat_widget.server.sqlite_store import SCHEMA, SQLiteStore, hash_token

CUSTOMER = p.Participant(nickname="Carla", participant_id="customer", type=p.ParticipantType.CLIENT)


def prepare(db: str | Path) -> None:
    """Create the schema (as the server would)."""
    store = SQLiteStore(db)
    store._reader.close()


def seed_chat(
    db: str | Path,
    events: int,
    *,
    state: str = "queued",
    owner: str | None = None,
    conversation: str | None = None,
) -> tuple[str, str]:
    """A chat with ``events`` customer messages; returns (conversation, customer token)."""
    prepare(db)
    conv = conversation or "c" + secrets.token_hex(8)
    token = secrets.token_urlsafe(16)
    rows = []
    for seq in range(1, events + 1):
        body = p.Message(
            conversation=conv,
            seq=seq,
            utc_time=seq * 1000,
            visibility=p.Visibility.ALL,
            client_id=f"m{seq}",
            **{"from": CUSTOMER},
            text=f"message {seq}",
        ).to_json()
        rows.append((conv, seq, "Message", float(seq), "all", "customer", f"m{seq}", body, None))
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO conversations (id, token_hash, contact, created, state, owner)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (conv, hash_token(token), json.dumps({"nickname": "Carla"}), 0.0, state, owner),
        )
        conn.executemany(
            "INSERT INTO events (conversation, seq, type, time, visibility, sender, client_id,"
            " body, audience) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return conv, token


def seed_ims(db: str | Path, count: int, sender: str, recipient: str) -> None:
    prepare(db)
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO im_messages (sender, recipient, text, time, client_id)"
            " VALUES (?, ?, ?, ?, ?)",
            [(sender, recipient, f"im {i}", float(i), f"im{i}") for i in range(count)],
        )


def add_agent(db: str | Path, name: str) -> tuple[str, str]:
    prepare(db)
    store = SQLiteStore(db)
    try:
        record, token = store.add_agent(name)
    finally:
        store._reader.close()
    return record.id, token


__all__ = ["SCHEMA", "add_agent", "seed_chat", "seed_ims"]
