"""``ChatSession``: one customer chat as a sans-I/O state machine.

It takes events (the agent's actions, the backend's reports of what the
contact did) and the time from an injected clock, and produces state plus
commands for its backend. It never does I/O and never reads the wall clock.

Lifecycle::

    offered ──accept──► accepted ──end──► ended ──mark_done──► done
       │ reject/ignore      │ contact leaves        ▲
       ▼                    ▼                       │
    declined/ignored     contact_left ──end─────────┘ (or mark_done)
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..formats.notices import DEFAULT_PUSH_URL_TEXT, Notice, notice, push_url_text
from ..formats.transcript import (
    SYSTEM_SENDER,
    AgentProfile,
    ContactRecord,
    Entry,
    Kind,
    Role,
    Sender,
    Visibility,
)
from . import commands as cmd
from .clock import Clock
from .errors import ChatError, IllegalTransitionError, states_in_words
from .reply_timer import ReplyTimer, Thresholds, TimerColour
from .urls import validate_push_url

MAX_MESSAGE_LENGTH = 4000


class SessionState(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    CONTACT_LEFT = "contact_left"
    ENDED = "ended"
    DONE = "done"
    DECLINED = "declined"
    IGNORED = "ignored"
    TRANSFERRED = "transferred"  # the chat left this agent (transfer, or left a conference)


class Connection(StrEnum):
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"


class CallState(StrEnum):
    NONE = "none"
    DIALING = "dialing"
    CONNECTED = "connected"
    ENDED = "ended"


DEFAULT_DISPOSITION_CODES = (
    "Resolved",
    "Follow-up needed",
    "Escalated",
    "Sale",
    "No action",
)


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """What a trainer or prototyper tunes per chat."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    typing_timeout: float = 10.0
    disposition_codes: tuple[str, ...] = DEFAULT_DISPOSITION_CODES
    disposition_required: bool = False
    clickable_contact_details: bool = True
    push_url_text: str = DEFAULT_PUSH_URL_TEXT

    def __post_init__(self) -> None:
        if self.typing_timeout <= 0:
            raise ValueError(f"typing_timeout must be positive, got {self.typing_timeout!r}")


class MessageTooLongError(ChatError, ValueError):
    code = "message_too_long"


Listener = Callable[[str, Any], None]


