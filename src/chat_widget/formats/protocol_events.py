"""Conversation events: stored, numbered by ``seq``, fanned out to who may see them
(``formats.protocol`` re-exports every name; import from there)."""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Field

from .protocol_base import (
    Visibility,
    _ServerFrame,
)
from .protocol_server import (
    Participant,
)


class _Event(_ServerFrame):
    """A stored conversation event; ``seq`` orders a conversation, 1, 2, 3, ..."""

    type: str
    conversation: str
    seq: int
    utc_time: int
    from_: Participant = Field(alias="from")
    visibility: Visibility = Visibility.ALL
    client_id: str | None = None


class ParticipantJoined(_Event):
    type: Literal["ParticipantJoined"] = "ParticipantJoined"


class ParticipantLeft(_Event):
    """``successor``: when an agent leaves a conference, the agent who owns the chat now."""

    type: Literal["ParticipantLeft"] = "ParticipantLeft"
    successor: Participant | None = None


class Message(_Event):
    """``response``: the id of the standard response an agent started from, if any (for
    analysis; customer pages ignore it)."""

    type: Literal["Message"] = "Message"
    text: str
    response: str | None = None


class TypingStarted(_Event):
    type: Literal["TypingStarted"] = "TypingStarted"


class TypingStopped(_Event):
    type: Literal["TypingStopped"] = "TypingStopped"


class PushUrl(_Event):
    type: Literal["PushUrl"] = "PushUrl"
    url: str
    text: str


class Notice(_Event):
    type: Literal["Notice"] = "Notice"
    text: str


class ChatEnded(_Event):
    """``reason``: ``idle`` when the server closed a chat the customer left idle (issue 16,
    the GMS IdleClose); absent when a party ended it."""

    type: Literal["ChatEnded"] = "ChatEnded"
    reason: str | None = None


class IdleAlert(_Event):
    """Everyone: the customer has not written for a while although the agent waits for
    them; the chat closes ``closesIn`` seconds later unless they write (the GMS IdleAlert)."""

    type: Literal["IdleAlert"] = "IdleAlert"
    closes_in: int


class DispositionSet(_Event):
    type: Literal["DispositionSet"] = "DispositionSet"
    code: str | None = None


class NoteAdded(_Event):
    type: Literal["NoteAdded"] = "NoteAdded"
    text: str


class ChatDone(_Event):
    type: Literal["ChatDone"] = "ChatDone"


class TransferRequested(_Event):
    """Agents only: the owner (``from``) asked to hand the chat over, with a note."""

    type: Literal["TransferRequested"] = "TransferRequested"
    target_kind: str
    target_id: str
    target_name: str
    note: str | None = None


class TransferDeclined(_Event):
    """Agents only: the transfer did not happen (declined, cancelled, timed out); the
    owner keeps the chat."""

    type: Literal["TransferDeclined"] = "TransferDeclined"
    reason: str


class ChatTransferred(_Event):
    """Everyone: ``from`` (the new owner) took the chat over from ``previous``."""

    type: Literal["ChatTransferred"] = "ChatTransferred"
    previous: Participant


class InviteSent(_Event):
    """Agents only: the owner invited ``targetId`` to a conference."""

    type: Literal["InviteSent"] = "InviteSent"
    target_id: str
    target_name: str


class InviteDeclined(_Event):
    type: Literal["InviteDeclined"] = "InviteDeclined"
    target_id: str
    reason: str


class ConsultationState(_Event):
    """Agents only (owner and consultant): a consultation's state; voice is simulated."""

    type: Literal["ConsultationState"] = "ConsultationState"
    consultation: str
    status: Literal["requested", "ringing", "active", "ended", "declined"]
    medium: Literal["chat", "voice"]
    target_kind: str
    target_id: str
    target_name: str


class ConsultMessage(_Event):
    """Agents only (owner and consultant); never delivered to the customer."""

    type: Literal["ConsultMessage"] = "ConsultMessage"
    consultation: str
    text: str


class MonitoringChanged(_Event):
    """Agents-only: supervisor ``from`` now monitors the chat in ``mode`` (``stopped``:
    no longer). Delivered to the agents in the chat only when they may know: in coach
    and barge-in mode, or when the server announces monitoring; supervisors always."""

    type: Literal["MonitoringChanged"] = "MonitoringChanged"
    mode: Literal["silent", "coach", "barge_in", "stopped"]
    previous: Literal["silent", "coach", "barge_in", "stopped"] = "stopped"
    #: the mode as the chat's agents may know it: ``stopped`` when a coach goes back to
    #: silent monitoring the server does not announce (for them, the coach left)
    shown: Literal["silent", "coach", "barge_in", "stopped"] | None = None


class CoachMessage(_Event):
    """Agents-only: a coaching line (``from`` a supervisor) or the agent's answer to the
    coach. Never delivered to the customer; not a reply for the reply timer."""

    type: Literal["CoachMessage"] = "CoachMessage"
    text: str


class HelpFlagChanged(_Event):
    """Agents-only: the help flag of the chat went up (``raised``, with ``text``) or down
    (``from``: the agent, or the supervisor who lowered it)."""

    type: Literal["HelpFlagChanged"] = "HelpFlagChanged"
    raised: bool
    text: str | None = None


#: every conversation event, spelled once: ``Event``, ``ServerFrame`` and ``EVENT_TYPES``
#: are made from it
AnyEvent: TypeAlias = (
    ParticipantJoined
    | ParticipantLeft
    | Message
    | TypingStarted
    | TypingStopped
    | PushUrl
    | Notice
    | ChatEnded
    | DispositionSet
    | NoteAdded
    | ChatDone
    | TransferRequested
    | TransferDeclined
    | ChatTransferred
    | InviteSent
    | InviteDeclined
    | ConsultationState
    | ConsultMessage
    | MonitoringChanged
    | CoachMessage
    | HelpFlagChanged
    | IdleAlert
)
Event = Annotated[AnyEvent, Field(discriminator="type")]
