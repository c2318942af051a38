"""Client frames: what customers' pages and agents' desks send (``formats.protocol``
re-exports every name; import from there)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .protocol_base import (
    MAX_IM_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_URL_LENGTH,
    ConversationId,
    Name,
    Seq,
    TargetId,
    Text,
    _ClientFrame,
)


# ----------------------------------------------------------------- client frames
class Auth(_ClientFrame):
    """Agent, first frame: token (never in the URL) and the last seq per owned chat."""

    type: Literal["Auth"] = "Auth"
    token: Annotated[str, Field(min_length=1, max_length=256)]
    resume: dict[ConversationId, Seq] = Field(default_factory=dict, max_length=1000)
    ready: bool = True
    im_after: Seq = 0


class RequestChat(_ClientFrame):
    """Customer, first frame: start a new chat (``classId``: a classroom run's customer)."""

    type: Literal["RequestChat"] = "RequestChat"
    nickname: Name
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    subject: Annotated[str, Field(max_length=200)] | None = None
    class_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    """A classroom run's scripted customer: the class it belongs to (issue 15), stored
    with the conversation's contact record; routing is unchanged."""


class ResumeChat(_ClientFrame):
    """Customer, first frame after a reconnect: the chat, its secret, the last seq seen."""

    type: Literal["ResumeChat"] = "ResumeChat"
    conversation: ConversationId
    token: Annotated[str, Field(min_length=1, max_length=256)]
    last_seq: Seq = 0


class SendMessage(_ClientFrame):
    """``response``: the standard response the agent started from (issue 16), if any;
    stored with the message for analysis, never shown to the customer."""

    type: Literal["SendMessage"] = "SendMessage"
    conversation: ConversationId
    text: Text
    response: TargetId | None = None


class StartTyping(_ClientFrame):
    type: Literal["StartTyping"] = "StartTyping"
    conversation: ConversationId


class StopTyping(_ClientFrame):
    type: Literal["StopTyping"] = "StopTyping"
    conversation: ConversationId


class SendPushUrl(_ClientFrame):
    """Agent pushes a link (F15); the server checks the scheme again."""

    type: Literal["PushUrl"] = "PushUrl"
    conversation: ConversationId
    url: Annotated[str, Field(min_length=1, max_length=MAX_URL_LENGTH)]
    text: Text | None = None


class SetReady(_ClientFrame):
    """Agent presence: ready for offers or not."""

    type: Literal["SetReady"] = "SetReady"
    ready: bool


class Accept(_ClientFrame):
    type: Literal["Accept"] = "Accept"
    conversation: ConversationId


class Reject(_ClientFrame):
    type: Literal["Reject"] = "Reject"
    conversation: ConversationId


class SetDisposition(_ClientFrame):
    type: Literal["SetDisposition"] = "SetDisposition"
    conversation: ConversationId
    code: Annotated[str, Field(min_length=1, max_length=100)] | None


class AddNote(_ClientFrame):
    type: Literal["AddNote"] = "AddNote"
    conversation: ConversationId
    text: Text


class EndChat(_ClientFrame):
    """Agent ends the chat, or the customer leaves it."""

    type: Literal["EndChat"] = "EndChat"
    conversation: ConversationId


class MarkDone(_ClientFrame):
    type: Literal["MarkDone"] = "MarkDone"
    conversation: ConversationId


class SetPresence(_ClientFrame):
    """Agent presence: ``ready`` (gets offers), ``not_ready`` or ``away``; colleagues see it."""

    type: Literal["SetPresence"] = "SetPresence"
    presence: Literal["ready", "not_ready", "away"]


class RequestTransfer(_ClientFrame):
    """Owner hands the chat to an agent or a queue (F5); the receiver's offer shows ``note``."""

    type: Literal["RequestTransfer"] = "RequestTransfer"
    conversation: ConversationId
    target_kind: Literal["agent", "queue"]
    target_id: TargetId
    note: Annotated[str, Field(max_length=MAX_NOTE_LENGTH)] | None = None


class CancelTransfer(_ClientFrame):
    type: Literal["CancelTransfer"] = "CancelTransfer"
    conversation: ConversationId


class InviteToConference(_ClientFrame):
    """Owner invites a colleague into the chat (F6); the colleague gets an ``Offer``."""

    type: Literal["InviteToConference"] = "InviteToConference"
    conversation: ConversationId
    target_id: TargetId


class LeaveConference(_ClientFrame):
    """An agent of a conference leaves; the agent who stays owns the chat."""

    type: Literal["LeaveConference"] = "LeaveConference"
    conversation: ConversationId


class StartConsultation(_ClientFrame):
    """Owner consults an agent (chat or voice) or an external contact (voice) (F7)."""

    type: Literal["StartConsultation"] = "StartConsultation"
    conversation: ConversationId
    consultation: TargetId
    target_kind: Literal["agent", "external"]
    target_id: TargetId
    medium: Literal["chat", "voice"] = "chat"


class AnswerConsultation(_ClientFrame):
    """The consulted agent takes (``accept``) or declines the consultation."""

    type: Literal["AnswerConsultation"] = "AnswerConsultation"
    conversation: ConversationId
    consultation: TargetId
    accept: bool = True


class SendConsultMessage(_ClientFrame):
    """A consultation message: stored, for the two agents only, never for the customer."""

    type: Literal["SendConsultMessage"] = "SendConsultMessage"
    conversation: ConversationId
    consultation: TargetId
    text: Text


class EndConsultation(_ClientFrame):
    type: Literal["EndConsultation"] = "EndConsultation"
    conversation: ConversationId
    consultation: TargetId


class SendIm(_ClientFrame):
    """Team instant message to a colleague (F14), outside any chat."""

    type: Literal["SendIm"] = "SendIm"
    to: TargetId
    text: Annotated[str, Field(min_length=1, max_length=MAX_IM_LENGTH)]


class MarkImRead(_ClientFrame):
    """This agent has read the thread with ``colleague`` (up to the newest message)."""

    type: Literal["MarkImRead"] = "MarkImRead"
    colleague: TargetId


# -- supervision (issue 14) --------------------------------------------------------
MonitorMode = Literal["silent", "coach", "barge_in"]
MAX_FLAG_LENGTH = 500


class Monitor(_ClientFrame):
    """Supervisor: start monitoring a chat of the team, or switch mode while monitoring.

    ``silent``: nobody notices (the agent sees it only if the server announces
    monitoring); ``coach``: the supervisor's ``SendCoaching`` reaches only the agents in
    the chat; ``barge_in``: the supervisor joins the chat (``ParticipantJoined``) and
    may ``SendMessage`` to everyone. Going from barge-in to another mode leaves the chat
    (``ParticipantLeft``)."""

    type: Literal["Monitor"] = "Monitor"
    conversation: ConversationId
    mode: MonitorMode = "silent"


class StopMonitoring(_ClientFrame):
    """Supervisor: stop monitoring (leaving the chat first if barged in)."""

    type: Literal["StopMonitoring"] = "StopMonitoring"
    conversation: ConversationId


class MonitorNext(_ClientFrame):
    """Supervisor: monitor (silently) the next chat ``agent`` accepts; ``cancel`` undoes."""

    type: Literal["MonitorNext"] = "MonitorNext"
    agent: TargetId
    cancel: bool = False


class SendCoaching(_ClientFrame):
    """A coaching line: from a supervisor who coaches or barged in, to the agents in the
    chat; or an agent's answer to the coach. Stored agents-only, never to the customer,
    and no reply for the reply timer."""

    type: Literal["SendCoaching"] = "SendCoaching"
    conversation: ConversationId
    text: Text


class RaiseFlag(_ClientFrame):
    """An agent in the chat asks a supervisor for help, with an optional line."""

    type: Literal["RaiseFlag"] = "RaiseFlag"
    conversation: ConversationId
    text: Annotated[str, Field(max_length=MAX_FLAG_LENGTH)] | None = None


class LowerFlag(_ClientFrame):
    """The agent (or a supervisor of the team) lowers the chat's help flag."""

    type: Literal["LowerFlag"] = "LowerFlag"
    conversation: ConversationId


class GetHistoryTranscript(_ClientFrame):
    """An agent entitled to ``conversation`` (offered it, or in it) asks for the transcript
    of one of the contact's earlier conversations (``of``, from ``ContactHistory``)."""

    type: Literal["GetHistoryTranscript"] = "GetHistoryTranscript"
    conversation: ConversationId
    of: ConversationId


class Ping(_ClientFrame):
    """Application heartbeat (browsers cannot see websocket pings)."""

    type: Literal["Ping"] = "Ping"


ClientFrame = Annotated[
    Auth
    | RequestChat
    | ResumeChat
    | SendMessage
    | StartTyping
    | StopTyping
    | SendPushUrl
    | SetReady
    | Accept
    | Reject
    | SetDisposition
    | AddNote
    | EndChat
    | MarkDone
    | SetPresence
    | RequestTransfer
    | CancelTransfer
    | InviteToConference
    | LeaveConference
    | StartConsultation
    | AnswerConsultation
    | SendConsultMessage
    | EndConsultation
    | SendIm
    | MarkImRead
    | Monitor
    | StopMonitoring
    | MonitorNext
    | SendCoaching
    | RaiseFlag
    | LowerFlag
    | GetHistoryTranscript
    | Ping,
    Field(discriminator="type"),
]
