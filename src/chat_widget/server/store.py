"""The event store interface: what routing and protocol code may ask of storage.

One SQLite implementation today (``sqlite_store``); a later issue can add
PostgreSQL behind the same interface. Writes are asynchronous and resolve
only once durable (the server acknowledges after that); ``on_commit``
callbacks run in submission order on the event loop, which is how fan-out
keeps each conversation's order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One conversation event as stored; ``body`` is the frame JSON sent to clients."""

    conversation: str
    seq: int
    type: str
    time: float
    visibility: str
    sender: str | None
    client_id: str | None
    body: str
    audience: tuple[str, ...] | None = None  # agents entitled; None: every attached agent


@dataclass(slots=True)
class ConversationRecord:
    """A conversation's row: who the customer is and where routing left it."""

    id: str
    token_hash: str
    contact: dict[str, Any]
    created: float
    state: str = "queued"
    owner: str | None = None
    last_seq: int = 0
    client_ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgentRecord:
    id: str
    name: str
    created: float


@dataclass(frozen=True, slots=True)
class ConversationUpdate:
    """State change written in the same transaction as an event."""

    state: str
    owner: str | None


@dataclass(frozen=True, slots=True)
class ImRecord:
    """One team IM (F14); ``id`` orders all IMs of the server."""

    id: int
    sender: str
    recipient: str
    text: str
    time: float
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class QueueRecord:
    id: str
    name: str
    skill: str = ""  # "" : any agent


@dataclass(frozen=True, slots=True)
class ExternalRecord:
    id: str
    name: str
    phone: str
    organisation: str = ""


class DuplicateAgentError(ValueError):
    pass


class StoreError(Exception):
    """A write that was not stored (nothing of it is in the database)."""


class StoreBusy(StoreError):
    """The database stayed locked (another process writing, a backup) too long; retry."""


class RolledBack(StoreError):
    """Not stored because an earlier event of the same conversation failed; retry."""


class EventStore(Protocol):
    """Storage for conversations, their events and agents."""

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Begin accepting writes; ``on_commit`` callbacks run on ``loop``."""

    def create_conversation(self, record: ConversationRecord) -> asyncio.Future[None]: ...

    def append(
        self,
        event: StoredEvent,
        update: ConversationUpdate | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> asyncio.Future[None]:
        """Write ``event`` (and ``update``) durably; resolves after the group commit."""
        ...

    async def read_events(
        self, conversation: str, after_seq: int, limit: int
    ) -> list[StoredEvent]: ...

    async def get_conversation(self, conversation: str) -> ConversationRecord | None: ...

    async def find_client_id(self, conversation: str, sender: str, client_id: str) -> int | None:
        """The seq of the event ``sender`` stored in ``conversation`` under ``client_id``."""
        ...

    async def open_conversations(self) -> list[ConversationRecord]:
        """Every conversation not yet done, with last seq and client ids (restart)."""
        ...

    async def agent_for_token(self, token: str) -> AgentRecord | None: ...

    def add_agent(self, name: str) -> tuple[AgentRecord, str]:
        """Create an agent; returns it and its token (shown once, stored hashed)."""
        ...

    def list_agents(self) -> list[AgentRecord]: ...

    # -- directory and team IM (issue 6) -------------------------------------------
    def agent_skills(self) -> dict[str, tuple[str, ...]]: ...

    def set_skills(self, agent_id: str, skills: tuple[str, ...]) -> None: ...

    def add_queue(self, queue: QueueRecord) -> None: ...

    def list_queues(self) -> list[QueueRecord]: ...

    def add_external(self, external: ExternalRecord) -> None: ...

    def list_externals(self) -> list[ExternalRecord]: ...

    def next_im_id(self) -> int:
        """One more than the largest stored IM id (at start-up)."""
        ...

    def append_im(self, im: ImRecord) -> asyncio.Future[None]:
        """Store a team IM durably (group commit like events)."""
        ...

    def mark_im_read(self, agent_id: str, colleague: str, up_to: int) -> asyncio.Future[None]: ...

    async def read_im(self, agent_id: str, after_id: int, limit: int) -> list[ImRecord]:
        """IMs sent to or by ``agent_id`` with id > ``after_id``, oldest first."""
        ...

    async def im_unread(self, agent_id: str) -> dict[str, int]:
        """Unread IMs per colleague for ``agent_id``."""
        ...

    async def close(self) -> None:
        """Commit what is queued, then release the database."""
