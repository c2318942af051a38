"""``SessionInput``: the one face through which a backend changes a chat.

``receive(event)`` takes a ``model.events`` event (what the contact, the
server, a colleague or a stored transcript says happened, at its time) and
applies it. The older ``receive_*`` methods and back doors (``contact_left``,
``add_entry``, ``hand_over``, ``resume_accepted``, ``append_entries``, ...)
stay as thin wrappers that build the event and call ``receive``, so the
README, notebooks and backends that use them keep working.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..formats.notices import Notice, notice
from ..formats.transcript import SYSTEM_SENDER, Entry, Kind, Role, Sender, Visibility
from . import events as ev
from .errors import ChatError
from .session_config import CallState, Connection, SessionState
from .session_core import SessionCore


class SessionInput(SessionCore):
    """Backend reports, applied as events (see ``model.events``)."""

    def receive(self, event: ev.SessionEvent) -> Entry | None:
        """Apply what the backend reports; returns the entry it added, if any.

        With ``event.at`` set, entries the event adds carry that time exactly."""
        if event.at is None:
            return self._apply(event)
        with self.stamped(event.at):
            return self._apply(event)

    # ------------------------------------------------------------ wrappers
    def receive_message(
        self, text: str, *, sender: Sender | None = None, client_id: str | None = None
    ) -> Entry | None:
        """A message from the contact (or, with ``sender``, another party) arrived.

        Duplicates (same ``client_id`` seen before) are dropped: resend-safe.
        (``receive(MessageReceived(...))``.)"""
        return self.receive(ev.MessageReceived(text=text, sender=sender, client_id=client_id))

    def receive_typing(self, typing: bool) -> None:
        """The contact started or stopped typing; their draft is never shown.
        (``receive(ContactTyping(...))``.)"""
        self.receive(ev.ContactTyping(typing=typing))

    def receive_notice(self, text: str | Notice) -> Entry:
        """A system notice: best a ``formats.notices.notice(...)`` (shown in the reader's
        language); a plain string is shown as it is. (``receive(NoticeReceived(...))``.)"""
        entry = self.receive(ev.NoticeReceived(text=text))
        assert entry is not None
        return entry

    def contact_left(self) -> None:
        """The contact closed the chat. (``receive(ContactLeft())``.)"""
        self.receive(ev.ContactLeft())

    def set_connection(self, status: Connection) -> None:
        """(``receive(ConnectionChanged(...))``.)"""
        self.receive(ev.ConnectionChanged(status=status))

    def mark_pending(self, client_id: str) -> None:
        """The backend has not delivered the agent's message (or pushed URL) with this
        client id yet (disconnected, or waiting for the server's acknowledgement): the
        view shows it as sending until ``acknowledge``. (``receive(MessagePending(...))``.)"""
        self.receive(ev.MessagePending(client_id=client_id))

    def acknowledge(self, client_id: str) -> None:
        """The message with this client id was delivered (the server acknowledged it).
        (``receive(MessageDelivered(...))``.)"""
        self.receive(ev.MessageDelivered(client_id=client_id))

    def refuse(self, client_id: str) -> None:
        """The server refused the message with this client id: it shows as not delivered.
        (``receive(MessageRefused(...))``.)"""
        self.receive(ev.MessageRefused(client_id=client_id))

    def set_call_state(self, state: CallState) -> None:
        """(``receive(CallStateChanged(...))``.)"""
        self.receive(ev.CallStateChanged(state=state))

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

        Used by ``model.collaboration``; duplicates by ``client_id`` are dropped.
        (``receive(EntryReceived(...))``.)"""
        return self.receive(
            ev.EntryReceived(
                kind=kind, sender=sender, text=text, visibility=visibility, client_id=client_id
            )
        )

    def hand_over(self, notice: str | Notice) -> None:
        """The chat left this agent: a transfer was accepted, or we left a conference.
        (``receive(HandedOver(...))``.)"""
        self.receive(ev.HandedOver(notice=notice))

    def resume_accepted(self, at: float | None = None, *, client_id_tag: str = "") -> None:
        """The backend reports this chat was accepted before (by this agent, e.g. in the
        kernel before a restart): offered → accepted at clock time ``at`` (default now),
        without an Accept command. The reply timer starts there, as at accept; the
        transcript the backend then replays runs through the reply rule as usual.

        ``client_id_tag`` goes into the client ids of messages sent from now on, so they
        never repeat the ids the earlier session used (the server drops repeats).
        (``receive(ResumedAccepted(...))``.)"""
        self.receive(ev.ResumedAccepted(at=at, client_id_tag=client_id_tag))

    def append_entries(self, entries: Sequence[Entry]) -> None:
        """Bulk-load history (replay, resume); indices must continue the transcript.
        (``receive(EntriesResumed(...))``.)"""
        self.receive(ev.EntriesResumed(entries=entries))

    # ------------------------------------------------------------ appliers
    def _apply(self, event: ev.SessionEvent) -> Entry | None:
        match event:
            case ev.MessageReceived():
                return self._on_message(event)
            case ev.EntryReceived():
                return self._on_entry(event)
            case ev.NoticeReceived():
                entry = self._append(Kind.NOTICE, SYSTEM_SENDER, event.text)
                self._changed()
                return entry
            case ev.ContactTyping():
                now = self.clock.now() if event.at is None else event.at
                self.contact_typing_until = (
                    now + self.config.typing_timeout if event.typing else None
                )
            case ev.ContactLeft():
                self._on_contact_left()
                return None
            case ev.IdleClosed():
                self._on_contact_left(notice("idle_closed"))
                return None
            case ev.ConnectionChanged():
                if event.status == self.connection:
                    return None
                self.connection = Connection(event.status)
            case ev.MessagePending():
                self._on_pending(event.client_id)
                return None
            case ev.MessageDelivered():
                if self.pending.pop(event.client_id, None) is None:
                    return None
            case ev.MessageRefused():
                index = self.pending.pop(event.client_id, None)
                if index is None:
                    index = next(
                        (e.index for e in self.transcript if e.client_id == event.client_id),
                        None,
                    )
                if index is None or event.client_id in self.refused:
                    return None
                self.refused[event.client_id] = index
            case ev.CallStateChanged():
                self.call_state = CallState(event.state)
            case ev.HandedOver():
                self._on_handed_over(event.notice)
            case ev.ResumedAccepted():
                self._check_state("resume", SessionState.OFFERED)
                self._start(self._now())
                self._client_id_tag = event.client_id_tag
            case ev.EntriesResumed():
                self._load(event.entries)
                return None
            case _:
                self._apply_recorded(event)
                return None
        self._changed()
        return None

    def _apply_recorded(self, event: ev.SessionEvent) -> None:
        """A stored transcript's facts (replay): no commands, no extra notices."""
        match event:
            case ev.EntryRecorded():
                entry = event.entry
                if entry.sender.role is Role.CONTACT and entry.kind is Kind.MESSAGE:
                    self.contact_typing_until = None
                if entry.sender.role is Role.AGENT and entry.kind in (Kind.MESSAGE, Kind.PUSH_URL):
                    self.agent_typing = False
                self._load([entry])
                return
            case ev.AgentTypingRecorded():
                self.agent_typing = event.typing
            case ev.ContactLeftRecorded():
                if self.state not in (SessionState.OFFERED, SessionState.ACCEPTED):
                    return
                self.state = SessionState.CONTACT_LEFT
                self.timer.stop(self._now())
                self.contact_typing_until = None
            case ev.EndRecorded():
                t = self._now()
                self.state = SessionState.ENDED
                self.ended_at = t
                self.timer.stop(t)
                self.contact_typing_until = None
                self.agent_typing = False
            case ev.DoneRecorded():
                self.state = SessionState.DONE
                self.done_at = self._now()
            case ev.WrapUpRecorded():
                self.disposition = event.disposition
                self.notes = list(event.notes)
            case ev.FinalStateRecorded():
                self.state = event.state
            case _:
                raise TypeError(
                    f"chat {self.id!r} (state {self.state}) cannot take a "
                    f"{type(event).__name__}: not a model.events event"
                )
        self._changed()

    def _on_message(self, event: ev.MessageReceived) -> Entry | None:
        if self.has_client_id(event.client_id):
            return None
        sender = event.sender or Sender(Role.CONTACT, self.contact.name, self.contact.id)
        if sender.role is Role.CONTACT:
            self.contact_typing_until = None
        entry = self._append(
            Kind.MESSAGE,
            sender,
            str(event.text),
            client_id=event.client_id,
            response=event.response,
        )
        self._changed()
        return entry

    def _on_entry(self, event: ev.EntryReceived) -> Entry | None:
        if self.has_client_id(event.client_id):
            return None
        text = event.text if isinstance(event.text, Notice) else str(event.text)
        entry = self._append(
            event.kind,
            event.sender,
            text,
            client_id=event.client_id,
            visibility=event.visibility,
        )
        self._changed()
        return entry

    def _on_contact_left(self, said: Notice | None = None) -> None:
        """The contact left (or, with ``said``, the chat closed for them: idle)."""
        if self.state in (SessionState.OFFERED, SessionState.ACCEPTED):
            now = self._now()
            self.state = SessionState.CONTACT_LEFT
            self.contact_has_left = True
            self.timer.stop(now)
            self.contact_typing_until = None
            left = said or notice("left", name=self.contact.name)
            self._append(Kind.NOTICE, SYSTEM_SENDER, left)
            self._changed()

    def _on_pending(self, client_id: str) -> None:
        if client_id in self.pending:
            return
        for entry in reversed(self.transcript):
            if entry.client_id == client_id:
                self.pending[client_id] = entry.index
                self._changed()
                return

    def _on_handed_over(self, text: str | Notice) -> None:
        self._check_state("hand over", SessionState.ACCEPTED, SessionState.CONTACT_LEFT)
        now = self._now()
        self.timer.stop(now)
        self.contact_typing_until = None
        self.agent_typing = False
        self.state = SessionState.TRANSFERRED
        self.ended_at = now
        self._append(Kind.NOTICE, SYSTEM_SENDER, text)

    def _start(self, t: float) -> None:
        """Offered → accepted at ``t``: the reply timer starts there."""
        self.state = SessionState.ACCEPTED
        self.accepted_at = t
        self.timer.start(t)

    def _load(self, entries: Sequence[Entry]) -> None:
        for e in entries:
            if e.index != len(self.transcript):
                raise ChatError(
                    f"entry index {e.index} does not continue transcript of length "
                    f"{len(self.transcript)}"
                )
            self._record(e)
        self._notify("entries", list(entries))
        self._changed()
