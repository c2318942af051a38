"""Working with colleagues on a chat: transfer (F5), conference (F6), consultation (F7).

Sans-I/O like ``ChatSession``: the agent's actions change state at once and
emit commands (``model.commands``) through the desk; the backend reports
what the other side did through the ``*_accepted`` / ``*_joined`` /
``consultation_*`` methods. Reports that no longer apply (a transfer that was
cancelled meanwhile, a colleague who was never invited) are ignored and
return False, so a backend may deliver them late or twice.

Who sees what (SPEC 8, F7): consultation messages are ``Kind.CONSULT`` with
``Visibility.AGENTS`` and agents-only notices are ``Kind.NOTICE`` with
``Visibility.AGENTS``; ``visible_to_contact`` is the one rule a backend
applies before delivering an entry to the contact. None of them resets the
reply timer (``reply_timer.is_reply``).

Per chat::

    owner ─transfer(target)─► transfer pending ─accepted─► chat leaves this desk
                                     └─declined/cancel─► back to owner
    owner ─invite(colleague)─► invite pending ─joined─► conference (3 parties)
          conference ─colleague leaves─► owner alone again
          conference ─we leave─► colleague owns the chat, it leaves this desk
    owner ─consult(target, chat|voice)─► requested ─► (ringing) ─► active ─► ended
          consultation by chat with an agent ─► transfer or conference with them
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..formats.notices import Notice, notice, with_detail
from ..formats.transcript import SYSTEM_SENDER, Entry, Kind, Role, Sender, Visibility
from . import commands as cmd
from .directory import DirectoryError, Presence, TargetKind
from .errors import ChatError, IllegalTransitionError, state_words
from .session import MAX_MESSAGE_LENGTH, ChatSession, MessageTooLongError, SessionState

if TYPE_CHECKING:
    from .desk import AgentDesk


class ParticipantRole(StrEnum):
    OWNER = "owner"
    CONTACT = "contact"
    CONFERENCE = "conference"
    CONSULTANT = "consultant"


class Medium(StrEnum):
    CHAT = "chat"
    VOICE = "voice"


class ConsultState(StrEnum):
    REQUESTED = "requested"  # chat: asked; voice: dialing
    RINGING = "ringing"  # voice only
    ACTIVE = "active"  # chat: the colleague joined; voice: call connected
    ON_HOLD = "on_hold"  # voice only
    ENDED = "ended"
    DECLINED = "declined"  # not answered / refused

    @property
    def terminal(self) -> bool:
        return self in (ConsultState.ENDED, ConsultState.DECLINED)


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    name: str
    role: ParticipantRole
    kind: str  # "agent" | "contact" | "external"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": str(self.role), "kind": self.kind}


@dataclass(frozen=True, slots=True)
class PendingTransfer:
    target_kind: TargetKind
    target_id: str
    target_name: str
    note: str | None
    requested_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_kind": str(self.target_kind),
            "target_id": self.target_id,
            "target_name": self.target_name,
            "note": self.note,
            "requested_at_ms": self.requested_at * 1000.0,
        }


@dataclass(frozen=True, slots=True)
class PendingInvite:
    target_id: str
    target_name: str
    requested_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_id": self.target_id,
            "target_name": self.target_name,
            "requested_at_ms": self.requested_at * 1000.0,
        }


@dataclass(slots=True)
class Consultation:
    id: str
    target_kind: TargetKind
    target_id: str
    target_name: str
    medium: Medium
    state: ConsultState
    started_at: float
    connected_at: float | None = None
    ended_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target_kind": str(self.target_kind),
            "target_id": self.target_id,
            "target_name": self.target_name,
            "medium": str(self.medium),
            "state": str(self.state),
            "started_at_ms": _ms(self.started_at),
            "connected_at_ms": _ms(self.connected_at),
            "ended_at_ms": _ms(self.ended_at),
        }


@dataclass(slots=True)
class ChatTeam:
    """Who is in one chat besides the contact, and what is pending."""

    session_id: str
    owner: Participant | None
    contact: Participant
    conference: Participant | None = None
    invite: PendingInvite | None = None
    transfer: PendingTransfer | None = None
    consultation: Consultation | None = None
    consultations: list[Consultation] = field(default_factory=list)

    def participants(self) -> list[Participant]:
        out = [p for p in (self.owner, self.contact, self.conference) if p is not None]
        c = self.consultation
        if c is not None and not c.state.terminal:
            kind = "agent" if c.target_kind is TargetKind.AGENT else "external"
            out.append(Participant(c.target_id, c.target_name, ParticipantRole.CONSULTANT, kind))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": None if self.owner is None else self.owner.to_dict(),
            "participants": [p.to_dict() for p in self.participants()],
            "conference": None if self.conference is None else self.conference.to_dict(),
            "invite": None if self.invite is None else self.invite.to_dict(),
            "transfer": None if self.transfer is None else self.transfer.to_dict(),
            "consultation": None if self.consultation is None else self.consultation.to_dict(),
        }


def _ms(t: float | None) -> float | None:
    return None if t is None else t * 1000.0


def visible_to_contact(entry: Entry) -> bool:
    """May this entry be delivered to the contact? (Never a consultation message.)"""
    return entry.visibility is Visibility.ALL and entry.kind is not Kind.CONSULT


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message of a colleague's consultation, as the consulted agent sees it."""

    sender_name: str
    text: str
    at: float  # clock seconds (the server's time on the real server)
    mine: bool = False  # written by this agent

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.sender_name,
            "text": self.text,
            "t": self.at * 1000.0,
            "mine": self.mine,
        }


