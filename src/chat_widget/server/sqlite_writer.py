"""The SQLite writer thread: group commits off the event loop, ack after commit.

One writer thread takes everything submitted since its last transaction (up
to ``max_batch`` writes), writes it in one transaction with one fsync, then
hands the results back to the loop (``call_soon_threadsafe``), where
``on_commit`` callbacks and futures run in submission order. While a commit
or an fsync is running, or another process holds the database's write lock (a
backup, an ``sqlite3`` shell), the loop keeps serving every connection; a
write that waited ``busy_timeout`` seconds for the lock fails with
``StoreBusy`` (retryable, nothing was stored).

One failed write fails only itself: the batch is first written with
``executemany``; if a row violates a constraint, the batch is rolled back and
written again row by row, each under a ``SAVEPOINT``, and only the offending
row is dropped. To keep a conversation's seqs without gaps, the later events
of that conversation already queued behind a failed one fail too
(``RolledBack``), until the conversation's next write reuses the failed seq
(the service sets the conversation's last seq back).
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading

from .failed_chats import FailedChats
from .queued_writes import Write
from .sqlite_schema import EVENT_COLUMNS, audience_text
from .store import StoreBusy

_INSERT_EVENTS = f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


class GroupCommitWriter:
    """The writer thread and its queue; ``submit`` from the loop, results come back
    on the loop in submission order."""

    def __init__(self, max_batch: int, busy_timeout: float) -> None:
        self.max_batch = max_batch
        self.busy_timeout = busy_timeout
        self._queue: queue.SimpleQueue[Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failed = FailedChats()  # later events of a chat whose event failed fail too
        self.queued = 0  # writes submitted and not yet resolved (loop side)
        self.commits = 0  # number of transactions (group commits) so far
        self.events_written = 0

    def start(self, loop: asyncio.AbstractEventLoop, conn: sqlite3.Connection) -> None:
        """Run the writer thread on ``conn`` (it closes it when stopped)."""
        self._loop = loop
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        self._thread = threading.Thread(
            target=self._run, args=(conn,), name="sqlite-writer", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def submit(self, write: Write) -> asyncio.Future[None]:
        if self._thread is None or self._loop is None:
            raise RuntimeError("store not started; call start(loop) first")
        self.queued += 1
        self._queue.put(write)
        return write.future

    def future(self) -> asyncio.Future[None]:
        assert self._loop is not None, "store not started"
        return self._loop.create_future()

    async def stop(self) -> None:
        """Commit everything queued (the thread finishes its queue), then stop."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, thread.join)
            await asyncio.sleep(0)  # let the last results resolve

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
        self, conn: sqlite3.Connection, batch: list[Write]
    ) -> list[BaseException | None]:
        """Write one batch; the error of each write (None: committed)."""
        events = [w.event for w in batch]
        errors, todo = self._failed.triage(events)
        if not todo:
            return errors
        before = self._failed.snapshot()
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
                    errors[i] = self._failed.blocked(w.event)
                    if errors[i] is not None:
                        continue
                    conn.execute("SAVEPOINT one")
                    try:
                        self._write_rows(conn, [w])
                    except sqlite3.Error as exc:
                        conn.execute("ROLLBACK TO one")
                        errors[i] = exc
                        self._failed.mark(w.event)
                    conn.execute("RELEASE one")
            conn.execute("COMMIT")
        except BaseException as exc:  # the whole transaction failed: every write in it
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._failed.fail_all(events, todo, errors, exc, before)
            return errors
        self.commits += 1
        self.events_written += sum(
            1 for i in todo if batch[i].event is not None and errors[i] is None
        )
        return errors

    @staticmethod
    def _write_rows(conn: sqlite3.Connection, writes: list[Write]) -> None:
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
                    audience_text(e.audience),
                )
            )
            if w.update is not None:  # keep the order: flush the events before the update
                conn.executemany(_INSERT_EVENTS, rows)
                rows = []
                conn.execute(
                    "UPDATE conversations SET state = ?, owner = ? WHERE id = ?",
                    (w.update.state, w.update.owner, e.conversation),
                )
        if rows:
            conn.executemany(_INSERT_EVENTS, rows)

    def _resolve(self, batch: list[Write], errors: list[BaseException | None]) -> None:
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
