"""The server's SQLite store → transcripts → the analysis frames, read-only.

    from chat_widget.analysis import load_store
    frames = load_store("chats.sqlite")           # every conversation of the server
    frames = load_transcripts("chats.sqlite")     # the same, through the general loader

The database is opened with the SQLite URI ``mode=ro``: nothing is written,
and it can be read while the server runs (WAL readers do not block the
writer). Conversations and events are read with the store's own reading
methods (``SQLiteStore.all_conversation_ids``, ``get_conversation``,
``read_events``), so the row → ``StoredEvent`` mapping lives in one place;
each conversation's events become a transcript with
``formats.event_transcript.transcript_from_events`` (the one mapping, also
usable by the server or a CLI), and the transcripts go through the same
validation and column building as files (``load.load_records``).
"""

from __future__ import annotations

import sqlite3
import warnings
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ..formats.event_transcript import EventError, transcript_from_events
from ..formats.transcript_io import write_transcripts
from ..formats.transcript_schema import (
    Problem,
    TranscriptDoc,
    TranscriptFileError,
    validate_transcript,
)
from ..server.sqlite_store import SQLiteStore
from ..server.store import StoredEvent
from .load import PROGRESS_BYTES, Errors, TranscriptFrames, _progress_bar, load_records

__all__ = [
    "ReadOnlyStore",
    "UnknownEventsWarning",
    "export_store",
    "load_store",
    "read_store",
    "store_records",
    "transcript_from_events",
]

T = TypeVar("T")
EVENT_PAGE = 10_000  # events read per query


class UnknownEventsWarning(UserWarning):
    """Stored events of types this version cannot map were left out; ``counts`` by type."""

    def __init__(self, source: str, counts: Counter[str]) -> None:
        self.source = source
        self.counts = counts
        listed = ", ".join(f"{t} ×{n}" for t, n in sorted(counts.items()))
        super().__init__(
            f"{source}: skipped {sum(counts.values())} events of unknown types ({listed})"
        )


class ReadOnlyStore(SQLiteStore):
    """``SQLiteStore``'s reading methods on a read-only connection (URI ``mode=ro``).

    Writes fail (``sqlite3.OperationalError: attempt to write a readonly database``);
    ``start`` refuses. The schema statements the store runs on opening are no-ops on
    a database the server made."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"no such database: {p}")
        try:
            super().__init__(p)
        except sqlite3.DatabaseError as exc:
            raise ValueError(
                f"{p} is not a chat-widget server database this version can read "
                f"(or one from an older version: start the server on it once): {exc}"
            ) from None

    def _connect(self) -> sqlite3.Connection:
        uri = Path(self.path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    def start(self, loop: Any) -> None:
        raise PermissionError("a ReadOnlyStore cannot write; use SQLiteStore")


def _done(coro: Coroutine[Any, Any, T]) -> T:
    """The result of a store read that never suspends (``SQLiteStore``'s async reads
    run synchronously inside), without an event loop: works in a notebook, whose
    loop is already running."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("this store's reads suspend; load_store reads SQLiteStore databases")


def _events(store: SQLiteStore, conversation: str) -> Iterator[StoredEvent]:
    after = 0
    while True:
        page = _done(store.read_events(conversation, after, EVENT_PAGE))
        yield from page
        if len(page) < EVENT_PAGE:
            return
        after = page[-1].seq


def store_records(
    db_path: str | Path,
    *,
    errors: Errors = "raise",
    problems: list[Problem] | None = None,
    bar: Any = None,
    validate: bool = False,
) -> Iterator[tuple[TranscriptDoc, str, int]]:
    """``(transcript, source, record)`` for every conversation of a server database,
    oldest first; ``record`` is the conversation's 1-based position.

    A conversation with a corrupted event raises ``TranscriptFileError`` (database,
    record, ``events[seq=N]...``) or, with ``errors="skip"``, is left out and listed in
    ``problems``. Events of unknown types are left out and counted in one
    ``UnknownEventsWarning``. ``validate``: also check each transcript (export)."""
    source = str(db_path)
    found: list[Problem] = [] if problems is None else problems
    skipped: Counter[str] = Counter()
    store = ReadOnlyStore(db_path)
    try:
        for record, conversation in enumerate(store.all_conversation_ids(), start=1):
            info = _done(store.get_conversation(conversation))
            events = list(_events(store, conversation))
            try:
                doc = transcript_from_events(
                    conversation,
                    events,
                    contact=info.contact if info is not None else None,
                    created=info.created if info is not None else None,
                    skipped=skipped,
                )
                if validate:
                    doc = validate_transcript(doc, source, record)
            except EventError as exc:
                problem = Problem(source, record, exc.where, f"{conversation}: {exc.message}")
                if errors == "raise":
                    raise TranscriptFileError([problem]) from None
                found.append(problem)
                continue
            except TranscriptFileError as exc:
                if errors == "raise":
                    raise
                found.extend(exc.problems)
                continue
            finally:
                if bar is not None:
                    bar.update(sum(len(e.body) for e in events))
            yield doc, source, record
    finally:
        _done(store.close())
    if skipped:
        warnings.warn(UnknownEventsWarning(source, skipped), stacklevel=2)


def load_store(
    db_path: str | Path, *, errors: Errors = "raise", progress: bool | None = None
) -> TranscriptFrames:
    """Every conversation of a server database (opened read-only) as ``TranscriptFrames``,
    like ``load_transcripts`` gives for files: ``source`` is the database path,
    ``record`` the conversation's position (oldest first). ``errors`` as there; events
    of unknown types are skipped with an ``UnknownEventsWarning``. The server does not
    store the agents' reply thresholds: pass them to the metrics (default 30/60 s).
    ``progress``: a tqdm bar (default: for databases over 20 MB)."""
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no such database: {path}")
    size = path.stat().st_size
    problems: list[Problem] = []
    bar = _progress_bar(size, progress if progress is not None else size >= PROGRESS_BYTES)
    try:
        records = store_records(path, errors=errors, problems=problems, bar=bar)
        return load_records(records, errors=errors, problems=problems)
    finally:
        if bar is not None:
            bar.close()


def read_store(
    db_path: str | Path, *, errors: Errors = "raise"
) -> tuple[list[TranscriptDoc], list[Problem]]:
    """The checked transcripts of a server database and the problems of the rest."""
    problems: list[Problem] = []
    docs = [
        doc for doc, _, _ in store_records(db_path, errors=errors, problems=problems, validate=True)
    ]
    return docs, problems


def export_store(db_path: str | Path, out: str | Path, *, errors: Errors = "raise") -> int:
    """Write every conversation of a server database as JSON Lines; returns how many."""
    docs, _ = read_store(db_path, errors=errors)
    write_transcripts(out, docs)
    return len(docs)
