"""The transcript file format, as one import path for notebooks and outside code.

The format now lives in small modules, each with one job:

* ``transcript_schema``: the shapes (pydantic on ``TypedDict``), checks and errors
* ``time_codec``: UTC ISO-8601 strings ↔ clock seconds, exact to the nanosecond
* ``transcript_io``: ``.json``/``.jsonl`` files
* ``entry_docs``: ``Entry``/``Sender``/``ContactRecord`` ↔ their file shapes
* ``gms_import``: Genesys GMS Chat API v2 transcripts
* ``chat_widget.model.export.transcript_from_session``: a session → a transcript
  (on the model's side: formats import no other layer; reached here lazily)

Documented in ``docs/transcript-format.md``.
"""

from __future__ import annotations

from typing import Any

from .entry_docs import (
    contact_from_doc,
    entry_from_doc,
    entry_to_doc,
    left_notice_text,
    sender_to_doc,
)
from .gms_import import (
    GMS_ADAPTER,
    GMS_ROLES,
    GMS_TYPES,
    GmsFrom,
    GmsMessageShape,
    GmsTranscript,
    import_gms,
)
from .time_codec import ISO_UTC_PATTERN, format_utc, format_utc_ns, parse_utc, parse_utc_ns
from .transcript import KindName, RoleName, VisibilityName
from .transcript_io import (
    ReadResult,
    dumps_transcript,
    iter_records,
    read_transcript,
    read_transcripts,
    write_transcript,
    write_transcripts,
)
from .transcript_schema import (
    FORMAT_NAME,
    FORMAT_VERSION,
    LIFECYCLE,
    TRANSCRIPT_ADAPTER,
    AgentDoc,
    ContactDoc,
    EntryDoc,
    EventName,
    Index,
    Name,
    PartyDoc,
    Problem,
    Scalar,
    Seconds,
    SenderDoc,
    StateName,
    ThresholdsDoc,
    TranscriptDoc,
    TranscriptFileError,
    TypingDoc,
    UtcTime,
    check_transcript,
    field_path,
    parties_of,
    problems_from_validation,
    validate_transcript,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "GMS_ADAPTER",
    "GMS_ROLES",
    "GMS_TYPES",
    "ISO_UTC_PATTERN",
    "LIFECYCLE",
    "TRANSCRIPT_ADAPTER",
    "AgentDoc",
    "ContactDoc",
    "EntryDoc",
    "EventName",
    "GmsFrom",
    "GmsMessageShape",
    "GmsTranscript",
    "Index",
    "KindName",
    "Name",
    "PartyDoc",
    "Problem",
    "ReadResult",
    "RoleName",
    "Scalar",
    "Seconds",
    "SenderDoc",
    "StateName",
    "ThresholdsDoc",
    "TranscriptDoc",
    "TranscriptFileError",
    "TypingDoc",
    "UtcTime",
    "VisibilityName",
    "check_transcript",
    "contact_from_doc",
    "dumps_transcript",
    "entry_from_doc",
    "entry_to_doc",
    "field_path",
    "format_utc",
    "format_utc_ns",
    "import_gms",
    "iter_records",
    "left_notice_text",
    "parse_utc",
    "parse_utc_ns",
    "parties_of",
    "problems_from_validation",
    "read_transcript",
    "read_transcripts",
    "sender_to_doc",
    "transcript_from_session",  # noqa: F822 (from __getattr__, lazily)
    "validate_transcript",
    "write_transcript",
    "write_transcripts",
]


def __getattr__(name: str) -> Any:
    """``transcript_from_session`` reads a ``ChatSession``, so it lives in
    ``chat_widget.model.export``; it is imported on first use, never at import."""
    if name == "transcript_from_session":
        from ..model.export import transcript_from_session

        return transcript_from_session
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
