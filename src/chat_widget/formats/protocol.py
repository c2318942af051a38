"""Wire protocol of ``chat-widget serve``: JSON frames validated by pydantic v2.

Vocabulary follows the GMS Chat API v2 where it fits (``Message``,
``TypingStarted``, ``TypingStopped``, ``PushUrl``, ``Notice``,
``ParticipantJoined``, ``ParticipantLeft``; participants ``{nickname,
participantId, type}``; ``utcTime`` in milliseconds). Our own frames cover
what it lacks: agent auth, offers, accept/reject, acknowledgements, errors,
resume. JSON keys are camelCase (as GMS spells them); Python names are
snake_case. ``docs/protocol.md`` is generated from these models.

Rules (see the doc): every client frame carries a client id ``id``; every
conversation event carries ``seq``, 1, 2, 3, ... per conversation, never
reused; a client resumes by sending the last ``seq`` it saw.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from .transcript import Visibility as Visibility  # one vocabulary for entries and frames

PROTOCOL_VERSION = 1
MAX_TEXT_LENGTH = 4000  # same as the session model's MAX_MESSAGE_LENGTH
MAX_URL_LENGTH = 2048
MAX_NAME_LENGTH = 100

ClientId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
ConversationId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
MAX_SEQ = 2**53 - 1  # the largest integer every JSON reader keeps exactly
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]
TargetId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_./:-]+$")]
MAX_NOTE_LENGTH = 1000
MAX_IM_LENGTH = 2000


class ErrorCode(StrEnum):
    """Typed errors; the connection stays up unless the doc says it closes."""

    MALFORMED_JSON = "malformed_json"
    INVALID_FRAME = "invalid_frame"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_VERSION = "unsupported_version"
    MESSAGE_TOO_LONG = "message_too_long"
    RATE_LIMITED = "rate_limited"
    AUTH_REQUIRED = "auth_required"
    AUTH_FAILED = "auth_failed"
    AUTH_TIMEOUT = "auth_timeout"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INVALID_STATE = "invalid_state"
    OFFER_NOT_AVAILABLE = "offer_not_available"
    INVALID_URL = "invalid_url"
    INTERNAL = "internal"
    UNAVAILABLE = "unavailable"


class ParticipantType(StrEnum):
    CLIENT = "Client"
    AGENT = "Agent"
    EXTERNAL = "External"
    SYSTEM = "System"
    SUPERVISOR = "Supervisor"  # a supervisor who barged in, monitors or coaches (issue 14)


class _Frame(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    v: Literal[1] = 1

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


class _ClientFrame(_Frame):
    """``v`` and ``type`` are required on the wire (``parse_client_frame`` checks ``v``);
    the defaults only make building frames in Python short."""

    id: ClientId


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


# ----------------------------------------------------------------- server frames
class _Shape(BaseModel):
    """A nested shape inside server frames (no version of its own)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class _ServerFrame(_Frame):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class Participant(_Shape):
    nickname: str
    participant_id: str
    type: ParticipantType


class ContactInfo(_Shape):
    nickname: str
    email: str | None = None
    phone: str | None = None
    subject: str | None = None


class ConversationInfo(_Shape):
    conversation: str
    contact: ContactInfo
    state: str
    last_seq: int


class AgentInfo(_Shape):
    id: str
    nickname: str


class DirectoryAgent(_Shape):
    id: str
    nickname: str
    skills: list[str] = Field(default_factory=list)
    presence: Literal["ready", "not_ready", "away", "offline"] = "offline"


class DirectoryQueue(_Shape):
    id: str
    name: str
    skill: str = ""


class DirectoryExternal(_Shape):
    id: str
    name: str
    phone: str
    organisation: str = ""


class DirectoryInfo(_Shape):
    agents: list[DirectoryAgent] = Field(default_factory=list)
    queues: list[DirectoryQueue] = Field(default_factory=list)
    externals: list[DirectoryExternal] = Field(default_factory=list)


