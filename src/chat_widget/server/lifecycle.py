"""A chat's life on the agent side: restored, accepted, ended, wrapped up, done.

queued --Accept--> active --EndChat--> ended --SetDisposition/AddNote--> --MarkDone--> done
(a customer who leaves a chat nobody took makes it done at once; see ``customers``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..formats import protocol as p
from .consultations import Consultations
from .conversation import SYSTEM, Conversation, ServiceError, after_customer_left
from .directory import Directory
from .event_log import Emitted, EventLog, ack_after
from .messaging import Messaging
from .peer import AgentPrincipal, Peer
from .routing import TRANSFER, Router
from .store import ConversationState, StoredEvent, client_key

ACTIVE, ENDED, DONE = ConversationState.ACTIVE, ConversationState.ENDED, ConversationState.DONE


class Lifecycle:
    """Moves chats through their states and tells the router."""

    def __init__(
        self,
        events: EventLog,
        router: Router,
        directory: Directory,
        messaging: Messaging,
        consultations: Consultations,
    ) -> None:
        self.events = events
        self.router = router
        self.directory = directory
        self.messaging = messaging
        self.consultations = consultations
        # every stored event of an open chat, read back at start-up (supervision: flags)
        self.on_restored: Callable[[Conversation, StoredEvent], None] = lambda conv, ev: None
        messaging.idle.close = self.idle_close

    async def restore(self) -> None:
        """Load open conversations after a (re)start; queued ones wait for agents."""
        store = self.events.store
        for record in await store.open_conversations():
            conv = self.events.conversations[record.id] = Conversation(record)
            for event in await store.read_events(record.id, 0, 10_000_000):
                conv.seen.update(event.audience or ())
                self.on_restored(conv, event)
                self.messaging.idle.restored(conv, event)  # the idle timers (issue 16)
                if event.type in ("ParticipantJoined", "ChatTransferred") and event.sender:
                    conv.joined[event.sender] = event.seq
            if record.state == ACTIVE and record.owner:
                self.messaging.idle.accepted(conv)
                self.router.restore_owner(record.id, record.owner)
            elif record.state == ConversationState.QUEUED:
                self.router.enqueue(record.id)
            elif record.owner:
                self.router.restore_wrap_up(record.id, record.owner)

    def close(
        self,
        conv: Conversation,
        model: type[p._Event],
        sender: p.Participant,
        state: ConversationState,
        *,
        client_id: str | None = None,
        reason: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> Emitted:
        """End a live chat: typing, idle timers and (with ``reason``) a consultation
        stop, the agents are free for new chats. ``fields``: the event's own."""
        self.messaging.stop_typing_timers(conv)
        self.messaging.idle.ended(conv)
        if reason is not None:
            self.consultations.end(conv, reason)
        emitted = self.events.emit(
            conv, model, sender, client_id=client_id, state=state, **(fields or {})
        )
        self.router.finish(conv.id)
        return emitted

    def idle_close(self, conv: Conversation) -> None:
        """The customer stayed silent (issue 16): the system ends the chat, and the agent
        wraps up as after a customer who left."""
        self.close(
            conv,
            p.ChatEnded,
            SYSTEM,
            after_customer_left(conv),
            reason="the chat was closed for idleness",
            fields={"reason": "idle"},
        )

    # -- the agent's frames ---------------------------------------------------------------
    async def accept(self, peer: Peer, who: AgentPrincipal, frame: p.Accept) -> None:
        conv = self.events.conversations.get(frame.conversation)
        agent_id = who.agent.id
        if conv is not None and agent_id in self.router.members(conv.id):
            if not self.events.duplicate(peer, conv, agent_id, frame.id):  # accepted before
                seq = conv.joined.get(agent_id)
                peer.push(p.Ack(id=frame.id, conversation=conv.id, seq=seq).to_json())
            return
        previous = None if conv is None else conv.record.owner
        kind = None if conv is None else self.router.try_accept(agent_id, frame.conversation)
        if conv is None or kind is None:
            raise ServiceError(
                p.ErrorCode.OFFER_NOT_AVAILABLE, "this chat is not offered to you (any more)"
            )
        # the same Accept id again for a chat that came back to this agent (transferred
        # back): a new join, stored without the id (the id's unique key is taken)
        key = client_key(agent_id, frame.id)
        client_id = None if key in conv.record.client_ids or key in conv.pending else frame.id
        if kind == TRANSFER and previous is not None:
            self.consultations.end(conv, "the chat was transferred")
            seq, fut = self.events.emit(
                conv,
                p.ChatTransferred,
                who.participant,
                client_id=client_id,
                state=ACTIVE,
                owner=agent_id,
                also=(previous,),
                previous=self.directory.participant(previous),
            )
        else:
            seq, fut = self.events.emit(
                conv,
                p.ParticipantJoined,
                who.participant,
                client_id=client_id,
                state=ACTIVE,
                owner=self.router.owner(conv.id) or agent_id,
            )
        conv.joined[agent_id] = seq
        self.messaging.idle.accepted(conv)
        ack_after(peer, frame.id, conv.id, seq, fut)
        await self.events.attach(peer, conv.id, 0, agents_view=True, agent=agent_id, history=seq)

    def reject(self, peer: Peer, who: AgentPrincipal, frame: p.Reject) -> None:
        if not self.router.reject(who.agent.id, frame.conversation):
            raise ServiceError(
                p.ErrorCode.OFFER_NOT_AVAILABLE, "this chat is not offered to you (any more)"
            )
        peer.push(p.Ack(id=frame.id, conversation=frame.conversation).to_json())

    def wrap_up(self, peer: Peer, who: AgentPrincipal, frame: p.SetDisposition | p.AddNote) -> None:
        """A disposition code or a note, while the chat runs or after it ended."""
        me = who.participant
        conv = self.events.owned(who.agent.id, frame.conversation)
        if conv.state not in (ACTIVE, ENDED):
            raise ServiceError(p.ErrorCode.INVALID_STATE, f"chat is {conv.state}")
        if self.events.duplicate(peer, conv, me.participant_id, frame.id):
            return
        model: type[p._Event]
        fields: dict[str, Any]
        if isinstance(frame, p.SetDisposition):
            model, fields = p.DispositionSet, {"code": frame.code}
        else:
            model, fields = p.NoteAdded, {"text": frame.text}
        seq, fut = self.events.emit(
            conv, model, me, visibility=p.Visibility.AGENTS, client_id=frame.id, **fields
        )
        ack_after(peer, frame.id, conv.id, seq, fut)

    def end_chat(self, peer: Peer, who: AgentPrincipal, frame: p.EndChat) -> None:
        me = who.participant
        conv = self.events.owned(who.agent.id, frame.conversation)
        if conv.state != ACTIVE or self.events.duplicate(peer, conv, me.participant_id, frame.id):
            if conv.state != ACTIVE:
                peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
            return
        seq, fut = self.close(
            conv, p.ChatEnded, me, ENDED, client_id=frame.id, reason="the chat ended"
        )
        ack_after(peer, frame.id, conv.id, seq, fut)

    async def mark_done(self, peer: Peer, who: AgentPrincipal, frame: p.MarkDone) -> None:
        if frame.conversation not in self.events.conversations:
            record = await self.events.store.get_conversation(frame.conversation)
            if record is not None and record.state == DONE:  # the other agent was first
                peer.push(p.Ack(id=frame.id, conversation=frame.conversation).to_json())
                return
        me = who.participant
        conv = self.events.owned(who.agent.id, frame.conversation)
        if self.events.duplicate(peer, conv, me.participant_id, frame.id):
            return
        if conv.state != ENDED:
            raise ServiceError(
                p.ErrorCode.INVALID_STATE,
                f"end the chat before marking it done (it is {conv.state})",
            )
        seq, fut = self.events.emit(
            conv, p.ChatDone, me, visibility=p.Visibility.AGENTS, client_id=frame.id, state=DONE
        )
        ack_after(peer, frame.id, conv.id, seq, fut)
