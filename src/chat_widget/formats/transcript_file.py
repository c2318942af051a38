"""The transcript file format: one conversation as JSON, many as JSON Lines.

Documented in ``docs/transcript-format.md``. Times are UTC ISO-8601 strings
with up to nanosecond digits; clock seconds (floats) written by this module
read back bit-for-bit, so session → file → session is lossless.

Validation is pydantic v2 on ``TypedDict`` shapes (the Rust core parses and
checks each record without building Python model objects, so loading a
million entries stays close to a bare ``json.loads``), followed by a few
cross-field checks in plain Python. Errors name the file, the record (line)
and the field. This module is pure data: no pandas, no I/O beyond files.
"""

from __future__ import annotations

import calendar
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, NotRequired, cast

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from ..model.errors import ChatError
from .notices import Notice, notice
from .transcript import ContactRecord, Entry, Kind, Role, Sender, Visibility

if TYPE_CHECKING:  # formats stay below the model: no runtime import of it
    from ..model.session import ChatSession

FORMAT_NAME: Final = "chat_widget.transcript"
FORMAT_VERSION: Final = 1

ISO_UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
_ISO_RE = re.compile(ISO_UTC_PATTERN)

UtcTime = Annotated[str, StringConstraints(pattern=ISO_UTC_PATTERN)]
Index = Annotated[int, Field(strict=True, ge=0)]
Name = Annotated[str, StringConstraints(max_length=500)]
Seconds = Annotated[float, Field(gt=0, le=86_400)]

RoleName = Literal["contact", "agent", "system", "external"]
KindName = Literal["message", "notice", "push_url", "consult"]
VisibilityName = Literal["all", "agents"]
StateName = Literal[
    "offered", "accepted", "contact_left", "ended", "done", "declined", "ignored", "transferred"
]
EventName = Literal["joined", "left", "transfer", "conference"]
Scalar = str | int | float | bool | None

_FORBID = ConfigDict(extra="forbid")


# ----------------------------------------------------------------------------- shapes
@with_config(_FORBID)
class SenderDoc(TypedDict):
    role: RoleName
    name: Name
    id: NotRequired[str]


@with_config(_FORBID)
class EntryDoc(TypedDict):
    index: Index
    time: UtcTime
    kind: KindName
    sender: SenderDoc
    text: str
    url: NotRequired[str | None]
    visibility: NotRequired[VisibilityName]
    client_id: NotRequired[str | None]
    event: NotRequired[EventName | None]
    #: a system notice's language-neutral form (``formats.notices``); ``text`` is English
    code: NotRequired[str | None]
    params: NotRequired[dict[str, str] | None]


@with_config(_FORBID)
class TypingDoc(TypedDict):
    time: UtcTime
    role: RoleName
    typing: bool
    id: NotRequired[str]


@with_config(_FORBID)
class AgentDoc(TypedDict):
    id: str
    name: Name


@with_config(_FORBID)
class PartyDoc(TypedDict):
    role: RoleName
    id: str
    name: Name


@with_config(_FORBID)
class ContactDoc(TypedDict):
    name: Name
    phones: NotRequired[list[str]]
    emails: NotRequired[list[str]]
    id: NotRequired[str]


@with_config(_FORBID)
class ThresholdsDoc(TypedDict):
    yellow_after: Seconds
    red_after: Seconds


@with_config(_FORBID)
class TranscriptDoc(TypedDict):
    # declared in the order the exporter writes: validation keeps this order
    format: Literal["chat_widget.transcript"]
    version: Literal[1]
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    state: NotRequired[StateName]
    agent: AgentDoc
    contact: ContactDoc
    parties: NotRequired[list[PartyDoc]]
    offered_at: UtcTime
    accepted_at: NotRequired[UtcTime | None]
    left_at: NotRequired[UtcTime | None]
    ended_at: NotRequired[UtcTime | None]
    done_at: NotRequired[UtcTime | None]
    disposition: NotRequired[str | None]
    notes: NotRequired[list[str]]
    thresholds: NotRequired[ThresholdsDoc | None]
    entries: list[EntryDoc]
    typing: NotRequired[list[TypingDoc]]
    attributes: NotRequired[dict[str, Scalar]]


TRANSCRIPT_ADAPTER: TypeAdapter[TranscriptDoc] = TypeAdapter(TranscriptDoc)
LIFECYCLE = ("offered_at", "accepted_at", "left_at", "ended_at", "done_at")


