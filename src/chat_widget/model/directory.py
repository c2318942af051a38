"""The agent's directory (SPEC section 9): colleagues, queues and external contacts.

Plain data, filled by the backend (the mock from its editable colleague set,
the websocket backend from the server) and updated by its reports
(``set_presence``). Consultation by chat goes to internal agents only;
consultation by voice also to external contacts (F7); transfer to an agent or
a queue (F5); conference with an agent (F6).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Presence(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    OFFLINE = "offline"


class TargetKind(StrEnum):
    AGENT = "agent"
    QUEUE = "queue"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True)
class Colleague:
    """An internal agent."""

    id: str
    name: str
    skills: tuple[str, ...] = ()
    presence: Presence = Presence.AVAILABLE

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "skills": list(self.skills),
            "presence": str(self.presence),
        }


@dataclass(frozen=True, slots=True)
class Queue:
    """A queue; a transfer to it goes to a ready agent with the skill."""

    id: str
    name: str
    skill: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "skill": self.skill}


@dataclass(frozen=True, slots=True)
class ExternalContact:
    """Someone outside the organisation: voice consultation only."""

    id: str
    name: str
    phone: str
    organisation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "phone": self.phone,
            "organisation": self.organisation,
        }


class DirectoryError(LookupError):
    pass


class Directory:
    """Colleagues, queues and external contacts; listeners get no arguments."""

    def __init__(
        self,
        agents: Iterable[Colleague] = (),
        queues: Iterable[Queue] = (),
        externals: Iterable[ExternalContact] = (),
    ) -> None:
        self.agents: dict[str, Colleague] = {}
        self.queues: dict[str, Queue] = {}
        self.externals: dict[str, ExternalContact] = {}
        self._listeners: list[Callable[[], None]] = []
        self.load(agents, queues, externals)

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def load(
        self,
        agents: Iterable[Colleague] = (),
        queues: Iterable[Queue] = (),
        externals: Iterable[ExternalContact] = (),
    ) -> None:
        """Replace the whole directory (a backend's initial listing)."""
        self.agents = {a.id: a for a in agents}
        self.queues = {q.id: q for q in queues}
        self.externals = {e.id: e for e in externals}
        self._changed()

    def set_presence(self, agent_id: str, presence: Presence | str) -> None:
        """A colleague's presence changed (backend report)."""
        agent = self.agent(agent_id)
        if agent.presence != presence:
            self.agents[agent_id] = replace(agent, presence=Presence(presence))
            self._changed()

    # -- lookups -------------------------------------------------------------
    def agent(self, agent_id: str) -> Colleague:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise DirectoryError(f"no colleague {agent_id!r} in the directory") from None

    def name_of(self, kind: TargetKind | str, target_id: str) -> str:
        """Display name of a target; raises ``DirectoryError`` when unknown."""
        kind = TargetKind(kind)
        tables: dict[TargetKind, dict[str, Any]] = {
            TargetKind.AGENT: self.agents,
            TargetKind.QUEUE: self.queues,
            TargetKind.EXTERNAL: self.externals,
        }
        table = tables[kind]
        if target_id not in table:
            raise DirectoryError(f"no {kind} {target_id!r} in the directory")
        return str(table[target_id].name)

    def ready_for(self, skill: str) -> list[Colleague]:
        """Available colleagues with ``skill`` (queue routing)."""
        return [
            a
            for a in self.agents.values()
            if a.presence is Presence.AVAILABLE and skill in a.skills
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "agents": [a.to_dict() for a in self.agents.values()],
            "queues": [q.to_dict() for q in self.queues.values()],
            "externals": [e.to_dict() for e in self.externals.values()],
        }

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()
