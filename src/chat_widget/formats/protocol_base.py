"""The protocol's foundations: limits, field types, error codes, the frame base classes.

Split from ``formats.protocol`` (which re-exports everything): import from there.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
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


class _Shape(BaseModel):
    """A nested shape inside server frames (no version of its own)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class _ServerFrame(_Frame):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )
