"""``ChatSession``: one customer chat as a sans-I/O state machine.

It takes events (the agent's actions, the backend's reports of what the
contact did) and the time from an injected clock, and produces state plus
commands for its backend. It never does I/O and never reads the wall clock.

Built in layers: ``session_core`` (state, listeners, commands, time rule),
``session_input`` (the backend's one input face, ``receive(event)``, and the
older ``receive_*`` wrappers), ``session_supervision`` (monitoring, coaching,
the help flag: issue 14) and here the agent's actions.

Lifecycle::

    offered ──accept──► accepted ──end──► ended ──mark_done──► done
       │ reject/ignore      │ contact leaves        ▲
       ▼                    ▼                       │
    declined/ignored     contact_left ──end─────────┘ (or mark_done)
"""

from __future__ import annotations

from ..formats.notices import notice, push_url_text
from ..formats.transcript import (
    SYSTEM_SENDER,
    AgentProfile,
    ContactRecord,
    Entry,
    Kind,
    Role,
    Visibility,
)
from . import commands as cmd
from .contact_history import SessionHistory
from .errors import ChatError, IllegalTransitionError
from .help_flag import HelpFlag
from .responses_use import ResponsesUse
from .session_config import (
    DEFAULT_DISPOSITION_CODES,
    MAX_MESSAGE_LENGTH,
    CallState,
    Connection,
    MessageTooLongError,
    SessionConfig,
    SessionState,
)
from .session_core import Listener
from .session_supervision import SessionSupervision
from .urls import validate_push_url

__all__ = [
    "DEFAULT_DISPOSITION_CODES",
    "MAX_MESSAGE_LENGTH",
    "CallState",
    "ChatSession",
    "Connection",
    "HelpFlag",
    "Listener",
    "MessageTooLongError",
    "SessionConfig",
    "SessionState",
]


class ChatSession(ResponsesUse, SessionSupervision, SessionHistory):
    """One chat between this agent and a contact.

    Listeners get ``(change, payload)``: ``"entries"`` with a list of new
    entries, ``"state"`` with None when anything else changed.
    """

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
        self._start(self._now())
        self._emit(cmd.Accept(self.id))
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

    def send(self, text: str, response: str | None = None) -> Entry:
        """Send a message to the contact; it counts as a reply. ``response``: the
        standard response it started from (``insert_response``), kept for analysis."""
        self._require("send a message in", SessionState.ACCEPTED)
        text = self._check_text(text)
        response = self._check_response(response)
        client_id = self._next_client_id()
        entry = self._append(
            Kind.MESSAGE, self._agent_sender(), text, client_id=client_id, response=response
        )
        if self.agent_typing:
            self.agent_typing = False
        self._emit(cmd.SendMessage(self.id, client_id, text, response))
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


_WRAP_UP_STATES = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT, SessionState.ENDED)
