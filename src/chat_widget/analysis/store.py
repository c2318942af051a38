"""The server's store (SQLite or PostgreSQL) → transcripts → the analysis frames, read-only.

    from chat_widget.analysis import load_store
    frames = load_store("chats.sqlite")           # every conversation of the server
    frames = load_store("postgresql://chat@db:5432/chats")   # a --store server's
    frames = load_transcripts("chats.sqlite")     # the same, through the general loader

The database is read through the store's read-only interface
(``server.store.StoreReader``; for SQLite ``SQLiteReader.open_readonly``, URI
``mode=ro``; for PostgreSQL ``PostgresReader``, SELECTs only, never a
migration): nothing is written, and it can be read while the server runs
(WAL readers do not block the writer; PostgreSQL reads see what is committed).
The reader's coroutines run on a private event loop in a thread
(``_ReaderLoop``), so this works in a notebook whose loop is already running,
and with readers that really suspend (PostgreSQL's). Each conversation's
events become a transcript with ``formats.event_transcript.transcript_from_events``
(the one mapping, also usable by the server or a CLI), and the transcripts go through the same
validation and column building as files (``load.load_records``).
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ..formats.event_transcript import EventError, transcript_from_events
from ..formats.transcript_io import write_transcripts
from ..formats.transcript_schema import (
    Problem,
    TranscriptDoc,
    TranscriptFileError,
    validate_transcript,
)
from ..server.sqlite_reader import SQLiteReader
from ..server.store import StoredEvent, StoreReader
from .load import PROGRESS_BYTES, Errors, TranscriptFrames, _progress_bar, load_records

__all__ = [
    "UnknownEventsWarning",
    "export_store",
    "load_store",
    "read_store",
    "store_records",
    "transcript_from_events",
]

T = TypeVar("T")
EVENT_PAGE = 10_000  # events read per query
PG_SCHEMES = ("postgresql://", "postgres://")


def is_store_url(source: object) -> bool:
    """A PostgreSQL store's URL (``postgresql://USER@HOST:PORT/DB``), not a file path."""
    return isinstance(source, str) and source.startswith(PG_SCHEMES)


def _shown(url: str) -> str:
    """The URL as frames and messages show it: without a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def _no_tables() -> tuple[type[BaseException], ...]:
    """What PostgreSQL raises for a database without the store's tables."""
    try:
        from psycopg.errors import UndefinedTable
    except ImportError:  # pragma: no cover - the test extra installs psycopg
        return ()
    return (UndefinedTable,)


def _open(source: str | Path) -> tuple[str, StoreReader]:
    """``(source as shown, reader)`` for a SQLite file or a PostgreSQL URL."""
    if not is_store_url(source):
        return str(source), SQLiteReader.open_readonly(source)
    try:
        from ..server.pg_reader import PostgresReader
    except ImportError as exc:  # pragma: no cover - the test extra installs psycopg
        raise RuntimeError(
            f"reading a PostgreSQL store needs psycopg: pip install 'chat_widget[postgres]' ({exc})"
        ) from None
    return _shown(str(source)), PostgresReader(str(source), pool_size=1)


class UnknownEventsWarning(UserWarning):
    """Stored events of types this version cannot map were left out; ``counts`` by type."""

    def __init__(self, source: str, counts: Counter[str]) -> None:
        self.source = source
        self.counts = counts
        listed = ", ".join(f"{t} ×{n}" for t, n in sorted(counts.items()))
        super().__init__(
            f"{source}: skipped {sum(counts.values())} events of unknown types ({listed})"
        )


