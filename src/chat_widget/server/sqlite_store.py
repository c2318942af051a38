"""SQLite event store: WAL mode, group commits off the event loop, ack after commit.

Durability: ``PRAGMA journal_mode=WAL`` and ``PRAGMA synchronous=FULL`` (the
default here). With FULL every commit fsyncs the WAL, so an event whose
write future resolved (and that the server therefore acknowledged and
fanned out) survives a process crash (SIGKILL) *and* an OS crash or power
loss. What a crash can lose is only the batch being written at that moment:
those events were never acknowledged nor shown to anyone, and clients
resend them with the same client id (idempotent). ``synchronous="NORMAL"``
is accepted for experiments: in WAL mode it still survives a process crash,
but a power loss can roll back the last commits, which were acknowledged;
so it is not the default.

The parts: ``sqlite_schema`` (tables, migrations, connections),
``sqlite_reader`` (every read, on a second connection on the loop),
``sqlite_writer`` (the group-commit writer thread). This module puts them
together as the ``EventStore`` and the ``StoreAdmin`` of the CLI.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from .admin import new_agent
from .file_lock import FileLock
from .queued_writes import QueuedWrites
from .sqlite_reader import SQLiteReader
from .sqlite_schema import SCHEMA, connect, migrate
from .sqlite_writer import GroupCommitWriter
from .store import (
    AgentRecord,
    DuplicateAgentError,
    ExternalRecord,
    ImRecord,
    QueueRecord,
    client_key,
    hash_token,
)

__all__ = ["SCHEMA", "SQLiteStore", "client_key", "hash_token"]


class SQLiteStore(QueuedWrites, SQLiteReader):
    """The ``EventStore`` (and ``StoreAdmin``) on one SQLite file."""

    writer: GroupCommitWriter

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "FULL",
        max_batch: int = 1000,
        busy_timeout: float = 5.0,
    ) -> None:
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous must be FULL, EXTRA or NORMAL, got {synchronous!r}")
        self.path = str(path)
        self.synchronous = synchronous.upper()
        conn = self._connect()
        migrate(conn)
        super().__init__(conn)
        self.writer = GroupCommitWriter(max_batch, busy_timeout)
        self.lock = FileLock(self.path)

    async def claim(self) -> None:
        """One serving process per file: ``StoreInUse`` if another server holds
        ``<db>.lock`` (``file_lock``); released by ``close``."""
        self.lock.acquire()

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path, self.synchronous)

    # -- writing ---------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.writer.running:
            self.writer.start(loop, self._connect())

    def append_im(self, im: ImRecord) -> asyncio.Future[None]:
        sql = (
            "INSERT OR IGNORE INTO im_messages (id, sender, recipient, text, time, client_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (im.id, im.sender, im.recipient, im.text, im.time, im.client_id),
        )
        return self._write(sql=sql)

    def mark_im_read(self, agent_id: str, colleague: str, up_to: int) -> asyncio.Future[None]:
        sql = (
            "INSERT INTO im_reads (agent, colleague, up_to) VALUES (?, ?, ?)"
            " ON CONFLICT (agent, colleague) DO UPDATE SET up_to = MAX(up_to, excluded.up_to)",
            (agent_id, colleague, up_to),
        )
        return self._write(sql=sql)

    # -- set-up (StoreAdmin): short writes on their own connection ---------------------
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
            self._write_now(
                "INSERT INTO agents (id, name, token_hash, created, role, nickname, capacity)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        except sqlite3.IntegrityError:
            raise DuplicateAgentError(f"an agent with id {record.id!r} exists already") from None
        return record, token

    def _write_now(self, sql: str, params: tuple[object, ...]) -> None:
        conn = self._connect()
        try:
            conn.execute(sql, params)
        finally:
            conn.close()

    def set_skills(self, agent_id: str, skills: tuple[str, ...]) -> None:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM agent_skills WHERE agent = ?", (agent_id,))
            conn.executemany(
                "INSERT INTO agent_skills (agent, skill) VALUES (?, ?)",
                [(agent_id, s) for s in dict.fromkeys(skills) if s],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()

    def add_queue(self, queue: QueueRecord) -> None:
        self._write_now(
            "INSERT OR REPLACE INTO queues (id, name, skill) VALUES (?, ?, ?)",
            (queue.id, queue.name, queue.skill),
        )

    def add_external(self, external: ExternalRecord) -> None:
        self._write_now(
            "INSERT OR REPLACE INTO externals (id, name, phone, organisation) VALUES (?, ?, ?, ?)",
            (external.id, external.name, external.phone, external.organisation),
        )

    # -- shutdown --------------------------------------------------------------
    async def close(self) -> None:
        """Commit everything queued (the writer finishes its queue), then close."""
        await self.writer.stop()
        await super().close()
        self.lock.release()
