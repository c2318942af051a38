"""What a backend reports to a ``ChatSession``: plain data carrying its time.

The session's one input face is ``ChatSession.receive(event)`` (or
``AgentDesk.receive(chat_id, event)``), like websockets' ``receive_data``: a
backend turns what arrived (a protocol frame, a scripted customer's step, a
stored transcript's record) into one of these and feeds it in; the session
changes state and queues commands the backend pulls (``take_commands`` /
``AgentDesk.commands_to_send``).

``at`` is when it happened, in clock seconds; ``None`` means "now" on the
session's clock. Entries an event adds carry ``at`` exactly (the server's
stored time stays the same in every view, SPEC 9).

Live reports are what the other side did; the ``*Recorded`` events replay a
stored transcript (``backends.replay``): the facts as recorded, with no
commands and no extra notices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..formats.notices import Notice
from ..formats.transcript import Entry, Kind, Sender, Visibility
from .session_config import CallState, Connection, SessionState


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEvent:
    """Something the backend reports about one chat, at clock time ``at`` (None: now)."""

    at: float | None = None


# -- live: what the contact, the server or a colleague did -------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived(SessionEvent):
    """A message from the contact (or, with ``sender``, another party); a repeated
    ``client_id`` is dropped (resend-safe)."""

    text: str
    sender: Sender | None = None
    client_id: str | None = None
    response: str | None = None  # an agent's standard response it started from (issue 16)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactTyping(SessionEvent):
    """The contact started or stopped typing; expires ``typing_timeout`` after ``at``."""

    typing: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactLeft(SessionEvent):
    """The contact closed the chat (a notice says so)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IdleClosed(SessionEvent):
    """The chat was closed because the contact stayed silent (issue 16, the idle rule):
    as if the contact had left, with the ``idle_closed`` notice; the agent wraps up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeReceived(SessionEvent):
    """A system notice for everyone: best a ``formats.notices.notice(...)``."""

    text: str | Notice


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryReceived(SessionEvent):
    """A party's entry of any kind (consultation message, agents-only notice, ...);
    a repeated ``client_id`` is dropped."""

    kind: Kind
    sender: Sender
    text: str | Notice
    visibility: Visibility = Visibility.ALL
    client_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionChanged(SessionEvent):
    """The agent's connection went up or down (F12)."""

    status: Connection


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePending(SessionEvent):
    """The agent's message with this client id is not delivered yet (shown as sending)."""

    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDelivered(SessionEvent):
    """The agent's message with this client id was delivered (the server acknowledged)."""

    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRefused(SessionEvent):
    """The server refused the agent's message with this client id (it was not delivered
    and will not be retried): the view marks it "not delivered" instead of "sending…"."""

    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStateChanged(SessionEvent):
    """The simulated call moved on (F8)."""

    state: CallState


@dataclass(frozen=True, slots=True, kw_only=True)
class HandedOver(SessionEvent):
    """The chat left this agent (a transfer was accepted, or we left a conference)."""

    notice: str | Notice


# -- history: resuming a chat after a restart -------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ResumedAccepted(SessionEvent):
    """This agent accepted the chat before (e.g. before a kernel restart): accepted at
    ``at`` without an Accept command. ``client_id_tag`` keeps new client ids unique."""

    client_id_tag: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EntriesResumed(SessionEvent):
    """Earlier entries, loaded in bulk; their indices continue the transcript."""

    entries: Sequence[Entry]


# -- replay: a stored transcript's facts -------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class EntryRecorded(SessionEvent):
    """An entry as stored; like live, it ends the sender's typing."""

    entry: Entry


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentTypingRecorded(SessionEvent):
    """The agent was typing (or stopped) at ``at``."""

    typing: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactLeftRecorded(SessionEvent):
    """The contact left at ``at`` (the transcript holds the notice already)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EndRecorded(SessionEvent):
    """The agent ended the chat at ``at``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DoneRecorded(SessionEvent):
    """The agent finished wrap-up at ``at``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapUpRecorded(SessionEvent):
    """The disposition and notes the transcript ends with."""

    disposition: str | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FinalStateRecorded(SessionEvent):
    """How the chat ended when the file gives no time for it (declined, transferred, ...)."""

    state: SessionState


# -- supervision (issue 14): agents-only, never for the contact ----------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CoachingReceived(SessionEvent):
    """A coaching line (a ``coaching`` entry, agents-only, no reply-timer effect): from a
    supervisor (a ``Role.SUPERVISOR`` sender), or this agent's own answer read back; a
    repeated ``client_id`` is dropped."""

    text: str
    sender: Sender
    client_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitoringSeen(SessionEvent):
    """Supervisor ``supervisor`` now monitors the chat in ``mode`` ("silent", "coach",
    "barge_in"), or stopped (``mode`` None); an agents-only notice says so."""

    mode: str | None
    supervisor: str
    #: ``mode`` None because a coach went back to monitoring this agent may not know of:
    #: the notice says the coaching ended, not that monitoring did
    coach_left: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpFlagSeen(SessionEvent):
    """The chat's help flag went up (``raised``, with the agent's line ``text``) or down;
    ``by``: who did it (the agent, or the supervisor who lowered it)."""

    raised: bool
    text: str | None = None
    by: str
