"""SQLite reads: the ``StoreReader`` (analysis) and the reads of the server's store.

One connection, used on the caller's thread. WAL readers neither block nor
wait for the writer, and a query takes microseconds, so the coroutines run
their query without suspending. The row → record mapping lives only here.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .sqlite_schema import EVENT_COLUMNS, connect_readonly, parse_audience
from .store import (
    AgentRecord,
    AgentRole,
    ConversationRecord,
    ConversationState,
    ExternalRecord,
    ImRecord,
    QueueRecord,
    StoredEvent,
    client_key,
    hash_token,
)

_CONVERSATION_COLUMNS = "id, token_hash, contact, created, state, owner"
_AGENT_COLUMNS = "id, name, created, role, nickname, capacity"


def _agent(row: tuple[str, str, float, str, str | None, int | None]) -> AgentRecord:
    return AgentRecord(row[0], row[1], row[2], row[3] == AgentRole.SUPERVISOR, row[4], row[5])


class SQLiteReader:
    """Reads of one SQLite database; ``open_readonly`` gives analysis a ``StoreReader``
    that cannot write (``SQLiteStore`` extends this class with the writes)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._reader = conn

    @classmethod
    def open_readonly(cls, path: str | Path) -> SQLiteReader:
        """A reader on ``path`` opened with ``mode=ro``: nothing is ever written, and it
        can read while the server runs."""
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"no such database: {p}")
        conn = connect_readonly(p)
        try:  # the columns analysis reads exist: a server database of this version
            conn.execute(f"SELECT {EVENT_COLUMNS} FROM events LIMIT 0")
            conn.execute(f"SELECT {_CONVERSATION_COLUMNS} FROM conversations LIMIT 0")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ValueError(
                f"{p} is not a chat-widget server database this version can read "
                f"(or one from an older version: start the server on it once): {exc}"
            ) from None
        return cls(conn)

    # -- conversations and events --------------------------------------------------
    async def conversation_ids(self) -> list[str]:
        return [r[0] for r in self._reader.execute("SELECT id FROM conversations ORDER BY created")]

    async def read_events(self, conversation: str, after_seq: int, limit: int) -> list[StoredEvent]:
        rows = self._reader.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE conversation = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (conversation, after_seq, limit),
        ).fetchall()
        return [
            StoredEvent(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                parse_audience(row[8]),
            )
            for row in rows
        ]

    async def get_conversation(self, conversation: str) -> ConversationRecord | None:
        row = self._reader.execute(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation,)
        ).fetchone()
        return None if row is None else self._record(row)

    async def find_client_id(self, conversation: str, sender: str, client_id: str) -> int | None:
        row = self._reader.execute(
            "SELECT seq FROM events WHERE conversation = ? AND sender = ? AND client_id = ?",
            (conversation, sender, client_id),
        ).fetchone()
        return None if row is None else int(row[0])

    async def open_conversations(self) -> list[ConversationRecord]:
        rows = self._reader.execute(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations"
            " WHERE state != 'done' ORDER BY created, id"
        ).fetchall()
        return [self._record(row) for row in rows]

    async def conversations_of_contact(
        self, email: str | None, phone: str | None, limit: int, before: float | None = None
    ) -> list[ConversationRecord]:
        email = email.strip().lower() if email and email.strip() else None
        phone = phone.strip() if phone and phone.strip() else None
        if email is None and phone is None:
            return []
        rows = self._reader.execute(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations"
            " WHERE ((? IS NOT NULL AND lower(json_extract(contact, '$.email')) = ?)"
            " OR (? IS NOT NULL AND json_extract(contact, '$.phone') = ?))"
            " AND (? IS NULL OR created <= ?)"
            " ORDER BY created DESC, id DESC LIMIT ?",
            (email, email, phone, phone, before, before, limit),
        ).fetchall()
        return [self._record(row) for row in rows]

    def _record(self, row: tuple[str, str, str, float, str, str | None]) -> ConversationRecord:
        state = ConversationState(row[4])
        rec = ConversationRecord(row[0], row[1], json.loads(row[2]), row[3], state, row[5])
        last = self._reader.execute(
            "SELECT MAX(seq) FROM events WHERE conversation = ?", (rec.id,)
        ).fetchone()[0]
        rec.last_seq = int(last or 0)
        for sender, cid, seq in self._reader.execute(
            "SELECT sender, client_id, seq FROM events WHERE conversation = ?"
            " AND client_id IS NOT NULL",
            (rec.id,),
        ):
            rec.client_ids[client_key(sender, cid)] = seq
        return rec

    # -- agents and the directory -----------------------------------------------------
    async def agent_for_token(self, token: str) -> AgentRecord | None:
        row = self._reader.execute(
            f"SELECT {_AGENT_COLUMNS} FROM agents WHERE token_hash = ?", (hash_token(token),)
        ).fetchone()
        return None if row is None else _agent(row)

    async def list_agents(self) -> list[AgentRecord]:
        rows = self._reader.execute(f"SELECT {_AGENT_COLUMNS} FROM agents ORDER BY id").fetchall()
        return [_agent(row) for row in rows]

    async def agent_skills(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for agent, skill in self._reader.execute(
            "SELECT agent, skill FROM agent_skills ORDER BY agent, skill"
        ):
            out.setdefault(agent, []).append(skill)
        return {a: tuple(s) for a, s in out.items()}

    async def list_queues(self) -> list[QueueRecord]:
        rows = self._reader.execute("SELECT id, name, skill FROM queues ORDER BY id").fetchall()
        return [QueueRecord(*row) for row in rows]

    async def list_externals(self) -> list[ExternalRecord]:
        rows = self._reader.execute(
            "SELECT id, name, phone, organisation FROM externals ORDER BY id"
        ).fetchall()
        return [ExternalRecord(*row) for row in rows]

    # -- team IM (issue 6) ---------------------------------------------------------------
    async def next_im_id(self) -> int:
        last = self._reader.execute("SELECT MAX(id) FROM im_messages").fetchone()[0]
        return int(last or 0) + 1

    async def read_im(self, agent_id: str, after_id: int, limit: int) -> list[ImRecord]:
        rows = self._reader.execute(
            "SELECT id, sender, recipient, text, time, client_id FROM im_messages"
            " WHERE (sender = ? OR recipient = ?) AND id > ? ORDER BY id LIMIT ?",
            (agent_id, agent_id, after_id, limit),
        ).fetchall()
        return [ImRecord(*row) for row in rows]

    async def im_unread(self, agent_id: str) -> dict[str, int]:
        rows = self._reader.execute(
            "SELECT m.sender, COUNT(*) FROM im_messages m LEFT JOIN im_reads r"
            " ON r.agent = m.recipient AND r.colleague = m.sender"
            " WHERE m.recipient = ? AND m.id > COALESCE(r.up_to, 0) GROUP BY m.sender",
            (agent_id,),
        ).fetchall()
        return {sender: int(n) for sender, n in rows}

    async def close(self) -> None:
        self._reader.close()
