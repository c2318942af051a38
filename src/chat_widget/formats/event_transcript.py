"""Protocol events → the transcript format: how a stored conversation is exported.

``transcript_from_events`` turns one conversation's event frames (as the
server stores them: ``StoredEvent`` rows whose ``body`` is the frame JSON, or
the frames a client received) into a ``TranscriptDoc``. It is pure data (no
I/O, no pandas), so the server, a CLI and ``chat_widget.analysis.load_store``
all export with the same mapping; ``docs/transcript-format.md`` ("From the
server database") documents it.

Event types this module does not know (the protocol grows) are skipped and
counted, never fatal; a known type whose body does not validate raises
``EventError`` naming the event.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from pydantic import ValidationError

from . import protocol as p
from .event_entries import EntryParts, entry_parts
from .notices import Notice
from .transcript_file import (
    FORMAT_NAME,
    FORMAT_VERSION,
    AgentDoc,
    ContactDoc,
    EntryDoc,
    EventName,
    PartyDoc,
    RoleName,
    Scalar,
    SenderDoc,
    StateName,
    TranscriptDoc,
    TypingDoc,
    field_path,
    format_utc,
)

ROLE_OF: dict[p.ParticipantType, RoleName] = {
    p.ParticipantType.CLIENT: "contact",
    p.ParticipantType.AGENT: "agent",
    p.ParticipantType.EXTERNAL: "external",
    p.ParticipantType.SYSTEM: "system",
    p.ParticipantType.SUPERVISOR: "supervisor",  # monitoring, coaching, barge-in (issue 14)
}
CUSTOMER_ID = "customer"  # the server's participant id of the customer


class EventLike(Protocol):
    """What is read of a stored event (``server.store.StoredEvent`` fits)."""

    @property
    def seq(self) -> int: ...

    @property
    def time(self) -> float: ...

    @property
    def body(self) -> str: ...


class EventError(ValueError):
    """A stored event of a known type whose frame does not validate."""

    def __init__(self, seq: int | None, field: str, message: str) -> None:
        self.seq = seq
        self.field = field
        self.message = message
        where = f"events[seq={seq}]" if seq is not None else "events[?]"
        self.where = f"{where}.{field}" if field else where
        super().__init__(f"{self.where}: {message}")


def transcript_from_events(
    conversation_id: str,
    events: Iterable[EventLike | Mapping[str, Any] | str],
    *,
    contact: Mapping[str, Any] | None = None,
    created: float | None = None,
    skipped: Counter[str] | None = None,
) -> TranscriptDoc:
    """One conversation's events (in ``seq`` order) → ``TranscriptDoc``.

    ``events``: stored events (``seq``, ``time`` in clock seconds, ``body`` the frame
    JSON) or bare frames (dicts or JSON text; their ``utcTime`` milliseconds give the
    time). ``contact``: the conversation's contact record as the server keeps it
    (``nickname``, ``email``, ``phone``, ``subject``, ``class``: the class run's id,
    exported as ``class_id``); ``created``: when the chat
    request arrived (used for ``offered_at`` when no customer join is stored).
    ``skipped``: counts the events of unknown types by type (they are left out).
    Raises ``EventError`` for an event of a known type that does not validate.
    """
    builder = _Builder(conversation_id)
    for item in events:
        seq, time, data = _unpack(item)
        kind = data.get("type")
        if not isinstance(kind, str) or kind not in p.EVENT_TYPES:
            if skipped is not None:
                skipped[str(kind)] += 1
            continue
        try:
            frame = p.EVENT_ADAPTER.validate_python(data)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise EventError(seq, field_path(err["loc"][1:]), str(err["msg"])) from None
        if time is None:
            time = frame.utc_time / 1000
        if not builder.add(frame, data, time) and skipped is not None:
            skipped[frame.type] += 1
    return builder.finish(contact, created)


def _unpack(item: EventLike | Mapping[str, Any] | str) -> tuple[int | None, float | None, Any]:
    if isinstance(item, Mapping):
        data: Any = item
        seq, time = item.get("seq"), None
        raw = None
    else:
        if isinstance(item, str):
            seq, time, raw = None, None, item
        else:
            seq, time, raw = item.seq, item.time, item.body
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise EventError(seq, "body", f"not valid JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise EventError(seq, "body", "the frame is not a JSON object")
    if seq is None and isinstance(data.get("seq"), int):
        seq = data["seq"]
    return (seq if isinstance(seq, int) else None), time, data


def _sender(who: p.Participant) -> SenderDoc:
    return {"role": ROLE_OF[who.type], "name": who.nickname, "id": who.participant_id}


class _Builder:
    """Collects one conversation's frames (in seq order) into the transcript shape."""

    def __init__(self, conversation_id: str) -> None:
        self.id = conversation_id
        self.entries: list[EntryDoc] = []
        self.typing: list[TypingDoc] = []
        self.customer: p.Participant | None = None
        self.agent: AgentDoc | None = None
        self.first_time: float | None = None
        self.offered_at: float | None = None
        self.accepted_at: float | None = None
        self.left_at: float | None = None
        self.ended_at: float | None = None
        self.done_at: float | None = None
        self.disposition: str | None = None
        self.notes: list[str] = []
        self.present: list[str] = []  # agents in the chat now

    def entry(self, time: float, who: p.Participant, frame: p._Event, parts: EntryParts) -> None:
        said = parts.text if isinstance(parts.text, Notice) else None
        doc: EntryDoc = {
            "index": len(self.entries),
            "time": format_utc(time),
            "kind": parts.kind,
            "sender": _sender(who),
            "text": said.text if said else str(parts.text),
            "url": parts.url,
            "visibility": parts.visibility or ("agents" if frame.visibility == "agents" else "all"),
            "client_id": frame.client_id,
        }
        if parts.event is not None:
            doc["event"] = parts.event
        if said is not None:
            doc["code"], doc["params"] = said.code, dict(said.params)
        if isinstance(frame, p.Message) and frame.response is not None:
            doc["response"] = frame.response  # the standard response it started from
        self.entries.append(doc)

    def add(self, f: p._Event, data: Mapping[str, Any], time: float) -> bool:
        """Map one frame; False: a known event type this mapping does not cover."""
        self.first_time = time if self.first_time is None else self.first_time
        track = _TRACKS.get(f.type)
        event = track(self, f, time) if track is not None else None
        parts = entry_parts(f, data)
        if parts is not None:
            self.entry(time, f.from_, f, replace(parts, event=event or parts.event))
        return track is not None or parts is not None

    # -- what the events change besides the entries (the transcript's header) --------
    def _joined(self, f: p._Event, time: float) -> EventName | None:
        who = f.from_
        if who.type is p.ParticipantType.CLIENT:
            self.customer = self.customer or who
            self.offered_at = time if self.offered_at is None else self.offered_at
        elif who.type is p.ParticipantType.AGENT:
            conference = bool(self.present) and who.participant_id not in self.present
            if self.accepted_at is None:
                self.accepted_at = time
                self.agent = {"id": who.participant_id, "name": who.nickname}
                conference = False
            self.present.append(who.participant_id)
            return "conference" if conference else None
        return None

    def _left(self, f: p._Event, time: float) -> None:
        who = f.from_
        if who.type is p.ParticipantType.CLIENT:
            self.left_at = time if self.left_at is None else self.left_at
            self.ended_at = time if self.ended_at is None else self.ended_at  # server: ended
        elif who.type is p.ParticipantType.AGENT and who.participant_id in self.present:
            self.present.remove(who.participant_id)

    def _ended(self, f: p._Event, time: float) -> None:
        self.ended_at = time if self.ended_at is None else self.ended_at

    def _done(self, f: p._Event, time: float) -> None:
        self.done_at = time if self.done_at is None else self.done_at

    def _disposition(self, f: p._Event, time: float) -> None:
        assert isinstance(f, p.DispositionSet)
        self.disposition = f.code

    def _note(self, f: p._Event, time: float) -> None:
        assert isinstance(f, p.NoteAdded)
        self.notes.append(f.text)

    def _typing(self, f: p._Event, time: float) -> None:
        who = f.from_
        self.typing.append(
            {
                "time": format_utc(time),
                "role": ROLE_OF[who.type],
                "typing": isinstance(f, p.TypingStarted),
                "id": who.participant_id,
            }
        )

    def _transferred(self, f: p._Event, time: float) -> None:
        self.present = [f.from_.participant_id]

    def finish(self, contact: Mapping[str, Any] | None, created: float | None) -> TranscriptDoc:
        info = dict(contact or {})
        name = str(info.get("nickname") or (self.customer.nickname if self.customer else ""))
        contact_doc: ContactDoc = {
            "name": name or "Customer",
            "phones": [str(info["phone"])] if info.get("phone") else [],
            "emails": [str(info["email"])] if info.get("email") else [],
            "id": self.customer.participant_id if self.customer else CUSTOMER_ID,
        }
        offered = self.offered_at
        if offered is None:
            offered = created if created is not None else self.first_time
        agent: AgentDoc = self.agent or {"id": "", "name": ""}
        state: StateName = "offered"
        if self.done_at is not None:
            state = "done"
        elif self.accepted_at is None and self.left_at is not None:
            state = "contact_left"  # abandoned in the queue
        elif self.ended_at is not None:
            state = "ended"
        elif self.accepted_at is not None:
            state = "accepted"
        doc: TranscriptDoc = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "id": self.id,
            "state": state,
            "agent": agent,
            "contact": contact_doc,
            "parties": self._parties(agent, contact_doc),
            "offered_at": format_utc(offered if offered is not None else 0.0),
            "accepted_at": _utc(self.accepted_at),
            "left_at": _utc(self.left_at),
            "ended_at": _utc(self.ended_at),
            "done_at": _utc(self.done_at),
            "disposition": self.disposition,
            "notes": self.notes,
            "thresholds": None,  # the server does not know the agents' thresholds
            "entries": self.entries,
            "typing": self.typing,
        }
        attributes: dict[str, Scalar] = {
            k: v for k, v in info.items() if k == "subject" and isinstance(v, str)
        }
        if attributes:
            doc["attributes"] = attributes
        class_id = info.get("class")  # the class run that created it (issue 15)
        if isinstance(class_id, str) and class_id:
            doc["class_id"] = class_id
        return doc

    def _parties(self, agent: AgentDoc, contact: ContactDoc) -> list[PartyDoc]:
        seen: dict[tuple[str, str], PartyDoc] = {}
        first: list[PartyDoc] = [{"role": "contact", "id": contact["id"], "name": contact["name"]}]
        if agent["id"]:
            first.insert(0, {"role": "agent", "id": agent["id"], "name": agent["name"]})
        later: list[PartyDoc] = [
            {"role": e["sender"]["role"], "id": e["sender"]["id"], "name": e["sender"]["name"]}
            for e in self.entries
            if e["sender"]["role"] != "system"
        ]
        for party in first + later:
            seen.setdefault((party["role"], party["id"]), party)
        return list(seen.values())


def _utc(t: float | None) -> str | None:
    return None if t is None else format_utc(t)


Track = Callable[[_Builder, p._Event, float], "EventName | None"]
#: event type -> what it changes in the transcript's header (its entry: ``ENTRIES``)
_TRACKS: dict[str, Track] = {
    "ParticipantJoined": _Builder._joined,
    "ParticipantLeft": _Builder._left,
    "ChatEnded": _Builder._ended,
    "ChatDone": _Builder._done,
    "DispositionSet": _Builder._disposition,
    "NoteAdded": _Builder._note,
    "TypingStarted": _Builder._typing,
    "TypingStopped": _Builder._typing,
    "ChatTransferred": _Builder._transferred,
}
