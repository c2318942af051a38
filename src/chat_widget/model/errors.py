"""Errors that name what was wrong and the state the machine was in."""

from __future__ import annotations

from enum import Enum

from ..formats.errors import ChatError as ChatError  # its home is formats: every layer raises it

#: how a person reads a chat's (or a call's, a consultation's) state in a message
STATE_WORDS: dict[str, str] = {
    "waiting": "waiting for a chat",
    "offered": "offered and not yet accepted",
    "accepted": "accepted",
    "contact_left": "left by the contact",
    "ended": "ended",
    "done": "done",
    "declined": "rejected",
    "ignored": "ignored",
    "transferred": "handed over to someone else",
    "conference": "in a conference",
    "requested": "requested",
    "active": "active",
    "none": "not started",
    "dialing": "dialing",
    "connected": "connected",
}


def state_words(state: object) -> str:
    """A state in words ("left by the contact"), never an enum repr; accepts enum
    members, their values, and phrases such as "call dialing"."""
    raw = str(state.value) if isinstance(state, Enum) else str(state)
    if raw in STATE_WORDS:
        return STATE_WORDS[raw]
    head, _, rest = raw.partition(" ")
    if rest and rest in STATE_WORDS:  # "call dialing" -> "call dialing"
        return f"{head} {STATE_WORDS[rest]}"
    return raw.replace("_", " ")


def states_in_words(states: object) -> str:
    """Several states as "active or left by the contact"."""
    words = [state_words(s) for s in states]  # type: ignore[attr-defined]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


#: errors a person can cause from the view, by code: the widget shows each in its locale
#: (js/core/labels.ts ERROR_LABELS) and the English message otherwise
ERROR_CODES = frozenset(
    {
        "url_empty",
        "url_too_long",
        "url_scheme",
        "url_malformed",
        "message_empty",
        "message_too_long",
        "push_not_permitted",
        "disposition_required",
        "not_now",
    }
)


def error_code_of(exc: BaseException) -> str:
    """The exception's code if a view knows it (``ERROR_CODES``), else ""."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) and code in ERROR_CODES else ""


class IllegalTransitionError(ChatError):
    """An action that the chat's current state does not allow.

    ``state`` keeps the state's plain value ("contact_left"); the message names it in
    words ("cannot end chat 'c1': it is left by the contact")."""

    code: str | None = "not_now"

    def __init__(
        self, action: str, state: object, session_id: str, hint: str = "", *, code: str = "not_now"
    ) -> None:
        self.action = action
        self.state = str(state.value) if isinstance(state, Enum) else str(state)
        self.session_id = session_id
        message = f"cannot {action} chat {session_id!r}: it is {state_words(state)}"
        super().__init__(f"{message} ({hint})" if hint else message, code=code)
