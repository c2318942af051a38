"""The PostgreSQL writer: group commits on the event loop, ack after commit.

One task owns one connection. It takes everything submitted since its last
transaction (up to ``max_batch`` writes) and writes it in one transaction
(``executemany`` runs in pipeline mode: one round trip for the batch, one
commit, one WAL flush with ``synchronous_commit`` on). Then the ``on_commit``
callbacks and futures run in submission order. While a commit is in flight the
loop keeps serving; what is submitted meanwhile forms the next batch.

The same failure rules as the SQLite writer (``sqlite_writer``): one failed
write fails alone (the batch is retried row by row under savepoints); later
events of the conversation already queued behind a failed one fail with
``RolledBack`` until the conversation's next write reuses the failed seq. If
the connection itself breaks, the whole batch fails (nothing of it committed,
or, when the commit's answer was lost, the client's retry with its client id
finds the stored event) and the next batch reconnects.

Fencing (``--bus``, issue 18): the router's claim is the serving lock held by
this writer's own session (``try_lock``). Every new connection takes it again
before its first batch; if it cannot (another process routes now), the batch
fails with ``NotRouter``, the writer refuses every later one, and ``on_fenced``
tells the server to stop routing. A router never writes after losing the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from .failed_chats import FailedChats
from .leadership import ROUTER_NAME
from .pg_reader import EVENT_COLUMNS
from .queued_writes import Write
from .store import (
    NotRouter,
    StoredEvent,
    StoreError,
)

log = logging.getLogger(__name__)

_INSERT_EVENT = (
    f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)".encode()
)
_INSERT_CONVERSATION = (
    b"INSERT INTO conversations (id, token_hash, contact, created, state, owner)"
    b" VALUES (%s, %s, %s::jsonb, %s, %s, %s)"
)
_UPDATE_CONVERSATION = b"UPDATE conversations SET state = %s, owner = %s WHERE id = %s"
CONNECT_TIMEOUT = 10


def _event_row(e: StoredEvent) -> tuple[Any, ...]:
    audience = None if e.audience is None else list(e.audience)
    return (e.conversation, e.seq, e.type, e.time, e.visibility, e.sender, e.client_id, e.body,
            audience)  # fmt: skip


class PgGroupCommitWriter:
    """The writer task and its queue; ``submit`` from the loop, results in order."""

    def __init__(
        self, url: str, max_batch: int, prepare: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.url = url
        self._prepare = prepare  # before the first connection (the schema's migration)
        self.max_batch = max_batch
        self._queue: asyncio.Queue[Write | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection[TupleRow] | None = None
        self._failed = FailedChats()  # later events of a chat whose event failed fail too
        self.commits = 0
        self.events_written = 0
        self.lock_key: int | None = None  # the lock this writer's session must hold
        self.backend_pid: int | None = None  # that session's server process (pg_locks)
        self.fenced = False  # the lock was lost: nothing is written any more
        self.on_fenced: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._task = loop.create_task(self._run(), name="postgres-writer")

    def submit(self, write: Write) -> asyncio.Future[None]:
        if self._task is None:
            raise RuntimeError("store not started; call start(loop) first")
        self._queue.put_nowait(write)
        return write.future

    def future(self) -> asyncio.Future[None]:
        return asyncio.get_running_loop().create_future()

    async def stop(self) -> None:
        """Commit everything queued, then close the connection."""
        task, self._task = self._task, None
        if task is not None:
            self._queue.put_nowait(None)
            await task
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None

    async def _run(self) -> None:
        for _ in range(1 << 62):  # bounded: one pass per batch
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            errors = await self._write_batch(batch)
            self._resolve(batch, errors)
            if stop:
                return

    async def try_lock(self, key: int) -> bool:
        """Take the session advisory lock ``key`` on the writer's own connection (the
        router's claim: whoever holds it writes); False: another session holds it."""
        conn = await self._connection()
        if not await self._lock(conn, key):
            return False
        self.lock_key = key
        return True

    async def _lock(self, conn: AsyncConnection[TupleRow], key: int) -> bool:
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s), pg_backend_pid()", (key,))
        row = await cur.fetchone()
        if row is None or not row[0]:
            return False
        self.backend_pid = int(row[1])
        # named, so that a process that cannot take the lock sees who holds it
        await conn.execute("SELECT set_config('application_name', %s, false)", (ROUTER_NAME,))
        return True

    def fence(self) -> None:
        """The lock is lost: refuse every later batch, tell the server (once)."""
        if self.fenced:
            return
        self.fenced = True
        log.error("the serving lock is lost: another process routes now; not writing")
        if self.on_fenced is not None:
            self.on_fenced()

    async def _connection(self) -> AsyncConnection[TupleRow]:
        if self.fenced:
            raise NotRouter("not the router: another process holds the serving lock")
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._prepare is not None:
                await self._prepare()
                self._prepare = None
            conn = await AsyncConnection.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            )
            if self.lock_key is not None and not await self._lock(conn, self.lock_key):
                with contextlib.suppress(psycopg.Error):
                    await conn.close()
                self.fence()
                raise NotRouter("not the router: another process holds the serving lock")
            self._conn = conn
        return self._conn

    async def _write_batch(self, batch: list[Write]) -> list[BaseException | None]:
        """Write one batch; the error of each write (None: committed)."""
        events = [w.event for w in batch]
        errors, todo = self._failed.triage(events)
        if not todo:
            return errors
        before = self._failed.snapshot()
        try:
            conn = await self._connection()
            try:
                async with conn.transaction():
                    await self._write_rows(conn, [batch[i] for i in todo])
            except psycopg.errors.IntegrityError:  # one bad row: again, row by row
                async with conn.transaction():
                    for i in todo:
                        w = batch[i]
                        errors[i] = self._failed.blocked(w.event)
                        if errors[i] is not None:
                            continue
                        try:
                            async with conn.transaction():  # a savepoint
                                await self._write_rows(conn, [w])
                        except psycopg.errors.IntegrityError as exc:
                            errors[i] = StoreError(str(exc).strip())
                            self._failed.mark(w.event)
        except Exception as exc:  # the whole transaction failed: every write in it
            log.error("postgres write failed: %r", exc)
            error = exc if isinstance(exc, StoreError) else StoreError(str(exc).strip())
            self._failed.fail_all(events, todo, errors, error, before)
            return errors
        self.commits += 1
        self.events_written += sum(
            1 for i in todo if batch[i].event is not None and errors[i] is None
        )
        return errors

    @staticmethod
    async def _write_rows(conn: AsyncConnection[TupleRow], writes: list[Write]) -> None:
        """The writes in order; runs of plain events go in one pipelined ``executemany``."""
        async with conn.cursor() as cur:
            conversations = [w.conversation for w in writes if w.conversation is not None]
            if conversations:
                await cur.executemany(
                    _INSERT_CONVERSATION,
                    [
                        (c.id, c.token_hash, json.dumps(c.contact), c.created, c.state, c.owner)
                        for c in conversations
                    ],
                )
            rows: list[tuple[Any, ...]] = []
            for w in writes:
                if w.sql is not None:
                    await cur.execute(*w.sql)
                e = w.event
                if e is None:
                    continue
                rows.append(_event_row(e))
                if w.update is not None:  # keep the order: the events before the update
                    await cur.executemany(_INSERT_EVENT, rows)
                    rows = []
                    await cur.execute(
                        _UPDATE_CONVERSATION, (w.update.state, w.update.owner, e.conversation)
                    )
            if rows:
                await cur.executemany(_INSERT_EVENT, rows)

    def _resolve(self, batch: list[Write], errors: list[BaseException | None]) -> None:
        """Commit callbacks and futures, in submission order."""
        for w, error in zip(batch, errors, strict=True):
            if error is None and w.on_commit is not None:
                try:
                    w.on_commit()
                except Exception:  # one callback's bug must not stop the writer
                    log.exception("on_commit callback failed")
            if w.future.done():
                continue
            if error is None:
                w.future.set_result(None)
            else:
                w.future.set_exception(error)
