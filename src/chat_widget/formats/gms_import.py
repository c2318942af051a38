"""Genesys GMS Chat API v2 transcripts → our transcript format (``import_gms``).

GMS speaks of participants (``Client``, ``Agent``, ``External``) joining and leaving;
we read those as the conversation's lifecycle, transfers and conferences.
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from .notices import Notice, notice
from .time_codec import format_utc, parse_utc
from .transcript import KindName, RoleName
from .transcript_schema import (
    FORMAT_NAME,
    FORMAT_VERSION,
    AgentDoc,
    ContactDoc,
    EntryDoc,
    EventName,
    Problem,
    SenderDoc,
    StateName,
    TranscriptDoc,
    TranscriptFileError,
    TypingDoc,
    parties_of,
    problems_from_validation,
    validate_transcript,
)

GMS_ROLES: dict[str, RoleName] = {"Client": "contact", "Agent": "agent", "External": "external"}
GMS_TYPES = frozenset(
    {
        "Message",
        "Notice",
        "CustomNotice",
        "PushUrl",
        "ParticipantJoined",
        "ParticipantLeft",
        "TypingStarted",
        "TypingStopped",
        "IdleAlert",
        "IdleClose",
        "NicknameUpdated",
        "FileUploaded",
        "FileDeleted",
    }
)


@with_config(ConfigDict(extra="allow"))
class GmsFrom(TypedDict):
    nickname: str
    participantId: int | str
    type: str


GmsMessageShape = TypedDict(
    "GmsMessageShape",
    {
        "index": Annotated[int, Field(strict=True)],
        "type": str,
        "utcTime": int | str,
        "from": GmsFrom,
        "text": NotRequired[str | None],
        "url": NotRequired[str | None],
    },
)
GmsMessageShape.__pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[attr-defined]


@with_config(ConfigDict(extra="allow"))
class GmsTranscript(TypedDict):
    messages: list[GmsMessageShape]
    chatId: NotRequired[str]
    chatEnded: NotRequired[bool]


GMS_ADAPTER: TypeAdapter[GmsTranscript] = TypeAdapter(GmsTranscript)


def import_gms(
    data: Any, *, conversation_id: str | None = None, source: str = "", record: int = 1
) -> TranscriptDoc:
    """A Genesys GMS Chat API v2 transcript (``{"chatId", "messages": [...]}`` or the bare
    list) → ``TranscriptDoc``.

    Mapping: Message/Notice/PushUrl → entries; ParticipantJoined/Left → notices tagged
    ``joined``/``left`` (the contact's join is ``offered_at``, the first agent's join
    ``accepted_at``, the contact's leave ``left_at``, the last agent's leave
    ``ended_at``); TypingStarted/Stopped → ``typing``. A second agent who joins while
    one is present is a ``conference``, or a ``transfer`` when the first then leaves.
    """
    if isinstance(data, list):
        data = {"messages": data}
    try:
        gms = GMS_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise TranscriptFileError(problems_from_validation(exc, source, record)) from None
    problems: list[Problem] = []
    messages = sorted(enumerate(gms["messages"]), key=lambda im: im[1]["index"])
    builder = _GmsBuilder()
    for position, msg in messages:
        where = f"messages[{position}]"
        kind = msg["type"]
        sender_type = msg["from"]["type"]
        if kind not in GMS_TYPES:
            problems.append(
                Problem(source, record, f"{where}.type", f"unknown GMS message type {kind!r}")
            )
            continue
        role = GMS_ROLES.get(sender_type)
        if role is None:
            problems.append(
                Problem(
                    source,
                    record,
                    f"{where}.from.type",
                    f"unknown participant type {sender_type!r} "
                    "(expected Client, Agent or External)",
                )
            )
            continue
        try:
            stamp = _gms_time(msg["utcTime"])
        except ValueError as exc:
            problems.append(Problem(source, record, f"{where}.utcTime", str(exc)))
            continue
        if kind == "PushUrl" and not (msg.get("url") or msg.get("text")):
            problems.append(Problem(source, record, f"{where}.text", "PushUrl without a URL"))
            continue
        builder.add(kind, role, msg, stamp)
    if problems:
        raise TranscriptFileError(problems)
    doc = builder.finish(
        conversation_id or str(gms.get("chatId") or "gms-chat"), bool(gms.get("chatEnded"))
    )
    return validate_transcript(doc, source, record)


def _gms_time(value: int | str) -> str:
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"utcTime must be milliseconds since 1970, got {value}")
        return format_utc(value / 1000)
    return format_utc(parse_utc(value))


class _GmsBuilder:
    """Collects GMS messages (in index order) into our transcript shape."""

    def __init__(self) -> None:
        self.entries: list[EntryDoc] = []
        self.typing: list[TypingDoc] = []
        self.contact: ContactDoc | None = None
        self.agent: AgentDoc | None = None
        self.first_time: str | None = None
        self.offered_at: str | None = None
        self.accepted_at: str | None = None
        self.left_at: str | None = None
        self.ended_at: str | None = None
        self.present_agents: list[str] = []
        self.open_joins: dict[str, tuple[int, list[str]]] = {}  # agent → (entry, agents then)

    def add(self, kind: str, role: RoleName, msg: GmsMessageShape, stamp: str) -> None:
        who = msg["from"]
        pid = str(who["participantId"])
        sender: SenderDoc = {"role": role, "name": who["nickname"], "id": pid}
        self.first_time = self.first_time or stamp
        if role == "contact" and self.contact is None:
            self.contact = {"name": who["nickname"], "id": pid, "phones": [], "emails": []}
        text = msg.get("text") or ""
        if kind in ("TypingStarted", "TypingStopped"):
            self.typing.append(
                {"time": stamp, "role": role, "typing": kind == "TypingStarted", "id": pid}
            )
            return
        event: EventName | None = None
        entry_kind: KindName = "notice"
        url: str | None = None
        said: Notice | None = None
        if kind == "Message":
            entry_kind = "message"
        elif kind == "PushUrl":
            entry_kind = "push_url"
            url = msg.get("url") or text
        elif kind == "ParticipantJoined":
            event = "joined"
            said = None if text else notice("joined", name=who["nickname"])
            self._joined(role, pid, stamp, len(self.entries))
        elif kind == "ParticipantLeft":
            event = "left"
            said = None if text else notice("left", name=who["nickname"])
            self._left(role, pid, stamp)
        if role == "agent" and self.agent is None:
            self.agent = {"id": pid, "name": who["nickname"]}
        entry: EntryDoc = {
            "index": len(self.entries),
            "time": stamp,
            "kind": entry_kind,
            "sender": sender,
            "text": said.text if said else (text or kind),
            "url": url,
            "visibility": "all",
            "client_id": None,
        }
        if event is not None:
            entry["event"] = event
        if said is not None:
            entry["code"], entry["params"] = said.code, dict(said.params)
        self.entries.append(entry)

    def _joined(self, role: RoleName, pid: str, stamp: str, entry_index: int) -> None:
        if role == "contact":
            self.offered_at = self.offered_at or stamp
        elif role == "agent":
            self.accepted_at = self.accepted_at or stamp
            if self.present_agents:
                self.open_joins[pid] = (entry_index, list(self.present_agents))
            self.present_agents.append(pid)

    def _left(self, role: RoleName, pid: str, stamp: str) -> None:
        if role == "contact":
            self.left_at = self.left_at or stamp
        elif role == "agent" and pid in self.present_agents:
            self.present_agents.remove(pid)
            for joiner, (entry_index, before) in list(self.open_joins.items()):
                if pid in before and joiner in self.present_agents and self.left_at is None:
                    self.entries[entry_index]["event"] = "transfer"
                    del self.open_joins[joiner]
            if not self.present_agents and self.accepted_at is not None:
                self.ended_at = stamp

    def finish(self, conversation_id: str, chat_ended: bool) -> dict[str, Any]:
        for entry_index, _before in self.open_joins.values():
            if self.entries[entry_index].get("event") == "joined":
                self.entries[entry_index]["event"] = "conference"
        start = self.offered_at or self.first_time or format_utc(0.0)
        contact = self.contact or {"name": "Contact", "id": "contact", "phones": [], "emails": []}
        agent = self.agent or {"id": "agent", "name": "Agent"}
        if self.ended_at is None and chat_ended and self.accepted_at is not None:
            self.ended_at = self.entries[-1]["time"] if self.entries else start
        state: StateName = "offered"
        if self.ended_at is not None:
            state = "ended"
        elif self.left_at is not None:
            state = "contact_left"
        elif self.accepted_at is not None:
            state = "accepted"
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "id": conversation_id,
            "state": state,
            "agent": agent,
            "contact": contact,
            "parties": parties_of(agent, contact, self.entries),
            "offered_at": start,
            "accepted_at": self.accepted_at,
            "left_at": self.left_at,
            "ended_at": self.ended_at,
            "done_at": None,
            "disposition": None,
            "notes": [],
            "thresholds": None,
            "entries": self.entries,
            "typing": self.typing,
        }