@dataclass(slots=True)
class IncomingConsultation:
    """A colleague consults *this* agent about their chat (real agents, issue 6).

    ``requested`` (chat) or ``ringing`` (voice) until this agent answers or declines;
    ``active`` once answered; ``ended`` / ``declined`` (refused or not answered in
    time). ``dismissed``: the agent closed the finished consultation in the view."""

    id: str
    session_id: str
    from_id: str
    from_name: str
    contact_name: str
    medium: Medium
    state: ConsultState
    messages: list[IncomingMessage] = field(default_factory=list)
    offered_at: float | None = None
    expires_at: float | None = None  # clock time the request is withdrawn unanswered
    connected_at: float | None = None
    ended_at: float | None = None
    dismissed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "from_id": self.from_id,
            "from_name": self.from_name,
            "contact_name": self.contact_name,
            "medium": str(self.medium),
            "state": str(self.state),
            "messages": [m.to_dict() for m in self.messages],
            "offered_at_ms": _ms(self.offered_at),
            "expires_at_ms": _ms(self.expires_at),
            "connected_at_ms": _ms(self.connected_at),
            "ended_at_ms": _ms(self.ended_at),
        }


class Collaboration:
    """Transfer, conference and consultation for every chat on one desk."""

    def __init__(self, desk: AgentDesk) -> None:
        self.desk = desk
        self.teams: dict[str, ChatTeam] = {}
        self.incoming: dict[str, IncomingConsultation] = {}
        self._ids = itertools.count(1)
        self._client_ids = itertools.count(1)
        desk.subscribe(self._on_desk)

    # -- queries -------------------------------------------------------------
    def team(self, session_id: str) -> ChatTeam:
        team = self.teams.get(session_id)
        if team is None:
            session = self._session(session_id)
            contact = Participant(
                session.contact.id, session.contact.name, ParticipantRole.CONTACT, "contact"
            )
            owner = self._me() if session.state is not SessionState.OFFERED else None
            team = self.teams[session_id] = ChatTeam(session_id, owner, contact)
        return team

    def view(self, session_id: str) -> dict[str, Any]:
        return self.team(session_id).to_dict()

    # -- agent acts: transfer (F5) -------------------------------------------
    def transfer(
        self, session_id: str, target_kind: str, target_id: str, note: str | None = None
    ) -> None:
        """Ask to hand the chat to an agent or a queue, with an optional note."""
        session, team = self._owned(session_id, "transfer")
        kind = TargetKind(target_kind)
        if kind is TargetKind.EXTERNAL:
            raise ChatError("a chat can be transferred to an agent or a queue, not outside")
        self._require_idle(team, "transfer", allow_consultation=True)
        if team.conference is not None:
            raise IllegalTransitionError(
                "transfer", "conference", session_id, "leave the conference instead"
            )
        name = self._target_name(kind, target_id)
        note = (note or "").strip() or None
        team.transfer = PendingTransfer(kind, target_id, name, note, self.desk.clock.now())
        self._agents_notice(session, notice("transfer_requested", name=name))
        self.desk.emit(cmd.RequestTransfer(session_id, str(kind), target_id, note))
        self._changed(session_id)

    def cancel_transfer(self, session_id: str) -> None:
        session, team = self._owned(session_id, "cancel a transfer")
        if team.transfer is None:
            raise ChatError("no transfer is pending")
        name = team.transfer.target_name
        team.transfer = None
        self._agents_notice(session, notice("transfer_cancelled", name=name))
        self.desk.emit(cmd.CancelTransfer(session_id))
        self._changed(session_id)

    # -- agent acts: conference (F6) -----------------------------------------
    def invite(self, session_id: str, colleague_id: str) -> None:
        """Invite a colleague into the chat: agent, contact and one more agent."""
        session, team = self._owned(session_id, "invite to a conference")
        self._require_idle(team, "invite", allow_consultation=True)
        if team.conference is not None:
            raise ChatError(f"{team.conference.name} is already in this chat")
        name = self._target_name(TargetKind.AGENT, colleague_id)
        team.invite = PendingInvite(colleague_id, name, self.desk.clock.now())
        self._agents_notice(session, notice("invited", name=name))
        self.desk.emit(cmd.InviteToConference(session_id, colleague_id))
        self._changed(session_id)

    def leave_conference(self, session_id: str) -> None:
        """This agent leaves. The owner leaving: the colleague owns the chat from now
        on; the invited colleague leaving: the owner keeps it (as on the server)."""
        session = self._session(session_id)
        if session.state is not SessionState.ACCEPTED:
            raise IllegalTransitionError(
                "leave the conference", str(session.state), session_id, "accept first"
            )
        team = self.team(session_id)
        if team.conference is None or team.owner is None:
            raise ChatError("there is no conference to leave; transfer the chat instead")
        me = self.desk.agent.id
        successor = team.conference if team.owner.id == me else team.owner
        self._close_consultation(session, team, emit=True)
        team.owner = Participant(successor.id, successor.name, ParticipantRole.OWNER, "agent")
        team.conference = None
        self.desk.emit(cmd.LeaveConference(session_id, successor.id))
        session.hand_over(
            notice("left_continues", name=self.desk.agent.name, successor=successor.name)
        )
        self._changed(session_id)

    # -- agent acts: consultation (F7) ---------------------------------------
    def consult(
        self, session_id: str, target_kind: str, target_id: str, medium: str = "chat"
    ) -> Consultation:
        """Start a consultation: by chat with an agent, by voice with an agent or external."""
        session, team = self._owned(session_id, "consult")
        kind, how = TargetKind(target_kind), Medium(medium)
        if kind is TargetKind.QUEUE:
            raise ChatError("consult an agent or an external contact, not a queue")
        if kind is TargetKind.EXTERNAL and how is Medium.CHAT:
            raise ChatError("external contacts can be consulted by voice only")
        if team.consultation is not None and not team.consultation.state.terminal:
            raise ChatError(f"a consultation with {team.consultation.target_name} is running")
        name = self._target_name(kind, target_id)
        cid = f"{session_id}/consult-{next(self._ids)}"
        c = Consultation(
            cid, kind, target_id, name, how, ConsultState.REQUESTED, self.desk.clock.now()
        )
        team.consultation = c
        team.consultations.append(c)
        code = "voice_consultation_started" if how is Medium.VOICE else "consultation_started"
        self._agents_notice(session, notice(code, name=name))
        self.desk.emit(cmd.StartConsultation(session_id, cid, str(kind), target_id, str(how)))
        self._changed(session_id)
        return c

    def consult_send(self, session_id: str, text: str) -> Entry:
        """A message in the consultation chat: agents only, never to the contact."""
        session, team = self._owned(session_id, "send a consultation message")
        c = team.consultation
        if c is None or c.state.terminal or c.medium is not Medium.CHAT:
            raise ChatError("no consultation by chat is running")
        text = session._check_text(text)
        client_id = f"{session_id}:{self.desk.agent.id}:consult-{next(self._client_ids)}"
        me = Sender(Role.AGENT, self.desk.agent.name, self.desk.agent.id)
        entry = session.add_entry(
            Kind.CONSULT, me, text, visibility=Visibility.AGENTS, client_id=client_id
        )
        assert entry is not None
        self.desk.emit(cmd.SendConsultMessage(session_id, c.id, client_id, text))
        self._changed(session_id)
        return entry

    def end_consultation(self, session_id: str) -> None:
        """End the consultation (hang up a voice consultation)."""
        session = self._session(session_id)
        team = self.team(session_id)
        c = team.consultation
        if c is None or c.state.terminal:
            raise ChatError("no consultation is running")
        self._close_consultation(session, team, emit=True)
        self._changed(session_id)

    def consultation_to_conference(self, session_id: str) -> None:
        """Bring the consulted colleague into the chat (the consultation ends)."""
        session, team, c = self._convertible(session_id, "turn into a conference")
        if team.conference is not None:
            raise ChatError(f"{team.conference.name} is already in this chat")
        self._end_locally(session, c, notice("consultation_to_conference", name=c.target_name))
        team.invite = PendingInvite(c.target_id, c.target_name, self.desk.clock.now())
        self.desk.emit(cmd.ConvertConsultation(session_id, c.id, "conference"))
        self._changed(session_id)

    def consultation_to_transfer(self, session_id: str, note: str | None = None) -> None:
        """Hand the chat to the consulted colleague (the consultation ends)."""
        session, team, c = self._convertible(session_id, "turn into a transfer")
        if team.conference is not None:
            raise IllegalTransitionError("transfer", "conference", session_id)
        note = (note or "").strip() or None
        self._end_locally(session, c, notice("consultation_to_transfer", name=c.target_name))
        team.transfer = PendingTransfer(
            TargetKind.AGENT, c.target_id, c.target_name, note, self.desk.clock.now()
        )
        self.desk.emit(cmd.ConvertConsultation(session_id, c.id, "transfer", note))
        self._changed(session_id)

    # -- backend reports -----------------------------------------------------
    def transfer_accepted(self, session_id: str, agent_id: str, name: str | None = None) -> bool:
        """The receiver accepted: the chat leaves this desk; the contact sees a notice."""
        session = self._session(session_id)
        team = self.team(session_id)
        t = team.transfer
        if t is None or session.state not in (SessionState.ACCEPTED, SessionState.CONTACT_LEFT):
            return False
        if t.target_kind is TargetKind.AGENT and t.target_id != agent_id:
            return False
        name = name or self._agent_name(agent_id)
        self._close_consultation(session, team, emit=True)
        team.transfer = None
        team.owner = Participant(agent_id, name, ParticipantRole.OWNER, "agent")
        session.hand_over(notice("transferred_to", name=name))
        self._changed(session_id)
        return True

    def transfer_declined(self, session_id: str, reason: str = "") -> bool:
        session = self._session(session_id)
        team = self.team(session_id)
        if team.transfer is None:
            return False
        name = team.transfer.target_name
        team.transfer = None
        self._agents_notice(session, with_detail("transfer_declined", reason, "reason", name=name))
        self._changed(session_id)
        return True

    def participant_joined(self, session_id: str, agent_id: str, name: str | None = None) -> bool:
        """The invited colleague joined the conference (everyone sees it)."""
        session = self._session(session_id)
        team = self.team(session_id)
        if team.invite is None or team.invite.target_id != agent_id or not session.active:
            return False
        name = name or team.invite.target_name
        team.invite = None
        team.conference = Participant(agent_id, name, ParticipantRole.CONFERENCE, "agent")
        session.receive_notice(notice("joined", name=name))
        self._changed(session_id)
        return True

    def invite_declined(self, session_id: str, reason: str = "") -> bool:
        session = self._session(session_id)
        team = self.team(session_id)
        if team.invite is None:
            return False
        name = team.invite.target_name
        team.invite = None
        self._agents_notice(session, with_detail("invite_declined", reason, "reason", name=name))
        self._changed(session_id)
        return True

    def participant_left(self, session_id: str, agent_id: str) -> bool:
        """An agent of the conference left the chat (everyone sees it): the colleague,
        or the owner (then the one who stays, this agent, owns it, as on the server)."""
        session = self._session(session_id)
        team = self.team(session_id)
        if team.conference is None or team.owner is None:
            return False
        if team.conference.id == agent_id:
            name = team.conference.name
        elif team.owner.id == agent_id and team.conference.id == self.desk.agent.id:
            name = team.owner.name
            team.owner = self._me()
        else:
            return False
        team.conference = None
        if session.state in (SessionState.ACCEPTED, SessionState.CONTACT_LEFT):
            session.receive_notice(notice("left", name=name))
        self._changed(session_id)
        return True

    def consultation_state(self, session_id: str, consultation_id: str, state: str) -> bool:
        """The consultation moved on (joined, ringing, connected, on hold, ended, declined)."""
        session = self._session(session_id)
        team = self.team(session_id)
        c = team.consultation
        new = ConsultState(state)
        if c is None or c.id != consultation_id or c.state.terminal or c.state is new:
            return False
        c.state = new
        now = self.desk.clock.now()
        if new is ConsultState.ACTIVE and c.connected_at is None:
            c.connected_at = now
            code = "consultation_connected" if c.medium is Medium.VOICE else "consultation_joined"
            self._agents_notice(session, notice(code, name=c.target_name))
        elif new.terminal:
            c.ended_at = now
            code = "consultation_no_answer" if new is ConsultState.DECLINED else "consultation_left"
            self._agents_notice(session, notice(code, name=c.target_name))
        self._changed(session_id)
        return True

    def consult_message(
        self,
        session_id: str,
        consultation_id: str,
        text: str,
        *,
        sender_id: str,
        sender_name: str,
        client_id: str | None = None,
    ) -> Entry | None:
        """A message from the consulted colleague (agents only)."""
        session = self._session(session_id)
        c = self.team(session_id).consultation
        if c is None or c.id != consultation_id or c.state.terminal:
            return None
        sender = Sender(Role.AGENT, sender_name, sender_id)
        entry = session.add_entry(
            Kind.CONSULT, sender, text, visibility=Visibility.AGENTS, client_id=client_id
        )
        self._changed(session_id)
        return entry

    # -- real colleagues (issue 6) ---------------------------------------------
    def joined_conference(self, session_id: str, other_id: str, other_name: str) -> bool:
        """This agent accepted a conference invitation: ``other`` is the colleague in the
        chat and keeps owning it, as the server says: every view shows the same owner
        (SPEC 9 "One truth for every view"). Either can leave; the other keeps the chat."""
        session = self._session(session_id)
        if not session.active:
            return False
        team = self.team(session_id)
        team.owner = Participant(other_id, other_name, ParticipantRole.OWNER, "agent")
        me = self.desk.agent
        team.conference = Participant(me.id, me.name, ParticipantRole.CONFERENCE, "agent")
        self._changed(session_id)
        return True

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

    # -- internal ------------------------------------------------------------
    def _on_desk(self, change: str, payload: Any) -> None:
        if change == "offer":  # offered (again, e.g. transferred back): who is in it is new
            self.teams.pop(payload.id, None)
            return
        if change != "session":
            return
        session: ChatSession = payload
        team = self.teams.get(session.id)
        if session.state is SessionState.ACCEPTED and (team is None or team.owner is None):
            self.team(session.id).owner = self._me()
            self._changed(session.id)
            return
        over = (SessionState.ENDED, SessionState.DONE)
        if team is None or session.state not in (*over, SessionState.CONTACT_LEFT):
            return
        changed = False
        if team.transfer is not None:  # nothing to hand over any more
            team.transfer = None
            self.desk.emit(cmd.CancelTransfer(session.id))
            changed = True
        if team.invite is not None:
            team.invite = None
            changed = True
        if session.state in over:  # the chat is over for everyone in it
            c = team.consultation
            if c is not None and not c.state.terminal:
                # no notice here: we are inside the session's own notification
                c.state, c.ended_at = ConsultState.ENDED, self.desk.clock.now()
                self.desk.emit(cmd.EndConsultation(session.id, c.id))
                changed = True
            if team.conference is not None:  # the chat ended for everyone
                team.conference = None
                changed = True
        if changed:
            self._changed(session.id)

    def _me(self) -> Participant:
        a = self.desk.agent
        return Participant(a.id, a.name, ParticipantRole.OWNER, "agent")

    def _session(self, session_id: str) -> ChatSession:
        try:
            return self.desk.sessions[session_id]
        except KeyError:
            raise ChatError(f"no chat {session_id!r} on this desk") from None

    def _owned(self, session_id: str, action: str) -> tuple[ChatSession, ChatTeam]:
        """The chat, if this agent owns it: only the owner hands over or consults."""
        session = self._session(session_id)
        if session.state is not SessionState.ACCEPTED:
            raise IllegalTransitionError(action, str(session.state), session_id, "accept first")
        team = self.team(session_id)
        if team.owner is not None and team.owner.id != self.desk.agent.id:
            raise ChatError(f"only the chat's owner ({team.owner.name}) can {action}")
        return session, team

    def _require_idle(self, team: ChatTeam, action: str, *, allow_consultation: bool) -> None:
        if team.transfer is not None:
            raise ChatError(
                f"cannot {action}: a transfer to {team.transfer.target_name} is pending"
            )
        if team.invite is not None:
            raise ChatError(f"cannot {action}: {team.invite.target_name} is invited")
        c = team.consultation
        if not allow_consultation and c is not None and not c.state.terminal:
            raise ChatError(f"cannot {action} during a consultation")

    def _target_name(self, kind: TargetKind, target_id: str) -> str:
        try:
            name = self.desk.directory.name_of(kind, target_id)
        except DirectoryError as exc:
            raise ChatError(str(exc)) from None
        if kind is TargetKind.AGENT:
            if target_id == self.desk.agent.id:
                raise ChatError("that is you")
            if self.desk.directory.agent(target_id).presence is Presence.OFFLINE:
                raise ChatError(f"{name} is offline")
        return name

    def _agent_name(self, agent_id: str) -> str:
        try:
            return self.desk.directory.agent(agent_id).name
        except DirectoryError:
            return agent_id

    def _convertible(
        self, session_id: str, action: str
    ) -> tuple[ChatSession, ChatTeam, Consultation]:
        session, team = self._owned(session_id, action)
        c = team.consultation
        if c is None or c.state.terminal or c.target_kind is not TargetKind.AGENT:
            raise ChatError(f"cannot {action}: no consultation with a colleague is running")
        self._require_idle(team, action, allow_consultation=True)
        return session, team, c

    def _close_consultation(self, session: ChatSession, team: ChatTeam, *, emit: bool) -> None:
        c = team.consultation
        if c is None or c.state.terminal:
            return
        self._end_locally(session, c, notice("consultation_ended", name=c.target_name))
        if emit:
            self.desk.emit(cmd.EndConsultation(session.id, c.id))

    def _end_locally(self, session: ChatSession, c: Consultation, text: Notice) -> None:
        c.state = ConsultState.ENDED
        c.ended_at = self.desk.clock.now()
        self._agents_notice(session, text)

    def _agents_notice(self, session: ChatSession, text: Notice) -> None:
        session.add_entry(Kind.NOTICE, SYSTEM_SENDER, text, visibility=Visibility.AGENTS)

    def _changed(self, session_id: str) -> None:
        self.desk._notify("collab", session_id)
