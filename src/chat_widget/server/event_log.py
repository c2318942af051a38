"""The event log: every event of a conversation gets its seq, goes to the store,
and is fanned out after the commit; peers read it back exactly once.

Every event gets the next ``seq`` of its conversation synchronously, then
goes to the store; fan-out and the ``Ack`` happen only after the group
commit, in order. A peer subscribes to a conversation with the last seq it
saw: it is subscribed first (live events are buffered), then the store is
read, then the buffer is drained, skipping what the replay already sent.
So a client gets every event it may see exactly once, however long it was
away. Customers never receive ``visibility: agents`` events.

Every event carries its *audience*, the agents entitled to it, fixed when it
is made: the agents in the chat (asked of the router, the one owner of
membership), plus whoever the caller adds (the consulted colleague, a
transfer's previous owner, an agent who left).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..formats import protocol as p
from ..model.clock import Clock
from .conversation import Conversation, ServiceError, live, topic
from .fanout import FanOut
from .feeds import Feed
from .peer import Peer
from .store import (
    ConversationState,
    ConversationUpdate,
    EventStore,
    RolledBack,
    StoreBusy,
    StoredEvent,
    client_key,
)

log = logging.getLogger(__name__)

Emitted = tuple[int, asyncio.Future[None]]  # an event's seq, and its write (durable when done)
CONSULT_MODELS: frozenset[type[p._Event]] = frozenset({p.ConsultMessage, p.ConsultationState})
# events that change who is in a chat even without a state change (a new chat's customer)
MEMBERSHIP_MODELS: frozenset[type[p._Event]] = frozenset({p.ParticipantJoined, p.ParticipantLeft})


def ack_after(
    peer: Peer, frame_id: str, conv: str | None, seq: int | None, future: asyncio.Future[None]
) -> None:
    """Acknowledge ``frame_id`` once its write is durable, or report why it is not."""

    def done(f: asyncio.Future[None]) -> None:
        if f.cancelled() or f.exception() is not None:
            exc = None if f.cancelled() else f.exception()
            if isinstance(exc, StoreBusy):
                code, message = p.ErrorCode.UNAVAILABLE, f"{exc}; retry with the same id"
            else:
                log.error("store write failed: %r", exc)
                code, message = p.ErrorCode.INTERNAL, "could not store the event; retry"
            peer.push(p.Error(id=frame_id, code=code, message=message, conversation=conv).to_json())
        else:
            peer.push(p.Ack(id=frame_id, conversation=conv, seq=seq).to_json())

    future.add_done_callback(done)


class EventLog:
    """Open conversations and their events: append, acknowledge, replay."""

    def __init__(
        self,
        store: EventStore,
        fanout: FanOut,
        clock: Clock,
        replay_page: int,
        members: Callable[[str], list[str]],
        on_done: Callable[[str], None],
    ) -> None:
        self.store = store
        self.fanout = fanout
        self.clock = clock
        self.replay_page = replay_page
        self.members = members  # the router's: agents in the chat, owner first
        self.on_done = on_done  # a done chat left memory
        # after the commit of an event that created a chat or changed its state, owner or
        # members (the supervisors' dashboard follows it: ``supervision``)
        self.on_change: Callable[[Conversation, StoredEvent], None] = lambda conv, ev: None
        self.conversations: dict[str, Conversation] = {}

    # -- appending -------------------------------------------------------------------
    def emit(
        self,
        conv: Conversation,
        model: type[p._Event],
        sender: p.Participant,
        *,
        visibility: p.Visibility = p.Visibility.ALL,
        client_id: str | None = None,
        state: ConversationState | None = None,
        owner: str | None = None,
        audience: tuple[str, ...] | None = None,
        also: tuple[str, ...] = (),
        **fields: Any,
    ) -> Emitted:
        """Append an event: seq now, store next, fan-out after the commit.

        ``audience``: the agents entitled (default: the agents in the chat) plus ``also``."""
        record = conv.record
        if model in CONSULT_MODELS:  # not model_fields: a slow descriptor on pydantic 2.11+
            assert visibility is p.Visibility.AGENTS, "consultation events are agents-only"
        members = self.members(record.id) if audience is None else audience
        who = tuple(dict.fromkeys((*members, *also)))
        conv.seen.update(who)
        record.last_seq += 1
        seq = record.last_seq
        now = self.clock.now()
        values: dict[str, Any] = {
            "conversation": record.id,
            "seq": seq,
            "utc_time": int(now * 1000),
            "visibility": visibility,
            "client_id": client_id,
            "from": sender,
            **fields,
        }
        frame = model(**values)
        event = StoredEvent(
            record.id,
            seq,
            frame.type,
            now,
            str(visibility),
            sender.participant_id,
            client_id,
            frame.to_json(),
            who,
        )
        update = None
        if state is not None:
            record.state = state
            record.owner = owner if owner is not None else record.owner
            update = ConversationUpdate(record.state, record.owner)
        key = client_key(sender.participant_id, client_id) if client_id else None
        changes = update is not None or model in MEMBERSHIP_MODELS

        def committed() -> None:
            if key is not None:
                record.client_ids[key] = seq
                conv.pending.pop(key, None)
            self.fanout.publish(topic(record.id), event)
            if record.state == ConversationState.DONE:
                self.conversations.pop(record.id, None)
                self.on_done(record.id)
            if changes:
                self.on_change(conv, event)

        future = self.store.append(event, update, committed)
        if key is not None:
            conv.pending[key] = (seq, future)

        def failed(f: asyncio.Future[None]) -> None:
            if not f.cancelled() and f.exception() is None:
                return
            if key is not None:
                conv.pending.pop(key, None)  # a retry with the same id writes it again
            if not isinstance(None if f.cancelled() else f.exception(), RolledBack):
                record.last_seq = min(record.last_seq, seq - 1)  # no gap: reuse this seq

        future.add_done_callback(failed)
        return seq, future

    # -- retries -------------------------------------------------------------------------
    def duplicate(self, peer: Peer, conv: Conversation, sender: str, frame_id: str) -> bool:
        """A retried frame: acknowledge the original event once it is durable."""
        key = client_key(sender, frame_id)
        seq = conv.record.client_ids.get(key)
        if seq is not None:
            peer.push(p.Ack(id=frame_id, conversation=conv.id, seq=seq).to_json())
            return True
        pending = conv.pending.get(key)
        if pending is not None:
            ack_after(peer, frame_id, conv.id, pending[0], pending[1])
            return True
        return False

    async def retried(self, peer: Peer, conversation: str, sender: str, frame_id: str) -> bool:
        """A resend of a frame already stored (or being stored) in ``conversation`` by
        ``sender``: acknowledged with the original seq, even after the chat ended or was
        done and left memory."""
        conv = self.conversations.get(conversation)
        if conv is not None:
            return self.duplicate(peer, conv, sender, frame_id)
        seq = await self.store.find_client_id(conversation, sender, frame_id)
        if seq is None:
            return False
        peer.push(p.Ack(id=frame_id, conversation=conversation, seq=seq).to_json())
        return True

    # -- who may act -----------------------------------------------------------------------
    def owned(self, agent_id: str, conversation: str) -> Conversation:
        """A chat this agent is in (its owner or the conference colleague)."""
        conv = self.conversations.get(conversation)
        if conv is None or agent_id not in self.members(conversation):
            raise ServiceError(p.ErrorCode.FORBIDDEN, "not your conversation (or it is done)")
        return conv

    def owner_only(self, agent_id: str, conversation: str) -> Conversation:
        conv = live(self.owned(agent_id, conversation))
        if conv.record.owner != agent_id:
            raise ServiceError(p.ErrorCode.FORBIDDEN, "only the chat's owner can do this")
        return conv

    async def get_conversation(self, conversation: str) -> Conversation | None:
        conv = self.conversations.get(conversation)
        if conv is None:
            record = await self.store.get_conversation(conversation)
            if record is None:
                return None
            conv = Conversation(record)  # done: read-only, not kept
        return conv

    # -- reading back --------------------------------------------------------------------
    async def attach(
        self,
        peer: Peer,
        conversation: str,
        after_seq: int,
        agents_view: bool,
        *,
        agent: str | None = None,
        history: int = 0,
    ) -> None:
        """Send ``peer`` every event after ``after_seq`` it may see, then everything new,
        once each. A peer has one feed per conversation: a new attach replaces it."""
        feed = Feed(peer, agents_view, after_seq, agent, history)
        old = peer.subscriptions.pop(conversation, None)
        if old is not None:
            old()
        unsubscribe = self.fanout.subscribe(topic(conversation), feed.on_event)

        def stop() -> None:
            feed.stopped = True
            unsubscribe()

        peer.subscriptions[conversation] = stop
        page = self.replay_page
        for _ in range(10_000_000):  # bounded: pages of replay_page events
            if peer.closed or feed.stopped:
                return
            feed.lost = False
            rows = await self.store.read_events(conversation, feed.high, page)
            for event in rows:
                if feed.wants(event):
                    await peer.backlog(event.body)
            if len(rows) >= page or feed.lost:
                continue
            while feed.buffer and not feed.lost and not feed.stopped:  # live meanwhile
                event = feed.buffer.popleft()
                if feed.wants(event):
                    await peer.backlog(event.body)
            if not feed.lost:
                feed.replaying = False
                return
