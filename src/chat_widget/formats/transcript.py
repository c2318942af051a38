"""Transcript entries and parties: the data shapes every part of the package shares.

Times are clock seconds (floats) as given by the injected ``Clock``; the widget
converts them to milliseconds at its boundary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal, get_args


class Role(StrEnum):
    """Who sent an entry."""

    CONTACT = "contact"
    AGENT = "agent"
    SYSTEM = "system"
    EXTERNAL = "external"
    SUPERVISOR = "supervisor"  # coaching, or messages after a barge-in (issue 14)


class Kind(StrEnum):
    """What an entry is."""

    MESSAGE = "message"
    NOTICE = "notice"
    PUSH_URL = "push_url"
    CONSULT = "consult"  # consultation message: agents only, never shown to the contact
    COACHING = "coaching"  # supervisor <-> agent whisper: agents only, never to the contact


class Visibility(StrEnum):
    """Who may see an entry."""

    ALL = "all"
    AGENTS = "agents"


# The same words as wire types for the transcript schema and the protocol. mypy needs a
# Literal spelled out, so ``words`` ties each Literal to its enum at import: they cannot
# drift apart, and everything else (analysis's categories) uses the tuples below.
RoleName = Literal["contact", "agent", "system", "external", "supervisor"]
KindName = Literal["message", "notice", "push_url", "consult", "coaching"]
VisibilityName = Literal["all", "agents"]


def words(enum: type[StrEnum], literal: object) -> tuple[str, ...]:
    """The enum's values in declaration order; raises if ``literal`` spells others."""
    values = tuple(str(member) for member in enum)
    if values != get_args(literal):
        raise TypeError(f"{enum.__name__} is {values}, but its Literal is {get_args(literal)}")
    return values


ROLES = words(Role, RoleName)
KINDS = words(Kind, KindName)
VISIBILITIES = words(Visibility, VisibilityName)


@dataclass(frozen=True, slots=True)
class Sender:
    """A party as the transcript names it."""

    role: Role
    name: str
    id: str = ""


SYSTEM_SENDER = Sender(Role.SYSTEM, "System", "system")


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a transcript, immutable once appended."""

    index: int
    time: float
    kind: Kind
    sender: Sender
    text: str
    url: str | None = None
    visibility: Visibility = Visibility.ALL
    client_id: str | None = None
    #: a system notice's language-neutral form (see ``formats.notices``): ``text`` is its
    #: English rendering, views show ``code`` + ``params`` in the reader's language
    code: str | None = None
    params: dict[str, str] | None = None
    #: the standard response an agent's message started from (issue 16), else None
    response: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (enums as strings; ``code``/``params``, ``response`` only when set)."""
        data = asdict(self)
        if self.code is None:
            del data["code"], data["params"]
        if self.response is None:
            del data["response"]
        data["kind"] = str(self.kind)
        data["visibility"] = str(self.visibility)
        data["sender"] = {
            "role": str(self.sender.role),
            "name": self.sender.name,
            "id": self.sender.id,
        }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        """Inverse of ``to_dict``."""
        sender = data["sender"]
        return cls(
            index=int(data["index"]),
            time=float(data["time"]),
            kind=Kind(data["kind"]),
            sender=Sender(Role(sender["role"]), str(sender["name"]), str(sender.get("id", ""))),
            text=str(data["text"]),
            url=data.get("url"),
            visibility=Visibility(data.get("visibility", "all")),
            client_id=data.get("client_id"),
            code=data.get("code"),
            params=(
                {str(k): str(v) for k, v in data["params"].items()}
                if data.get("code") and isinstance(data.get("params"), dict)
                else ({} if data.get("code") else None)
            ),
            response=data.get("response"),
        )


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """What the contact center knows about the customer (F8: several numbers/addresses)."""

    name: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    id: str = "contact"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "phones": list(self.phones),
            "emails": list(self.emails),
            "id": self.id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContactRecord:
        return cls(
            name=str(data["name"]),
            phones=tuple(str(p) for p in data.get("phones", ())),
            emails=tuple(str(e) for e in data.get("emails", ())),
            id=str(data.get("id", "contact")),
        )


@dataclass(frozen=True, slots=True)
class Permissions:
    """What this agent may do; prototypers flip these to see the effect."""

    push_urls: bool = True
    call_contact: bool = True
    email_contact: bool = True


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """The agent's identity. ``nickname``: the name customers see (Genesys
    ``chat.nickname``); None shows ``name``. The agent's own view, the directory and
    colleagues keep ``name``."""

    name: str = "Agent"
    id: str = "agent"
    permissions: Permissions = field(default_factory=Permissions)
    nickname: str | None = None

    @property
    def public_name(self) -> str:
        """The name customers see: the nickname, else the name."""
        return self.nickname or self.name
