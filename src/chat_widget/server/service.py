"""The chat service: wires the collaborators and dispatches each client frame.

Layers, bottom up: the ``event_log`` (seq, store, fan-out, replay) under
``messaging``, ``lifecycle``, ``handovers``, ``consultations``, ``team_im``,
``customers`` and ``agents``; the router (``routing``) owns who is offered and
who is in each chat. This module only builds them and maps frame types to
their handlers (one table per kind of sender).

Several agents (issue 6): every event carries its *audience*, the agents
entitled to it, fixed when it is made: the agents in the chat (owner and
conference colleague), plus the consulted colleague for consultation
events, plus whoever the event is about (a transfer's previous owner, an
agent who left). An agent's feed delivers an event when the agent is in its
audience, or when it is history from before the agent joined (a new owner
reads the whole chat). Customers get only ``visibility: all`` events, and
consultation events are always ``agents`` (the ``visible_to_contact`` rule).

Supervision (issue 14, ``supervision``): supervisor tokens log in there and send
their own frames (a third table); agents answer the coach and raise or lower the
help flag. Supervision events never reach a customer, and an agent only by their
audience.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from ..formats import protocol as p
from ..model.clock import Clock
from .agents import Agents
from .config import ServerConfig
from .consultations import Consultations
from .conversation import CUSTOMER_ID, Conversation, ServiceError, live
from .customers import Customers
from .directory import Directory
from .event_log import Emitted, EventLog, ack_after
from .fanout import FanOut
from .feeds import Feed
from .handovers import Handovers
from .history import ContactHistory
from .lifecycle import Lifecycle
from .limits import FailureThrottle
from .messaging import Messaging
from .peer import AgentPrincipal, CustomerPrincipal, Peer
from .routing import OfferKind, Router
from .store import EventStore
from .supervision import Supervision
from .team_im import TeamIm

__all__ = ["ChatService", "Feed", "ServiceError"]

# frames that store an event under the sender's client id: a resend is acknowledged with
# the original seq whatever the chat's state is now (checked before state and ownership)
RETRYABLE = (
    p.SendMessage,
    p.SendPushUrl,
    p.SetDisposition,
    p.AddNote,
    p.EndChat,
    p.MarkDone,
    p.RequestTransfer,
    p.CancelTransfer,
    p.InviteToConference,
    p.LeaveConference,
    p.StartConsultation,
    p.SendConsultMessage,
    p.EndConsultation,
    p.Monitor,
    p.StopMonitoring,
    p.SendCoaching,
    p.RaiseFlag,
    p.LowerFlag,
)

AgentHandler = Callable[[Peer, AgentPrincipal, Any], Awaitable[None] | None]
CustomerHandler = Callable[[Peer, Conversation, p.Participant, Any], None]
OwnerAction = Callable[[Conversation, AgentPrincipal, Any], Awaitable[Emitted]]


class ChatService:
    """Conversations, routing and the store, driven by client frames."""

    def __init__(
        self, store: EventStore, fanout: FanOut, clock: Clock, config: ServerConfig
    ) -> None:
        self.store = store
        self.fanout = fanout
        self.clock = clock
        self.config = config
        self.router = Router(
            clock,
            self._send_offer,
            self._revoke_offer,
            offer_timeout=config.offer_timeout,
            capacity=config.agent_capacity,
            declined=self._declined,
        )
        self.events = EventLog(
            store, fanout, clock, config.replay_page, self.router.members, self.router.release
        )
        self.directory = Directory(store)
        self.messaging = Messaging(self.events, clock, config)
        self.team_im = TeamIm(store, fanout, clock, self.directory)
        self.agents = Agents(
            self.events,
            self.router,
            self.directory,
            self.team_im,
            fanout,
            config,
            FailureThrottle(
                clock, config.auth_failure_limit, config.auth_failure_window, config.auth_backoff
            ),
            self._offer_frame,
        )
        self.consultations = Consultations(
            self.events, self.directory, fanout, clock, config, self.agents.consultable
        )
        self.handovers = Handovers(
            self.events, self.router, self.directory, self.consultations, fanout
        )
        self.lifecycle = Lifecycle(
            self.events, self.router, self.directory, self.messaging, self.consultations
        )
        self.customers = Customers(self.events, self.router, self.lifecycle, clock, config)
        self.supervision = Supervision(
            self.events,
            self.router,
            self.directory,
            self.messaging,
            self.team_im,
            fanout,
            clock,
            config,
            lambda: self.agents.presence,
        )
        self.agents.supervisor_login = self.supervision.login
        self.history = ContactHistory(self.events, self.router, self.directory, fanout)
        self.handovers.on_offer = self.history.offered
        self.agents.history = self.history.send_to
        self.lifecycle.on_restored = self.supervision.restored
        self._agent_table = self._agent_handlers()
        self._supervisor_table = self._supervisor_handlers()
        self._customer_table: dict[type[p.ClientFrame], CustomerHandler] = {
            p.SendMessage: self._customer_message,
            p.StartTyping: self._customer_typing,
            p.StopTyping: self._customer_typing,
            p.EndChat: lambda peer, conv, me, frame: self.customers.end_chat(peer, conv, frame),
        }

    @property
    def conversations(self) -> dict[str, Conversation]:
        return self.events.conversations

    @property
    def unread(self) -> dict[str, dict[str, int]]:
        return self.team_im.unread

    async def restore(self) -> None:
        """After a (re)start: the directory, the next IM id, the open conversations."""
        await self.team_im.restore()
        await self.directory.refresh()
        await self.lifecycle.restore()
        self.supervision.end_restored_monitoring()

    # -- the router's callbacks (the collaborators exist after the router) ---------------
    def _offer_frame(self, conversation: str, expires_at: float) -> p.Offer:
        return self.handovers.offer_frame(conversation, expires_at)

    def _send_offer(self, agent_id: str, conversation: str, expires_at: float) -> None:
        self.handovers.send_offer(agent_id, conversation, expires_at)

    def _revoke_offer(self, agent_id: str, conversation: str, reason: str) -> None:
        self.handovers.revoke_offer(agent_id, conversation, reason)

    def _declined(self, conversation: str, kind: OfferKind, target: str, reason: str) -> None:
        self.handovers.declined(conversation, kind, target, reason)

    # -- dispatch ---------------------------------------------------------------------
    async def handle(self, peer: Peer, frame: p.ClientFrame) -> None:
        """Perform one validated frame; protocol errors go back as ``Error`` frames."""
        try:
            if isinstance(frame, p.Ping):
                peer.push(p.Pong(id=frame.id).to_json())
            elif peer.principal is None:
                await self._unauthenticated(peer, frame)
            elif isinstance(peer.principal, AgentPrincipal):
                await self._agent_frame(peer, peer.principal, frame)
            else:
                await self._customer_frame(peer, peer.principal, frame)
        except ServiceError as exc:
            conversation = getattr(frame, "conversation", None)
            peer.push(
                p.Error(
                    id=frame.id, code=exc.code, message=exc.message, conversation=conversation
                ).to_json()
            )

    async def _unauthenticated(self, peer: Peer, frame: p.ClientFrame) -> None:
        if isinstance(frame, p.Auth) and not peer.browser:
            await self.agents.auth(peer, frame)
        elif isinstance(frame, p.RequestChat) and peer.browser:
            await self.customers.request_chat(peer, frame)
        elif isinstance(frame, p.ResumeChat) and peer.browser:
            await self.customers.resume_chat(peer, frame)
        elif isinstance(frame, p.Auth | p.RequestChat | p.ResumeChat):
            who = "browser (Origin) connections" if peer.browser else "connections without Origin"
            raise ServiceError(p.ErrorCode.FORBIDDEN, f"{frame.type} is not allowed for {who}")
        else:
            raise ServiceError(
                p.ErrorCode.AUTH_REQUIRED,
                "authenticate first: Auth (agents) or RequestChat/ResumeChat",
            )

    # -- agents ---------------------------------------------------------------------------
    def _agent_handlers(self) -> dict[type[p.ClientFrame], AgentHandler]:
        owner = self._owner_action
        h = self.handovers
        return {
            p.SetReady: self.agents.set_presence,
            p.SetPresence: self.agents.set_presence,
            p.RequestTransfer: functools.partial(owner, h.request_transfer),
            p.CancelTransfer: functools.partial(owner, h.cancel_transfer),
            p.InviteToConference: functools.partial(owner, h.invite),
            p.StartConsultation: functools.partial(owner, self.consultations.start),
            p.LeaveConference: self._leave_conference,
            p.AnswerConsultation: self.consultations.answer,
            p.SendConsultMessage: self.consultations.message_or_end,
            p.EndConsultation: self.consultations.message_or_end,
            p.SendIm: self.team_im.send,
            p.MarkImRead: self.team_im.mark_read,
            p.Accept: self.lifecycle.accept,
            p.Reject: self.lifecycle.reject,
            p.SendMessage: self._in_live_chat(self.messaging.message),
            p.SendPushUrl: self._in_live_chat(self.messaging.push_url),
            p.StartTyping: self._in_live_chat(self.messaging.typing),
            p.StopTyping: self._in_live_chat(self.messaging.typing),
            p.SetDisposition: self.lifecycle.wrap_up,
            p.AddNote: self.lifecycle.wrap_up,
            p.EndChat: self.lifecycle.end_chat,
            p.MarkDone: self.lifecycle.mark_done,
            p.SendCoaching: self.supervision.coach,
            p.RaiseFlag: self.supervision.raise_flag,
            p.LowerFlag: self.supervision.lower_flag,
            p.GetHistoryTranscript: self.history.get_transcript,
        }

    def _supervisor_handlers(self) -> dict[type[p.ClientFrame], AgentHandler]:
        s = self.supervision
        return {
            p.Monitor: s.monitor,
            p.StopMonitoring: s.monitor,
            p.MonitorNext: s.monitor_next,
            p.SendCoaching: s.coach,
            p.LowerFlag: s.lower_flag,
            p.SendMessage: s.barge_in_frame,
            p.StartTyping: s.barge_in_frame,
            p.StopTyping: s.barge_in_frame,
            p.SendIm: self.team_im.send,
            p.MarkImRead: self.team_im.mark_read,
        }

    async def _agent_frame(self, peer: Peer, who: AgentPrincipal, frame: p.ClientFrame) -> None:
        if isinstance(frame, RETRYABLE) and await self.events.retried(
            peer, frame.conversation, who.agent.id, frame.id
        ):
            return
        supervisor = who.agent.supervisor
        table = self._supervisor_table if supervisor else self._agent_table
        handler = table.get(type(frame))
        if handler is None:
            role = "supervisors" if supervisor else "agents"
            raise ServiceError(p.ErrorCode.FORBIDDEN, f"{role} cannot send {frame.type}")
        done = handler(peer, who, frame)
        if done is not None:
            await done

    def _in_live_chat(self, action: CustomerHandler) -> AgentHandler:
        """``action`` on a live chat the agent is in."""

        def run(peer: Peer, who: AgentPrincipal, frame: Any) -> None:
            conv = live(self.events.owned(who.agent.id, frame.conversation))
            action(peer, conv, who.participant, frame)

        return run

    async def _owner_action(
        self, action: OwnerAction, peer: Peer, who: AgentPrincipal, frame: Any
    ) -> None:
        """A frame only the chat's owner may send, while the chat is live."""
        conv = self.events.owner_only(who.agent.id, frame.conversation)
        if self.events.duplicate(peer, conv, who.agent.id, frame.id):
            return
        seq, fut = await action(conv, who, frame)
        ack_after(peer, frame.id, conv.id, seq, fut)

    def _leave_conference(self, peer: Peer, who: AgentPrincipal, frame: p.LeaveConference) -> None:
        conv = live(self.events.owned(who.agent.id, frame.conversation))
        if self.events.duplicate(peer, conv, who.agent.id, frame.id):
            return
        seq, fut = self.handovers.leave_conference(conv, who, frame.id)
        ack_after(peer, frame.id, conv.id, seq, fut)

    # -- customers ----------------------------------------------------------------------
    async def _customer_frame(
        self, peer: Peer, who: CustomerPrincipal, frame: p.ClientFrame
    ) -> None:
        conversation = getattr(frame, "conversation", None)
        if conversation is not None and conversation != who.conversation:
            raise ServiceError(p.ErrorCode.FORBIDDEN, "customers may act only on their own chat")
        if isinstance(frame, RETRYABLE) and await self.events.retried(
            peer, who.conversation, CUSTOMER_ID, frame.id
        ):
            return
        conv = self.events.conversations.get(who.conversation)
        if conv is None:
            raise ServiceError(p.ErrorCode.INVALID_STATE, "this chat is over")
        handler = self._customer_table.get(type(frame))
        if handler is None:
            raise ServiceError(p.ErrorCode.FORBIDDEN, f"customers cannot send {frame.type}")
        handler(peer, conv, who.participant, frame)

    def _customer_message(
        self, peer: Peer, conv: Conversation, me: p.Participant, frame: p.SendMessage
    ) -> None:
        self.messaging.message(peer, live(conv), me, frame)

    def _customer_typing(
        self, peer: Peer, conv: Conversation, me: p.Participant, frame: p.StartTyping
    ) -> None:
        self.messaging.typing(peer, live(conv), me, frame)