class StandardResponse(_Shape):
    """One standard response of the server's library (issue 16): ``texts`` per language
    ("en", "de", ...), with field codes such as ``{contact.first_name}`` left unfilled
    (the agent's desk fills them for the chat at hand)."""

    id: str
    name: str
    category: str = ""
    shortcut: str = ""
    texts: dict[str, str] = Field(default_factory=dict)


class HistoryItem(_Shape):
    """One earlier conversation of the same contact (matched on e-mail or phone)."""

    conversation: str
    created: int  # server ms
    state: str
    agent: AgentInfo | None = None
    disposition: str | None = None
    notes: list[str] = Field(default_factory=list)


class AuthOk(_ServerFrame):
    """``conversations``: chats this agent is in (owner or conference) or consults on;
    ``directory``: colleagues with presence, queues, external contacts; ``imUnread``:
    unread team IMs per colleague. ``role``: ``supervisor`` tokens get ``TeamState``
    next and every event of their team's chats (issue 14)."""

    type: Literal["AuthOk"] = "AuthOk"
    id: str
    agent: AgentInfo
    role: Literal["agent", "supervisor"] = "agent"
    #: the name customers see for this agent (``agents add --nickname``), if it has one
    shown_as: str | None = None
    #: the server's standard response library (``serve --responses FILE``, issue 16)
    responses: list[StandardResponse] = Field(default_factory=list)
    conversations: list[ConversationInfo] = Field(default_factory=list)
    directory: DirectoryInfo = Field(default_factory=DirectoryInfo)
    im_unread: dict[str, int] = Field(default_factory=dict)


class ChatStarted(_ServerFrame):
    """Answer to RequestChat/ResumeChat: keep ``token`` to resume this chat."""

    type: Literal["ChatStarted"] = "ChatStarted"
    id: str
    conversation: str
    token: str
    participant_id: str
    resumed: bool = False


class Ack(_ServerFrame):
    """The client frame ``id`` is done and durable; ``seq`` is the event it made, if any."""

    type: Literal["Ack"] = "Ack"
    id: str
    conversation: str | None = None
    seq: int | None = None


class Error(_ServerFrame):
    type: Literal["Error"] = "Error"
    id: str | None = None
    code: ErrorCode
    message: str
    conversation: str | None = None


class Pong(_ServerFrame):
    type: Literal["Pong"] = "Pong"
    id: str


class Offer(_ServerFrame):
    """A chat is offered to this agent (F1) until ``expiresAt`` (server clock, ms).

    ``kind``: ``chat`` (a new chat), ``transfer`` (a colleague hands it over, with
    ``fromAgent`` and ``note``; via ``queue`` if it went to a queue) or ``conference``
    (an invitation to join). ``Accept``/``Reject`` answer every kind."""

    type: Literal["Offer"] = "Offer"
    conversation: str
    contact: ContactInfo
    expires_at: int
    kind: Literal["chat", "transfer", "conference"] = "chat"
    from_agent: AgentInfo | None = None
    note: str | None = None
    queue: str | None = None
    last_seq: int | None = None  # transfer/conference: events up to here are history


class ConsultationOffered(_ServerFrame):
    """A colleague consults this agent about a chat (F7); answer with ``AnswerConsultation``.
    The consultation's events then arrive on that conversation (agents-only)."""

    type: Literal["ConsultationOffered"] = "ConsultationOffered"
    conversation: str
    consultation: str
    contact: ContactInfo
    from_agent: AgentInfo
    medium: Literal["chat", "voice"]
    expires_at: int


class PresenceChanged(_ServerFrame):
    """A colleague's presence changed (sent to every agent)."""

    type: Literal["PresenceChanged"] = "PresenceChanged"
    agent: str
    presence: Literal["ready", "not_ready", "away", "offline"]
    nickname: str | None = None


class ImMessage(_ServerFrame):
    """A team IM (F14), to both sender and recipient; ``unread``: the recipient's unread
    count in this thread after it. ``imId`` orders all IMs; ``Auth.imAfter`` resumes."""

    type: Literal["ImMessage"] = "ImMessage"
    im_id: int
    from_: AgentInfo = Field(alias="from")
    to: str
    text: str
    utc_time: int
    client_id: str | None = None
    unread: int = 0


