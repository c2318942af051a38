"""Wire protocol of ``chat-widget serve``: JSON frames validated by pydantic v2.

Vocabulary follows the GMS Chat API v2 where it fits (``Message``,
``TypingStarted``, ``TypingStopped``, ``PushUrl``, ``Notice``,
``ParticipantJoined``, ``ParticipantLeft``; participants ``{nickname,
participantId, type}``; ``utcTime`` in milliseconds). Our own frames cover
what it lacks: agent auth, offers, accept/reject, acknowledgements, errors,
resume. JSON keys are camelCase (as GMS spells them); Python names are
snake_case. ``docs/protocol.md`` is generated from these models. The frames are
defined in ``protocol_base`` (limits, field types, base classes), ``protocol_client``,
``protocol_server`` and ``protocol_events``; this module is the one import point.

Rules (see the doc): every client frame carries a client id ``id``; every
conversation event carries ``seq``, 1, 2, 3, ... per conversation, never
reused; a client resumes by sending the last ``seq`` it saw.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, get_args

from pydantic import Field, TypeAdapter, ValidationError

from .protocol_base import (
    MAX_IM_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_SEQ,
    MAX_TEXT_LENGTH,
    MAX_URL_LENGTH,
    PROTOCOL_VERSION,
    ClientId,
    ConversationId,
    ErrorCode,
    Name,
    ParticipantType,
    Seq,
    TargetId,
    Text,
    Visibility,
    _ClientFrame,
    _Frame,
    _ServerFrame,
    _Shape,
)
from .protocol_client import (
    MAX_FLAG_LENGTH,
    Accept,
    AddNote,
    AnswerConsultation,
    Auth,
    CancelTransfer,
    ClientFrame,
    EndChat,
    EndConsultation,
    GetHistoryTranscript,
    InviteToConference,
    LeaveConference,
    LowerFlag,
    MarkDone,
    MarkImRead,
    Monitor,
    MonitorMode,
    MonitorNext,
    Ping,
    RaiseFlag,
    Reject,
    RequestChat,
    RequestTransfer,
    ResumeChat,
    SendCoaching,
    SendConsultMessage,
    SendIm,
    SendMessage,
    SendPushUrl,
    SetDisposition,
    SetPresence,
    SetReady,
    StartConsultation,
    StartTyping,
    StopMonitoring,
    StopTyping,
)
from .protocol_events import (
    AnyEvent,
    ChatDone,
    ChatEnded,
    ChatTransferred,
    CoachMessage,
    ConsultationState,
    ConsultMessage,
    DispositionSet,
    Event,
    HelpFlagChanged,
    IdleAlert,
    InviteDeclined,
    InviteSent,
    Message,
    MonitoringChanged,
    NoteAdded,
    Notice,
    ParticipantJoined,
    ParticipantLeft,
    PushUrl,
    TransferDeclined,
    TransferRequested,
    TypingStarted,
    TypingStopped,
    _Event,
)
from .protocol_server import (
    Ack,
    AgentInfo,
    AuthOk,
    ChatStarted,
    ConsultationOffered,
    ContactHistory,
    ContactInfo,
    ConversationInfo,
    DirectoryAgent,
    DirectoryExternal,
    DirectoryInfo,
    DirectoryQueue,
    Error,
    HelpFlagInfo,
    HistoryItem,
    HistoryTranscript,
    ImMessage,
    ImRead,
    Offer,
    OfferRevoked,
    Participant,
    Pong,
    PresenceChanged,
    StandardResponse,
    SupervisedChat,
    TeamAgent,
    TeamChatChanged,
    TeamState,
)

#: the one import point: the frames live in protocol_base/_client/_server/_events
__all__ = [
    "CLIENT_FRAME_ADAPTER",
    "EVENT_ADAPTER",
    "EVENT_TYPES",
    "MAX_FLAG_LENGTH",
    "MAX_IM_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_NOTE_LENGTH",
    "MAX_SEQ",
    "MAX_TEXT_LENGTH",
    "MAX_URL_LENGTH",
    "PROTOCOL_VERSION",
    "SERVER_FRAME_ADAPTER",
    "SUPERVISION_EVENTS",
    "Accept",
    "Ack",
    "AddNote",
    "AgentInfo",
    "AnswerConsultation",
    "AnyEvent",
    "Auth",
    "AuthOk",
    "CancelTransfer",
    "ChatDone",
    "ChatEnded",
    "ChatStarted",
    "ChatTransferred",
    "ClientFrame",
    "ClientId",
    "CoachMessage",
    "ConsultMessage",
    "ConsultationOffered",
    "ConsultationState",
    "ContactHistory",
    "ContactInfo",
    "ConversationId",
    "ConversationInfo",
    "DirectoryAgent",
    "DirectoryExternal",
    "DirectoryInfo",
    "DirectoryQueue",
    "DispositionSet",
    "EndChat",
    "EndConsultation",
    "Error",
    "ErrorCode",
    "Event",
    "FrameError",
    "GetHistoryTranscript",
    "HelpFlagChanged",
    "HelpFlagInfo",
    "HistoryItem",
    "HistoryTranscript",
    "IdleAlert",
    "ImMessage",
    "ImRead",
    "InviteDeclined",
    "InviteSent",
    "InviteToConference",
    "LeaveConference",
    "LowerFlag",
    "MarkDone",
    "MarkImRead",
    "Message",
    "Monitor",
    "MonitorMode",
    "MonitorNext",
    "MonitoringChanged",
    "Name",
    "NoteAdded",
    "Notice",
    "Offer",
    "OfferRevoked",
    "Participant",
    "ParticipantJoined",
    "ParticipantLeft",
    "ParticipantType",
    "Ping",
    "Pong",
    "PresenceChanged",
    "PushUrl",
    "RaiseFlag",
    "Reject",
    "RequestChat",
    "RequestTransfer",
    "ResumeChat",
    "SendCoaching",
    "SendConsultMessage",
    "SendIm",
    "SendMessage",
    "SendPushUrl",
    "Seq",
    "ServerFrame",
    "SetDisposition",
    "SetPresence",
    "SetReady",
    "StandardResponse",
    "StartConsultation",
    "StartTyping",
    "StopMonitoring",
    "StopTyping",
    "SupervisedChat",
    "TargetId",
    "TeamAgent",
    "TeamChatChanged",
    "TeamState",
    "Text",
    "TransferDeclined",
    "TransferRequested",
    "TypingStarted",
    "TypingStopped",
    "Visibility",
    "_ClientFrame",
    "_Event",
    "_Frame",
    "_ServerFrame",
    "_Shape",
    "cheap_frame_id",
    "is_event",
    "parse_client_frame",
    "parse_server_frame",
]

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
