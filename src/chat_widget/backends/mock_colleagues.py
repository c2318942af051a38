"""Mock colleagues: a small, editable team that answers on the virtual clock.

They accept transfers (when available), join conferences and write in the
chat, answer consultations by chat and by (simulated) voice, and answer team
IMs. Everything they do is scheduled on the backend's clock, so on a
``VirtualClock`` it happens inside ``advance()``, in order, never at once
inside the agent's own action.

Edit the team by passing your own lists to ``MockBackend(colleagues=...,
queues=..., externals=...)``, e.g.::

    MockColleague("c-lena", "Lena Hoffmann", skills=("billing",),
                  conference_greeting="Hi, Lena from billing here.")

The mock also keeps the ground truth a real server keeps (who owns a chat
after it left this desk, who is in which conference or consultation, what
the contact has received), so property-based tests can check the invariants.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..formats.transcript import Entry, Role, Sender
from ..model import commands as cmd
from ..model import events as ev
from ..model.clock import ScheduledCall
from ..model.collaboration import ConsultState, IncomingConsultation, visible_to_contact
from ..model.directory import Colleague, ExternalContact, Presence, Queue, TargetKind
from ..model.session import ChatSession

if TYPE_CHECKING:
    from .mock import MockBackend

QUEUE_RETRY_SECONDS = 10.0
RING_SECONDS = 1.0
NO_ANSWER_SECONDS = 8.0
REPLY_SECONDS = 3.0
CONSULT_TIMEOUT_SECONDS = 20.0  # a colleague's consultation request waits this long


@dataclass(frozen=True, slots=True)
class MockColleague:
    """One scripted colleague; every field may be edited by a trainer."""

    id: str
    name: str
    skills: tuple[str, ...] = ()
    presence: Presence = Presence.AVAILABLE
    answer_after: float = 2.0  # seconds to accept a transfer/invite or answer a consultation
    accepts_transfers: bool = True
    conference_greeting: str = "Hello, I'm joining to help you."
    consult_replies: tuple[str, ...] = (
        "Sure, what do you need?",
        "Yes, that is right. Go ahead.",
        "I can take it over if you like.",
    )
    im_replies: tuple[str, ...] = ("On it!", "Thanks, noted.", "Give me a minute.")
    # when this colleague consults the agent (``MockTeam.consult``): answers to the
    # agent's replies, in order (the last one repeats)
    consult_followups: tuple[str, ...] = (
        "Thanks, that helps.",
        "Got it, I'll tell the customer.",
        "Great, I'll take it from here.",
    )

    def listing(self) -> Colleague:
        return Colleague(self.id, self.name, self.skills, self.presence)


@dataclass(frozen=True, slots=True)
class MockExternal:
    id: str
    name: str
    phone: str
    organisation: str = ""
    answer_after: float = 4.0

    def listing(self) -> ExternalContact:
        return ExternalContact(self.id, self.name, self.phone, self.organisation)


DEFAULT_COLLEAGUES: tuple[MockColleague, ...] = (
    MockColleague(
        "c-lena",
        "Lena Hoffmann",
        ("billing", "refunds"),
        conference_greeting="Hi, Lena from billing here. I can see the double payment.",
        consult_replies=(
            "Sure, what's the case?",
            "Yes, refunds of double payments are fine, up to 500 EUR.",
            "Happy to join the chat if that helps.",
        ),
    ),
    MockColleague(
        "c-tobias",
        "Tobias Klein",
        ("technical", "network"),
        conference_greeting="Hello, Tobias from technical support. Let me look at your line.",
    ),
    MockColleague("c-sophie", "Sophie Wagner", ("sales", "contracts"), Presence.BUSY),
    MockColleague("c-markus", "Markus Braun", ("billing", "technical"), Presence.AWAY),
    MockColleague("c-eva", "Eva Richter", ("sales",), Presence.OFFLINE),
)
DEFAULT_QUEUES: tuple[Queue, ...] = (
    Queue("q-billing", "Billing", "billing"),
    Queue("q-technical", "Technical support", "technical"),
    Queue("q-sales", "Sales", "sales"),
)
DEFAULT_EXTERNALS: tuple[MockExternal, ...] = (
    MockExternal("x-brandt", "Dr. Ilse Brandt", "+49 30 5550100", "Kanzlei Brandt (legal)"),
    MockExternal("x-stadtwerke", "Stadtwerke hotline", "+49 30 5550199", "Stadtwerke Berlin"),
)


class MockTeam:
    """The mock colleagues of one ``MockBackend``."""

    def __init__(
        self,
        backend: MockBackend,
        colleagues: Iterable[MockColleague] | None = None,
        queues: Iterable[Queue] | None = None,
        externals: Iterable[MockExternal] | None = None,
    ) -> None:
        self.backend = backend
        self.desk = backend.desk
        self.clock = backend.clock
        self.colleagues = {
            c.id: c for c in (DEFAULT_COLLEAGUES if colleagues is None else colleagues)
        }
        self.queues = {q.id: q for q in (DEFAULT_QUEUES if queues is None else queues)}
        self.externals = {x.id: x for x in (DEFAULT_EXTERNALS if externals is None else externals)}
        self.desk.directory.load(
            [c.listing() for c in self.colleagues.values()],
            self.queues.values(),
            [x.listing() for x in self.externals.values()],
        )
        # ground truth, as a server would keep it
        self.owner_of: dict[str, str] = {}  # chats that left this desk → colleague owning them
        self.conference: dict[str, str] = {}  # chat → colleague in its conference
        self.consulting: dict[str, tuple[str, str]] = {}  # chat → (consultation id, target id)
        self.contact_received: dict[str, list[Entry]] = {}
        self.consulting_me: dict[str, _ConsultScript] = {}  # consultation id → who asks what
        self._consult_ids = itertools.count(1)
        self._timers: dict[tuple[str, str], ScheduledCall] = {}
        self._reply_counter: dict[tuple[str, str], itertools.count[int]] = {}
        self.desk.subscribe(self._on_desk)

    # -- trainer / test controls -------------------------------------------
    def set_presence(self, colleague_id: str, presence: Presence | str) -> None:
        c = self.colleagues[colleague_id]
        self.colleagues[colleague_id] = _replace(c, presence=Presence(presence))
        self.desk.directory.set_presence(colleague_id, presence)

    def leave_conference(self, session_id: str) -> None:
        """The colleague in the conference leaves the chat now."""
        colleague_id = self.conference.pop(session_id, None)
        if colleague_id is not None:
            self.desk.collab.participant_left(session_id, colleague_id)

    def say_in_chat(self, session_id: str, text: str) -> None:
        """The conference colleague writes to everyone in the chat."""
        colleague_id = self.conference.get(session_id)
        session = self.desk.sessions.get(session_id)
        if colleague_id is None or session is None or not session.active:
            raise LookupError(f"no colleague is in a conference on {session_id!r}")
        c = self.colleagues[colleague_id]
        session.receive(ev.MessageReceived(text=text, sender=Sender(Role.AGENT, c.name, c.id)))

    def send_im(self, colleague_id: str, text: str) -> None:
        """A colleague writes to this agent (F14)."""
        c = self.colleagues[colleague_id]
        self.desk.team_im.receive(c.id, c.name, text)

    def consult(
        self,
        colleague_id: str,
        text: str = "Do you have a minute? A customer asks about a refund.",
        *,
        medium: str = "chat",
        contact_name: str = "a customer",
        followups: Sequence[str] | None = None,
        timeout: float | None = CONSULT_TIMEOUT_SECONDS,
    ) -> IncomingConsultation:
        """A colleague consults this agent about one of *their* chats (F7, consulted side).

        The request shows in the agent's workspace (Answer / Decline); it is withdrawn
        after ``timeout`` seconds unanswered (``None``: it waits). Answered by chat, the
        colleague's ``text`` arrives at once and each reply of the agent is answered
        after ``REPLY_SECONDS`` on the clock with the next of ``followups`` (default:
        the colleague's ``consult_followups``); by voice it is a simulated call.
        ``hang_up(id)`` makes the colleague end it."""
        c = self.colleagues[colleague_id]
        if c.presence is Presence.OFFLINE:
            raise ValueError(f"{c.name} is offline")
        if medium not in ("chat", "voice"):
            raise ValueError(f"medium must be 'chat' or 'voice', got {medium!r}")
        n = next(self._consult_ids)
        sid = f"{c.id}:chat-{n}"  # the colleague's chat: never on this desk
        cid = f"{sid}/consult-{n}"
        lines = tuple(c.consult_followups if followups is None else followups)
        self.consulting_me[cid] = _ConsultScript(c.id, text, lines)
        expires = None if timeout is None else self.clock.now() + timeout
        incoming = self.desk.collab.consultation_offered(
            sid, cid, c.id, c.name, medium, contact_name, expires_at=expires
        )
        if timeout is not None:
            self._later(cid, "asked", timeout, lambda: self._withdraw(cid))
        return incoming

    def hang_up(self, consultation_id: str) -> None:
        """The colleague who consults this agent ends the consultation now."""
        script = self.consulting_me.get(consultation_id)
        if script is None or script.over:
            raise LookupError(f"no colleague consults you with {consultation_id!r}")
        self._consult_over(consultation_id, ConsultState.ENDED)

    # -- commands ----------------------------------------------------------
    def handle(self, command: cmd.Command) -> bool:
        """Perform a collaboration command; False for commands this team does not handle."""
        sid = command.session_id
        cid = getattr(command, "consultation_id", None)
        if cid is not None and cid in self.consulting_me:
            self._consulted(command)
        elif isinstance(command, cmd.RequestTransfer):
            self._start_transfer(sid, TargetKind(command.target_kind), command.target_id)
        elif isinstance(command, cmd.CancelTransfer):
            self._cancel(sid, "transfer")
        elif isinstance(command, cmd.InviteToConference):
            self._start_invite(sid, command.target_id)
        elif isinstance(command, cmd.LeaveConference):
            self.conference.pop(sid, None)
            self.owner_of[sid] = command.successor_id
            self._stop_customer(sid)
        elif isinstance(command, cmd.StartConsultation):
            self._start_consultation(command)
        elif isinstance(command, cmd.SendConsultMessage):
            self._consult_reply(sid, command.consultation_id)
        elif isinstance(command, cmd.EndConsultation):
            if self.consulting.get(sid, ("",))[0] == command.consultation_id:
                del self.consulting[sid]
            self._cancel(sid, "consult")
        elif isinstance(command, cmd.ConvertConsultation):
            self._convert(command)
        elif isinstance(command, cmd.SendIm):
            self._im_reply(command.colleague_id)
        elif isinstance(command, cmd.MarkImRead):
            pass
        else:
            if isinstance(command, cmd.End | cmd.MarkDone):  # the chat is over for everyone
                self.conference.pop(sid, None)
                self.consulting.pop(sid, None)
                for kind in ("transfer", "invite", "consult", "greet"):
                    self._cancel(sid, kind)
            return False
        return True

    # -- transfer ----------------------------------------------------------
    def _start_transfer(
        self, sid: str, kind: TargetKind, target_id: str, delay: float | None = None
    ) -> None:
        if kind is TargetKind.QUEUE:
            self._later(sid, "transfer", delay or 0.0, lambda: self._route_queue(sid, target_id))
            return
        c = self.colleagues[target_id]
        wait = c.answer_after if delay is None else delay
        self._later(sid, "transfer", wait, lambda: self._answer_transfer(sid, c))

    def _answer_transfer(self, sid: str, c: MockColleague) -> None:
        c = self.colleagues[c.id]
        if c.presence is not Presence.AVAILABLE or not c.accepts_transfers:
            self.desk.collab.transfer_declined(sid, f"{c.name} is {c.presence}")
        elif self.desk.collab.transfer_accepted(sid, c.id, c.name):
            self._took_over(sid, c.id)

    def _route_queue(self, sid: str, queue_id: str) -> None:
        ready = self.desk.directory.ready_for(self.queues[queue_id].skill)
        ready = [a for a in ready if self.colleagues[a.id].accepts_transfers]
        if not ready:  # nobody ready: the chat waits in the queue
            retry = lambda: self._route_queue(sid, queue_id)  # noqa: E731
            self._later(sid, "transfer", QUEUE_RETRY_SECONDS, retry)
            return
        c = self.colleagues[ready[0].id]
        self._later(sid, "transfer", c.answer_after, lambda: self._accept_from_queue(sid, c))

    def _accept_from_queue(self, sid: str, c: MockColleague) -> None:
        if self.desk.collab.transfer_accepted(sid, c.id, c.name):
            self._took_over(sid, c.id)

    def _took_over(self, sid: str, colleague_id: str) -> None:
        self.owner_of[sid] = colleague_id
        self.conference.pop(sid, None)
        self.consulting.pop(sid, None)
        self._cancel(sid, "consult")
        self._stop_customer(sid)

    # -- conference --------------------------------------------------------
    def _start_invite(self, sid: str, target_id: str, delay: float | None = None) -> None:
        c = self.colleagues[target_id]
        wait = c.answer_after if delay is None else delay
        self._later(sid, "invite", wait, lambda: self._answer_invite(sid, c))

    def _answer_invite(self, sid: str, c: MockColleague) -> None:
        c = self.colleagues[c.id]
        if c.presence is not Presence.AVAILABLE:
            self.desk.collab.invite_declined(sid, f"{c.name} is {c.presence}")
            return
        if not self.desk.collab.participant_joined(sid, c.id, c.name):
            return
        self.conference[sid] = c.id

        def greet() -> None:
            # the chat may have ended (or left this desk) since the colleague joined
            session = self.desk.sessions.get(sid)
            if self.conference.get(sid) == c.id and session is not None and session.active:
                self.say_in_chat(sid, c.conference_greeting)

        self._later(sid, "greet", REPLY_SECONDS, greet)

    # -- consultation ------------------------------------------------------
    def _start_consultation(self, command: cmd.StartConsultation) -> None:
        sid, cid = command.session_id, command.consultation_id
        self.consulting[sid] = (cid, command.target_id)
        collab = self.desk.collab
        if command.target_kind == TargetKind.EXTERNAL:
            x = self.externals[command.target_id]
            answers, answer_after = True, x.answer_after
        else:
            c = self.colleagues[command.target_id]
            answers, answer_after = c.presence is Presence.AVAILABLE, c.answer_after

        def state(new: ConsultState) -> None:
            if self.consulting.get(sid, ("",))[0] != cid:
                return
            collab.consultation_state(sid, cid, new)
            if new.terminal:
                del self.consulting[sid]
            elif new is ConsultState.ACTIVE and command.medium == "chat":
                self._consult_reply(sid, cid)

        if command.medium == "voice":
            ring = lambda: self._ring(sid, answers, answer_after, state)  # noqa: E731
            self._later(sid, "consult", RING_SECONDS, ring)
        elif answers:
            self._later(sid, "consult", answer_after, lambda: state(ConsultState.ACTIVE))
        else:
            self._later(sid, "consult", NO_ANSWER_SECONDS, lambda: state(ConsultState.DECLINED))

    def _ring(self, sid: str, answers: bool, answer_after: float, state: Any) -> None:
        state(ConsultState.RINGING)
        if answers:
            self._later(sid, "consult", answer_after, lambda: state(ConsultState.ACTIVE))
        else:
            self._later(sid, "consult", NO_ANSWER_SECONDS, lambda: state(ConsultState.DECLINED))

    def _consult_reply(self, sid: str, cid: str) -> None:
        current = self.consulting.get(sid)
        if current is None or current[0] != cid or current[1] not in self.colleagues:
            return
        c = self.colleagues[current[1]]
        n = next(self._reply_counter.setdefault((sid, cid), itertools.count()))
        text = c.consult_replies[min(n, len(c.consult_replies) - 1)]

        def reply() -> None:
            if self.consulting.get(sid, ("",))[0] == cid:
                self.desk.collab.consult_message(sid, cid, text, sender_id=c.id, sender_name=c.name)

        self.clock.call_later(REPLY_SECONDS, reply)

    def _convert(self, command: cmd.ConvertConsultation) -> None:
        sid = command.session_id
        current = self.consulting.pop(sid, None)
        self._cancel(sid, "consult")
        if current is None:
            return
        target = current[1]
        if command.into == "conference":
            self._start_invite(sid, target, delay=1.0)
        else:
            self._start_transfer(sid, TargetKind.AGENT, target, delay=1.0)

    # -- a colleague consults this agent -----------------------------------
    def _consulted(self, command: cmd.Command) -> None:
        cid = getattr(command, "consultation_id", "")
        script = self.consulting_me[cid]
        collab = self.desk.collab
        c = self.colleagues[script.colleague_id]
        if script.over:
            return
        if isinstance(command, cmd.AnswerConsultation):
            self._cancel(cid, "asked")
            if not command.accept:
                self._consult_over(cid, ConsultState.DECLINED)
                return
            collab.incoming_state(cid, ConsultState.ACTIVE)
            if collab.incoming[cid].medium == "chat" and script.text:
                collab.incoming_message(cid, c.name, script.text)
        elif isinstance(command, cmd.SendConsultMessage):
            if not script.followups:
                return
            text = script.followups[min(script.answered, len(script.followups) - 1)]
            script.answered += 1

            def reply() -> None:
                if not script.over:
                    collab.incoming_message(cid, c.name, text)

            self._later(cid, f"reply-{script.answered}", REPLY_SECONDS, reply)
        elif isinstance(command, cmd.EndConsultation):
            self._consult_over(cid, ConsultState.ENDED)

    def _withdraw(self, cid: str) -> None:
        incoming = self.desk.collab.incoming.get(cid)
        if incoming is not None and not incoming.state.terminal and incoming.connected_at is None:
            self._consult_over(cid, ConsultState.DECLINED)

    def _consult_over(self, cid: str, state: ConsultState) -> None:
        script = self.consulting_me[cid]
        if script.over:
            return
        script.over = True
        for key in [k for k in self._timers if k[0] == cid]:
            self._cancel(*key)
        self.desk.collab.incoming_state(cid, state)

    # -- IM ----------------------------------------------------------------
    def _im_reply(self, colleague_id: str) -> None:
        c = self.colleagues.get(colleague_id)
        if c is None or c.presence is Presence.OFFLINE:
            return
        n = next(self._reply_counter.setdefault(("im", colleague_id), itertools.count()))
        text = c.im_replies[n % len(c.im_replies)]
        self.clock.call_later(REPLY_SECONDS, lambda: self.send_im(colleague_id, text))

    # -- internal ----------------------------------------------------------
    def _later(self, sid: str, kind: str, delay: float, fn: Any) -> None:
        self._cancel(sid, kind)

        def run() -> None:
            self._timers.pop((sid, kind), None)
            fn()

        self._timers[(sid, kind)] = self.clock.call_later(max(0.0, delay), run)

    def _cancel(self, sid: str, kind: str) -> None:
        handle = self._timers.pop((sid, kind), None)
        if handle is not None:
            handle.cancel()

    def _stop_customer(self, sid: str) -> None:
        customer = self.backend.customers.get(sid)
        if customer is not None:
            customer.stop()

    def _on_desk(self, change: str, payload: Any) -> None:
        if change == "offer":
            session: ChatSession = payload
            received = self.contact_received.setdefault(session.id, [])

            def deliver(kind: str, entries: Any, session: ChatSession = session) -> None:
                # what the contact's page gets: the one rule a server applies too
                if kind == "entries":
                    received.extend(e for e in entries if visible_to_contact(e))

            session.subscribe(deliver)


@dataclass(slots=True)
class _ConsultScript:
    """What a colleague who consults this agent says (``MockTeam.consult``)."""

    colleague_id: str
    text: str
    followups: tuple[str, ...]
    answered: int = 0  # replies of the agent answered so far
    over: bool = False


def _replace(c: MockColleague, **changes: Any) -> MockColleague:
    from dataclasses import replace

    return replace(c, **changes)


def team_listing(team: Sequence[MockColleague]) -> list[dict[str, Any]]:
    """The team as plain rows (for a notebook table)."""
    return [c.listing().to_dict() for c in team]