class _ReaderLoop:
    """A private event loop in a daemon thread that runs a ``StoreReader``'s coroutines
    for synchronous callers (a notebook's own loop is busy running the cell)."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="store-reader", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __enter__(self) -> _ReaderLoop:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def _events(run: _ReaderLoop, store: StoreReader, conversation: str) -> Iterator[StoredEvent]:
    after = 0
    while True:
        page = run.run(store.read_events(conversation, after, EVENT_PAGE))
        yield from page
        if len(page) < EVENT_PAGE:
            return
        after = page[-1].seq


def store_records(
    db_path: str | Path | StoreReader,
    *,
    errors: Errors = "raise",
    problems: list[Problem] | None = None,
    bar: Any = None,
    validate: bool = False,
    class_id: str | None = None,
) -> Iterator[tuple[TranscriptDoc, str, int]]:
    """``(transcript, source, record)`` for every conversation of a server database,
    oldest first; ``record`` is the conversation's 1-based position.

    ``db_path``: the database file or a PostgreSQL URL (opened read-only and closed
    again) or an open ``StoreReader`` (left open). ``class_id``: only the conversations a class run
    created (their contact's ``class``); the others' events are not read.

    A conversation with a corrupted event raises ``TranscriptFileError`` (database,
    record, ``events[seq=N]...``) or, with ``errors="skip"``, is left out and listed in
    ``problems``. Events of unknown types are left out and counted in one
    ``UnknownEventsWarning``. ``validate``: also check each transcript (export)."""
    found: list[Problem] = [] if problems is None else problems
    skipped: Counter[str] = Counter()
    own = isinstance(db_path, str | Path)
    store: StoreReader
    if isinstance(db_path, str | Path):
        source, store = _open(db_path)
    else:
        source, store = f"<{type(db_path).__name__}>", db_path
    with _ReaderLoop() as run:
        try:
            yield from _records(run, store, source, errors, found, skipped, bar, validate, class_id)
        finally:
            if own:
                run.run(store.close())
    if skipped:
        warnings.warn(UnknownEventsWarning(source, skipped), stacklevel=2)


def _records(
    run: _ReaderLoop,
    store: StoreReader,
    source: str,
    errors: Errors,
    found: list[Problem],
    skipped: Counter[str],
    bar: Any,
    validate: bool,
    class_id: str | None = None,
) -> Iterator[tuple[TranscriptDoc, str, int]]:
    """``store_records``' loop over the conversations of an open reader."""
    try:
        ids = run.run(store.conversation_ids())
    except _no_tables() as exc:
        raise LookupError(
            f"{source}: no chat-widget tables in this database "
            "(is it the server's --store database?)"
        ) from exc
    for record, conversation in enumerate(ids, start=1):
        info = run.run(store.get_conversation(conversation))
        if class_id is not None and (info is None or info.contact.get("class") != class_id):
            continue
        events = list(_events(run, store, conversation))
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


def load_store(
    db_path: str | Path | StoreReader,
    *,
    errors: Errors = "raise",
    progress: bool | None = None,
    class_id: str | None = None,
) -> TranscriptFrames:
    """Every conversation of a server database (opened read-only) as ``TranscriptFrames``,
    like ``load_transcripts`` gives for files: ``source`` is the database path,
    ``record`` the conversation's position (oldest first). ``errors`` as there; events
    of unknown types are skipped with an ``UnknownEventsWarning``. The server does not
    store the agents' reply thresholds: pass them to the metrics (default 30/60 s).
    ``progress``: a tqdm bar (default: for databases over 20 MB).

    ``db_path`` may also be a PostgreSQL store's URL (``postgresql://USER@HOST:PORT/DB``,
    a ``--store`` server's: the same frames as from SQLite for the same chats; the
    password is not shown in ``source``) or an open ``StoreReader`` (it is left open);
    ``class_id`` loads only that class run's conversations (``docs/classroom.md``)."""
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    size = 0
    if is_store_url(db_path):
        pass  # no file: no size, so no progress bar unless asked
    elif isinstance(db_path, str | Path):
        path = Path(db_path)
        if not path.is_file():
            raise FileNotFoundError(f"no such database: {path}")
        size = path.stat().st_size
        db_path = path
    problems: list[Problem] = []
    bar = _progress_bar(size, progress if progress is not None else size >= PROGRESS_BYTES)
    try:
        records = store_records(
            db_path, errors=errors, problems=problems, bar=bar, class_id=class_id
        )
        return load_records(records, errors=errors, problems=problems)
    finally:
        if bar is not None:
            bar.close()


def read_store(
    db_path: str | Path, *, errors: Errors = "raise"
) -> tuple[list[TranscriptDoc], list[Problem]]:
    """The checked transcripts of a server database (file or PostgreSQL URL) and the
    problems of the rest."""
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
