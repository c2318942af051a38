"""PostgreSQL reads: the ``StoreReader`` and the reads of the server's store.

Reads go through a small async connection pool (autocommit: each query sees
what is committed, and never holds a snapshot that would block vacuum), so
they never wait behind the writer's transaction. The pool opens on first use,
on the loop that uses it. The row → record mapping lives only here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

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

EVENT_COLUMNS = "conversation, seq, type, time, visibility, sender, client_id, body, audience"
_CONVERSATION_COLUMNS = "id, token_hash, contact, created, state, owner"
_AGENT_COLUMNS = "id, name, created, role, nickname, capacity"
OPEN_TIMEOUT = 10.0  # seconds to wait for the first connection of the pool

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]


def _agent(row: Sequence[Any]) -> AgentRecord:
    return AgentRecord(row[0], row[1], row[2], row[3] == AgentRole.SUPERVISOR, row[4], row[5])


def _event(row: Sequence[Any]) -> StoredEvent:
    audience = None if row[8] is None else tuple(row[8])
    return StoredEvent(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], audience)


class PostgresReader:
    """Reads of one PostgreSQL database (``PostgresStore`` adds the writes)."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.url = url
        self._pool_size = pool_size
        self._pool: Pool | None = None
        self._opening = asyncio.Lock()

    async def _conn_pool(self) -> Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    pool: Pool = AsyncConnectionPool(
                        self.url,
                        min_size=1,
                        max_size=self._pool_size,
                        kwargs={"autocommit": True},
                        open=False,
                        name="chat-widget-reads",
                    )
                    await pool.open(wait=True, timeout=OPEN_TIMEOUT)
                    self._pool = pool
        return self._pool

    async def _fetch(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[TupleRow]:
        pool = await self._conn_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(sql.encode(), params)
            return await cur.fetchall()

    # -- conversations and events --------------------------------------------------
    async def conversation_ids(self) -> list[str]:
        rows = await self._fetch("SELECT id FROM conversations ORDER BY created, id")
        return [r[0] for r in rows]

    async def read_events(self, conversation: str, after_seq: int, limit: int) -> list[StoredEvent]:
        rows = await self._fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE conversation = %s AND seq > %s"
            " ORDER BY seq LIMIT %s",
            (conversation, after_seq, limit),
        )
        return [_event(row) for row in rows]

    async def get_conversation(self, conversation: str) -> ConversationRecord | None:
        rows = await self._fetch(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = %s", (conversation,)
        )
        records = await self._records(rows)
        return records[0] if records else None

    async def find_client_id(self, conversation: str, sender: str, client_id: str) -> int | None:
        rows = await self._fetch(
            "SELECT seq FROM events WHERE conversation = %s AND sender = %s AND client_id = %s",
            (conversation, sender, client_id),
        )
        return int(rows[0][0]) if rows else None

    async def open_conversations(self) -> list[ConversationRecord]:
        rows = await self._fetch(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations"
            " WHERE state <> 'done' ORDER BY created, id"
        )
        return await self._records(rows)

    async def conversations_of_contact(
        self, email: str | None, phone: str | None, limit: int, before: float | None = None
    ) -> list[ConversationRecord]:
        email = email.strip().lower() if email and email.strip() else None
        phone = phone.strip() if phone and phone.strip() else None
        if email is None and phone is None:
            return []
        rows = await self._fetch(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations"
            " WHERE (lower(contact ->> 'email') = %(email)s OR contact ->> 'phone' = %(phone)s)"
            " AND (%(before)s::float8 IS NULL OR created <= %(before)s::float8)"
            " ORDER BY created DESC, id DESC LIMIT %(limit)s",
            {"email": email, "phone": phone, "before": before, "limit": limit},
        )
        return await self._records(rows)

    async def _records(self, rows: list[TupleRow]) -> list[ConversationRecord]:
        """Conversation rows with their last seq and client ids (two queries for all)."""
        records = [
            ConversationRecord(r[0], r[1], r[2], r[3], ConversationState(r[4]), r[5]) for r in rows
        ]
        if not records:
            return records
        by_id = {rec.id: rec for rec in records}
        ids = list(by_id)
        for conv, last in await self._fetch(
            "SELECT conversation, MAX(seq) FROM events WHERE conversation = ANY(%s)"
            " GROUP BY conversation",
            (ids,),
        ):
            by_id[conv].last_seq = int(last)
        for conv, sender, cid, seq in await self._fetch(
            "SELECT conversation, sender, client_id, seq FROM events"
            " WHERE conversation = ANY(%s) AND client_id IS NOT NULL",
            (ids,),
        ):
            by_id[conv].client_ids[client_key(sender, cid)] = seq
        return records

    # -- agents and the directory -----------------------------------------------------
    async def agent_for_token(self, token: str) -> AgentRecord | None:
        rows = await self._fetch(
            f"SELECT {_AGENT_COLUMNS} FROM agents WHERE token_hash = %s", (hash_token(token),)
        )
        return _agent(rows[0]) if rows else None

    async def list_agents(self) -> list[AgentRecord]:
        rows = await self._fetch(f"SELECT {_AGENT_COLUMNS} FROM agents ORDER BY id")
        return [_agent(row) for row in rows]

    async def agent_skills(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for agent, skill in await self._fetch(
            "SELECT agent, skill FROM agent_skills ORDER BY agent, skill"
        ):
            out.setdefault(agent, []).append(skill)
        return {a: tuple(s) for a, s in out.items()}

    async def list_queues(self) -> list[QueueRecord]:
        rows = await self._fetch("SELECT id, name, skill FROM queues ORDER BY id")
        return [QueueRecord(*row) for row in rows]

    async def list_externals(self) -> list[ExternalRecord]:
        rows = await self._fetch("SELECT id, name, phone, organisation FROM externals ORDER BY id")
        return [ExternalRecord(*row) for row in rows]

    # -- team IM (issue 6) ---------------------------------------------------------------
    async def next_im_id(self) -> int:
        rows = await self._fetch("SELECT COALESCE(MAX(id), 0) FROM im_messages")
        return int(rows[0][0]) + 1

    async def read_im(self, agent_id: str, after_id: int, limit: int) -> list[ImRecord]:
        rows = await self._fetch(
            "SELECT id, sender, recipient, text, time, client_id FROM im_messages"
            " WHERE (sender = %s OR recipient = %s) AND id > %s ORDER BY id LIMIT %s",
            (agent_id, agent_id, after_id, limit),
        )
        return [ImRecord(*row) for row in rows]

    async def im_unread(self, agent_id: str) -> dict[str, int]:
        rows = await self._fetch(
            "SELECT m.sender, COUNT(*) FROM im_messages m LEFT JOIN im_reads r"
            " ON r.agent = m.recipient AND r.colleague = m.sender"
            " WHERE m.recipient = %s AND m.id > COALESCE(r.up_to, 0) GROUP BY m.sender",
            (agent_id,),
        )
        return {sender: int(n) for sender, n in rows}

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close(timeout=5.0)
