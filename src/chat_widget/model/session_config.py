"""The vocabulary of a chat: its states, its connection and call states, and what a
trainer tunes per chat (``SessionConfig``). Plain data, shared by the session,
its events and the desk."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ..formats.notices import DEFAULT_PUSH_URL_TEXT
from .errors import ChatError
from .reply_timer import Thresholds

MAX_MESSAGE_LENGTH = 4000


class SessionState(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    CONTACT_LEFT = "contact_left"
    ENDED = "ended"
    DONE = "done"
    DECLINED = "declined"
    IGNORED = "ignored"
    TRANSFERRED = "transferred"  # the chat left this agent (transfer, or left a conference)


class Connection(StrEnum):
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"


class CallState(StrEnum):
    NONE = "none"
    DIALING = "dialing"
    CONNECTED = "connected"
    ENDED = "ended"


DEFAULT_DISPOSITION_CODES = (
    "Resolved",
    "Follow-up needed",
    "Escalated",
    "Sale",
    "No action",
)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """What a trainer or prototyper tunes per chat."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    typing_timeout: float = 10.0
    disposition_codes: tuple[str, ...] = DEFAULT_DISPOSITION_CODES
    disposition_required: bool = False
    clickable_contact_details: bool = True
    push_url_text: str = DEFAULT_PUSH_URL_TEXT
    #: offers are accepted by the desk itself as they arrive (Genesys ``chat.auto-answer``)
    auto_answer: bool = False

    def __post_init__(self) -> None:
        if self.typing_timeout <= 0:
            raise ValueError(f"typing_timeout must be positive, got {self.typing_timeout!r}")


class MessageTooLongError(ChatError, ValueError):
    code = "message_too_long"
