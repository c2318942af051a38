"""Errors that name what was wrong and the state the machine was in."""

from __future__ import annotations


class ChatError(Exception):
    """Base of every error this package raises on purpose."""


class IllegalTransitionError(ChatError):
    """An action that the chat's current state does not allow."""

    def __init__(self, action: str, state: str, session_id: str, hint: str = "") -> None:
        self.action = action
        self.state = state
        self.session_id = session_id
        message = f"cannot {action} chat {session_id!r} in state {state!r}"
        super().__init__(f"{message}: {hint}" if hint else message)