# ----------------------------------------------------------------------------- errors
@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one record: where (file, 1-based line, field) and what."""

    source: str
    record: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}, record {self.record}" if self.source else f"record {self.record}"
        return f"{where}, field {self.field or '(record)'}: {self.message}"


class TranscriptFileError(ChatError, ValueError):
    """A transcript file (or record) that does not follow the format."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")

    @property
    def source(self) -> str:
        return self.problems[0].source

    @property
    def record(self) -> int:
        return self.problems[0].record

    @property
    def field(self) -> str:
        return self.problems[0].field


@dataclass
class ReadResult:
    """What a lenient read found: the valid transcripts and the problems of the rest."""

    transcripts: list[TranscriptDoc] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def field_path(loc: Iterable[int | str]) -> str:
    """pydantic's ``('entries', 3, 'sender', 'role')`` as ``entries[3].sender.role``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def problems_from_validation(exc: ValidationError, source: str, record: int) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        message = str(err["msg"])
        if err["type"] == "string_pattern_mismatch":
            message = "expected a UTC ISO-8601 time such as 2026-01-05T09:00:00Z"
        elif err["type"] == "extra_forbidden":
            message = "unknown field (not part of the transcript format)"
        inp = err.get("input")
        if err["type"] != "missing" and isinstance(inp, str | int | float | bool):
            message += f" (got {inp!r})"[:200]
        out.append(Problem(source, record, field_path(err["loc"]), message))
    return out


# ----------------------------------------------------------------------------- times
def format_utc(t: float) -> str:
    """Clock seconds → ``YYYY-MM-DDTHH:MM:SS.fffffffffZ``; reads back to the same float.

    Nanosecond digits make the round trip exact for every float clock time
    after 1970-04 (where float spacing exceeds 2 ns); trailing zeros are cut.
    """
    if not math.isfinite(t):
        raise ValueError(f"time must be finite, got {t!r}")
    whole = math.floor(t)
    return format_utc_ns(int(whole) * 1_000_000_000 + round((t - whole) * 1e9))


def format_utc_ns(nanos: int) -> str:
    """Integer nanoseconds since the epoch → ISO-8601 ``Z`` string (trailing zeros cut)."""
    whole, frac = divmod(nanos, 1_000_000_000)
    stamp = _format_seconds(whole)
    if frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    return stamp + "Z"


def _format_seconds(whole: int) -> str:
    days, rem = divmod(whole, 86_400)
    y, m, d = _civil_from_days(days)
    return f"{y:04d}-{m:02d}-{d:02d}T{rem // 3600:02d}:{rem % 3600 // 60:02d}:{rem % 60:02d}"


def _civil_from_days(z: int) -> tuple[int, int, int]:
    """Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm)."""
    z += 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


def parse_utc_ns(stamp: str) -> int:
    """ISO-8601 with ``Z`` or an offset → integer nanoseconds since the epoch."""
    match = _ISO_RE.match(stamp)
    if match is None:
        raise ValueError(
            f"expected a UTC ISO-8601 time such as 2026-01-05T09:00:00Z, got {stamp!r}"
        )
    year, month, day = int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10])
    hour, minute, second = int(stamp[11:13]), int(stamp[14:16]), int(stamp[17:19])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        raise ValueError(f"no such date or time: {stamp!r}")
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"no such date or time: {stamp!r}")
    frac, zone = match.group(1), match.group(2)
    nanos = int((frac[1:] + "000000000")[:9]) if frac else 0
    offset = 0
    if zone != "Z":
        hh, mm = int(zone[1:3]), int(zone[4:6])
        if hh > 23 or mm > 59:
            raise ValueError(f"no such date or time: {stamp!r}")
        offset = (hh * 3600 + mm * 60) * (1 if zone[0] == "+" else -1)
    whole = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset
    return whole * 1_000_000_000 + nanos


def parse_utc(stamp: str) -> float:
    """ISO-8601 → clock seconds (the float ``format_utc`` was given)."""
    return parse_utc_ns(stamp) / 1_000_000_000


# ----------------------------------------------------------------------------- checks
def check_transcript(doc: TranscriptDoc, source: str = "", record: int = 1) -> list[Problem]:
    """Cross-field rules pydantic cannot express (``analysis.load`` applies the same ones,
    vectorised): indices 0, 1, 2, ...; times valid and never going back; lifecycle in order."""
    out: list[Problem] = []

    def bad(where: str, message: str) -> None:
        out.append(Problem(source, record, where, message))

    def ns(where: str, stamp: str) -> int | None:
        try:
            return parse_utc_ns(stamp)
        except ValueError as exc:
            bad(where, str(exc))
            return None

    times: dict[str, int] = {}
    for key in LIFECYCLE:
        stamp = doc.get(key)
        if isinstance(stamp, str) and (value := ns(key, stamp)) is not None:
            times[key] = value
    for earlier, later in (
        ("offered_at", "accepted_at"),
        ("accepted_at", "ended_at"),
        ("offered_at", "left_at"),
        ("offered_at", "ended_at"),
        ("ended_at", "done_at"),
        ("offered_at", "done_at"),
    ):
        if earlier in times and later in times and times[later] < times[earlier]:
            bad(later, f"is before {earlier}")
    previous: int | None = None
    for i, entry in enumerate(doc["entries"]):
        if entry["index"] != i:
            bad(
                f"entries[{i}].index",
                f"expected {i} (indices count from 0 without gaps), got {entry['index']}",
            )
        t = ns(f"entries[{i}].time", entry["time"])
        if t is not None and previous is not None and t < previous:
            bad(f"entries[{i}].time", f"goes back in time (before entries[{i - 1}].time)")
        previous = t if t is not None else previous
        if entry["kind"] == "push_url" and not entry.get("url"):
            bad(f"entries[{i}].url", "a push_url entry needs the URL")
    for i, typing in enumerate(doc.get("typing", [])):
        ns(f"typing[{i}].time", typing["time"])
    limits = doc.get("thresholds")
    if limits and not limits["yellow_after"] < limits["red_after"]:
        bad("thresholds", "needs yellow_after < red_after")
    return out


def validate_transcript(data: Any, source: str = "", record: int = 1) -> TranscriptDoc:
    """A dict (or JSON text) → a checked ``TranscriptDoc``; ``TranscriptFileError`` if not."""
    try:
        if isinstance(data, str | bytes):
            doc = TRANSCRIPT_ADAPTER.validate_json(data)
        else:
            doc = TRANSCRIPT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise TranscriptFileError(problems_from_validation(exc, source, record)) from None
    problems = check_transcript(doc, source, record)
    if problems:
        raise TranscriptFileError(problems)
    return doc


# ----------------------------------------------------------------------------- files
def iter_records(path: str | Path) -> Iterator[tuple[int, str]]:
    """(1-based line, text) of each non-blank record; a ``.json`` file is one record."""
    p = Path(path)
    if p.suffix == ".json":
        yield 1, p.read_text(encoding="utf-8")
        return
    with p.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield number, line


def read_transcripts(path: str | Path, *, errors: Literal["raise", "skip"] = "raise") -> ReadResult:
    """Every transcript of a ``.json`` or ``.jsonl`` file.

    ``errors="raise"``: the first bad record raises ``TranscriptFileError``.
    ``errors="skip"``: valid records load; bad ones are listed in ``problems``.
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    result = ReadResult()
    seen: dict[str, int] = {}
    for number, text in iter_records(path):
        try:
            doc = validate_transcript(text, str(path), number)
            if doc["id"] in seen:
                raise TranscriptFileError(
                    [
                        Problem(
                            str(path),
                            number,
                            "id",
                            f"conversation {doc['id']!r} already appeared in record "
                            f"{seen[doc['id']]}",
                        )
                    ]
                )
        except TranscriptFileError as exc:
            if errors == "raise":
                raise
            result.problems.extend(exc.problems)
            continue
        seen[doc["id"]] = number
        result.transcripts.append(doc)
    return result


