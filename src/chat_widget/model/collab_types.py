"""The data of working with colleagues on a chat (issue 4, 6): who is in it, what is
pending, the consultations this agent started and the ones colleagues started with
this agent. Plain data with ``to_dict`` for the view; ``Collaboration`` changes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..formats.transcript import Entry, Kind, Visibility
from .directory import TargetKind


class ParticipantRole(StrEnum):
    OWNER = "owner"
    CONTACT = "contact"
    CONFERENCE = "conference"
    CONSULTANT = "consultant"


class Medium(StrEnum):
    CHAT = "chat"
    VOICE = "voice"


class ConsultState(StrEnum):
    REQUESTED = "requested"  # chat: asked; voice: dialing
    RINGING = "ringing"  # voice only
    ACTIVE = "active"  # chat: the colleague joined; voice: call connected
    ON_HOLD = "on_hold"  # voice only
    ENDED = "ended"
    DECLINED = "declined"  # not answered / refused

    @property
    def terminal(self) -> bool:
        return self in (ConsultState.ENDED, ConsultState.DECLINED)


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    name: str
    role: ParticipantRole
    kind: str  # "agent" | "contact" | "external"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": str(self.role), "kind": self.kind}


@dataclass(frozen=True, slots=True)
class PendingTransfer:
    target_kind: TargetKind
    target_id: str
    target_name: str
    note: str | None
    requested_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_kind": str(self.target_kind),
            "target_id": self.target_id,
            "target_name": self.target_name,
            "note": self.note,
            "requested_at_ms": self.requested_at * 1000.0,
        }


@dataclass(frozen=True, slots=True)
class PendingInvite:
    target_id: str
    target_name: str
    requested_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_id": self.target_id,
            "target_name": self.target_name,
            "requested_at_ms": self.requested_at * 1000.0,
        }


@dataclass(slots=True)
class Consultation:
    id: str
    target_kind: TargetKind
    target_id: str
    target_name: str
    medium: Medium
    state: ConsultState
    started_at: float
    connected_at: float | None = None
    ended_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target_kind": str(self.target_kind),
            "target_id": self.target_id,
            "target_name": self.target_name,
            "medium": str(self.medium),
            "state": str(self.state),
            "started_at_ms": _ms(self.started_at),
            "connected_at_ms": _ms(self.connected_at),
            "ended_at_ms": _ms(self.ended_at),
        }


@dataclass(slots=True)
class ChatTeam:
    """Who is in one chat besides the contact, and what is pending."""

    session_id: str
    owner: Participant | None
    contact: Participant
    conference: Participant | None = None
    invite: PendingInvite | None = None
    transfer: PendingTransfer | None = None
    consultation: Consultation | None = None
    consultations: list[Consultation] = field(default_factory=list)

    def participants(self) -> list[Participant]:
        out = [p for p in (self.owner, self.contact, self.conference) if p is not None]
        c = self.consultation
        if c is not None and not c.state.terminal:
            kind = "agent" if c.target_kind is TargetKind.AGENT else "external"
            out.append(Participant(c.target_id, c.target_name, ParticipantRole.CONSULTANT, kind))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": None if self.owner is None else self.owner.to_dict(),
            "participants": [p.to_dict() for p in self.participants()],
            "conference": None if self.conference is None else self.conference.to_dict(),
            "invite": None if self.invite is None else self.invite.to_dict(),
            "transfer": None if self.transfer is None else self.transfer.to_dict(),
            "consultation": None if self.consultation is None else self.consultation.to_dict(),
        }


def _ms(t: float | None) -> float | None:
    return None if t is None else t * 1000.0


def visible_to_contact(entry: Entry) -> bool:
    """May this entry be delivered to the contact? (Never a consultation message.)"""
    return entry.visibility is Visibility.ALL and entry.kind is not Kind.CONSULT


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message of a colleague's consultation, as the consulted agent sees it."""

    sender_name: str
    text: str
    at: float  # clock seconds (the server's time on the real server)
    mine: bool = False  # written by this agent

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.sender_name,
            "text": self.text,
            "t": self.at * 1000.0,
            "mine": self.mine,
        }


@dataclass(slots=True)
class IncomingConsultation:
    """A colleague consults *this* agent about their chat (real agents, issue 6).

    ``requested`` (chat) or ``ringing`` (voice) until this agent answers or declines;
    ``active`` once answered; ``ended`` / ``declined`` (refused or not answered in
    time). ``dismissed``: the agent closed the finished consultation in the view."""

    id: str
    session_id: str
    from_id: str
    from_name: str
    contact_name: str
    medium: Medium
    state: ConsultState
    messages: list[IncomingMessage] = field(default_factory=list)
    offered_at: float | None = None
    expires_at: float | None = None  # clock time the request is withdrawn unanswered
    connected_at: float | None = None
    ended_at: float | None = None
    dismissed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "from_id": self.from_id,
            "from_name": self.from_name,
            "contact_name": self.contact_name,
            "medium": str(self.medium),
            "state": str(self.state),
            "messages": [m.to_dict() for m in self.messages],
            "offered_at_ms": _ms(self.offered_at),
            "expires_at_ms": _ms(self.expires_at),
            "connected_at_ms": _ms(self.connected_at),
            "ended_at_ms": _ms(self.ended_at),
        }
