"""SQLite event store: WAL mode, group commits on the event loop, ack after commit.

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

Group commit, off the event loop: one writer thread takes everything
submitted since its last transaction (up to ``max_batch`` writes), writes it
in one transaction with one fsync, then hands the results back to the loop
(``call_soon_threadsafe``), where ``on_commit`` callbacks and futures run in
submission order. While a commit or an fsync is running, or another process
holds the database's write lock (a backup, an ``sqlite3`` shell), the loop
keeps serving every connection; a write that waited ``busy_timeout`` seconds
for the lock fails with ``StoreBusy`` (retryable, nothing was stored).

One failed write fails only itself: the batch is first written with
``executemany``; if a row violates a constraint, the batch is rolled back and
written again row by row, each under a ``SAVEPOINT``, and only the offending
row is dropped. To keep a conversation's seqs without gaps, the later events
of that conversation already queued behind a failed one fail too
(``RolledBack``), until the conversation's next write reuses the failed seq
(the service sets the conversation's last seq back). Reads use a second
connection on the loop (WAL readers neither block nor wait for the writer;
they never suspend, which ``analysis.store`` relies on).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import queue
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .store import (
    AgentRecord,
    ConversationRecord,
    ConversationUpdate,
    DuplicateAgentError,
    ExternalRecord,
    ImRecord,
    QueueRecord,
    RolledBack,
    StoreBusy,
    StoredEvent,
)

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
    created REAL NOT NULL
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


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256 hashes; a stolen database reveals none."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _audience(audience: tuple[str, ...] | None) -> str | None:
    return None if audience is None else ",".join(audience)


def _parse_audience(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(a for a in text.split(",") if a)


def client_key(sender: str | None, client_id: str) -> str:
    return f"{sender or ''}|{client_id}"


@dataclass(slots=True)
class _Write:
    event: StoredEvent | None
    conversation: ConversationRecord | None
    update: ConversationUpdate | None
    future: asyncio.Future[None]
    on_commit: Callable[[], None] | None
    sql: tuple[str, tuple[object, ...]] | None = None


class SQLiteStore:
    """The ``EventStore`` on one SQLite file."""

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
        self.max_batch = max_batch
        self.busy_timeout = busy_timeout
        self._reader = self._connect()
        self._reader.executescript(SCHEMA)
        columns = {row[1] for row in self._reader.execute("PRAGMA table_info(events)")}
        if "audience" not in columns:  # databases from before issue 6
            self._reader.execute("ALTER TABLE events ADD COLUMN audience TEXT")
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poisoned: dict[str, int] = {}  # conversation -> seq of its failed event
        self.queued = 0  # writes submitted and not yet resolved (loop side)
        self.commits = 0  # number of transactions (group commits) so far
        self.events_written = 0

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    # -- writing ---------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._thread is not None:
            return
        self._loop = loop
        writer = self._connect()
        writer.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        self._thread = threading.Thread(
            target=self._run, args=(writer,), name="sqlite-writer", daemon=True
        )
        self._thread.start()

    def _submit(self, write: _Write) -> asyncio.Future[None]:
        if self._thread is None or self._loop is None:
            raise RuntimeError("store not started; call start(loop) first")
        self.queued += 1
        self._queue.put(write)
        return write.future

    def _future(self) -> asyncio.Future[None]:
        assert self._loop is not None, "store not started"
        return self._loop.create_future()

    def create_conversation(self, record: ConversationRecord) -> asyncio.Future[None]:
        return self._submit(_Write(None, record, None, self._future(), None))

    def append(
        self,
        event: StoredEvent,
        update: ConversationUpdate | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> asyncio.Future[None]:
        return self._submit(_Write(event, None, update, self._future(), on_commit))

    # -- the writer thread -------------------------------------------------------
    def _run(self, conn: sqlite3.Connection) -> None:
        """Writer thread: batches until the ``None`` sentinel, then close the connection."""
        try:
            for _ in range(1 << 62):  # bounded: one pass per batch
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                stop = False
                while len(batch) < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                errors = self._write_batch(conn, batch)
                assert self._loop is not None
                try:
                    self._loop.call_soon_threadsafe(self._resolve, batch, errors)
                except RuntimeError:  # the loop is closed: nobody is waiting any more
                    return
                if stop:
                    return
        finally:
            conn.close()

    def _write_batch(
        self, conn: sqlite3.Connection, batch: list[_Write]
    ) -> list[BaseException | None]:
        """Write one batch; the error of each write (None: committed)."""
        errors: list[BaseException | None] = [None] * len(batch)
        todo = []
        for i, w in enumerate(batch):  # events queued behind a failed one of their chat
            e = w.event
            if e is not None and e.conversation in self._poisoned:
                failed = self._poisoned[e.conversation]
                if e.seq > failed:
                    errors[i] = RolledBack(
                        f"event {failed} of {e.conversation} failed; {e.seq} was not stored"
                    )
                    continue
                del self._poisoned[e.conversation]
            todo.append(i)
        if not todo:
            return errors
        poisoned = dict(self._poisoned)
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise StoreBusy(
                        f"the database stayed locked for {self.busy_timeout:g} s; retry"
                    ) from exc
                raise
            try:
                self._write_rows(conn, [batch[i] for i in todo])
            except sqlite3.IntegrityError:  # one bad row: again, row by row
                conn.execute("ROLLBACK")
                conn.execute("BEGIN IMMEDIATE")
                for i in todo:
                    w = batch[i]
                    e = w.event
                    if e is not None and e.conversation in self._poisoned:
                        errors[i] = RolledBack(f"an earlier event of {e.conversation} failed")
                        continue
                    conn.execute("SAVEPOINT one")
                    try:
                        self._write_rows(conn, [w])
                    except sqlite3.Error as exc:
                        conn.execute("ROLLBACK TO one")
                        errors[i] = exc
                        if e is not None:
                            self._poisoned[e.conversation] = e.seq
                    conn.execute("RELEASE one")
            conn.execute("COMMIT")
        except BaseException as exc:  # the whole transaction failed: every write in it
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._poisoned = poisoned
            for i in todo:
                e = batch[i].event
                if e is not None and e.conversation in self._poisoned:
                    errors[i] = RolledBack(f"an earlier event of {e.conversation} failed")
                else:
                    errors[i] = exc
                    if e is not None:
                        self._poisoned[e.conversation] = e.seq
            return errors
        self.commits += 1
        self.events_written += sum(
            1 for i in todo if batch[i].event is not None and errors[i] is None
        )
        return errors

    @staticmethod
    def _write_rows(conn: sqlite3.Connection, writes: list[_Write]) -> None:
        conversations = [w.conversation for w in writes if w.conversation is not None]
        if conversations:
            conn.executemany(
                "INSERT INTO conversations (id, token_hash, contact, created, state, owner)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (c.id, c.token_hash, json.dumps(c.contact), c.created, c.state, c.owner)
                    for c in conversations
                ],
            )
        rows = []
        for w in writes:
            if w.sql is not None:
                conn.execute(*w.sql)
            e = w.event
            if e is None:
                continue
            rows.append(
                (
                    e.conversation,
                    e.seq,
                    e.type,
                    e.time,
                    e.visibility,
                    e.sender,
                    e.client_id,
                    e.body,
                    _audience(e.audience),
                )
            )
            if w.update is not None:  # keep the order: flush the events before the update
                conn.executemany(
                    "INSERT INTO events (conversation, seq, type, time, visibility, sender,"
                    " client_id, body, audience) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                rows = []
                conn.execute(
                    "UPDATE conversations SET state = ?, owner = ? WHERE id = ?",
                    (w.update.state, w.update.owner, e.conversation),
                )
        if rows:
            conn.executemany(
                "INSERT INTO events (conversation, seq, type, time, visibility, sender,"
                " client_id, body, audience) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def _resolve(self, batch: list[_Write], errors: list[BaseException | None]) -> None:
        """On the loop: commit callbacks and futures, in submission order."""
        self.queued -= len(batch)
        for w, error in zip(batch, errors, strict=True):
            if error is None and w.on_commit is not None:
                w.on_commit()
            if w.future.done():
                continue
            if error is None:
                w.future.set_result(None)
            else:
                w.future.set_exception(error)

    # -- reading ---------------------------------------------------------------
    async def read_events(self, conversation: str, after_seq: int, limit: int) -> list[StoredEvent]:
        return self.read_events_sync(conversation, after_seq, limit)

    def read_events_sync(
        self, conversation: str, after_seq: int = 0, limit: int = 1_000_000
    ) -> list[StoredEvent]:
        rows = self._reader.execute(
            "SELECT conversation, seq, type, time, visibility, sender, client_id, body, audience"
            " FROM events WHERE conversation = ? AND seq > ? ORDER BY seq LIMIT ?",
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
                _parse_audience(row[8]),
            )
            for row in rows
        ]

    async def get_conversation(self, conversation: str) -> ConversationRecord | None:
        row = self._reader.execute(
            "SELECT id, token_hash, contact, created, state, owner FROM conversations WHERE id = ?",
            (conversation,),
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
            "SELECT id, token_hash, contact, created, state, owner FROM conversations"
            " WHERE state != 'done' ORDER BY created, id"
        ).fetchall()
        return [self._record(row) for row in rows]

    def _record(self, row: tuple[str, str, str, float, str, str | None]) -> ConversationRecord:
        rec = ConversationRecord(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5])
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

    def all_conversation_ids(self) -> list[str]:
        return [r[0] for r in self._reader.execute("SELECT id FROM conversations ORDER BY created")]

    # -- agents ----------------------------------------------------------------
    async def agent_for_token(self, token: str) -> AgentRecord | None:
        row = self._reader.execute(
            "SELECT id, name, created FROM agents WHERE token_hash = ?", (hash_token(token),)
        ).fetchone()
        return None if row is None else AgentRecord(*row)

    def add_agent(self, name: str) -> tuple[AgentRecord, str]:
        name = name.strip()
        if not name or len(name) > 100:
            raise ValueError("agent name must be 1 to 100 characters")
        agent_id = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "agent"
        token = secrets.token_urlsafe(32)
        record = AgentRecord(agent_id, name, time.time())
        conn = self._connect()
        try:
            conn.execute(
                "INSERT INTO agents (id, name, token_hash, created) VALUES (?, ?, ?, ?)",
                (record.id, record.name, hash_token(token), record.created),
            )
        except sqlite3.IntegrityError:
            raise DuplicateAgentError(f"an agent with id {agent_id!r} exists already") from None
        finally:
            conn.close()
        return record, token

    def list_agents(self) -> list[AgentRecord]:
        rows = self._reader.execute("SELECT id, name, created FROM agents ORDER BY id").fetchall()
        return [AgentRecord(*row) for row in rows]

    # -- directory (issue 6) ----------------------------------------------------
    def _write_now(self, sql: str, params: tuple[object, ...]) -> None:
        conn = self._connect()
        try:
            conn.execute(sql, params)
        finally:
            conn.close()

    def agent_skills(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for agent, skill in self._reader.execute(
            "SELECT agent, skill FROM agent_skills ORDER BY agent, skill"
        ):
            out.setdefault(agent, []).append(skill)
        return {a: tuple(s) for a, s in out.items()}

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

    def list_queues(self) -> list[QueueRecord]:
        rows = self._reader.execute("SELECT id, name, skill FROM queues ORDER BY id").fetchall()
        return [QueueRecord(*row) for row in rows]

    def add_external(self, external: ExternalRecord) -> None:
        self._write_now(
            "INSERT OR REPLACE INTO externals (id, name, phone, organisation) VALUES (?, ?, ?, ?)",
            (external.id, external.name, external.phone, external.organisation),
        )

    def list_externals(self) -> list[ExternalRecord]:
        rows = self._reader.execute(
            "SELECT id, name, phone, organisation FROM externals ORDER BY id"
        ).fetchall()
        return [ExternalRecord(*row) for row in rows]

    # -- team IM (issue 6) ----------------------------------------------------------
    def next_im_id(self) -> int:
        last = self._reader.execute("SELECT MAX(id) FROM im_messages").fetchone()[0]
        return int(last or 0) + 1

    def append_im(self, im: ImRecord) -> asyncio.Future[None]:
        sql = (
            "INSERT OR IGNORE INTO im_messages (id, sender, recipient, text, time, client_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (im.id, im.sender, im.recipient, im.text, im.time, im.client_id),
        )
        return self._submit(_Write(None, None, None, self._future(), None, sql))

    def mark_im_read(self, agent_id: str, colleague: str, up_to: int) -> asyncio.Future[None]:
        sql = (
            "INSERT INTO im_reads (agent, colleague, up_to) VALUES (?, ?, ?)"
            " ON CONFLICT (agent, colleague) DO UPDATE SET up_to = MAX(up_to, excluded.up_to)",
            (agent_id, colleague, up_to),
        )
        return self._submit(_Write(None, None, None, self._future(), None, sql))

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

    # -- shutdown --------------------------------------------------------------
    async def close(self) -> None:
        """Commit everything queued (the writer finishes its queue), then close."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, thread.join)
            await asyncio.sleep(0)  # let the last results resolve
        self._reader.close()
