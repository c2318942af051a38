"""A ``ChatSession`` → the transcript file format (``docs/transcript-format.md``).

Here, on the model's side, because it reads the session: the format itself
(``chat_widget.formats``) knows no other layer. The old import path
``chat_widget.formats.transcript_file.transcript_from_session`` still works.

    from chat_widget.model.export import transcript_from_session
    write_transcript("chat.json", transcript_from_session(session))
"""

from __future__ import annotations

from typing import cast

from ..formats.entry_docs import entry_to_doc, left_notice_text
from ..formats.time_codec import format_utc
from ..formats.transcript import Kind, Role, words
from ..formats.transcript_schema import (
    FORMAT_NAME,
    FORMAT_VERSION,
    AgentDoc,
    ContactDoc,
    StateName,
    TranscriptDoc,
    parties_of,
)
from .session import ChatSession, SessionState

words(SessionState, StateName)  # the file's states are the session's: fail at import if not


def _utc_or_none(t: float | None) -> str | None:
    return None if t is None else format_utc(t)


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
