"""The team directory: colleagues, queues and external contacts, read from the store.

The service needs names in synchronous places (router callbacks, fan-out), so
the directory keeps the store's lists in memory, refreshed (async) where an
agent authenticates and when a frame names a target it does not know yet:
agents and queues added while the server runs are seen from that frame on.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..formats import protocol as p
from .conversation import ServiceError
from .store import AgentRecord, EventStore, ExternalRecord, QueueRecord


class Directory:
    """The store's agents, skills, queues and external contacts, as of ``refresh``."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.agents: dict[str, AgentRecord] = {}
        self.skills: dict[str, tuple[str, ...]] = {}
        self.queues: dict[str, QueueRecord] = {}
        self.externals: dict[str, ExternalRecord] = {}

    async def refresh(self) -> None:
        self.agents = {a.id: a for a in await self.store.list_agents()}
        self.skills = await self.store.agent_skills()
        self.queues = {q.id: q for q in await self.store.list_queues()}
        self.externals = {x.id: x for x in await self.store.list_externals()}

    async def find_agent(self, agent_id: str) -> AgentRecord:
        """The agent a frame names; the store is read again only when it is not known
        yet (added while the server runs), not on every frame."""
        if agent_id not in self.agents:
            await self.refresh()
        return self.agent(agent_id)

    async def find_queue(self, queue_id: str) -> QueueRecord:
        """The queue a frame names (read again only when unknown, as ``find_agent``)."""
        if queue_id not in self.queues:
            await self.refresh()
        return self.queue(queue_id)

    async def find_external(self, external_id: str) -> ExternalRecord:
        """The external contact a frame names (read again only when unknown)."""
        if external_id not in self.externals:
            await self.refresh()
        return self.external(external_id)

    def name(self, agent_id: str) -> str:
        a = self.agents.get(agent_id)
        return agent_id if a is None else a.name

    def participant(self, agent_id: str) -> p.Participant:
        """The agent as a party of a chat: customers see its nickname (issue 16)."""
        a = self.agents.get(agent_id)
        return p.Participant(
            nickname=agent_id if a is None else a.public_name,
            participant_id=agent_id,
            type=p.ParticipantType.AGENT,
        )

    def agent(self, agent_id: str) -> AgentRecord:
        a = self.agents.get(agent_id)
        if a is None:
            raise ServiceError(p.ErrorCode.NOT_FOUND, f"no agent {agent_id!r}")
        return a

    def queue(self, queue_id: str) -> QueueRecord:
        q = self.queues.get(queue_id)
        if q is None:
            raise ServiceError(p.ErrorCode.NOT_FOUND, f"no queue {queue_id!r}")
        return q

    def external(self, external_id: str) -> ExternalRecord:
        x = self.externals.get(external_id)
        if x is None:
            raise ServiceError(p.ErrorCode.NOT_FOUND, f"no external contact {external_id!r}")
        return x

    def info(self, presence: Mapping[str, str]) -> p.DirectoryInfo:
        """Colleagues with presence, queues and external contacts (supervisors are not
        colleagues: they are not listed)."""
        return p.DirectoryInfo(
            agents=[
                p.DirectoryAgent(
                    id=a.id,
                    nickname=a.name,
                    skills=list(self.skills.get(a.id, ())),
                    presence=str(presence.get(a.id, "offline")),  # type: ignore[arg-type]
                )
                for a in self.agents.values()
                if not a.supervisor
            ],
            queues=[
                p.DirectoryQueue(id=q.id, name=q.name, skill=q.skill) for q in self.queues.values()
            ],
            externals=[
                p.DirectoryExternal(
                    id=x.id, name=x.name, phone=x.phone, organisation=x.organisation
                )
                for x in self.externals.values()
            ],
        )
