"""The transcript format's shapes, checks and errors (``docs/transcript-format.md``).

Validation is pydantic v2 on ``TypedDict`` shapes (the Rust core parses and
checks each record without building Python model objects, so loading a
million entries stays close to a bare ``json.loads``), followed by a few
cross-field checks in plain Python. Errors name the file, the record (line)
and the field. Pure data: no I/O (``transcript_io``), no pandas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, NotRequired, get_args

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from .errors import ChatError
from .time_codec import ISO_UTC_PATTERN, parse_utc_ns
from .transcript import KindName, RoleName, VisibilityName

FORMAT_NAME: Final = "chat_widget.transcript"
FORMAT_VERSION: Final = 1

UtcTime = Annotated[str, StringConstraints(pattern=ISO_UTC_PATTERN)]
Index = Annotated[int, Field(strict=True, ge=0)]
Name = Annotated[str, StringConstraints(max_length=500)]
Seconds = Annotated[float, Field(gt=0, le=86_400)]
#: a class run's id (``docs/classroom.md``; ``RequestChat.classId`` on the wire)
CLASS_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"
ClassId = Annotated[str, StringConstraints(pattern=CLASS_ID_PATTERN)]

StateName = Literal[
    "offered", "accepted", "contact_left", "ended", "done", "declined", "ignored", "transferred"
]
EventName = Literal[
    "joined",
    "left",
    "transfer",
    "conference",
    # supervision (issue 14): monitoring started or switched mode, stopped, a coaching
    # line, the help flag raised or lowered
    "monitor",
    "monitor_stop",
    "coaching",
    "flag_raised",
    "flag_lowered",
    # the customer idle timers (issue 16): the alert, and the chat closed for idleness
    "idle_alert",
    "idle_close",
]
Scalar = str | int | float | bool | None

#: the vocabularies in order, for whoever lists them (analysis's categories)
STATES: tuple[str, ...] = get_args(StateName)
EVENTS: tuple[str, ...] = get_args(EventName)

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
    #: the standard response an agent's message started from (issue 16)
    response: NotRequired[str | None]


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
    #: the class run that created the conversation (issue 15); absent or null: none
    class_id: NotRequired[ClassId | None]


TRANSCRIPT_ADAPTER: TypeAdapter[TranscriptDoc] = TypeAdapter(TranscriptDoc)
#: entry kinds the contact may never see: their ``visibility`` must be ``agents``
AGENTS_ONLY_KINDS: Final = ("coaching",)
AGENTS_ONLY_MESSAGE: Final = "a {kind} entry is for agents only: visibility must be 'agents'"
LIFECYCLE = ("offered_at", "accepted_at", "left_at", "ended_at", "done_at")
#: lifecycle times that may not go back: (earlier, later)
LIFECYCLE_ORDER = (
    ("offered_at", "accepted_at"),
    ("accepted_at", "ended_at"),
    ("offered_at", "left_at"),
    ("offered_at", "ended_at"),
    ("ended_at", "done_at"),
    ("offered_at", "done_at"),
)


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
        if err["type"] == "string_pattern_mismatch" and err["loc"][-1:] == ("class_id",):
            message = "expected a class id: 1 to 64 letters, digits, '_' or '-'"
        elif err["type"] == "string_pattern_mismatch":
            message = "expected a UTC ISO-8601 time such as 2026-01-05T09:00:00Z"
        elif err["type"] == "extra_forbidden":
            message = "unknown field (not part of the transcript format)"
        inp = err.get("input")
        if err["type"] != "missing" and isinstance(inp, str | int | float | bool):
            message += f" (got {inp!r})"[:200]
        out.append(Problem(source, record, field_path(err["loc"]), message))
    return out


# ----------------------------------------------------------------------------- checks
def check_transcript(doc: TranscriptDoc, source: str = "", record: int = 1) -> list[Problem]:
    """Cross-field rules pydantic cannot express (``analysis.column_checks`` applies the
    same ones, vectorised): indices 0, 1, 2, ...; times valid and never going back;
    lifecycle in order; coaching only for agents."""
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
    for earlier, later in LIFECYCLE_ORDER:
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
        if entry["kind"] in AGENTS_ONLY_KINDS and entry.get("visibility", "all") != "agents":
            bad(f"entries[{i}].visibility", AGENTS_ONLY_MESSAGE.format(kind=entry["kind"]))
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
