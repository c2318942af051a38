"""Replay a stored transcript in the chat widget: moved to ``chat_widget.backends.replay``
(a replay is a backend); this name stays for notebooks and outside code."""

from __future__ import annotations

from .backends.replay import (
    RATES,
    ReplayBackend,
    ReplayClock,
    ReplayDesk,
    ReplayError,
    ReplaySession,
    TranscriptSource,
)

__all__ = [
    "RATES",
    "ReplayBackend",
    "ReplayClock",
    "ReplayDesk",
    "ReplayError",
    "ReplaySession",
    "TranscriptSource",
]