class ImRead(_ServerFrame):
    """This agent read the thread with ``colleague`` (sent to all its connections)."""

    type: Literal["ImRead"] = "ImRead"
    colleague: str
    up_to: int


class ContactHistory(_ServerFrame):
    """The contact's earlier conversations, newest first, sent to an agent with an offer
    of ``conversation`` (and again on resume); only agents entitled to it get it."""

    type: Literal["ContactHistory"] = "ContactHistory"
    conversation: str
    items: list[HistoryItem] = Field(default_factory=list)


class HistoryTranscript(_ServerFrame):
    """Answer to ``GetHistoryTranscript``: the earlier conversation ``of`` in the
    transcript format (``docs/transcript-format.md``, one conversation document)."""

    type: Literal["HistoryTranscript"] = "HistoryTranscript"
    id: str
    conversation: str
    of: str
    transcript: dict[str, Any]


class OfferRevoked(_ServerFrame):
    type: Literal["OfferRevoked"] = "OfferRevoked"
    conversation: str
    reason: str


class HelpFlagInfo(_Shape):
    """A raised help flag: who raised it, when (server ms), with what line."""

    agent: str
    text: str | None = None
    raised_at: int


class SupervisedChat(_Shape):
    """One chat as a supervisor's dashboard shows it (issue 14).

    ``state``: queued, active, ended or done (done: the row goes). ``owner``: None while
    queued. ``members``: agent ids in the chat (owner first). ``created``/``acceptedAt``:
    server ms. ``monitors``: supervisor id -> mode, for every supervisor monitoring it."""

    conversation: str
    contact: ContactInfo
    state: str
    owner: AgentInfo | None = None
    members: list[str] = Field(default_factory=list)
    created: int
    accepted_at: int | None = None
    last_seq: int = 0
    flag: HelpFlagInfo | None = None
    monitors: dict[str, MonitorMode] = Field(default_factory=dict)


class TeamAgent(_Shape):
    id: str
    nickname: str
    presence: Literal["ready", "not_ready", "away", "offline"] = "offline"
    skills: list[str] = Field(default_factory=list)


class TeamState(_ServerFrame):
    """Supervisors, after ``AuthOk``: the team's agents and every open chat of the team.
    ``announceMonitoring``: whether agents see that they are monitored silently."""

    type: Literal["TeamState"] = "TeamState"
    agents: list[TeamAgent] = Field(default_factory=list)
    chats: list[SupervisedChat] = Field(default_factory=list)
    announce_monitoring: bool = False


class TeamChatChanged(_ServerFrame):
    """Supervisors: a chat of the team was created or changed (state, owner, members,
    flag, monitoring). Its events arrive as usual (supervisors read every event of
    their team's chats, consultations and coaching included)."""

    type: Literal["TeamChatChanged"] = "TeamChatChanged"
    chat: SupervisedChat


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

ServerFrame = Annotated[
    AuthOk
    | ChatStarted
    | Ack
    | Error
    | Pong
    | Offer
    | OfferRevoked
    | ConsultationOffered
    | PresenceChanged
    | ImMessage
    | ImRead
    | TeamState
    | TeamChatChanged
    | ContactHistory
    | HistoryTranscript
    | AnyEvent,
    Field(discriminator="type"),
]


def _frame_type(frame: type[_Frame]) -> str:
    """A frame class's ``type`` on the wire (its ``Literal`` default)."""
    return str(frame.model_fields["type"].default)


EVENT_TYPES = frozenset(_frame_type(event) for event in get_args(AnyEvent))
#: supervision events: never to a customer, and to an agent only by its audience (an
#: agent who joins later does not read the coaching of the chat's earlier agents)
SUPERVISION_EVENTS = frozenset({"MonitoringChanged", "CoachMessage", "HelpFlagChanged"})

