"""The consulted side of F7 (real agents, issue 6): a colleague consults *this* agent
about their chat. The backend reports the request, its answers and messages; the
agent answers, declines, replies, hangs up and dismisses it. Part of
``Collaboration`` (``desk.collab.answer(...)`` and so on)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from . import commands as cmd
from .collab_types import ConsultState, IncomingConsultation, IncomingMessage, Medium
from .errors import ChatError, state_words
from .session_config import MAX_MESSAGE_LENGTH, MessageTooLongError

if TYPE_CHECKING:
    from .desk import AgentDesk


class ConsultedByColleagues:
    """Colleagues' consultations of this agent, by id (``incoming``)."""

    desk: AgentDesk
    incoming: dict[str, IncomingConsultation]
    _client_ids: itertools.count[int]

    def consultation_offered(
        self,
        session_id: str,
        consultation_id: str,
        from_id: str,
        from_name: str,
        medium: str,
        contact_name: str = "",
        *,
        expires_at: float | None = None,
    ) -> IncomingConsultation:
        """A colleague consults this agent (backend report); answer with ``answer``.
        ``expires_at``: clock time the request is withdrawn if nobody answers."""
        c = self.incoming.get(consultation_id)
        if c is None:
            state = ConsultState.RINGING if medium == "voice" else ConsultState.REQUESTED
            c = IncomingConsultation(
                consultation_id,
                session_id,
                from_id,
                from_name,
                contact_name,
                Medium(medium),
                state,
                offered_at=self.desk.clock.now(),
                expires_at=expires_at,
            )
            self.incoming[consultation_id] = c
            self._changed_incoming()
        return c

    def answer(self, consultation_id: str, accept: bool = True) -> None:
        """Take (or decline) a colleague's consultation."""
        c = self._incoming(consultation_id)
        if c.state not in (ConsultState.REQUESTED, ConsultState.RINGING):
            raise ChatError(f"the consultation is {state_words(c.state)}")
        self.desk.emit(cmd.AnswerConsultation(c.session_id, c.id, accept))

    def decline(self, consultation_id: str) -> None:
        """Refuse a colleague's consultation request."""
        self.answer(consultation_id, accept=False)

    def reply(self, consultation_id: str, text: str) -> None:
        """Write in a colleague's consultation by chat (never seen by their contact)."""
        c = self._incoming(consultation_id)
        if c.state is not ConsultState.ACTIVE or c.medium is not Medium.CHAT:
            raise ChatError("no consultation by chat is running")
        if not isinstance(text, str):
            raise TypeError(f"message text must be str, got {type(text).__name__}")
        text = text.strip()
        if not text:
            raise ChatError("message is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise MessageTooLongError(
                f"message has {len(text)} characters; the limit is {MAX_MESSAGE_LENGTH}"
            )
        client_id = f"{c.id}:{self.desk.agent.id}:reply-{next(self._client_ids)}"
        me = self.desk.agent.name
        c.messages.append(IncomingMessage(me, text, self.desk.clock.now(), mine=True))
        self.desk.emit(cmd.SendConsultMessage(c.session_id, c.id, client_id, text))
        self._changed_incoming()

    def hang_up(self, consultation_id: str) -> None:
        """End a colleague's consultation from this side."""
        c = self._incoming(consultation_id)
        if not c.state.terminal:
            self.desk.emit(cmd.EndConsultation(c.session_id, c.id))

    def dismiss(self, consultation_id: str) -> None:
        """Close a finished consultation in the view (it stays in ``incoming``)."""
        c = self._incoming(consultation_id)
        if not c.state.terminal:
            raise ChatError("the consultation is still running: hang up first")
        if not c.dismissed:
            c.dismissed = True
            self._changed_incoming()

    def incoming_view(self) -> list[dict[str, Any]]:
        """Colleagues' consultations of this agent the view shows, oldest first."""
        return [c.to_dict() for c in self.incoming.values() if not c.dismissed]

    def incoming_state(self, consultation_id: str, state: str, at: float | None = None) -> bool:
        """The consultation moved on (backend report); ``at``: when, in clock seconds."""
        c = self.incoming.get(consultation_id)
        if c is None or c.state.terminal or c.state == state:
            return False
        c.state = ConsultState(state)
        when = self.desk.clock.now() if at is None else at
        if c.state is ConsultState.ACTIVE and c.connected_at is None:
            c.connected_at = when
        elif c.state.terminal:
            c.ended_at = when
        self._changed_incoming()
        return True

    def incoming_message(
        self, consultation_id: str, sender_name: str, text: str, at: float | None = None
    ) -> bool:
        """A message from the colleague who consults this agent (backend report)."""
        c = self.incoming.get(consultation_id)
        if c is None:
            return False
        when = self.desk.clock.now() if at is None else at
        c.messages.append(IncomingMessage(sender_name, text, when))
        self._changed_incoming()
        return True

    def _incoming(self, consultation_id: str) -> IncomingConsultation:
        try:
            return self.incoming[consultation_id]
        except KeyError:
            raise ChatError(f"no consultation {consultation_id!r} for this agent") from None

    def _changed_incoming(self) -> None:
        self.desk._notify("consultations", None)
