"""Consultations (F7): an agent asks a colleague or an external contact, by chat or
(simulated) voice, while the customer waits; the customer never sees any of it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ..formats import protocol as p
from ..model.clock import Clock, ScheduledCall
from .config import ServerConfig
from .conversation import SYSTEM, Conversation, ServiceError, agent_topic
from .directory import Directory
from .event_log import Emitted, EventLog, ack_after
from .fanout import FanOut
from .peer import AgentPrincipal, Peer
from .tasks import Tasks

log = logging.getLogger(__name__)

RING_SECONDS = 1.0  # simulated voice: dialing -> ringing
EXTERNAL_ANSWER_SECONDS = 4.0  # simulated voice: an external contact answers


class ConsultState(StrEnum):
    """A consultation's state, as ``ConsultationState.status`` carries it."""

    REQUESTED = "requested"
    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"
    DECLINED = "declined"


OVER = (ConsultState.ENDED, ConsultState.DECLINED)
UNANSWERED = (ConsultState.REQUESTED, ConsultState.RINGING)


@dataclass(slots=True)
class Consult:
    """The running consultation of a chat (F7); voice is simulated on the clock."""

    id: str
    owner: str
    target_kind: str
    target_id: str
    target_name: str
    medium: str
    state: ConsultState
    timer: ScheduledCall | None = None

    @property
    def parties(self) -> tuple[str, ...]:
        return (self.owner, self.target_id) if self.target_kind == "agent" else (self.owner,)


