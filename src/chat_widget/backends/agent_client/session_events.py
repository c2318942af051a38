"""A conversation event → the chat session on this desk: one handler per event type.

The handlers speak from this desk's side (``mine``: this agent sent it,
``customer``: the contact did); whatever is not special here shows the entry
of the shared table (``formats.event_entries``), the one the export uses too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...formats import protocol as p
from ...formats.event_entries import EntryParts, entry_parts
from ...formats.notices import Notice, notice
from ...formats.transcript import Entry, Kind, Role, Sender
from ...model import events as ev
from ...model.session import ChatSession, SessionState

if TYPE_CHECKING:
    from .core import AgentClient


@dataclass(frozen=True, slots=True)
class Seen:
    """One conversation event as this desk sees it."""

    client: AgentClient
    session: ChatSession
    event: p._Event

    @property
    def sender(self) -> p.Participant:
        return self.event.from_

    @property
    def mine(self) -> bool:
        who = self.sender
        return who.type is p.ParticipantType.AGENT and who.participant_id == self.session.agent.id

    @property
    def customer(self) -> bool:
        return self.sender.type is p.ParticipantType.CLIENT

    @property
    def agent(self) -> bool:
        return self.sender.type is p.ParticipantType.AGENT

    def entry(self) -> EntryParts:
        """What the event shows, from the shared table."""
        parts = entry_parts(self.event)
        assert parts is not None, f"no entry for {self.event.type}"
        return parts

    def show_notice(self) -> None:
        """The event's notice (the shared table's) in the transcript."""
        text = self.entry().text
        self.session.receive_notice(text)

    @property
    def supervisor(self) -> bool:
        return self.sender.type is p.ParticipantType.SUPERVISOR

    @property
    def at(self) -> float:
        """The server's time of the event, in clock seconds."""
        return self.event.utc_time / 1000.0

    def sender_record(self) -> Sender:
        who = self.sender
        role = SENDER_ROLES.get(who.type, Role.EXTERNAL)
        return Sender(role, who.nickname, who.participant_id)


SENDER_ROLES = {p.ParticipantType.AGENT: Role.AGENT, p.ParticipantType.SUPERVISOR: Role.SUPERVISOR}


EVENTS: dict[type[p._Event], Callable[[Seen], None]] = {}


def event(*kinds: type[p._Event]) -> Callable[[Callable[[Seen], None]], Callable[[Seen], None]]:
    """Register the handler of one or more event types."""

    def register(handler: Callable[[Seen], None]) -> Callable[[Seen], None]:
        for kind in kinds:
            EVENTS[kind] = handler
        return handler

    return register


@event(p.ChatTransferred)
def _transferred(seen: Seen) -> None:
    e, session = seen.event, seen.session
    assert isinstance(e, p.ChatTransferred)
    if seen.mine:
        session.receive_notice(notice("you_took_over", previous=e.previous.nickname))
    elif e.previous.participant_id == session.agent.id:
        seen.client.lost.add(e.conversation)  # commands of this chat are no longer ours
        who, name = seen.sender.participant_id, seen.sender.nickname
        if session.state in (
            SessionState.ACCEPTED,
            SessionState.CONTACT_LEFT,
        ) and not seen.client.desk.collab.transfer_accepted(e.conversation, who, name):
            session.hand_over(notice("transferred_to", name=name))


@event(p.TransferDeclined)
def _transfer_declined(seen: Seen) -> None:
    e = seen.event
    assert isinstance(e, p.TransferDeclined)
    if not seen.mine:
        seen.client.desk.collab.transfer_declined(e.conversation, e.reason)


@event(p.InviteDeclined)
def _invite_declined(seen: Seen) -> None:
    e = seen.event
    assert isinstance(e, p.InviteDeclined)
    seen.client.desk.collab.invite_declined(e.conversation, e.reason)


@event(p.ConsultationState)
def _consultation_state(seen: Seen) -> None:
    e = seen.event
    assert isinstance(e, p.ConsultationState)
    if seen.mine and e.status == "requested":
        return
    seen.client.desk.collab.consultation_state(e.conversation, e.consultation, e.status)


@event(p.ConsultMessage)
def _consult_message(seen: Seen) -> None:
    e, sender = seen.event, seen.sender
    assert isinstance(e, p.ConsultMessage)
    if seen.mine and seen.session.has_client_id(e.client_id):
        return
    seen.client.desk.collab.consult_message(
        e.conversation,
        e.consultation,
        e.text,
        sender_id=sender.participant_id,
        sender_name=sender.nickname,
        client_id=e.client_id,
    )


