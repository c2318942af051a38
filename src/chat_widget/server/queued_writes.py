"""What both stores (SQLite, PostgreSQL) share in front of their group-commit writer.

A write is one event (with the state change it makes), a new conversation, or a
statement of the store's own dialect; the store hands it to its writer, which
commits queued writes together and resolves each future after the commit, in
submission order (``on_commit`` callbacks too).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .store import ConversationRecord, ConversationUpdate, StoredEvent

#: a statement in the store's dialect (SQLite: str with ``?``; psycopg: bytes with ``%s``)
Statement = tuple[Any, tuple[Any, ...]]


@dataclass(slots=True)
class Write:
    """One submitted write: an event (with its state change), a new conversation, or SQL."""

    event: StoredEvent | None
    conversation: ConversationRecord | None
    update: ConversationUpdate | None
    future: asyncio.Future[None]
    on_commit: Callable[[], None] | None
    sql: Statement | None = None


class Writer(Protocol):
    """A group-commit writer (``sqlite_writer``, ``pg_writer``)."""

    @property
    def running(self) -> bool: ...

    def future(self) -> asyncio.Future[None]: ...

    def submit(self, write: Write) -> asyncio.Future[None]: ...


class QueuedWrites:
    """The store's writing face (``EventStore.create_conversation``/``append``)."""

    writer: Writer

    def _write(
        self,
        event: StoredEvent | None = None,
        conversation: ConversationRecord | None = None,
        update: ConversationUpdate | None = None,
        on_commit: Callable[[], None] | None = None,
        sql: Statement | None = None,
    ) -> asyncio.Future[None]:
        if not self.writer.running:
            raise RuntimeError("store not started; call start(loop) first")
        write = Write(event, conversation, update, self.writer.future(), on_commit, sql)
        return self.writer.submit(write)

    def create_conversation(self, record: ConversationRecord) -> asyncio.Future[None]:
        return self._write(conversation=record)

    def append(
        self,
        event: StoredEvent,
        update: ConversationUpdate | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> asyncio.Future[None]:
        return self._write(event, update=update, on_commit=on_commit)
