"""PostgreSQL event store (issue 18, first step): the same contract as SQLite's.

    store = PostgresStore("postgresql://chat@db.example:5432/chats")

Durability: each group commit is one transaction, committed with the server's
``synchronous_commit`` (on by default: the WAL is flushed before the commit
returns), and a write's future resolves only then, so an acknowledged event
survives a crash of this process and of the database server.

Sequence numbers: the service still assigns each conversation's next seq in
memory (one serving process); the table's primary key (conversation, seq)
refuses a second event on a seq, and the unique (conversation, sender,
client_id) makes a retry find its original seq. Until routing across
processes exists (issue 18 item 2), ``claim`` takes a session-level advisory
lock so that a second server process on the same database refuses to start.

The parts: ``pg_schema`` (versioned migrations), ``pg_reader`` (reads through
a pool), ``pg_writer`` (the group-commit task). This module puts them together
as the ``EventStore`` and the synchronous ``StoreAdmin`` of the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from .admin import new_agent
from .leadership import ROUTER_NAME, SOLE_SERVER_NAME
from .pg_reader import Pool, PostgresReader
from .pg_schema import SERVE_LOCK, migrate
from .pg_writer import PgGroupCommitWriter
from .queued_writes import QueuedWrites
from .store import (
    AgentRecord,
    DuplicateAgentError,
    ExternalRecord,
    ImRecord,
    QueueRecord,
    StoreInUse,
    hash_token,
)

__all__ = ["PostgresStore", "is_postgres_url"]


def is_postgres_url(url: str) -> bool:
    """``--store`` values this store takes: ``postgresql://`` or ``postgres://`` URLs."""
    return url.startswith(("postgresql://", "postgres://"))