@event(p.ParticipantJoined)
def _joined(seen: Seen) -> None:
    conv, session, sender = seen.event.conversation, seen.session, seen.sender
    if not seen.agent:
        if not seen.customer:
            seen.show_notice()
        return
    collab = seen.client.desk.collab
    if seen.mine:
        inviter = seen.client.offer_from.pop(conv, None)
        if inviter is not None and session.offer_kind == "conference":
            collab.joined_conference(conv, *inviter)
        seen.show_notice()  # the notice the customer reads, in the agent's transcript too
    elif not collab.participant_joined(conv, sender.participant_id, sender.nickname):
        seen.show_notice()


@event(p.ParticipantLeft)
def _left(seen: Seen) -> None:
    if seen.customer:
        seen.session.contact_left()
    elif not seen.agent:
        seen.show_notice()
    elif seen.mine:
        return  # we left (the model handed the chat over already)
    elif not seen.client.desk.collab.participant_left(
        seen.event.conversation, seen.sender.participant_id
    ):
        seen.show_notice()


@event(p.Message)
def _message(seen: Seen) -> None:
    e, session = seen.event, seen.session
    assert isinstance(e, p.Message)
    if seen.customer:
        session.receive_message(e.text, client_id=f"{e.conversation}#{e.seq}")
    elif not (seen.mine and session.has_client_id(e.client_id)):
        session.receive(
            ev.MessageReceived(
                text=e.text,
                sender=seen.sender_record(),
                client_id=e.client_id,
                response=e.response,  # the standard response it started from (issue 16)
            )
        )


@event(p.PushUrl)
def _push_url(seen: Seen) -> None:
    """A link pushed before a restart (ours: the model has it already otherwise)."""
    e, session = seen.event, seen.session
    if session.has_client_id(e.client_id):
        return
    parts = seen.entry()
    said = parts.text if isinstance(parts.text, Notice) else None
    entry = Entry(
        index=len(session.transcript),
        time=e.utc_time / 1000.0,
        kind=Kind(parts.kind),
        sender=seen.sender_record(),
        text=said.text if said else str(parts.text),
        url=parts.url,
        client_id=e.client_id,
        code=said.code if said else None,
        params=dict(said.params) if said else None,
    )
    session.append_entries([entry])


@event(p.TypingStarted, p.TypingStopped)
def _typing(seen: Seen) -> None:
    if seen.customer and seen.session.state is SessionState.ACCEPTED:
        seen.session.receive_typing(isinstance(seen.event, p.TypingStarted))


@event(p.Notice)
def _notice(seen: Seen) -> None:
    seen.show_notice()


@event(p.IdleAlert)
def _idle_alert(seen: Seen) -> None:
    seen.show_notice()  # the customer has been silent: the chat closes unless they write


@event(p.ChatEnded)
def _ended(seen: Seen) -> None:
    e = seen.event
    assert isinstance(e, p.ChatEnded)
    if e.reason == "idle":  # the server closed it (issue 16): wrap up as after a leaver
        seen.session.receive(ev.IdleClosed())
    elif not seen.mine:
        seen.show_notice()
    elif seen.session.state is SessionState.ACCEPTED:
        seen.session.end()  # we ended it before a restart (adopted); the server acks again


# -- supervision (issue 14): agents-only; the server sends them by their audience ----
# A supervisor's ParticipantJoined/ParticipantLeft (barge-in) are plain notices (the
# handlers above: not an agent, not the customer), and its Message is a message from a
# ``Role.SUPERVISOR`` sender, which answers the contact (it resets the reply timer).
@event(p.MonitoringChanged)
def _monitoring(seen: Seen) -> None:
    e = seen.event
    assert isinstance(e, p.MonitoringChanged)
    shown = e.shown or e.mode  # silent monitoring the server does not announce: "stopped"
    mode = None if shown == "stopped" else shown
    coach_left = shown == "stopped" and e.mode != "stopped"  # for this agent, the coach left
    seen.session.receive(
        ev.MonitoringSeen(
            mode=mode, supervisor=seen.sender.nickname, coach_left=coach_left, at=seen.at
        )
    )


@event(p.CoachMessage)
def _coaching(seen: Seen) -> None:
    e, session = seen.event, seen.session
    assert isinstance(e, p.CoachMessage)
    if seen.mine and session.has_client_id(e.client_id):
        return  # our own answer, echoed
    client_id = e.client_id or f"{e.conversation}#{e.seq}"
    coaching = ev.CoachingReceived(
        text=e.text, sender=seen.sender_record(), client_id=client_id, at=seen.at
    )
    session.receive(coaching)


@event(p.HelpFlagChanged)
def _help_flag(seen: Seen) -> None:
    e = seen.event
    assert isinstance(e, p.HelpFlagChanged)
    flag = ev.HelpFlagSeen(raised=e.raised, text=e.text, by=seen.sender.nickname, at=seen.at)
    seen.session.receive(flag)