CLIENT_FRAME_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
SERVER_FRAME_ADAPTER: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class FrameError(Exception):
    """A client frame the server cannot take; becomes an ``Error`` frame."""

    def __init__(self, code: ErrorCode, message: str, frame_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.frame_id = frame_id


_CLIENT_ID = re.compile(r"[\x21-\x7e]{1,128}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


_CHEAP_ID = re.compile(r'"id"\s*:\s*"([\x21\x23-\x5b\x5d-\x7e]{1,128})"')


def cheap_frame_id(raw: str | bytes) -> str | None:
    """The frame's id found without parsing the frame (for a refusal that must stay
    cheap): the first ``"id": "..."`` in the first 512 characters, if it is a valid id."""
    if isinstance(raw, bytes):
        return None
    found = _CHEAP_ID.search(raw, 0, 512)
    return found.group(1) if found else None


def _raw_id(data: Any) -> str | None:
    """The frame's id for the error answer, only if it is a valid id (it is echoed)."""
    if isinstance(data, dict):
        raw = data.get("id")
        if isinstance(raw, str) and _CLIENT_ID.fullmatch(raw):
            return raw
    return None


def _unencodable(value: Any, path: str = "") -> str | None:
    """The path of the first string that is not valid Unicode (a lone surrogate from a
    ``\\ud800`` escape): it could be neither stored nor sent on as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "frame"
        return None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        found = _unencodable(key, where) if isinstance(key, str) else None
        found = found or _unencodable(item, where)
        if found:
            return found
    return None


def parse_client_frame(raw: str | bytes) -> ClientFrame:
    """Validate one client frame or raise ``FrameError`` naming the problem."""
    if isinstance(raw, bytes):
        raise FrameError(ErrorCode.INVALID_FRAME, "binary frames are not supported; send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FrameError(ErrorCode.MALFORMED_JSON, f"frame is not valid JSON: {exc}") from None
    frame_id = _raw_id(data)
    if _SURROGATE_ESCAPE.search(raw):  # only such escapes make invalid strings: cheap test
        where = _unencodable(data)
        if where is not None:
            raise FrameError(
                ErrorCode.INVALID_FRAME,
                f"{where}: not valid Unicode (a lone surrogate such as \\ud800)",
                frame_id,
            )
    if not isinstance(data, dict):
        raise FrameError(ErrorCode.INVALID_FRAME, "frame must be a JSON object", frame_id)
    if "v" not in data:
        raise FrameError(
            ErrorCode.INVALID_FRAME, "v: the protocol version is required (v=1)", frame_id
        )
    if data["v"] != PROTOCOL_VERSION:
        raise FrameError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"protocol version {data['v']!r} is not supported; this server speaks v=1",
            frame_id,
        )
    if "type" not in data:
        raise FrameError(ErrorCode.UNKNOWN_TYPE, "type: the frame type is required", frame_id)
    try:
        return CLIENT_FRAME_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise _frame_error(exc, frame_id) from None


def _frame_error(exc: ValidationError, frame_id: str | None) -> FrameError:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0] if errors else {"type": "", "loc": (), "msg": str(exc)}
    kind = first["type"]
    loc = ".".join(str(p) for p in first["loc"])
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return FrameError(
            ErrorCode.UNKNOWN_TYPE, f"unknown or missing frame type: {first['msg']}", frame_id
        )
    if kind == "string_too_long" and loc.endswith(".text"):
        return FrameError(
            ErrorCode.MESSAGE_TOO_LONG,
            f"message text is longer than {MAX_TEXT_LENGTH} characters",
            frame_id,
        )
    return FrameError(ErrorCode.INVALID_FRAME, f"{loc or 'frame'}: {first['msg']}", frame_id)


def parse_server_frame(raw: str | bytes) -> ServerFrame:
    """Clients' side: validate a frame from the server (unknown keys are ignored)."""
    return SERVER_FRAME_ADAPTER.validate_json(raw)


def is_event(frame: object) -> bool:
    return getattr(frame, "type", None) in EVENT_TYPES
