"""The package's error base, here because every layer raises it (formats included).

``chat_widget.model.errors`` re-exports it; outside code keeps ``from chat_widget
import ChatError``.
"""

from __future__ import annotations


class ChatError(Exception):
    """Base of every error this package raises on purpose; ``code`` (one of
    ``ERROR_CODES``, or None) lets a view say it in the reader's language."""

    code: str | None = None

    def __init__(self, *args: object, code: str | None = None) -> None:
        super().__init__(*args)
        if code is not None:
            self.code = code