def read_transcript(path: str | Path, conversation: str | int | None = None) -> TranscriptDoc:
    """One transcript: the ``.json`` file's, or from a ``.jsonl`` by id or position."""
    docs = read_transcripts(path).transcripts
    if not docs:
        raise TranscriptFileError([Problem(str(path), 0, "", "the file holds no transcript")])
    if conversation is None:
        if len(docs) > 1:
            raise ValueError(f"{path} holds {len(docs)} transcripts; say which (id or position)")
        return docs[0]
    if isinstance(conversation, int):
        return docs[conversation]
    for doc in docs:
        if doc["id"] == conversation:
            return doc
    raise KeyError(f"no conversation {conversation!r} in {path}")


def dumps_transcript(doc: TranscriptDoc, *, indent: int | None = None) -> str:
    """JSON text of one transcript (compact for JSON Lines)."""
    separators = (",", ":") if indent is None else None
    return json.dumps(doc, ensure_ascii=False, indent=indent, separators=separators)


def write_transcript(path: str | Path, doc: TranscriptDoc) -> Path:
    """Write one transcript as a ``.json`` file."""
    p = Path(path)
    p.write_text(dumps_transcript(doc, indent=2) + "\n", encoding="utf-8")
    return p


def write_transcripts(path: str | Path, docs: Iterable[Mapping[str, Any]]) -> Path:
    """Write many transcripts as JSON Lines (one per line)."""
    p = Path(path)
    with p.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")
    return p


