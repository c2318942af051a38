"""An open conversation in memory, and the names every part of the service shares."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..formats import protocol as p
from ..model.clock import ScheduledCall
from .store import ConversationRecord, ConversationState

if TYPE_CHECKING:
    from .consultations import Consult

SYSTEM = p.Participant(nickname="System", participant_id="system", type=p.ParticipantType.SYSTEM)
CUSTOMER_ID = "customer"
LIVE = (ConversationState.QUEUED, ConversationState.ACTIVE)


class ServiceError(Exception):
    """A frame that cannot be performed; goes back to its sender as an ``Error``."""

    def __init__(self, code: p.ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class Conversation:
    """An open conversation in memory: its record plus what is in flight.

    Who is in the chat is not kept here: the router owns it (``Router.members``)."""

    record: ConversationRecord
    pending: dict[str, tuple[int, asyncio.Future[None]]] = field(default_factory=dict)
    typing: dict[str, ScheduledCall] = field(default_factory=dict)
    joined: dict[str, int] = field(default_factory=dict)  # agent -> seq of its latest join
    seen: set[str] = field(default_factory=set)  # every agent ever in an audience
    consult: Consult | None = None
    customer_connections: int = 0  # the customer's open connections (tabs, reconnects)
    abandon: ScheduledCall | None = None  # ends a queued chat whose customer is gone

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def state(self) -> ConversationState:
        return self.record.state

    def customer(self) -> p.Participant:
        return p.Participant(
            nickname=str(self.record.contact.get("nickname", "Customer")),
            participant_id=CUSTOMER_ID,
            type=p.ParticipantType.CLIENT,
        )

    def contact(self) -> p.ContactInfo:
        return p.ContactInfo.model_validate(self.record.contact)


def topic(conversation: str) -> str:
    return f"conv:{conversation}"


def agent_topic(agent_id: str) -> str:
    return f"agent:{agent_id}"


def live(conv: Conversation) -> Conversation:
    """``conv`` if it is queued or active, else an ``invalid_state`` error."""
    if conv.state not in LIVE:
        raise ServiceError(p.ErrorCode.INVALID_STATE, f"chat is {conv.state}")
    return conv


def after_customer_left(conv: Conversation) -> ConversationState:
    """A chat no agent ever took has nothing to wrap up: it is done at once and leaves
    memory (chats a client opens and abandons cannot pile up); else an agent wraps up."""
    return ConversationState.ENDED if conv.record.owner else ConversationState.DONE


def beyond_end(field: str, asked: int, last: int) -> str:
    return (
        f"{field}: {asked} is beyond the chat's last event ({last}); "
        f"resume from {last} or less (0 for the whole history)"
    )


def check_resume_point(asked: int, last: int, field: str) -> None:
    """A resume point past the chat's end would wait for events that never come."""
    if asked > last:
        raise ServiceError(p.ErrorCode.INVALID_FRAME, beyond_end(field, asked, last))
