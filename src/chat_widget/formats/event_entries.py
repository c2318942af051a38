"""Conversation events → transcript entries: the one table of what each event shows.

Both readers of the server's events use it: the agent's live client
(``backends.agent_client``) for the entries it shows as they arrive, and the
export (``formats.event_transcript``) for a stored conversation. Each entry is
described from the neutral point of view (who did what); the live client words
a few events from its own side ("You took the chat over") before falling back
to this table. Time and client id come from the frame itself (``utcTime``,
``clientId``), never from the reader.

Team events (transfer, conference, consultation) are read from the raw frame
with defaults, so a field the protocol renames costs words, not the load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import protocol as p
from .notices import Notice, notice, push_url_notice, with_detail
from .transcript_file import EventName, KindName, VisibilityName


@dataclass(frozen=True, slots=True)
class EntryParts:
    """What one event shows: ``visibility`` None means the frame's own."""

    kind: KindName
    text: str | Notice
    url: str | None = None
    visibility: VisibilityName | None = None
    event: EventName | None = None


Describe = Callable[[p._Event, Mapping[str, Any]], EntryParts]
ENTRIES: dict[str, Describe] = {}


def describes(*types: str) -> Callable[[Describe], Describe]:
    """Register the description of one or more event types."""

    def register(describe: Describe) -> Describe:
        for kind in types:
            ENTRIES[kind] = describe
        return describe

    return register


def entry_parts(frame: p._Event, data: Mapping[str, Any] | None = None) -> EntryParts | None:
    """The entry ``frame`` shows, or None (typing, disposition, ...: no entry).
    ``data``: the raw frame, if at hand (team events read their fields from it)."""
    describe = ENTRIES.get(frame.type)
    if describe is None:
        return None
    return describe(frame, frame.model_dump(by_alias=True) if data is None else data)


def _get(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return value if isinstance(value, str) else default


def _text(data: Mapping[str, Any]) -> str:
    return _get(data, "text")


@describes("Message")
def _message(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    return EntryParts("message", _text(data))


@describes("PushUrl")
def _push_url(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    text, url = _text(data), _get(data, "url")
    return EntryParts("push_url", push_url_notice(text, url) or text, url=url)


@describes("Notice")
def _notice(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    return EntryParts("notice", _text(data))


@describes("ParticipantJoined")
def _joined(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    return EntryParts("notice", notice("joined", name=f.from_.nickname), event="joined")


@describes("ParticipantLeft")
def _left(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    return EntryParts("notice", notice("left", name=f.from_.nickname), event="left")


@describes("ChatEnded")
def _ended(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    if _get(data, "reason") == "idle":  # the server closed it (issue 16, GMS IdleClose)
        return EntryParts("notice", notice("idle_closed"), event="idle_close")
    return EntryParts("notice", notice("ended", name=f.from_.nickname))


@describes("IdleAlert")
def _idle_alert(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    seconds = data.get("closesIn", data.get("closes_in", 0))
    return EntryParts("notice", notice("idle_alert", seconds=seconds), event="idle_alert")


@describes("ConsultMessage")
def _consult(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    return EntryParts("consult", _text(data), visibility="agents")


@describes("ChatTransferred")
def _transferred(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    name = f.from_.nickname
    previous = data.get("previous")
    before = previous.get("nickname") if isinstance(previous, Mapping) else None
    took = (
        notice("took_over_from", name=name, previous=before)
        if before
        else notice("took_over", name=name)
    )
    return EntryParts("notice", took, event="transfer")


def _target(data: Mapping[str, Any]) -> str:
    return _get(data, "targetName", _get(data, "targetId"))


@describes("TransferRequested")
def _transfer_requested(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    name, note = f.from_.nickname, _get(data, "note")
    asked = with_detail("transfer_requested_by", note, "note", name=name, target=_target(data))
    return EntryParts("notice", asked)


@describes("InviteSent")
def _invite_sent(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    invited = notice("invited_by", name=f.from_.nickname, target=_target(data))
    return EntryParts("notice", invited)


def _not_done(code: str) -> Describe:
    """A transfer or invitation that did not happen, with the server's reason."""
    return lambda f, data: EntryParts("notice", notice(code, reason=_get(data, "reason", "?")))


describes("TransferDeclined")(_not_done("transfer_not_done"))
describes("InviteDeclined")(_not_done("invite_not_taken"))


@describes("ConsultationState")
def _consultation_state(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    status = _get(data, "status", _get(data, "state", "?"))
    medium = _get(data, "medium", "chat")
    state = notice("consultation_status", name=_target(data), medium=medium, status=status)
    return EntryParts("notice", state, visibility="agents")


# -- supervision (issue 14): agents-only, never for the contact ----------------------
@describes("CoachMessage")
def _coaching(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    return EntryParts("coaching", _text(data), visibility="agents", event="coaching")


@describes("MonitoringChanged")
def _monitoring(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    mode = _get(data, "mode", "silent")
    code = "monitor_stopped" if mode == "stopped" else f"monitor_{mode}"
    event: EventName = "monitor_stop" if mode == "stopped" else "monitor"
    return EntryParts("notice", notice(code, name=f.from_.nickname), None, "agents", event)


@describes("HelpFlagChanged")
def _help_flag(f: p._Event, data: Mapping[str, Any]) -> EntryParts:
    name = f.from_.nickname
    if data.get("raised"):
        said = with_detail("flag_raised", _get(data, "text"), "note", name=name)
        return EntryParts("notice", said, visibility="agents", event="flag_raised")
    lowered = notice("flag_lowered", name=name)
    return EntryParts("notice", lowered, visibility="agents", event="flag_lowered")
