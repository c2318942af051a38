"""Handing an owned chat on: offers (the router's callbacks), transfers (F5),
conference invitations (F6) and leaving a conference."""

from __future__ import annotations

from collections.abc import Callable

from ..formats import protocol as p
from .consultations import Consultations
from .conversation import LIVE, SYSTEM, Conversation, ServiceError, agent_topic
from .directory import Directory
from .event_log import Emitted, EventLog
from .fanout import FanOut
from .peer import AgentPrincipal
from .routing import CHAT, TRANSFER, OfferKind, Router
from .store import ConversationState


class Handovers:
    """Offers of chats to agents, and what an owner does to hand a chat on."""

    def __init__(
        self,
        events: EventLog,
        router: Router,
        directory: Directory,
        consultations: Consultations,
        fanout: FanOut,
    ) -> None:
        self.events = events
        self.router = router
        self.directory = directory
        self.consultations = consultations
        self.fanout = fanout
        # told of every offer sent (issue 16: the contact's history follows it)
        self.on_offer: Callable[[str, str], None] | None = None

    # -- the router's callbacks ---------------------------------------------------------
    def offer_frame(self, conversation: str, expires_at: float) -> p.Offer:
        conv = self.events.conversations[conversation]
        offer = self.router.offers.get(conversation)
        kind = offer.kind if offer is not None else CHAT
        h = self.router.handovers.get(conversation)
        if kind == CHAT or h is None:
            return p.Offer(
                conversation=conversation,
                contact=conv.contact(),
                expires_at=int(expires_at * 1000),
            )
        return p.Offer(
            conversation=conversation,
            contact=conv.contact(),
            expires_at=int(expires_at * 1000),
            kind="transfer" if kind == TRANSFER else "conference",
            from_agent=p.AgentInfo(id=h.from_agent, nickname=self.directory.name(h.from_agent)),
            note=h.note,
            queue=h.target_id if h.target_kind == "queue" else None,
            last_seq=conv.record.last_seq,
        )

    def send_offer(self, agent_id: str, conversation: str, expires_at: float) -> None:
        frame = self.offer_frame(conversation, expires_at)
        self.fanout.publish(agent_topic(agent_id), frame.to_json())
        if self.on_offer is not None:
            self.on_offer(agent_id, conversation)

    def revoke_offer(self, agent_id: str, conversation: str, reason: str) -> None:
        frame = p.OfferRevoked(conversation=conversation, reason=reason)
        self.fanout.publish(agent_topic(agent_id), frame.to_json())

    def declined(self, conversation: str, kind: OfferKind, target: str, reason: str) -> None:
        """A transfer/invitation did not happen; the owner keeps the chat."""
        conv = self.events.conversations.get(conversation)
        if conv is None or conv.state not in LIVE:
            return
        if kind == TRANSFER:
            self.events.emit(
                conv, p.TransferDeclined, SYSTEM, visibility=p.Visibility.AGENTS, reason=reason
            )
        else:
            self.events.emit(
                conv,
                p.InviteDeclined,
                SYSTEM,
                visibility=p.Visibility.AGENTS,
                target_id=target,
                reason=reason,
            )

    # -- the owner's frames -----------------------------------------------------------------
    async def request_transfer(
        self, conv: Conversation, who: AgentPrincipal, frame: p.RequestTransfer
    ) -> Emitted:
        skill = ""
        if frame.target_kind == "agent":
            name = (await self.directory.find_agent(frame.target_id)).name
        else:
            queue = await self.directory.find_queue(frame.target_id)
            name, skill = queue.name, queue.skill
        h = self.router.handovers.get(conv.id)
        if h is not None or conv.id in self.router.conference:
            raise ServiceError(
                p.ErrorCode.INVALID_STATE,
                "a transfer or invitation is pending, or a conference is on",
            )
        if frame.target_kind == "agent" and frame.target_id == who.agent.id:
            raise ServiceError(p.ErrorCode.INVALID_STATE, "that is you")
        note = (frame.note or "").strip() or None
        seq, fut = self.events.emit(
            conv,
            p.TransferRequested,
            who.participant,
            visibility=p.Visibility.AGENTS,
            client_id=frame.id,
            target_kind=frame.target_kind,
            target_id=frame.target_id,
            target_name=name,
            note=note,
        )
        self.router.request_transfer(
            conv.id, who.agent.id, frame.target_kind, frame.target_id, note, skill
        )
        return seq, fut

    async def cancel_transfer(
        self, conv: Conversation, who: AgentPrincipal, frame: p.CancelTransfer
    ) -> Emitted:
        h = self.router.handovers.get(conv.id)
        if h is None or h.kind != TRANSFER:
            raise ServiceError(p.ErrorCode.INVALID_STATE, "no transfer is pending")
        self.router.cancel_handover(conv.id, "transfer cancelled")
        return self.events.emit(
            conv,
            p.TransferDeclined,
            who.participant,
            visibility=p.Visibility.AGENTS,
            client_id=frame.id,
            reason="cancelled",
        )

    async def invite(
        self, conv: Conversation, who: AgentPrincipal, frame: p.InviteToConference
    ) -> Emitted:
        target = await self.directory.find_agent(frame.target_id)
        seq, fut = self.events.emit(
            conv,
            p.InviteSent,
            who.participant,
            visibility=p.Visibility.AGENTS,
            client_id=frame.id,
            target_id=target.id,
            target_name=target.name,
        )
        try:
            self.router.invite(conv.id, who.agent.id, target.id)
        except ValueError as exc:
            raise ServiceError(p.ErrorCode.INVALID_STATE, str(exc)) from None
        return seq, fut

    def leave_conference(self, conv: Conversation, who: AgentPrincipal, frame_id: str) -> Emitted:
        """One of the two agents leaves; the other one owns the chat now."""
        me = who.agent.id
        successor = self.router.leave(conv.id, me)
        if successor is None:
            raise ServiceError(p.ErrorCode.INVALID_STATE, "there is no conference to leave")
        if conv.consult is not None and conv.consult.owner == me:
            self.consultations.end(conv, f"{who.agent.name} left the chat")
        return self.events.emit(
            conv,
            p.ParticipantLeft,
            who.participant,
            client_id=frame_id,
            state=ConversationState.ACTIVE,
            owner=successor,
            also=(me,),
            successor=self.directory.participant(successor),
        )
