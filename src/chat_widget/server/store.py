"""The store interfaces: the only way server logic and analysis reach storage.

Three faces, so that each user asks only for what it needs:

- ``StoreReader``: read-only, async (analysis, exports; a read replica will do).
- ``EventStore``: the server's store, a ``StoreReader`` plus the writes the
  service makes while it runs. Every method is async (a coroutine or a future):
  nothing the service calls may block the event loop on a network round trip.
- ``StoreAdmin``: synchronous set-up (agents, skills, queues, external
  contacts) for the CLI, notebooks and tests, outside the service.

Two implementations: SQLite (``sqlite_store``, ``sqlite_reader``; the embedded
default, one process) and PostgreSQL (``pg_store``, ``pg_reader``; issue 18).
Writes resolve only once durable (the server acknowledges after that);
``on_commit`` callbacks run in submission order on the event loop, which is how
fan-out keeps each conversation's order.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class ConversationState(StrEnum):
    """Where a conversation is: waiting for an agent, running, wrapped up, or over."""

    QUEUED = "queued"
    ACTIVE = "active"
    ENDED = "ended"  # the customer or the agent ended it; the agent wraps up
    DONE = "done"  # wrapped up: leaves the server's memory


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256 hashes; a stolen database reveals none."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_key(sender: str | None, client_id: str) -> str:
    """The key of ``ConversationRecord.client_ids``: one client id per sender."""
    return f"{sender or ''}|{client_id}"


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
    state: ConversationState = ConversationState.QUEUED
    owner: str | None = None
    last_seq: int = 0
    client_ids: dict[str, int] = field(default_factory=dict)


class AgentRole(StrEnum):
    """An agent token's role (``agents.role``): a supervisor watches a team (issue 14)."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """An agent (or, with ``supervisor``, a supervisor: never offered chats, not in the
    agents' directory)."""

    id: str
    name: str
    created: float
    supervisor: bool = False
    nickname: str | None = None  # the name customers see (issue 16); None: ``name``
    capacity: int | None = None  # chats at a time; None: ``ServerConfig.agent_capacity``

    @property
    def public_name(self) -> str:
        """The name in every frame the agent sends: the nickname, else the name."""
        return self.nickname or self.name

    @property
    def role(self) -> AgentRole:
        return AgentRole.SUPERVISOR if self.supervisor else AgentRole.AGENT


@dataclass(frozen=True, slots=True)
class ConversationUpdate:
    """State change written in the same transaction as an event."""

    state: ConversationState
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


class StoreInUse(StoreError):
    """Another server process already serves this database (one per database until
    routing across processes exists, issue 18)."""


class NotRouter(StoreError):
    """This process no longer holds the serving lock (another process routes now): it
    must not write, and stops routing (``--bus``, issue 18)."""


class RolledBack(StoreError):
    """Not stored because an earlier event of the same conversation failed; retry."""


class StoreReader(Protocol):
    """Read-only access to a server's conversations (analysis, exports).

    A PostgreSQL reader implements this with a read-only role or a replica; it
    may suspend (network round trips), so callers always ``await``. Reads see
    committed data only, and a reader never blocks the server's writes."""

    async def conversation_ids(self) -> list[str]:
        """Every conversation's id, oldest first (by creation time, then id)."""
        ...

    async def get_conversation(self, conversation: str) -> ConversationRecord | None:
        """The conversation's row with its ``last_seq`` and ``client_ids``; None: unknown."""
        ...

    async def read_events(self, conversation: str, after_seq: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` events with seq > ``after_seq``, in seq order (page by the last seq)."""
        ...

    async def conversations_of_contact(
        self, email: str | None, phone: str | None, limit: int, before: float | None = None
    ) -> list[ConversationRecord]:
        """Up to ``limit`` conversations whose contact has this e-mail (any case) or this
        phone, created at ``before`` or earlier, newest first (issue 16: the contact's
        history). None matches nothing."""
        ...

    async def close(self) -> None:
        """Release the connection (a writer first commits what is queued)."""


class EventStore(StoreReader, Protocol):
    """The server's storage for conversations, their events, agents and team IMs.

    Everything is async: writes return a future that resolves once durable,
    reads are coroutines."""

    async def claim(self) -> None:
        """Take the database for this serving process; ``StoreInUse`` if another server
        holds it. Released by ``close``. (SQLite: a lock file; PostgreSQL: an advisory
        lock.) Admin tools and readers never claim."""
        ...

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

    async def find_client_id(self, conversation: str, sender: str, client_id: str) -> int | None:
        """The seq of the event ``sender`` stored in ``conversation`` under ``client_id``."""
        ...

    async def open_conversations(self) -> list[ConversationRecord]:
        """Every conversation not yet done, with last seq and client ids (restart)."""
        ...

    async def agent_for_token(self, token: str) -> AgentRecord | None: ...

    # -- directory and team IM (issue 6) -------------------------------------------
    async def list_agents(self) -> list[AgentRecord]: ...

    async def agent_skills(self) -> dict[str, tuple[str, ...]]: ...

    async def list_queues(self) -> list[QueueRecord]: ...

    async def list_externals(self) -> list[ExternalRecord]: ...

    async def next_im_id(self) -> int:
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


class StoreAdmin(Protocol):
    """Set-up outside the service (CLI, notebooks, tests): synchronous, short writes.

    The running server sees the results on its next directory read."""

    def add_agent(
        self,
        name: str,
        supervisor: bool = False,
        *,
        nickname: str | None = None,
        capacity: int | None = None,
    ) -> tuple[AgentRecord, str]:
        """Create an agent (``supervisor``: with the supervisor role; ``nickname``: the
        name customers see; ``capacity``: chats at a time, None: the server's default);
        returns it and its token (shown once, stored hashed)."""
        ...

    def set_skills(self, agent_id: str, skills: tuple[str, ...]) -> None: ...

    def add_queue(self, queue: QueueRecord) -> None: ...

    def add_external(self, external: ExternalRecord) -> None: ...
