"""Transcript entries ↔ their file shape: ``Entry``/``Sender``/``ContactRecord``
(clock seconds, enums) to ``EntryDoc``/``SenderDoc``/``ContactDoc`` (UTC strings,
plain words) and back, losslessly.
"""

from __future__ import annotations

from typing import cast

from .notices import notice
from .time_codec import format_utc, parse_utc
from .transcript import (
    ContactRecord,
    Entry,
    Kind,
    KindName,
    Role,
    RoleName,
    Sender,
    Visibility,
    VisibilityName,
)
from .transcript_schema import ContactDoc, EntryDoc, EventName, SenderDoc


def sender_to_doc(sender: Sender) -> SenderDoc:
    return {"role": cast(RoleName, str(sender.role)), "name": sender.name, "id": sender.id}


#: the event a supervision entry carries, by notice code (as the server's export tags it,
#: ``event_entries``), so a session's export and the server's agree (issue 14)
SUPERVISION_EVENTS: dict[str, EventName] = {
    "monitor_silent": "monitor",
    "monitor_coach": "monitor",
    "monitor_barge_in": "monitor",
    "monitor_stopped": "monitor_stop",
    "flag_raised": "flag_raised",
    "flag_raised_note": "flag_raised",
    "flag_lowered": "flag_lowered",
    # the customer idle timers (issue 16): tagged like the server's IdleAlert/ChatEnded
    "idle_alert": "idle_alert",
    "idle_closed": "idle_close",
}


def supervision_event(entry: Entry) -> EventName | None:
    """The supervision event of an entry (coaching, monitoring, help flag), else None."""
    if entry.kind is Kind.COACHING:
        return "coaching"
    return SUPERVISION_EVENTS.get(entry.code or "")


def entry_to_doc(entry: Entry, event: EventName | None = None) -> EntryDoc:
    """``event``: the entry's tag; a supervision entry gets its own when none is given."""
    event = event or supervision_event(entry)
    doc: EntryDoc = {
        "index": entry.index,
        "time": format_utc(entry.time),
        "kind": cast(KindName, str(entry.kind)),
        "sender": sender_to_doc(entry.sender),
        "text": entry.text,
        "url": entry.url,
        "visibility": cast(VisibilityName, str(entry.visibility)),
        "client_id": entry.client_id,
    }
    if event is not None:
        doc["event"] = event
    if entry.code is not None:
        doc["code"] = entry.code
        doc["params"] = dict(entry.params or {})
    if entry.response is not None:
        doc["response"] = entry.response
    return doc


def entry_from_doc(doc: EntryDoc) -> Entry:
    sender = doc["sender"]
    return Entry(
        index=doc["index"],
        time=parse_utc(doc["time"]),
        kind=Kind(doc["kind"]),
        sender=Sender(Role(sender["role"]), sender["name"], sender.get("id", "")),
        text=doc["text"],
        url=doc.get("url"),
        visibility=Visibility(doc.get("visibility", "all")),
        client_id=doc.get("client_id"),
        code=doc.get("code"),
        params=dict(doc.get("params") or {}) if doc.get("code") else None,
        response=doc.get("response"),
    )


def contact_from_doc(doc: ContactDoc) -> ContactRecord:
    return ContactRecord(
        name=doc["name"],
        phones=tuple(doc.get("phones", ())),
        emails=tuple(doc.get("emails", ())),
        id=doc.get("id", "contact"),
    )


def left_notice_text(contact_name: str) -> str:
    """The notice ``ChatSession.contact_left`` appends (how an export finds ``left_at``)."""
    return notice("left", name=contact_name).text
