"""``SessionCore``: what every part of a ``ChatSession`` builds on.

The chat's state and transcript, its listeners and its command queue, the
queries the view asks (timer colour, typing), and the one way entries are
made (``_append``, with the time rule of ``_now``). The agent's actions
(``session.py``) and the backend's reports (``session_input.py``) are layers
on top; nothing here does I/O or reads the wall clock but through ``clock``.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from ..formats.notices import Notice
from ..formats.transcript import AgentProfile, ContactRecord, Entry, Kind, Role, Sender, Visibility
from . import commands as cmd
from .clock import Clock
from .errors import ChatError, IllegalTransitionError, states_in_words
from .reply_timer import ReplyTimer, TimerColour
from .session_config import (
    MAX_MESSAGE_LENGTH,
    CallState,
    Connection,
    MessageTooLongError,
    SessionConfig,
    SessionState,
)

Listener = Callable[[str, Any], None]


class SessionCore:
    """State, observers and commands of one chat (see ``ChatSession``)."""

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
        # the agent's messages the server refused (never delivered): client id -> index
        self.refused: dict[str, int] = {}
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
        """Commands produced since the last call, oldest first (the backend pulls them;
        each is handed out once)."""
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

    def has_client_id(self, client_id: str | None) -> bool:
        """Is an entry with this client id already in the transcript? (idempotent resends)"""
        return client_id is not None and client_id in self._seen_client_ids

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
        """An agent action is allowed only in these states (a replay refuses them all)."""
        self._check_state(action, *allowed)

    def _check_state(self, action: str, *allowed: SessionState) -> None:
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
        response: str | None = None,
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
            response=response,
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