# ----------------------------------------------------------------------------- model ↔ file
def sender_to_doc(sender: Sender) -> SenderDoc:
    return {"role": cast(RoleName, str(sender.role)), "name": sender.name, "id": sender.id}


def entry_to_doc(entry: Entry, event: EventName | None = None) -> EntryDoc:
    doc: EntryDoc = {
        "index": entry.index,
        "time": format_utc(entry.time),
        "kind": cast(KindName, str(entry.kind)),
        "sender": sender_to_doc(entry.sender),
        "text": entry.text,
        "url": entry.url,
        "visibility": cast(VisibilityName, str(entry.visibility)),
        "client_id": entry.client_id,
    }
    if event is not None:
        doc["event"] = event
    if entry.code is not None:
        doc["code"] = entry.code
        doc["params"] = dict(entry.params or {})
    return doc


def entry_from_doc(doc: EntryDoc) -> Entry:
    sender = doc["sender"]
    return Entry(
        index=doc["index"],
        time=parse_utc(doc["time"]),
        kind=Kind(doc["kind"]),
        sender=Sender(Role(sender["role"]), sender["name"], sender.get("id", "")),
        text=doc["text"],
        url=doc.get("url"),
        visibility=Visibility(doc.get("visibility", "all")),
        client_id=doc.get("client_id"),
        code=doc.get("code"),
        params=dict(doc.get("params") or {}) if doc.get("code") else None,
    )


def contact_from_doc(doc: ContactDoc) -> ContactRecord:
    return ContactRecord(
        name=doc["name"],
        phones=tuple(doc.get("phones", ())),
        emails=tuple(doc.get("emails", ())),
        id=doc.get("id", "contact"),
    )


def left_notice_text(contact_name: str) -> str:
    """The notice ``ChatSession.contact_left`` appends (how an export finds ``left_at``)."""
    return notice("left", name=contact_name).text


def _utc_or_none(t: float | None) -> str | None:
    return None if t is None else format_utc(t)


def parties_of(agent: AgentDoc, contact: ContactDoc, entries: Iterable[EntryDoc]) -> list[PartyDoc]:
    """Everyone in the conversation, in order of appearance (agent and contact first)."""
    seen: dict[tuple[str, str], PartyDoc] = {}
    candidates: list[PartyDoc] = [
        {"role": "agent", "id": agent["id"], "name": agent["name"]},
        {"role": "contact", "id": contact.get("id", "contact"), "name": contact["name"]},
    ]
    candidates += [
        {"role": e["sender"]["role"], "id": e["sender"].get("id", ""), "name": e["sender"]["name"]}
        for e in entries
    ]
    for party in candidates:
        seen.setdefault((party["role"], party["id"]), party)
    return list(seen.values())


def transcript_from_session(session: ChatSession) -> TranscriptDoc:
    """Export a ``ChatSession`` (any state) in the transcript format.

    ``left_at`` comes from ``session.left_at`` when the model has it, else from
    the notice ``contact_left`` appends; that notice is tagged ``event: left``.
    """
    data = session.to_dict()
    left_at: float | None = getattr(session, "left_at", None)
    left_text = left_notice_text(session.contact.name)
    left_index: int | None = None
    for e in session.transcript:
        if e.kind is Kind.NOTICE and e.sender.role is Role.SYSTEM and e.text == left_text:
            left_index = e.index
            left_at = e.time if left_at is None else left_at
            break
    entries = [
        entry_to_doc(e, "left" if e.index == left_index else None) for e in session.transcript
    ]
    agent: AgentDoc = {"id": session.agent.id, "name": session.agent.name}
    contact = cast(ContactDoc, session.contact.to_dict())
    limits = session.config.thresholds
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "id": session.id,
        "state": cast(StateName, data["state"]),
        "agent": agent,
        "contact": contact,
        "parties": parties_of(agent, contact, entries),
        "offered_at": format_utc(session.offered_at),
        "accepted_at": _utc_or_none(session.accepted_at),
        "left_at": _utc_or_none(left_at),
        "ended_at": _utc_or_none(session.ended_at),
        "done_at": _utc_or_none(session.done_at),
        "disposition": session.disposition,
        "notes": list(session.notes),
        "thresholds": {
            "yellow_after": float(limits.yellow_after),
            "red_after": float(limits.red_after),
        },
        "entries": entries,
        "typing": [],
    }


# ----------------------------------------------------------------------------- GMS Chat API v2
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
