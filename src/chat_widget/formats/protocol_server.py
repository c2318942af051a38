"""Server frames and the shapes inside them (``formats.protocol`` re-exports every
name; import from there)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .protocol_base import (
    ErrorCode,
    ParticipantType,
    _ServerFrame,
    _Shape,
)
from .protocol_client import MonitorMode


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