class PostgresStore(QueuedWrites, PostgresReader):
    """The ``EventStore`` (and ``StoreAdmin``) on one PostgreSQL database.

    The schema is brought up to date on first use (``migrate``): by the first
    admin call, or by ``claim``/the first read of a server."""

    writer: PgGroupCommitWriter

    def __init__(self, url: str, *, max_batch: int = 1000, pool_size: int = 4) -> None:
        if not is_postgres_url(url):
            raise ValueError(f"not a PostgreSQL URL (postgresql://USER@HOST:PORT/DB): {url!r}")
        super().__init__(url, pool_size=pool_size)
        self.writer = PgGroupCommitWriter(url, max_batch, prepare=self._ensure_schema_async)
        self._migrated = False
        self._lock_conn: AsyncConnection[TupleRow] | None = None

    # -- schema ---------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply the missing schema steps (synchronous); the versions applied now."""
        applied = migrate(self.url)
        self._migrated = True
        return applied

    def _ensure_schema(self) -> None:
        if not self._migrated:
            self.migrate()

    async def _ensure_schema_async(self) -> None:
        if not self._migrated:
            await asyncio.to_thread(self.migrate)

    async def _conn_pool(self) -> Pool:
        """The read pool, once the schema is up to date (reads before any write)."""
        await self._ensure_schema_async()
        return await super()._conn_pool()

    # -- the serving lock -------------------------------------------------------------
    async def claim(self) -> None:
        """Serve this database from this process only (until routing across processes
        exists): a session-level advisory lock, held on a connection of its own until
        ``close``; ``StoreInUse`` if another process holds it."""
        await self._ensure_schema_async()
        if self._lock_conn is not None:
            return
        conn = await AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=10, application_name=SOLE_SERVER_NAME
        )
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (SERVE_LOCK,))
        row = await cur.fetchone()
        if row is None or not row[0]:
            await conn.close()
            if await self.lock_holder() == ROUTER_NAME:
                raise StoreInUse(
                    f"processes started with --bus serve {self._safe_url()}: "
                    "start this one with the same --store and --bus to join them"
                )
            raise StoreInUse(
                f"another chat-widget server already serves {self._safe_url()}. Stop it "
                "first, or run several processes with --bus redis://... on every one "
                "(README, 'Several server processes')."
            )
        self._lock_conn = conn

    async def lock_holder(self) -> str | None:
        """How the process holding the serving lock was started (its session's
        ``application_name``: ``SOLE_SERVER_NAME`` or ``ROUTER_NAME``); None: nobody holds
        it, or PostgreSQL does not say."""
        try:
            rows = await self._lock_holders()
        except (psycopg.Error, OSError, TimeoutError):
            return None
        return str(rows[0][1]) if rows and rows[0][1] else None

    async def _lock_holders(self) -> list[TupleRow]:
        """(pid, application_name) of the session holding the serving lock (none or one
        row), through the read pool."""
        return await self._fetch(
            "SELECT l.pid, a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a"
            " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = %s"
            " AND l.objid = %s AND l.objsubid = 1 AND l.granted",
            (SERVE_LOCK >> 32, SERVE_LOCK & 0xFFFFFFFF),
        )

    # -- leading several processes (--bus) ----------------------------------------------
    async def try_lead(self) -> bool:
        """Take the serving lock on the writer's own connection (``--bus``): True, this
        process routes and writes from now on; False, another one does. The writer
        takes the lock again on every reconnect and stops writing if it cannot."""
        await self._ensure_schema_async()
        return await self.writer.try_lock(SERVE_LOCK)

    async def still_leading(self) -> bool | None:
        """Whether the writer's session still holds the serving lock (asked through the
        read pool): False, it is lost (the session ended; maybe another process holds
        it); None, PostgreSQL did not answer."""
        pid = self.writer.backend_pid
        if self.writer.fenced or pid is None:
            return False
        try:
            rows = await self._lock_holders()
        except (psycopg.Error, OSError, TimeoutError):
            return None
        return any(row[0] == pid for row in rows)

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once when this process loses the serving lock."""
        self.writer.on_fenced = callback

    def lose(self) -> None:
        """The lock is lost (seen by ``still_leading``): never write again."""
        self.writer.fence()

    def _safe_url(self) -> str:
        """The URL without a password (error messages, logs)."""
        info = psycopg.conninfo.conninfo_to_dict(self.url)
        user, host, port = info.get("user", ""), info.get("host", ""), info.get("port", "")
        return f"postgresql://{user}@{host}:{port}/{info.get('dbname', '')}"

    # -- writing ---------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.writer.running:
            self.writer.start(loop)

    def append_im(self, im: ImRecord) -> asyncio.Future[None]:
        sql = (
            b"INSERT INTO im_messages (id, sender, recipient, text, time, client_id)"
            b" VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (im.id, im.sender, im.recipient, im.text, im.time, im.client_id),
        )
        return self._write(sql=sql)

    def mark_im_read(self, agent_id: str, colleague: str, up_to: int) -> asyncio.Future[None]:
        sql = (
            b"INSERT INTO im_reads (agent, colleague, up_to) VALUES (%s, %s, %s)"
            b" ON CONFLICT (agent, colleague)"
            b" DO UPDATE SET up_to = GREATEST(im_reads.up_to, excluded.up_to)",
            (agent_id, colleague, up_to),
        )
        return self._write(sql=sql)

    # -- set-up (StoreAdmin): short synchronous transactions ------------------------------
    def _admin(self, *statements: tuple[bytes, tuple[object, ...]]) -> None:
        self._ensure_schema()
        with psycopg.connect(self.url, connect_timeout=10) as conn, conn.transaction():
            for sql, params in statements:
                conn.execute(sql, params)

    def add_agent(
        self,
        name: str,
        supervisor: bool = False,
        *,
        nickname: str | None = None,
        capacity: int | None = None,
    ) -> tuple[AgentRecord, str]:
        record, token = new_agent(name, supervisor, nickname=nickname, capacity=capacity)
        try:
            self._admin(
                (
                    b"INSERT INTO agents (id, name, token_hash, created, role, nickname, capacity)"
                    b" VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        record.id,
                        record.name,
                        hash_token(token),
                        record.created,
                        str(record.role),
                        record.nickname,
                        record.capacity,
                    ),
                )
            )
        except psycopg.errors.UniqueViolation:
            raise DuplicateAgentError(f"an agent with id {record.id!r} exists already") from None
        return record, token

    def set_skills(self, agent_id: str, skills: tuple[str, ...]) -> None:
        self._admin(
            (b"DELETE FROM agent_skills WHERE agent = %s", (agent_id,)),
            *(
                (b"INSERT INTO agent_skills (agent, skill) VALUES (%s, %s)", (agent_id, s))
                for s in dict.fromkeys(skills)
                if s
            ),
        )

    def add_queue(self, queue: QueueRecord) -> None:
        self._admin(
            (
                b"INSERT INTO queues (id, name, skill) VALUES (%s, %s, %s) ON CONFLICT (id)"
                b" DO UPDATE SET name = excluded.name, skill = excluded.skill",
                (queue.id, queue.name, queue.skill),
            )
        )

    def add_external(self, external: ExternalRecord) -> None:
        self._admin(
            (
                b"INSERT INTO externals (id, name, phone, organisation) VALUES (%s, %s, %s, %s)"
                b" ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                b" phone = excluded.phone, organisation = excluded.organisation",
                (external.id, external.name, external.phone, external.organisation),
            )
        )

    # -- shutdown --------------------------------------------------------------------
    async def close(self) -> None:
        """Commit everything queued, close the pool, then release the serving lock."""
        await self.writer.stop()
        await super().close()
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.close()  # ends the session: the advisory lock goes with it