class Consultations:
    """Starts, answers, carries and ends consultations."""

    def __init__(
        self,
        events: EventLog,
        directory: Directory,
        fanout: FanOut,
        clock: Clock,
        config: ServerConfig,
        available: Callable[[str], list[Peer]],
    ) -> None:
        self.events = events
        self.directory = directory
        self.fanout = fanout
        self.clock = clock
        self.config = config
        self.available = available  # an agent's peers if it can be consulted, else []
        self._tasks = Tasks()  # replays to the consulted agent

    def _of(
        self, conversation: str, consultation: str, me: str, *, target: bool
    ) -> tuple[Conversation, Consult]:
        """The running consultation ``consultation`` of a chat, if ``me`` may act on it:
        as the consulted agent (``target``) or as either party."""
        conv = self.events.conversations.get(conversation)
        c = None if conv is None else conv.consult
        allowed = c is not None and (c.target_id == me if target else me in c.parties)
        if conv is None or c is None or c.id != consultation or not allowed:
            raise ServiceError(p.ErrorCode.FORBIDDEN, "no such consultation for you")
        return conv, c

    async def start(
        self, conv: Conversation, who: AgentPrincipal, frame: p.StartConsultation
    ) -> Emitted:
        c = conv.consult
        if c is not None and c.state not in OVER:
            raise ServiceError(p.ErrorCode.INVALID_STATE, "a consultation is running")
        if frame.target_kind == "external":
            if frame.medium != "voice":
                raise ServiceError(
                    p.ErrorCode.INVALID_STATE, "external contacts can be consulted by voice only"
                )
            name = (await self.directory.find_external(frame.target_id)).name
        else:
            if frame.target_id == who.agent.id:
                raise ServiceError(p.ErrorCode.INVALID_STATE, "that is you")
            name = (await self.directory.find_agent(frame.target_id)).name
        c = conv.consult = Consult(
            frame.consultation,
            who.agent.id,
            frame.target_kind,
            frame.target_id,
            name,
            frame.medium,
            ConsultState.REQUESTED,
        )
        after = conv.record.last_seq
        seq, fut = self._state(conv, ConsultState.REQUESTED, client_id=frame.id, sender=who)
        if c.target_kind == "external":
            c.timer = self.clock.call_at(
                self.clock.now() + RING_SECONDS, lambda: self._ring(conv, c)
            )
            return seq, fut
        peers = self.available(c.target_id)
        if not peers:
            self._state(conv, ConsultState.DECLINED)
            return seq, fut
        offer = p.ConsultationOffered(
            conversation=conv.id,
            consultation=c.id,
            contact=conv.contact(),
            from_agent=p.AgentInfo(id=who.agent.id, nickname=who.agent.name),
            medium=c.medium,  # type: ignore[arg-type]
            expires_at=int((self.clock.now() + self.config.offer_timeout) * 1000),
        )
        for target_peer in peers:  # the consultant reads this chat's consultation events
            self._tasks.spawn(
                self.events.attach(target_peer, conv.id, after, agents_view=True, agent=c.target_id)
            )
        self.fanout.publish(agent_topic(c.target_id), offer.to_json())
        if c.medium == "voice":
            self._state(conv, ConsultState.RINGING)

        def no_answer() -> None:
            if conv.consult is c and c.state in UNANSWERED:
                self._state(conv, ConsultState.DECLINED)

        c.timer = self.clock.call_at(self.clock.now() + self.config.offer_timeout, no_answer)
        return seq, fut

    def answer(self, peer: Peer, who: AgentPrincipal, frame: p.AnswerConsultation) -> None:
        conv, c = self._of(frame.conversation, frame.consultation, who.agent.id, target=True)
        if c.state not in UNANSWERED:
            raise ServiceError(p.ErrorCode.INVALID_STATE, f"consultation is {c.state}")
        state = ConsultState.ACTIVE if frame.accept else ConsultState.DECLINED
        seq, fut = self._state(conv, state)
        ack_after(peer, frame.id, conv.id, seq, fut)

    def message_or_end(
        self, peer: Peer, who: AgentPrincipal, frame: p.SendConsultMessage | p.EndConsultation
    ) -> None:
        me = who.agent.id
        conv, c = self._of(frame.conversation, frame.consultation, me, target=False)
        if self.events.duplicate(peer, conv, me, frame.id):
            return
        if isinstance(frame, p.EndConsultation):
            seq, fut = self._state(conv, ConsultState.ENDED, client_id=frame.id, sender=who)
        else:
            if c.state != ConsultState.ACTIVE or c.medium != "chat":
                raise ServiceError(p.ErrorCode.INVALID_STATE, "no consultation by chat is running")
            seq, fut = self.events.emit(
                conv,
                p.ConsultMessage,
                who.participant,
                visibility=p.Visibility.AGENTS,
                client_id=frame.id,
                audience=c.parties,
                consultation=c.id,
                text=frame.text.strip() or frame.text,
            )
        ack_after(peer, frame.id, conv.id, seq, fut)

    def end(self, conv: Conversation, reason: str) -> None:
        """End a running consultation because of what happened to its chat; the protocol's
        ``ConsultationState`` has no room for the reason, so it goes to the log."""
        c = conv.consult
        if c is not None and c.state not in OVER:
            log.info("consultation %s of chat %s ended: %s", c.id, conv.id, reason)
            self._state(conv, ConsultState.ENDED)

    def _ring(self, conv: Conversation, c: Consult) -> None:
        """Simulated voice call to an external contact: ringing, then answered."""
        if conv.consult is not c or c.state != ConsultState.REQUESTED:
            return
        self._state(conv, ConsultState.RINGING)

        def answer() -> None:
            if conv.consult is c and c.state == ConsultState.RINGING:
                self._state(conv, ConsultState.ACTIVE)

        c.timer = self.clock.call_at(self.clock.now() + EXTERNAL_ANSWER_SECONDS, answer)

    def _state(
        self,
        conv: Conversation,
        state: ConsultState,
        *,
        client_id: str | None = None,
        sender: AgentPrincipal | None = None,
    ) -> Emitted:
        c = conv.consult
        assert c is not None
        c.state = state
        if state in (ConsultState.ACTIVE, *OVER) and c.timer is not None:
            c.timer.cancel()
            c.timer = None
        return self.events.emit(
            conv,
            p.ConsultationState,
            SYSTEM if sender is None else sender.participant,
            visibility=p.Visibility.AGENTS,
            client_id=client_id,
            audience=c.parties,
            consultation=c.id,
            status=state.value,
            medium=c.medium,
            target_kind=c.target_kind,
            target_id=c.target_id,
            target_name=c.target_name,
        )
