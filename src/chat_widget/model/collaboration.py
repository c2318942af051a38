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
from typing import TYPE_CHECKING, Any

from ..formats.notices import Notice, notice, with_detail
from ..formats.transcript import SYSTEM_SENDER, Entry, Kind, Role, Sender, Visibility
from . import commands as cmd
from .collab_types import (
    ChatTeam,
    Consultation,
    ConsultState,
    IncomingConsultation,
    IncomingMessage,
    Medium,
    Participant,
    ParticipantRole,
    PendingInvite,
    PendingTransfer,
    visible_to_contact,
)
from .consulted import ConsultedByColleagues
from .directory import DirectoryError, Presence, TargetKind
from .errors import ChatError, IllegalTransitionError
from .session import ChatSession, SessionState

if TYPE_CHECKING:
    from .desk import AgentDesk


__all__ = [
    "ChatTeam",
    "Collaboration",
    "ConsultState",
    "Consultation",
    "IncomingConsultation",
    "IncomingMessage",
    "Medium",
    "Participant",
    "ParticipantRole",
    "PendingInvite",
    "PendingTransfer",
    "visible_to_contact",
]


class Collaboration(ConsultedByColleagues):
    """Transfer, conference and consultation for every chat on one desk (and, from
    ``ConsultedByColleagues``, colleagues' consultations of this agent)."""

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
