"""Errors that name what was wrong and the state the machine was in."""

from __future__ import annotations

from enum import Enum

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


class ChatError(Exception):
    """Base of every error this package raises on purpose."""


class IllegalTransitionError(ChatError):
    """An action that the chat's current state does not allow.

    ``state`` keeps the state's plain value ("contact_left"); the message names it in
    words ("cannot end chat 'c1': it is left by the contact")."""

    def __init__(self, action: str, state: object, session_id: str, hint: str = "") -> None:
        self.action = action
        self.state = str(state.value) if isinstance(state, Enum) else str(state)
        self.session_id = session_id
        message = f"cannot {action} chat {session_id!r}: it is {state_words(state)}"
        super().__init__(f"{message} ({hint})" if hint else message)
