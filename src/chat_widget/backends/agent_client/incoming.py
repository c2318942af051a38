"""Server frames → the desk: one handler per frame type.

Frames about the desk (acks, errors, offers, colleagues, IMs) have a handler in
``FRAMES``; conversation events go through the sequence guard (each ``seq``
once per chat) and then to ``EVENTS``, keyed by event type, which speak from
this desk's side (``mine``: this agent sent it; ``customer``: the contact did).
What an event shows in a transcript comes from the shared table
(``formats.event_entries``), the one the export uses too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ...formats import protocol as p
from ...formats.entry_docs import entry_from_doc
from ...formats.notices import notice
from ...formats.transcript import ContactRecord
from ...model.contact_history import HistoryItem
from ...model.directory import Colleague, Presence
from ...model.session import SessionState
from .session_events import EVENTS, Seen

if TYPE_CHECKING:
    from .core import AgentClient

OWNED_STATES = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT, SessionState.ENDED)
PRESENCE = {
    "ready": Presence.AVAILABLE,
    "not_ready": Presence.BUSY,
    "away": Presence.AWAY,
    "offline": Presence.OFFLINE,
}
F = TypeVar("F")
FRAMES: dict[type[Any], Callable[[AgentClient, Any], None]] = {}
HANDOVER_EVENTS = (
    p.ChatTransferred,
    p.TransferRequested,
    p.TransferDeclined,
    p.InviteSent,
    p.InviteDeclined,
    p.ConsultationState,
    p.ParticipantJoined,
    p.ParticipantLeft,
    p.ChatEnded,
)


def on(
    *kinds: type[F],
) -> Callable[[Callable[[AgentClient, F], None]], Callable[[AgentClient, F], None]]:
    """Register the handler of one or more frame types."""

    def register(handler: Callable[[AgentClient, F], None]) -> Callable[[AgentClient, F], None]:
        for kind in kinds:
            FRAMES[kind] = handler
        return handler

    return register


def receive(client: AgentClient, frame: p.ServerFrame) -> None:
    """Apply one frame from the server to the desk."""
    handler = FRAMES.get(type(frame))
    if handler is not None:
        handler(client, frame)
    elif p.is_event(frame):
        _event(client, frame)  # type: ignore[arg-type]


# -- the desk ------------------------------------------------------------------------
@on(p.Ack)
def _ack(client: AgentClient, frame: p.Ack) -> None:
    client.acked(frame.id)


@on(p.Error)
def _error(client: AgentClient, frame: p.Error) -> None:
    asked = client.history_requests.pop(frame.id or "", None)
    if asked is not None:  # a refused history transcript: the agent may ask again
        session = client.desk.sessions.get(asked[0])
        if session is not None:
            session.history_transcript_refused(asked[1])
    client.error(frame)


# -- the contact's history (issue 16) ----------------------------------------------------
@on(p.ContactHistory)
def _contact_history(client: AgentClient, frame: p.ContactHistory) -> None:
    session = client.desk.sessions.get(frame.conversation)
    if session is None or frame.conversation in client.lost:
        return
    session.set_history(
        HistoryItem(
            conversation=i.conversation,
            created=i.created / 1000.0,
            state=i.state,
            agent=None if i.agent is None else i.agent.nickname,
            disposition=i.disposition,
            notes=tuple(i.notes),
        )
        for i in frame.items
    )


@on(p.HistoryTranscript)
def _history_transcript(client: AgentClient, frame: p.HistoryTranscript) -> None:
    client.settle(frame.id)
    client.history_requests.pop(frame.id, None)
    session = client.desk.sessions.get(frame.conversation)
    if session is None:
        return
    entries = [entry_from_doc(e) for e in frame.transcript.get("entries", [])]
    session.set_history_transcript(frame.of, entries)


@on(p.Offer)
def _offer(client: AgentClient, frame: p.Offer) -> None:
    desk, conv = client.desk, frame.conversation
    existing = desk.sessions.get(conv)
    if existing is not None:
        if existing.state is SessionState.OFFERED:
            return
        if existing.state in OWNED_STATES and conv not in client.lost:
            return
        del desk.sessions[conv]  # offered again after a withdrawal
    client.lost.discard(conv)
    client.last_seq.pop(conv, None)  # a new session reads the chat from 1
    who = frame.from_agent
    client.history[conv] = frame.last_seq or 0
    if frame.kind == "conference" and who is not None:
        client.offer_from[conv] = (who.id, who.nickname)
    session = desk.offer(
        conv,
        contact_record(frame.contact),
        kind=frame.kind,
        note=frame.note,
        from_name=None if who is None else who.nickname,
        expires_at=frame.expires_at / 1000.0,
    )
    client.offered(session)


@on(p.OfferRevoked)
def _revoked(client: AgentClient, frame: p.OfferRevoked) -> None:
    session = client.desk.sessions.get(frame.conversation)
    if session is not None and session.state is SessionState.OFFERED:
        client.lost.add(session.id)
        session.receive_notice(notice("offer_withdrawn", reason=frame.reason))
        session.ignore()


@on(p.PresenceChanged)
def _presence(client: AgentClient, frame: p.PresenceChanged) -> None:
    directory = client.desk.directory
    if frame.agent in directory.agents:
        directory.set_presence(frame.agent, PRESENCE[frame.presence])
    elif frame.agent != client.desk.agent.id:  # a colleague who is new on the server
        new = Colleague(frame.agent, frame.nickname or frame.agent, (), PRESENCE[frame.presence])
        directory.load(
            [*directory.agents.values(), new],
            directory.queues.values(),
            directory.externals.values(),
        )


@on(p.ImMessage)
def _im(client: AgentClient, frame: p.ImMessage) -> None:
    if frame.im_id <= client.im_last:
        return
    client.im_last = frame.im_id
    if frame.from_.id == client.desk.agent.id:
        return  # our own message: already in the thread (or sent from another device)
    client.desk.team_im.receive(
        frame.from_.id,
        frame.from_.nickname,
        frame.text,
        client_id=f"{frame.from_.id}:{frame.client_id}",
    )


@on(p.ConsultationOffered)
def _consultation_offered(client: AgentClient, frame: p.ConsultationOffered) -> None:
    client.consulting.add(frame.conversation)
    client.desk.collab.consultation_offered(
        frame.conversation,
        frame.consultation,
        frame.from_agent.id,
        frame.from_agent.nickname,
        frame.medium,
        frame.contact.nickname,
        expires_at=frame.expires_at / 1000.0,
    )


def contact_record(c: p.ContactInfo) -> ContactRecord:
    """The server's contact info as the model's record."""
    return ContactRecord(
        name=c.nickname,
        phones=(c.phone,) if c.phone else (),
        emails=(c.email,) if c.email else (),
        id="customer",
    )


# -- conversation events -------------------------------------------------------------
def _event(client: AgentClient, event: p._Event) -> None:
    conv = event.conversation
    consultation = getattr(event, "consultation", None)
    if consultation is not None and consultation in client.desk.collab.incoming:
        # the consulted side counts each (chat, seq) once by itself. Once this agent
        # has a session of the chat (offered into it), its seq belongs to that session:
        # a live consultation event (sent after its commit) can overtake the offer
        # (pushed at once) and must not make the chat's history look seen
        if conv not in client.desk.sessions:
            client.last_seq[conv] = max(client.last_seq.get(conv, 0), event.seq)
        _consultant_event(client, event)  # type: ignore[arg-type]
        return
    if event.seq <= client.last_seq.get(conv, 0):
        client.duplicates += 1  # the server resends nothing twice; this is a guard
        return
    client.last_seq[conv] = event.seq
    session = client.desk.sessions.get(conv)
    if session is None or conv in client.lost:
        return
    if event.seq <= client.history.get(conv, 0) and isinstance(event, HANDOVER_EVENTS):
        return  # history from before this agent joined: it changes nothing here
    handler = EVENTS.get(type(event))
    if handler is None:
        return
    with session.stamped(event.utc_time / 1000.0):  # the server's time, in every view
        handler(Seen(client, session, event))


def _consultant_event(client: AgentClient, event: p.ConsultationState | p.ConsultMessage) -> None:
    """Events of a consultation this agent was asked for (the consultant's side), each
    (chat, seq) once."""
    collab = client.desk.collab
    key = (event.conversation, event.seq)
    if key in client.consultant_seen:
        return
    client.consultant_seen.add(key)
    at = event.utc_time / 1000.0  # the server's time (one truth for every view)
    if isinstance(event, p.ConsultationState):
        collab.incoming_state(event.consultation, event.status, at)
    elif event.from_.participant_id != client.desk.agent.id:
        collab.incoming_message(event.consultation, event.from_.nickname, event.text, at)