class ChatSession:
    """One chat between this agent and a contact.

    Listeners get ``(change, payload)``: ``"entries"`` with a list of new
    entries, ``"state"`` with None when anything else changed.
    """

    def __init__(
        self,
        session_id: str,
        contact: ContactRecord,
        clock: Clock,
        *,
        agent: AgentProfile | None = None,
        config: SessionConfig | None = None,
        url_recorder: Callable[[str], None] | None = None,
    ) -> None:
        self.id = session_id
        self.contact = contact
        self.clock = clock
        self.agent = agent or AgentProfile()
        self.config = config or SessionConfig()
        self.state = SessionState.OFFERED
        self.offered_at = clock.now()
        self.accepted_at: float | None = None
        self.ended_at: float | None = None
        self.done_at: float | None = None
        self.transcript: list[Entry] = []
        self.timer = ReplyTimer(self.config.thresholds)
        self.contact_typing_until: float | None = None
        self.agent_typing = False
        self.connection = Connection.CONNECTED
        # the contact left (stays True through End and Done: "Contact left" stays shown)
        self.contact_has_left = False
        # the agent's messages the backend holds, not yet acknowledged: client id -> index
        self.pending: dict[str, int] = {}
        self.disposition: str | None = None
        self.notes: list[str] = []
        self.call_state = CallState.NONE
        self.call_number: str | None = None
        self._url_recorder = url_recorder
        # how the chat came to this agent (issue 6): "chat", "transfer" or "conference"
        self.offer_kind = "chat"
        self.offer_note: str | None = None
        self.offer_from: str | None = None
        self.offer_expires_at: float | None = None  # clock time an unanswered offer moves on
        self._commands: list[cmd.Command] = []
        self._listeners: list[Listener] = []
        self._client_ids = itertools.count(1)
        self._seen_client_ids: set[str] = set()  # dedup of resends without scanning
        self._client_id_tag = ""
        self._stamp: float | None = None  # time for entries made now (see ``stamped``)

    # ------------------------------------------------------------------ observe
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def take_commands(self) -> list[cmd.Command]:
        """Commands produced since the last call, oldest first (the backend's inbox)."""
        out, self._commands = self._commands, []
        return out

    # ------------------------------------------------------------------ queries
    @property
    def active(self) -> bool:
        return self.state is SessionState.ACCEPTED

    def timer_colour(self, t: float | None = None) -> TimerColour:
        """Reply-reminder colour at clock time ``t`` (default: now)."""
        return self.timer.colour_at(self.clock.now() if t is None else t)

    def timer_blinking(self, t: float | None = None) -> bool:
        return self.timer_colour(t) is TimerColour.RED

    def contact_typing(self, t: float | None = None) -> bool:
        """Is the contact typing at ``t``? Expires by itself after ``typing_timeout``."""
        now = self.clock.now() if t is None else t
        return self.contact_typing_until is not None and now < self.contact_typing_until

    # ------------------------------------------------------------ prototyping
    def reconfigure(
        self,
        config: SessionConfig | None = None,
        *,
        agent: AgentProfile | None = None,
        contact: ContactRecord | None = None,
    ) -> None:
        """Swap settings on a live chat (thresholds, typing timeout, dispositions,
        permissions, contact record); the view redraws at once. A running typing
        notice keeps its deadline; the new timeout applies from the next one."""
        if config is not None:
            self.config = config
            self.timer.thresholds = config.thresholds
        if agent is not None:
            self.agent = agent
        if contact is not None:
            self.contact = contact
        self._changed()

    # ------------------------------------------------------------- agent acts
    def accept(self) -> None:
        self._require("accept", SessionState.OFFERED)
        now = self._now()
        self.state = SessionState.ACCEPTED
        self.accepted_at = now
        self.timer.start(now)
        self._emit(cmd.Accept(self.id))
        self._changed()

    def resume_accepted(self, at: float | None = None, *, client_id_tag: str = "") -> None:
        """The backend reports this chat was accepted before (by this agent, e.g. in the
        kernel before a restart): offered → accepted at clock time ``at`` (default now),
        without an Accept command. The reply timer starts there, as at accept; the
        transcript the backend then replays runs through the reply rule as usual.

        ``client_id_tag`` goes into the client ids of messages sent from now on, so they
        never repeat the ids the earlier session used (the server drops repeats)."""
        self._require("resume", SessionState.OFFERED)
        t = self._now() if at is None else at
        self.state = SessionState.ACCEPTED
        self.accepted_at = t
        self.timer.start(t)
        self._client_id_tag = client_id_tag
        self._changed()

    def reject(self) -> None:
        self._require("reject", SessionState.OFFERED)
        self.state = SessionState.DECLINED
        self._emit(cmd.Reject(self.id))
        self._changed()

    def ignore(self) -> None:
        self._require("ignore", SessionState.OFFERED)
        self.state = SessionState.IGNORED
        self._emit(cmd.Ignore(self.id))
        self._changed()

    def send(self, text: str) -> Entry:
        """Send a message to the contact; it counts as a reply."""
        self._require("send a message in", SessionState.ACCEPTED)
        text = self._check_text(text)
        client_id = self._next_client_id()
        entry = self._append(Kind.MESSAGE, self._agent_sender(), text, client_id=client_id)
        if self.agent_typing:
            self.agent_typing = False
        self._emit(cmd.SendMessage(self.id, client_id, text))
        self._changed()
        return entry

    def push_url(self, url: str) -> Entry:
        """Push a link (F15, F18); only http/https, only when permitted."""
        self._require("push a URL in", SessionState.ACCEPTED)
        if not self.agent.permissions.push_urls:
            raise ChatError(
                f"agent {self.agent.name!r} is not permitted to push URLs",
                code="push_not_permitted",
            )
        clean = validate_push_url(url)
        client_id = self._next_client_id()
        text = push_url_text(self.config.push_url_text, clean)
        entry = self._append(
            Kind.PUSH_URL, self._agent_sender(), text, url=clean, client_id=client_id
        )
        if self._url_recorder is not None:
            self._url_recorder(clean)
        self._emit(cmd.PushUrl(self.id, client_id, clean, entry.text))
        self._changed()
        return entry

    def set_agent_typing(self, typing: bool) -> None:
        """Our agent started/stopped typing: goes to the contact (F4)."""
        if self.state is not SessionState.ACCEPTED or typing == self.agent_typing:
            return
        self.agent_typing = typing
        self._emit(cmd.SetTyping(self.id, typing))
        self._changed()

    def set_disposition(self, code: str | None) -> None:
        """Choose a disposition code from the configured list (F9); None clears it."""
        self._require("set a disposition on", *_WRAP_UP_STATES)
        if code is not None and code not in self.config.disposition_codes:
            raise ChatError(
                f"unknown disposition code {code!r}; choose one of "
                f"{list(self.config.disposition_codes)}"
            )
        self.disposition = code
        self._emit(cmd.SetDisposition(self.id, code))
        self._changed()

    def add_note(self, text: str) -> None:
        """Add a wrap-up note (F9); notes are never shown to the contact."""
        self._require("add a note to", *_WRAP_UP_STATES)
        text = self._check_text(text)
        self.notes.append(text)
        self._emit(cmd.AddNote(self.id, text))
        self._changed()

    def end(self) -> None:
        """End the chat (F10); the contact is told."""
        self._require("end", SessionState.ACCEPTED, SessionState.CONTACT_LEFT)
        now = self._now()
        self.state = SessionState.ENDED
        self.ended_at = now
        self.timer.stop(now)
        self.contact_typing_until = None
        self.agent_typing = False
        self._append(Kind.NOTICE, SYSTEM_SENDER, notice("ended", name=self.agent.name))
        self._emit(cmd.End(self.id))
        self._changed()

    def mark_done(self) -> None:
        """Wrap-up finished (F10): the chat leaves the active list."""
        self._require("mark done", SessionState.ENDED, SessionState.CONTACT_LEFT)
        if self.config.disposition_required and self.disposition is None:
            raise IllegalTransitionError(
                "mark done",
                self.state,
                self.id,
                "choose a disposition code first",
                code="disposition_required",
            )
        now = self._now()
        if self.ended_at is None:
            self.ended_at = now
        self.state = SessionState.DONE
        self.done_at = now
        self._emit(cmd.MarkDone(self.id))
        self._changed()

    def call(self, number: str) -> None:
        """Start a simulated call to one of the contact's numbers (F8)."""
        if number not in self.contact.phones and number not in self.numbers_in_chat():
            raise ChatError(f"{number!r} is not a number of contact {self.contact.name!r}")
        if self.call_state in (CallState.DIALING, CallState.CONNECTED):
            raise IllegalTransitionError("start a call", f"call {self.call_state}", self.id)
        self.call_state = CallState.DIALING
        self.call_number = number
        # a trace in the transcript, for agents only (the contact sees the call, not this)
        self._append(
            Kind.NOTICE,
            SYSTEM_SENDER,
            notice("called", name=self.agent.name, number=number),
            visibility=Visibility.AGENTS,
        )
        self._emit(cmd.StartCall(self.id, number))
        self._changed()

    def hang_up(self) -> None:
        if self.call_state not in (CallState.DIALING, CallState.CONNECTED):
            raise IllegalTransitionError("hang up", f"call {self.call_state}", self.id)
        self.call_state = CallState.ENDED
        self._append(
            Kind.NOTICE,
            SYSTEM_SENDER,
            notice("call_ended", number=self.call_number),
            visibility=Visibility.AGENTS,
        )
        self._emit(cmd.HangUp(self.id))
        self._changed()

    def email(self, address: str) -> None:
        """The agent opened an e-mail draft to the contact (F8; the view opens the
        ``mailto:`` draft): a trace in the transcript, for agents only."""
        from .contact_details import find_emails

        if not self.agent.permissions.email_contact:
            raise ChatError(f"agent {self.agent.name!r} is not permitted to e-mail contacts")
        in_chat = [
            a for e in self.transcript if e.sender.role is Role.CONTACT for a in find_emails(e.text)
        ]
        if address not in self.contact.emails and address not in in_chat:
            raise ChatError(f"{address!r} is not an address of contact {self.contact.name!r}")
        self._append(
            Kind.NOTICE,
            SYSTEM_SENDER,
            notice("emailed", name=self.agent.name, address=address),
            visibility=Visibility.AGENTS,
        )
        self._changed()

    def numbers_in_chat(self) -> list[str]:
        from .contact_details import find_phone_numbers

        found: list[str] = []
        for e in self.transcript:
            if e.sender.role is Role.CONTACT:
                found.extend(n for n in find_phone_numbers(e.text) if n not in found)
        return found

    # ------------------------------------------------------- backend reports
    def receive_message(
        self, text: str, *, sender: Sender | None = None, client_id: str | None = None
    ) -> Entry | None:
        """A message from the contact (or, with ``sender``, another party) arrived.

        Duplicates (same ``client_id`` seen before) are dropped: resend-safe.
        """
        if self.has_client_id(client_id):
            return None
        sender = sender or Sender(Role.CONTACT, self.contact.name, self.contact.id)
        if sender.role is Role.CONTACT:
            self.contact_typing_until = None
        entry = self._append(Kind.MESSAGE, sender, str(text), client_id=client_id)
        self._changed()
        return entry

    def receive_typing(self, typing: bool) -> None:
        """The contact started or stopped typing; their draft is never shown."""
        if typing:
            self.contact_typing_until = self.clock.now() + self.config.typing_timeout
        else:
            self.contact_typing_until = None
        self._changed()

    def receive_notice(self, text: str | Notice) -> Entry:
        """A system notice: best a ``formats.notices.notice(...)`` (shown in the reader's
        language); a plain string is shown as it is."""
        entry = self._append(Kind.NOTICE, SYSTEM_SENDER, text)
        self._changed()
        return entry

    def contact_left(self) -> None:
        """The contact closed the chat."""
        if self.state in (SessionState.OFFERED, SessionState.ACCEPTED):
            now = self._now()
            self.state = SessionState.CONTACT_LEFT
            self.contact_has_left = True
            self.timer.stop(now)
            self.contact_typing_until = None
            self._append(Kind.NOTICE, SYSTEM_SENDER, notice("left", name=self.contact.name))
            self._changed()

    def set_connection(self, status: Connection) -> None:
        if status != self.connection:
            self.connection = Connection(status)
            self._changed()

    def mark_pending(self, client_id: str) -> None:
        """The backend has not delivered the agent's message (or pushed URL) with this
        client id yet (disconnected, or waiting for the server's acknowledgement): the
        view shows it as sending until ``acknowledge``."""
        if client_id in self.pending:
            return
        for entry in reversed(self.transcript):
            if entry.client_id == client_id:
                self.pending[client_id] = entry.index
                self._changed()
                return

    def acknowledge(self, client_id: str) -> None:
        """The message with this client id was delivered (the server acknowledged it)."""
        if self.pending.pop(client_id, None) is not None:
            self._changed()

    def set_call_state(self, state: CallState) -> None:
        self.call_state = CallState(state)
        self._changed()

    # ------------------------------------- working with colleagues (issue 4)
    def add_entry(
        self,
        kind: Kind,
        sender: Sender,
        text: str | Notice,
        *,
        visibility: Visibility = Visibility.ALL,
        client_id: str | None = None,
    ) -> Entry | None:
        """Append a party's entry (consultation message, agents-only notice, ...).

        Used by ``model.collaboration``; duplicates by ``client_id`` are dropped."""
        if self.has_client_id(client_id):
            return None
        if not isinstance(text, Notice):
            text = str(text)
        entry = self._append(kind, sender, text, client_id=client_id, visibility=visibility)
        self._changed()
        return entry

    def hand_over(self, notice: str | Notice) -> None:
        """The chat left this agent: a transfer was accepted, or we left a conference."""
        self._require("hand over", SessionState.ACCEPTED, SessionState.CONTACT_LEFT)
        now = self._now()
        self.timer.stop(now)
        self.contact_typing_until = None
        self.agent_typing = False
        self.state = SessionState.TRANSFERRED
        self.ended_at = now
        self._append(Kind.NOTICE, SYSTEM_SENDER, notice)
        self._changed()

    @contextlib.contextmanager
    def stamped(self, time: float) -> Iterator[None]:
        """Entries made inside carry ``time``, not the clock's now: a backend reporting an
        event the server stored at ``time`` (its ``utcTime``) keeps that time in every
        view, live, on resume and after a transfer (SPEC 9 "One truth for every view")."""
        previous, self._stamp = self._stamp, time
        try:
            yield
        finally:
            self._stamp = previous

    # ---------------------------------------------------------------- export
    def to_dict(self) -> dict[str, Any]:
        """The whole chat as plain data (the transcript format builds on this)."""
        return {
            "id": self.id,
            "state": str(self.state),
            "contact": self.contact.to_dict(),
            "agent": {"name": self.agent.name, "id": self.agent.id},
            "offered_at": self.offered_at,
            "accepted_at": self.accepted_at,
            "ended_at": self.ended_at,
            "done_at": self.done_at,
            "disposition": self.disposition,
            "notes": list(self.notes),
            "entries": [e.to_dict() for e in self.transcript],
        }

    # -------------------------------------------------------------- internal
    def _require(self, action: str, *allowed: SessionState) -> None:
        if self.state not in allowed:
            hint = "only when it is " + states_in_words(allowed)
            raise IllegalTransitionError(action, self.state, self.id, hint)

    def _check_text(self, text: str) -> str:
        if not isinstance(text, str):
            raise TypeError(f"message text must be str, got {type(text).__name__}")
        text = text.strip()
        if not text:
            raise ChatError("message is empty", code="message_empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise MessageTooLongError(
                f"message has {len(text)} characters; the limit is {MAX_MESSAGE_LENGTH}"
            )
        return text

    def _agent_sender(self) -> Sender:
        return Sender(Role.AGENT, self.agent.name, self.agent.id)

    def _next_client_id(self) -> str:
        return f"{self.id}:{self.agent.id}:{self._client_id_tag}{next(self._client_ids)}"

    def _append(
        self,
        kind: Kind,
        sender: Sender,
        text: str | Notice,
        *,
        url: str | None = None,
        client_id: str | None = None,
        visibility: Visibility = Visibility.ALL,
    ) -> Entry:
        code, params = None, None
        if isinstance(text, Notice):
            code, params, text = text.code, dict(text.params), text.text
        entry = Entry(
            index=len(self.transcript),
            time=self._now(),
            kind=kind,
            sender=sender,
            text=text,
            url=url,
            visibility=visibility,
            client_id=client_id,
            code=code,
            params=params,
        )
        self._record(entry)
        self._notify("entries", [entry])
        return entry

    def _now(self) -> float:
        """The time of an event happening now: the server's stored time inside
        ``stamped`` (kept exactly), else the clock's, but never before the last event
        the session saw. The kernel's and the server's clocks may disagree (another
        machine, a training clock on a live server): what the agent does lands after
        what they answer, and the reply timer never goes back."""
        if self._stamp is not None:
            return self._stamp
        latest = self.transcript[-1].time if self.transcript else float("-inf")
        return max(self.clock.now(), latest, self.timer.last_change)

    def has_client_id(self, client_id: str | None) -> bool:
        """Is an entry with this client id already in the transcript? (idempotent resends)"""
        return client_id is not None and client_id in self._seen_client_ids

    def _record(self, entry: Entry) -> None:
        self.transcript.append(entry)
        if entry.client_id is not None:
            self._seen_client_ids.add(entry.client_id)
        if self.state is SessionState.ACCEPTED:
            self.timer.observe(entry)

    def _emit(self, command: cmd.Command) -> None:
        self._commands.append(command)

    def _changed(self) -> None:
        self._notify("state", None)

    def _notify(self, change: str, payload: Any) -> None:
        for listener in list(self._listeners):
            listener(change, payload)

    def append_entries(self, entries: Sequence[Entry]) -> None:
        """Bulk-load history (replay, resume); indices must continue the transcript."""
        for e in entries:
            if e.index != len(self.transcript):
                raise ChatError(
                    f"entry index {e.index} does not continue transcript of length "
                    f"{len(self.transcript)}"
                )
            self._record(e)
        self._notify("entries", list(entries))
        self._changed()


_WRAP_UP_STATES = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT, SessionState.ENDED)
