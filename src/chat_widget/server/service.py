"""The chat service: what each client frame does to conversations.

Every event gets the next ``seq`` of its conversation synchronously, then
goes to the store; fan-out and the ``Ack`` happen only after the group
commit, in order. A peer subscribes to a conversation with the last seq it
saw: it is subscribed first (live events are buffered), then the store is
read, then the buffer is drained, skipping what the replay already sent.
So a client gets every event it may see exactly once, however long it was
away. Customers never receive ``visibility: agents`` events.

Several agents (issue 6): every event carries its *audience*, the agents
entitled to it, fixed when it is made: the agents in the chat (owner and
conference colleague), plus the consulted colleague for consultation
events, plus whoever the event is about (a transfer's previous owner, an
agent who left). An agent's feed delivers an event when the agent is in its
audience, or when it is history from before the agent joined (a new owner
reads the whole chat). Customers get only ``visibility: all`` events, and
consultation events are always ``agents`` (the ``visible_to_contact`` rule).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..formats import protocol as p
from ..model.clock import Clock, ScheduledCall
from ..model.urls import InvalidUrlError, validate_push_url
from .config import ServerConfig
from .fanout import FanOut
from .limits import FailureThrottle, KeyedBuckets
from .peer import AgentPrincipal, CustomerPrincipal, Peer
from .routing import CHAT, CONFERENCE, TRANSFER, Router
from .sqlite_store import client_key, hash_token
from .store import (
    ConversationRecord,
    ConversationUpdate,
    EventStore,
    ImRecord,
    RolledBack,
    StoreBusy,
    StoredEvent,
)

log = logging.getLogger(__name__)

TEAM_FRAMES = (
    p.RequestTransfer,
    p.CancelTransfer,
    p.InviteToConference,
    p.LeaveConference,
    p.StartConsultation,
    p.AnswerConsultation,
    p.SendConsultMessage,
    p.EndConsultation,
    p.SendIm,
    p.MarkImRead,
)

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
)

SYSTEM = p.Participant(nickname="System", participant_id="system", type=p.ParticipantType.SYSTEM)
CUSTOMER_ID = "customer"
LIVE = ("queued", "active")
AUTH_CLOSE_CODE = 1008
PRESENCE_TOPIC = "presence"
CONSULT_EVENTS = frozenset({"ConsultMessage", "ConsultationState"})
CONSULT_MODELS: frozenset[type[p._Event]] = frozenset({p.ConsultMessage, p.ConsultationState})
RING_SECONDS = 1.0  # simulated voice: dialing -> ringing
EXTERNAL_ANSWER_SECONDS = 4.0  # simulated voice: an external contact answers


class ServiceError(Exception):
    def __init__(self, code: p.ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class ChatRequest:
    """A ``RequestChat`` remembered for ``request_retry_window``: a resend of the same id
    from the same address gets the same chat and token instead of a second chat."""

    conversation: str
    token: str
    address: str
    expires: float
    started: asyncio.Future[None]


@dataclass(slots=True)
class Consult:
    """The running consultation of a chat (F7); voice is simulated on the clock."""

    id: str
    owner: str
    target_kind: str
    target_id: str
    target_name: str
    medium: str
    state: str
    timer: ScheduledCall | None = None

    @property
    def parties(self) -> tuple[str, ...]:
        return (self.owner, self.target_id) if self.target_kind == "agent" else (self.owner,)


@dataclass(slots=True)
class Conversation:
    """An open conversation in memory: its record plus what is in flight."""

    record: ConversationRecord
    pending: dict[str, tuple[int, asyncio.Future[None]]] = field(default_factory=dict)
    typing: dict[str, ScheduledCall] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)  # agents in the chat, owner first
    joined: dict[str, int] = field(default_factory=dict)  # agent -> seq of its latest join
    seen: set[str] = field(default_factory=set)  # every agent ever in an audience
    consult: Consult | None = None
    customer_connections: int = 0  # the customer's open connections (tabs, reconnects)
    abandon: ScheduledCall | None = None  # ends a queued chat whose customer is gone

    @property
    def id(self) -> str:
        return self.record.id

    def customer(self) -> p.Participant:
        return p.Participant(
            nickname=str(self.record.contact.get("nickname", "Customer")),
            participant_id=CUSTOMER_ID,
            type=p.ParticipantType.CLIENT,
        )

    def contact(self) -> p.ContactInfo:
        return p.ContactInfo.model_validate(self.record.contact)


def topic(conversation: str) -> str:
    return f"conv:{conversation}"


def agent_topic(agent_id: str) -> str:
    return f"agent:{agent_id}"


class Feed:
    """One peer's subscription to one conversation, with exactly-once delivery.

    ``agent``: deliver only events whose audience names this agent, or history
    up to seq ``history`` (None: every event, the agents' view before issue 6).

    While the backlog streams (``replaying``), live events wait in ``buffer``;
    if more than the peer's send-queue limit pile up there, the buffer is
    dropped (``lost``) and the replay reads them from the store instead (every
    published event is already committed), so a long replay never closes a
    reader that keeps reading."""

    def __init__(
        self,
        peer: Peer,
        agents_view: bool,
        high: int,
        agent: str | None = None,
        history: int = 0,
    ) -> None:
        self.peer = peer
        self.agents_view = agents_view
        self.agent = agent
        self.history = history
        self.high = high
        self.replaying = True
        self.lost = False
        self.stopped = False
        self.buffer: deque[StoredEvent] = deque()

    def on_event(self, event: StoredEvent) -> None:
        if self.replaying:
            if len(self.buffer) >= self.peer.limit:
                self.buffer.clear()
                self.lost = True
            else:
                self.buffer.append(event)
        else:
            self.deliver(event)

    def wants(self, event: StoredEvent) -> bool:
        """Whether ``event`` is new for this feed and visible to its peer (moves ``high``)."""
        if event.seq <= self.high:
            return False
        self.high = event.seq
        if self.agents_view:
            return (
                self.agent is None
                or event.audience is None
                or self.agent in event.audience
                or event.seq <= self.history
            )
        return event.visibility == p.Visibility.ALL and event.type not in CONSULT_EVENTS

    def deliver(self, event: StoredEvent) -> None:
        if self.wants(event):
            self.peer.push(event.body)

    def go_live(self) -> None:
        """End the replay at once, delivering what was buffered (no flow control)."""
        self.replaying = False
        buffered, self.buffer = self.buffer, deque()
        for event in buffered:
            self.deliver(event)


class ChatService:
    """Conversations, routing and the store, driven by client frames."""

    def __init__(
        self, store: EventStore, fanout: FanOut, clock: Clock, config: ServerConfig
    ) -> None:
        self.store = store
        self.fanout = fanout
        self.clock = clock
        self.config = config
        self.conversations: dict[str, Conversation] = {}
        # limits per client address, across connections (docs/protocol.md, Limits)
        self.new_chats = KeyedBuckets(
            clock, config.address_chats_per_minute / 60.0, config.address_chat_burst
        )
        self.auth_failures = FailureThrottle(
            clock, config.auth_failure_limit, config.auth_failure_window, config.auth_backoff
        )
        self.router = Router(
            clock,
            self._send_offer,
            self._revoke_offer,
            offer_timeout=config.offer_timeout,
            capacity=config.agent_capacity,
            declined=self._handover_declined,
        )
        self.agent_peers: dict[str, set[Peer]] = {}
        self.presence: dict[str, str] = {}
        self.unread: dict[str, dict[str, int]] = {}  # agent -> colleague -> unread IMs
        self.im_client_ids: dict[tuple[str, str], int] = {}
        self.requests: dict[str, ChatRequest] = {}  # RequestChat id -> chat (retry window)
        self.next_im = 1

    # -- start-up ------------------------------------------------------------------
    async def restore(self) -> None:
        """Load open conversations after a (re)start; queued ones wait for agents."""
        self.next_im = self.store.next_im_id()
        for record in await self.store.open_conversations():
            conv = self.conversations[record.id] = Conversation(record)
            if record.owner:
                conv.members = [record.owner]
            for event in await self.store.read_events(record.id, 0, 10_000_000):
                conv.seen.update(event.audience or ())
                if event.type in ("ParticipantJoined", "ChatTransferred") and event.sender:
                    conv.joined[event.sender] = event.seq
            if record.state == "active" and record.owner:
                self.router.restore_owner(record.id, record.owner)
            elif record.state == "queued":
                self.router.enqueue(record.id)

    # -- events ----------------------------------------------------------------------
    def emit(
        self,
        conv: Conversation,
        model: type[p._Event],
        sender: p.Participant,
        *,
        visibility: p.Visibility = p.Visibility.ALL,
        client_id: str | None = None,
        state: str | None = None,
        owner: str | None = None,
        audience: tuple[str, ...] | None = None,
        also: tuple[str, ...] = (),
        **fields: Any,
    ) -> tuple[int, asyncio.Future[None]]:
        """Append an event: seq now, store next, fan-out after the commit.

        ``audience``: the agents entitled (default: the agents in the chat) plus ``also``."""
        record = conv.record
        if model in CONSULT_MODELS:  # not model_fields: a slow descriptor on pydantic 2.11+
            assert visibility is p.Visibility.AGENTS, "consultation events are agents-only"
        who = tuple(dict.fromkeys((*(conv.members if audience is None else audience), *also)))
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

        def committed() -> None:
            if key is not None:
                record.client_ids[key] = seq
                conv.pending.pop(key, None)
            self.fanout.publish(topic(record.id), event)
            if record.state == "done":
                self.conversations.pop(record.id, None)

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

    def _ack_after(
        self,
        peer: Peer,
        frame_id: str,
        conv: str | None,
        seq: int | None,
        future: asyncio.Future[None],
    ) -> None:
        def done(f: asyncio.Future[None]) -> None:
            if f.cancelled() or f.exception() is not None:
                exc = None if f.cancelled() else f.exception()
                if isinstance(exc, StoreBusy):
                    code, message = p.ErrorCode.UNAVAILABLE, f"{exc}; retry with the same id"
                else:
                    log.error("store write failed: %r", exc)
                    code, message = p.ErrorCode.INTERNAL, "could not store the event; retry"
                peer.push(
                    p.Error(id=frame_id, code=code, message=message, conversation=conv).to_json()
                )
            else:
                peer.push(p.Ack(id=frame_id, conversation=conv, seq=seq).to_json())

        future.add_done_callback(done)

    def _duplicate(self, peer: Peer, conv: Conversation, sender: str, frame_id: str) -> bool:
        """A retried frame: acknowledge the original event once it is durable."""
        key = client_key(sender, frame_id)
        seq = conv.record.client_ids.get(key)
        if seq is not None:
            peer.push(p.Ack(id=frame_id, conversation=conv.id, seq=seq).to_json())
            return True
        pending = conv.pending.get(key)
        if pending is not None:
            self._ack_after(peer, frame_id, conv.id, pending[0], pending[1])
            return True
        return False

    async def _retried(self, peer: Peer, conversation: str, sender: str, frame_id: str) -> bool:
        """A resend of a frame already stored (or being stored) in ``conversation`` by
        ``sender``: acknowledged with the original seq, even after the chat ended or was
        done and left memory."""
        conv = self.conversations.get(conversation)
        if conv is not None:
            return self._duplicate(peer, conv, sender, frame_id)
        seq = await self.store.find_client_id(conversation, sender, frame_id)
        if seq is None:
            return False
        peer.push(p.Ack(id=frame_id, conversation=conversation, seq=seq).to_json())
        return True

    # -- subscriptions -------------------------------------------------------------------
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
        page = self.config.replay_page
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

    async def get_conversation(self, conversation: str) -> Conversation | None:
        conv = self.conversations.get(conversation)
        if conv is None:
            record = await self.store.get_conversation(conversation)
            if record is None:
                return None
            conv = Conversation(record)  # done: read-only, not kept
        return conv

    # -- routing callbacks --------------------------------------------------------------
    def _offer_frame(self, conversation: str, expires_at: float) -> p.Offer:
        conv = self.conversations[conversation]
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
            from_agent=p.AgentInfo(id=h.from_agent, nickname=self._name(h.from_agent)),
            note=h.note,
            queue=h.target_id if h.target_kind == "queue" else None,
            last_seq=conv.record.last_seq,
        )

    def _send_offer(self, agent_id: str, conversation: str, expires_at: float) -> None:
        frame = self._offer_frame(conversation, expires_at)
        self.fanout.publish(agent_topic(agent_id), frame.to_json())

    def _handover_declined(self, conversation: str, kind: str, target: str, reason: str) -> None:
        """Routing callback: a transfer/invitation did not happen; the owner keeps the chat."""
        conv = self.conversations.get(conversation)
        if conv is None or conv.record.state not in LIVE:
            return
        if kind == TRANSFER:
            self.emit(
                conv, p.TransferDeclined, SYSTEM, visibility=p.Visibility.AGENTS, reason=reason
            )
        else:
            self.emit(
                conv,
                p.InviteDeclined,
                SYSTEM,
                visibility=p.Visibility.AGENTS,
                target_id=target,
                reason=reason,
            )

    def _revoke_offer(self, agent_id: str, conversation: str, reason: str) -> None:
        frame = p.OfferRevoked(conversation=conversation, reason=reason)
        self.fanout.publish(agent_topic(agent_id), frame.to_json())

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
            await self._auth(peer, frame)
        elif isinstance(frame, p.RequestChat) and peer.browser:
            await self._request_chat(peer, frame)
        elif isinstance(frame, p.ResumeChat) and peer.browser:
            await self._resume_chat(peer, frame)
        elif isinstance(frame, p.Auth | p.RequestChat | p.ResumeChat):
            who = "browser (Origin) connections" if peer.browser else "connections without Origin"
            raise ServiceError(p.ErrorCode.FORBIDDEN, f"{frame.type} is not allowed for {who}")
        else:
            raise ServiceError(
                p.ErrorCode.AUTH_REQUIRED,
                "authenticate first: Auth (agents) or RequestChat/ResumeChat",
            )

    # -- agents ---------------------------------------------------------------------------
    async def _auth(self, peer: Peer, frame: p.Auth) -> None:
        wait = self.auth_failures.wait(peer.address)
        if wait > 0:  # refused without looking at the token: guessing gets nothing
            peer.push(
                p.Error(
                    id=frame.id,
                    code=p.ErrorCode.RATE_LIMITED,
                    message=f"too many failed authentications from this address; "
                    f"retry in {wait:.0f} s",
                ).to_json()
            )
            await peer.flush_and_close(AUTH_CLOSE_CODE, "authentication throttled")
            return
        agent = await self.store.agent_for_token(frame.token)
        if agent is None:
            self.auth_failures.failed(peer.address)
            peer.push(
                p.Error(
                    id=frame.id, code=p.ErrorCode.AUTH_FAILED, message="unknown agent token"
                ).to_json()
            )
            await peer.flush_and_close(AUTH_CLOSE_CODE, "authentication failed")
            return
        self.auth_failures.succeeded(peer.address)
        participant = p.Participant(
            nickname=agent.name, participant_id=agent.id, type=p.ParticipantType.AGENT
        )
        peer.principal = AgentPrincipal(agent, participant)
        me = agent.id
        mine = [
            c
            for c in self.conversations.values()
            if me in c.members or (c.consult is not None and me in c.consult.parties)
        ]
        if me not in self.unread:
            self.unread[me] = await self.store.im_unread(me)
        presence = "ready" if frame.ready else "not_ready"
        self.presence[me] = presence
        peer.push(
            p.AuthOk(
                id=frame.id,
                agent=p.AgentInfo(id=me, nickname=agent.name),
                conversations=[
                    p.ConversationInfo(
                        conversation=c.id,
                        contact=c.contact(),
                        state=c.record.state,
                        last_seq=c.record.last_seq,
                    )
                    for c in mine
                ],
                directory=self.directory(),
                im_unread={k: v for k, v in self.unread[me].items() if v},
            ).to_json()
        )
        peer.on_close(self.fanout.subscribe(agent_topic(me), peer.push))
        peer.on_close(self.fanout.subscribe(PRESENCE_TOPIC, peer.push))
        self.agent_peers.setdefault(me, set()).add(peer)
        peer.on_close(lambda: self._agent_gone(me, peer))
        for conversation, offer in list(self.router.offers.items()):
            if offer.agent == me:
                self._send_offer_to(peer, conversation, offer.expires_at)
        skills = frozenset(self.store.agent_skills().get(me, ()))
        self.router.agent_connected(me, frame.ready, skills)
        self._publish_presence(me, presence)
        peer.on_close(lambda: self.router.agent_disconnected(me))
        im_after = frame.im_after
        for _ in range(10_000_000):  # bounded: pages of missed IMs, with flow control
            ims = await self.store.read_im(me, im_after, self.config.replay_page)
            for im in ims:
                await peer.backlog(self._im_frame(im).to_json())
            if len(ims) < self.config.replay_page or peer.closed:
                break
            im_after = ims[-1].id
        for conversation, last_seq in frame.resume.items():
            conv = await self.get_conversation(conversation)
            if conv is not None and (me in conv.seen or conv.record.owner == me):
                if last_seq > conv.record.last_seq:
                    peer.push(
                        p.Error(
                            id=frame.id,
                            code=p.ErrorCode.INVALID_FRAME,
                            message=_beyond_end("resume", last_seq, conv.record.last_seq),
                            conversation=conversation,
                        ).to_json()
                    )
                    continue
                history = conv.joined.get(me, 0)
                await self.attach(
                    peer, conversation, last_seq, agents_view=True, agent=me, history=history
                )
            else:
                peer.push(
                    p.Error(
                        id=frame.id,
                        code=p.ErrorCode.FORBIDDEN,
                        message="not your conversation",
                        conversation=conversation,
                    ).to_json()
                )

    def _agent_gone(self, agent_id: str, peer: Peer) -> None:
        peers = self.agent_peers.get(agent_id)
        if peers is not None:
            peers.discard(peer)
            if not peers:
                del self.agent_peers[agent_id]
                self.presence[agent_id] = "offline"
                self._publish_presence(agent_id, "offline")

    def _publish_presence(self, agent_id: str, presence: str) -> None:
        frame = p.PresenceChanged(
            agent=agent_id,
            presence=presence,  # type: ignore[arg-type]
            nickname=self._name(agent_id),
        )
        self.fanout.publish(PRESENCE_TOPIC, frame.to_json())

    def directory(self) -> p.DirectoryInfo:
        """Colleagues with presence, queues and external contacts (from the store)."""
        skills = self.store.agent_skills()
        return p.DirectoryInfo(
            agents=[
                p.DirectoryAgent(
                    id=a.id,
                    nickname=a.name,
                    skills=list(skills.get(a.id, ())),
                    presence=self.presence.get(a.id, "offline"),  # type: ignore[arg-type]
                )
                for a in self.store.list_agents()
            ],
            queues=[
                p.DirectoryQueue(id=q.id, name=q.name, skill=q.skill)
                for q in self.store.list_queues()
            ],
            externals=[
                p.DirectoryExternal(
                    id=x.id, name=x.name, phone=x.phone, organisation=x.organisation
                )
                for x in self.store.list_externals()
            ],
        )

    def _name(self, agent_id: str) -> str:
        for a in self.store.list_agents():
            if a.id == agent_id:
                return a.name
        return agent_id

    def _agent_participant(self, agent_id: str) -> p.Participant:
        return p.Participant(
            nickname=self._name(agent_id), participant_id=agent_id, type=p.ParticipantType.AGENT
        )

    def _send_offer_to(self, peer: Peer, conversation: str, expires_at: float) -> None:
        peer.push(self._offer_frame(conversation, expires_at).to_json())

    def _owned(self, principal: AgentPrincipal, conversation: str) -> Conversation:
        """A chat this agent is in (its owner or the conference colleague)."""
        conv = self.conversations.get(conversation)
        if conv is None or principal.agent.id not in conv.members:
            raise ServiceError(p.ErrorCode.FORBIDDEN, "not your conversation (or it is done)")
        return conv

    def _owner_only(self, principal: AgentPrincipal, conversation: str) -> Conversation:
        conv = self._live(self._owned(principal, conversation))
        if conv.record.owner != principal.agent.id:
            raise ServiceError(p.ErrorCode.FORBIDDEN, "only the chat's owner can do this")
        return conv

    async def _agent_frame(self, peer: Peer, who: AgentPrincipal, frame: p.ClientFrame) -> None:
        me = who.participant
        if isinstance(frame, RETRYABLE) and await self._retried(
            peer,
            frame.conversation,
            who.agent.id,
            frame.id,
        ):
            return
        if isinstance(frame, p.SetReady | p.SetPresence):
            if isinstance(frame, p.SetReady):
                presence = "ready" if frame.ready else "not_ready"
            else:
                presence = frame.presence
            self.router.set_ready(who.agent.id, presence == "ready")
            if self.presence.get(who.agent.id) != presence:
                self.presence[who.agent.id] = presence
                self._publish_presence(who.agent.id, presence)
            peer.push(p.Ack(id=frame.id).to_json())
        elif isinstance(frame, TEAM_FRAMES):
            await self._team_frame(peer, who, frame)
        elif isinstance(frame, p.Accept):
            await self._accept(peer, who, frame)
        elif isinstance(frame, p.Reject):
            if not self.router.reject(who.agent.id, frame.conversation):
                raise ServiceError(
                    p.ErrorCode.OFFER_NOT_AVAILABLE, "this chat is not offered to you (any more)"
                )
            peer.push(p.Ack(id=frame.id, conversation=frame.conversation).to_json())
        elif isinstance(frame, p.SendMessage):
            self._message(peer, self._live(self._owned(who, frame.conversation)), me, frame)
        elif isinstance(frame, p.SendPushUrl):
            self._push_url(peer, self._live(self._owned(who, frame.conversation)), me, frame)
        elif isinstance(frame, p.StartTyping | p.StopTyping):
            self._typing(peer, self._live(self._owned(who, frame.conversation)), me, frame)
        elif isinstance(frame, p.SetDisposition | p.AddNote):
            conv = self._owned(who, frame.conversation)
            if conv.record.state not in ("active", "ended"):
                raise ServiceError(p.ErrorCode.INVALID_STATE, f"chat is {conv.record.state}")
            if self._duplicate(peer, conv, me.participant_id, frame.id):
                return
            if isinstance(frame, p.SetDisposition):
                seq, fut = self.emit(
                    conv,
                    p.DispositionSet,
                    me,
                    visibility=p.Visibility.AGENTS,
                    client_id=frame.id,
                    code=frame.code,
                )
            else:
                seq, fut = self.emit(
                    conv,
                    p.NoteAdded,
                    me,
                    visibility=p.Visibility.AGENTS,
                    client_id=frame.id,
                    text=frame.text,
                )
            self._ack_after(peer, frame.id, conv.id, seq, fut)
        elif isinstance(frame, p.EndChat):
            conv = self._owned(who, frame.conversation)
            if conv.record.state != "active" or self._duplicate(
                peer, conv, me.participant_id, frame.id
            ):
                if conv.record.state != "active":
                    peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
                return
            self._stop_typing_timers(conv)
            self._end_consultation(conv, "the chat ended")
            seq, fut = self.emit(conv, p.ChatEnded, me, client_id=frame.id, state="ended")
            self.router.finish(conv.id)
            self._ack_after(peer, frame.id, conv.id, seq, fut)
        elif isinstance(frame, p.MarkDone):
            if frame.conversation not in self.conversations:
                record = await self.store.get_conversation(frame.conversation)
                if record is not None and record.state == "done":  # the other agent was first
                    peer.push(p.Ack(id=frame.id, conversation=frame.conversation).to_json())
                    return
            conv = self._owned(who, frame.conversation)
            if self._duplicate(peer, conv, me.participant_id, frame.id):
                return
            if conv.record.state != "ended":
                raise ServiceError(
                    p.ErrorCode.INVALID_STATE,
                    f"end the chat before marking it done (it is {conv.record.state})",
                )
            seq, fut = self.emit(
                conv,
                p.ChatDone,
                me,
                visibility=p.Visibility.AGENTS,
                client_id=frame.id,
                state="done",
            )
            self._ack_after(peer, frame.id, conv.id, seq, fut)
        else:
            raise ServiceError(p.ErrorCode.FORBIDDEN, f"agents cannot send {frame.type}")

    async def _accept(self, peer: Peer, who: AgentPrincipal, frame: p.Accept) -> None:
        conv = self.conversations.get(frame.conversation)
        agent_id = who.agent.id
        if conv is not None and agent_id in conv.members:
            if not self._duplicate(peer, conv, agent_id, frame.id):  # accepted before
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
            self._end_consultation(conv, "the chat was transferred")
            conv.members = [agent_id]
            seq, fut = self.emit(
                conv,
                p.ChatTransferred,
                who.participant,
                client_id=client_id,
                state="active",
                owner=agent_id,
                also=(previous,),
                previous=self._agent_participant(previous),
            )
        else:
            if kind == CONFERENCE:
                conv.members.append(agent_id)
            else:
                conv.members = [agent_id]
            seq, fut = self.emit(
                conv,
                p.ParticipantJoined,
                who.participant,
                client_id=client_id,
                state="active",
                owner=self.router.owner(conv.id) or agent_id,
            )
        conv.joined[agent_id] = seq
        self._ack_after(peer, frame.id, conv.id, seq, fut)
        await self.attach(peer, conv.id, 0, agents_view=True, agent=agent_id, history=seq)

    # -- several agents (issue 6) ---------------------------------------------------------
    def _consultation_of(
        self, conversation: str, consultation: str, me: str, *, target: bool
    ) -> tuple[Conversation, Consult]:
        """The running consultation ``consultation`` of a chat, if ``me`` may act on it:
        as the consulted agent (``target``) or as either party."""
        conv = self.conversations.get(conversation)
        c = None if conv is None else conv.consult
        allowed = c is not None and (c.target_id == me if target else me in c.parties)
        if conv is None or c is None or c.id != consultation or not allowed:
            raise ServiceError(p.ErrorCode.FORBIDDEN, "no such consultation for you")
        return conv, c

    async def _team_frame(self, peer: Peer, who: AgentPrincipal, frame: p.ClientFrame) -> None:
        me = who.agent.id
        if isinstance(frame, p.SendIm | p.MarkImRead):
            await self._im(peer, who, frame)
            return
        conversation = frame.conversation  # type: ignore[union-attr]
        if isinstance(frame, p.AnswerConsultation):
            conv, c = self._consultation_of(conversation, frame.consultation, me, target=True)
            if c.state not in ("requested", "ringing"):
                raise ServiceError(p.ErrorCode.INVALID_STATE, f"consultation is {c.state}")
            seq, fut = self._consult_state(conv, "active" if frame.accept else "declined")
            self._ack_after(peer, frame.id, conv.id, seq, fut)
            return
        if isinstance(frame, p.SendConsultMessage | p.EndConsultation):
            conv, c = self._consultation_of(conversation, frame.consultation, me, target=False)
            if self._duplicate(peer, conv, me, frame.id):
                return
            if isinstance(frame, p.EndConsultation):
                seq, fut = self._consult_state(conv, "ended", client_id=frame.id, sender=who)
            else:
                if c.state != "active" or c.medium != "chat":
                    raise ServiceError(
                        p.ErrorCode.INVALID_STATE, "no consultation by chat is running"
                    )
                seq, fut = self.emit(
                    conv,
                    p.ConsultMessage,
                    who.participant,
                    visibility=p.Visibility.AGENTS,
                    client_id=frame.id,
                    audience=c.parties,
                    consultation=c.id,
                    text=frame.text.strip() or frame.text,
                )
            self._ack_after(peer, frame.id, conv.id, seq, fut)
            return
        if isinstance(frame, p.LeaveConference):
            conv = self._live(self._owned(who, conversation))
            if self._duplicate(peer, conv, me, frame.id):
                return
            successor = self.router.leave(conv.id, me)
            if successor is None:
                raise ServiceError(p.ErrorCode.INVALID_STATE, "there is no conference to leave")
            if conv.consult is not None and conv.consult.owner == me:
                self._end_consultation(conv, f"{who.agent.name} left the chat")
            conv.members = [a for a in conv.members if a != me]
            seq, fut = self.emit(
                conv,
                p.ParticipantLeft,
                who.participant,
                client_id=frame.id,
                state="active",
                owner=successor,
                also=(me,),
                successor=self._agent_participant(successor),
            )
            self._ack_after(peer, frame.id, conv.id, seq, fut)
            return
        conv = self._owner_only(who, conversation)
        if self._duplicate(peer, conv, me, frame.id):
            return
        if isinstance(frame, p.RequestTransfer):
            seq, fut = self._request_transfer(conv, who, frame)
        elif isinstance(frame, p.CancelTransfer):
            h = self.router.handovers.get(conv.id)
            if h is None or h.kind != TRANSFER:
                raise ServiceError(p.ErrorCode.INVALID_STATE, "no transfer is pending")
            self.router.cancel_handover(conv.id, "transfer cancelled")
            seq, fut = self.emit(
                conv,
                p.TransferDeclined,
                who.participant,
                visibility=p.Visibility.AGENTS,
                client_id=frame.id,
                reason="cancelled",
            )
        elif isinstance(frame, p.InviteToConference):
            target = self._agent_record(frame.target_id)
            seq, fut = self.emit(
                conv,
                p.InviteSent,
                who.participant,
                visibility=p.Visibility.AGENTS,
                client_id=frame.id,
                target_id=target.id,
                target_name=target.name,
            )
            try:
                self.router.invite(conv.id, me, target.id)
            except ValueError as exc:
                raise ServiceError(p.ErrorCode.INVALID_STATE, str(exc)) from None
        elif isinstance(frame, p.StartConsultation):
            seq, fut = self._start_consultation(conv, who, frame)
        else:
            raise ServiceError(p.ErrorCode.FORBIDDEN, f"agents cannot send {frame.type}")
        self._ack_after(peer, frame.id, conv.id, seq, fut)

    def _agent_record(self, agent_id: str) -> Any:
        for a in self.store.list_agents():
            if a.id == agent_id:
                return a
        raise ServiceError(p.ErrorCode.NOT_FOUND, f"no agent {agent_id!r}")

    def _request_transfer(
        self, conv: Conversation, who: AgentPrincipal, frame: p.RequestTransfer
    ) -> tuple[int, asyncio.Future[None]]:
        skill = ""
        if frame.target_kind == "agent":
            name = self._agent_record(frame.target_id).name
        else:
            queue = next((q for q in self.store.list_queues() if q.id == frame.target_id), None)
            if queue is None:
                raise ServiceError(p.ErrorCode.NOT_FOUND, f"no queue {frame.target_id!r}")
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
        seq, fut = self.emit(
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

    def _start_consultation(
        self, conv: Conversation, who: AgentPrincipal, frame: p.StartConsultation
    ) -> tuple[int, asyncio.Future[None]]:
        c = conv.consult
        if c is not None and c.state not in ("ended", "declined"):
            raise ServiceError(p.ErrorCode.INVALID_STATE, "a consultation is running")
        if frame.target_kind == "external":
            if frame.medium != "voice":
                raise ServiceError(
                    p.ErrorCode.INVALID_STATE, "external contacts can be consulted by voice only"
                )
            x = next((x for x in self.store.list_externals() if x.id == frame.target_id), None)
            if x is None:
                raise ServiceError(
                    p.ErrorCode.NOT_FOUND, f"no external contact {frame.target_id!r}"
                )
            name = x.name
        else:
            if frame.target_id == who.agent.id:
                raise ServiceError(p.ErrorCode.INVALID_STATE, "that is you")
            name = self._agent_record(frame.target_id).name
        c = conv.consult = Consult(
            frame.consultation,
            who.agent.id,
            frame.target_kind,
            frame.target_id,
            name,
            frame.medium,
            "requested",
        )
        after = conv.record.last_seq
        seq, fut = self._consult_state(conv, "requested", client_id=frame.id, sender=who)
        if c.target_kind == "external":
            c.timer = self.clock.call_at(
                self.clock.now() + RING_SECONDS, lambda: self._ring(conv, c)
            )
            return seq, fut
        peers = list(self.agent_peers.get(c.target_id, ()))
        if not peers or self.presence.get(c.target_id) == "away":
            self._consult_state(conv, "declined")
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
            asyncio.get_running_loop().create_task(
                self.attach(target_peer, conv.id, after, agents_view=True, agent=c.target_id)
            )
        self.fanout.publish(agent_topic(c.target_id), offer.to_json())
        if c.medium == "voice":
            self._consult_state(conv, "ringing")

        def no_answer() -> None:
            if conv.consult is c and c.state in ("requested", "ringing"):
                self._consult_state(conv, "declined")

        c.timer = self.clock.call_at(self.clock.now() + self.config.offer_timeout, no_answer)
        return seq, fut

    def _ring(self, conv: Conversation, c: Consult) -> None:
        """Simulated voice call to an external contact: ringing, then answered."""
        if conv.consult is not c or c.state != "requested":
            return
        self._consult_state(conv, "ringing")

        def answer() -> None:
            if conv.consult is c and c.state == "ringing":
                self._consult_state(conv, "active")

        c.timer = self.clock.call_at(self.clock.now() + EXTERNAL_ANSWER_SECONDS, answer)

    def _consult_state(
        self,
        conv: Conversation,
        state: str,
        *,
        client_id: str | None = None,
        sender: AgentPrincipal | None = None,
    ) -> tuple[int, asyncio.Future[None]]:
        c = conv.consult
        assert c is not None
        c.state = state
        if state in ("active", "ended", "declined") and c.timer is not None:
            c.timer.cancel()
            c.timer = None
        return self.emit(
            conv,
            p.ConsultationState,
            SYSTEM if sender is None else sender.participant,
            visibility=p.Visibility.AGENTS,
            client_id=client_id,
            audience=c.parties,
            consultation=c.id,
            status=state,
            medium=c.medium,
            target_kind=c.target_kind,
            target_id=c.target_id,
            target_name=c.target_name,
        )

    def _end_consultation(self, conv: Conversation, reason: str) -> None:
        c = conv.consult
        if c is not None and c.state not in ("ended", "declined"):
            self._consult_state(conv, "ended")

    # -- team IM (F14) ---------------------------------------------------------------
    def _im_frame(self, im: ImRecord) -> p.ImMessage:
        return p.ImMessage.model_validate(
            {
                "im_id": im.id,
                "from": p.AgentInfo(id=im.sender, nickname=self._name(im.sender)),
                "to": im.recipient,
                "text": im.text,
                "utc_time": int(im.time * 1000),
                "client_id": im.client_id,
                "unread": self.unread.get(im.recipient, {}).get(im.sender, 0),
            }
        )

    async def _im(self, peer: Peer, who: AgentPrincipal, frame: p.SendIm | p.MarkImRead) -> None:
        me = who.agent.id
        if isinstance(frame, p.MarkImRead):
            up_to = self.next_im - 1
            fut = self.store.mark_im_read(me, frame.colleague, up_to)
            self.unread.setdefault(me, {})[frame.colleague] = 0
            read = p.ImRead(colleague=frame.colleague, up_to=up_to).to_json()

            def done(f: asyncio.Future[None]) -> None:
                if not f.cancelled() and f.exception() is None:
                    self.fanout.publish(agent_topic(me), read)

            fut.add_done_callback(done)
            self._ack_after(peer, frame.id, None, None, fut)
            return
        key = (me, frame.id)
        if key in self.im_client_ids:
            peer.push(p.Ack(id=frame.id).to_json())
            return
        recipient = self._agent_record(frame.to).id
        if recipient == me:
            raise ServiceError(p.ErrorCode.INVALID_STATE, "that is you")
        im = ImRecord(
            self.next_im,
            me,
            recipient,
            frame.text.strip() or frame.text,
            self.clock.now(),
            frame.id,
        )
        self.next_im += 1
        self.im_client_ids[key] = im.id
        fut = self.store.append_im(im)

        def committed(f: asyncio.Future[None]) -> None:
            if f.cancelled() or f.exception() is not None:
                self.im_client_ids.pop(key, None)
                return
            counts = self.unread.get(recipient)
            if counts is not None:
                counts[me] = counts.get(me, 0) + 1
            text = self._im_frame(im).to_json()
            self.fanout.publish(agent_topic(recipient), text)
            self.fanout.publish(agent_topic(me), text)

        fut.add_done_callback(committed)
        self._ack_after(peer, frame.id, None, None, fut)

    # -- customers -------------------------------------------------------------------------
    async def _request_chat(self, peer: Peer, frame: p.RequestChat) -> None:
        now = self.clock.now()
        for key in [k for k, r in self.requests.items() if r.expires <= now]:
            del self.requests[key]
        request = self.requests.get(frame.id)
        if request is not None and request.address == peer.address:
            await self._request_retried(peer, frame, request)
            return
        if not self.new_chats.take(peer.address):
            raise ServiceError(
                p.ErrorCode.RATE_LIMITED,
                f"more than {self.config.address_chats_per_minute:g} new chats per minute "
                "from this address; retry later",
            )
        conversation = "c" + secrets.token_hex(8)
        token = secrets.token_urlsafe(24)
        contact = frame.model_dump(
            include={"nickname", "email", "phone", "subject"}, exclude_none=True
        )
        record = ConversationRecord(conversation, hash_token(token), contact, now)
        conv = Conversation(record)
        self.conversations[conversation] = conv
        self.store.create_conversation(record)
        _seq, fut = self.emit(conv, p.ParticipantJoined, conv.customer(), client_id=frame.id)
        if request is None:  # another address's id is not a retry, and keeps its entry
            self.requests[frame.id] = ChatRequest(
                conversation, token, peer.address, now + self.config.request_retry_window, fut
            )
        try:
            await fut  # durable before the customer learns the id
        except Exception:  # not stored: a retry with the same id starts afresh
            self.conversations.pop(conversation, None)
            if request is None:
                self.requests.pop(frame.id, None)
            raise
        await self._chat_started(peer, frame.id, conv, token, resumed=False)
        self.router.enqueue(conversation)

    async def _request_retried(
        self, peer: Peer, frame: p.RequestChat, request: ChatRequest
    ) -> None:
        """The same RequestChat again (its ChatStarted was lost): the same chat, not a new one."""
        try:
            await asyncio.shield(request.started)
        except Exception:
            raise ServiceError(
                p.ErrorCode.INTERNAL, "could not store the chat; retry with the same id"
            ) from None
        conv = await self.get_conversation(request.conversation)
        if conv is None:
            raise ServiceError(p.ErrorCode.NOT_FOUND, "the chat is gone")
        await self._chat_started(peer, frame.id, conv, request.token, resumed=False)

    async def _chat_started(
        self, peer: Peer, frame_id: str, conv: Conversation, token: str, *, resumed: bool
    ) -> None:
        peer.principal = CustomerPrincipal(conv.id, conv.customer())
        self._customer_connected(peer, conv)
        peer.push(
            p.ChatStarted(
                id=frame_id,
                conversation=conv.id,
                token=token,
                participant_id=CUSTOMER_ID,
                resumed=resumed,
            ).to_json()
        )
        await self.attach(peer, conv.id, 0, agents_view=False)

    def _customer_connected(self, peer: Peer, conv: Conversation) -> None:
        """Count the customer's connections; a queued chat whose customer has none for
        ``abandon_timeout`` is ended (never offered to anyone after that)."""
        conv.customer_connections += 1
        if conv.abandon is not None:
            conv.abandon.cancel()
            conv.abandon = None

        def gone() -> None:
            conv.customer_connections -= 1
            if conv.customer_connections == 0 and conv.record.state == "queued":
                conv.abandon = self.clock.call_at(
                    self.clock.now() + self.config.abandon_timeout, lambda: self._abandon(conv)
                )

        peer.on_close(gone)

    def _abandon(self, conv: Conversation) -> None:
        conv.abandon = None
        if (
            conv.customer_connections > 0
            or conv.record.state != "queued"
            or self.conversations.get(conv.id) is not conv
        ):
            return
        log.info("chat %s abandoned: its customer left before anyone took it", conv.id)
        self._stop_typing_timers(conv)
        self.emit(conv, p.ChatEnded, conv.customer(), state=_after_customer_left(conv))
        self.router.finish(conv.id)

    async def _resume_chat(self, peer: Peer, frame: p.ResumeChat) -> None:
        conv = await self.get_conversation(frame.conversation)
        if conv is None or not hmac.compare_digest(conv.record.token_hash, hash_token(frame.token)):
            raise ServiceError(p.ErrorCode.FORBIDDEN, "no such conversation for this token")
        _check_resume_point(frame.last_seq, conv.record.last_seq, "lastSeq")
        peer.principal = CustomerPrincipal(conv.id, conv.customer())
        self._customer_connected(peer, conv)
        peer.push(
            p.ChatStarted(
                id=frame.id,
                conversation=conv.id,
                token=frame.token,
                participant_id=CUSTOMER_ID,
                resumed=True,
            ).to_json()
        )
        await self.attach(peer, conv.id, frame.last_seq, agents_view=False)

    async def _customer_frame(
        self, peer: Peer, who: CustomerPrincipal, frame: p.ClientFrame
    ) -> None:
        conversation = getattr(frame, "conversation", None)
        if conversation is not None and conversation != who.conversation:
            raise ServiceError(p.ErrorCode.FORBIDDEN, "customers may act only on their own chat")
        if isinstance(frame, RETRYABLE) and await self._retried(
            peer, who.conversation, CUSTOMER_ID, frame.id
        ):
            return
        conv = self.conversations.get(who.conversation)
        if conv is None:
            raise ServiceError(p.ErrorCode.INVALID_STATE, "this chat is over")
        me = who.participant
        if isinstance(frame, p.SendMessage):
            self._message(peer, self._live(conv), me, frame)
        elif isinstance(frame, p.StartTyping | p.StopTyping):
            self._typing(peer, self._live(conv), me, frame)
        elif isinstance(frame, p.EndChat):
            if conv.record.state not in LIVE or self._duplicate(peer, conv, CUSTOMER_ID, frame.id):
                if conv.record.state not in LIVE:
                    peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
                return
            self._stop_typing_timers(conv)
            self._end_consultation(conv, "the customer left")
            seq, fut = self.emit(
                conv, p.ParticipantLeft, me, client_id=frame.id, state=_after_customer_left(conv)
            )
            self.router.finish(conv.id)
            self._ack_after(peer, frame.id, conv.id, seq, fut)
        else:
            raise ServiceError(p.ErrorCode.FORBIDDEN, f"customers cannot send {frame.type}")

    # -- shared actions ----------------------------------------------------------------------
    def _live(self, conv: Conversation) -> Conversation:
        if conv.record.state not in LIVE:
            raise ServiceError(p.ErrorCode.INVALID_STATE, f"chat is {conv.record.state}")
        return conv

    def _message(
        self, peer: Peer, conv: Conversation, me: p.Participant, frame: p.SendMessage
    ) -> None:
        if self._duplicate(peer, conv, me.participant_id, frame.id):
            return
        text = frame.text.strip()
        if not text:
            raise ServiceError(p.ErrorCode.INVALID_FRAME, "message is empty")
        self._cancel_typing(conv, me.participant_id)
        seq, fut = self.emit(conv, p.Message, me, client_id=frame.id, text=text)
        self._ack_after(peer, frame.id, conv.id, seq, fut)

    def _push_url(
        self, peer: Peer, conv: Conversation, me: p.Participant, frame: p.SendPushUrl
    ) -> None:
        if self._duplicate(peer, conv, me.participant_id, frame.id):
            return
        try:
            url = validate_push_url(frame.url)
        except InvalidUrlError as exc:
            raise ServiceError(p.ErrorCode.INVALID_URL, str(exc)) from None
        text = (frame.text or "").strip() or self.config.push_url_text.format(url=url)
        self._cancel_typing(conv, me.participant_id)
        seq, fut = self.emit(conv, p.PushUrl, me, client_id=frame.id, url=url, text=text)
        self._ack_after(peer, frame.id, conv.id, seq, fut)

    def _typing(
        self, peer: Peer, conv: Conversation, me: p.Participant, frame: p.StartTyping | p.StopTyping
    ) -> None:
        who = me.participant_id
        if isinstance(frame, p.StartTyping):
            was_typing = self._cancel_typing(conv, who)
            conv.typing[who] = self.clock.call_at(
                self.clock.now() + self.config.typing_timeout,
                lambda: self._typing_expired(conv, me),
            )
            if was_typing:  # still typing: only the expiry moves
                peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
                return
            seq, fut = self.emit(conv, p.TypingStarted, me)
        else:
            if not self._cancel_typing(conv, who):
                peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
                return
            seq, fut = self.emit(conv, p.TypingStopped, me)
        self._ack_after(peer, frame.id, conv.id, seq, fut)

    def _cancel_typing(self, conv: Conversation, who: str) -> bool:
        handle = conv.typing.pop(who, None)
        if handle is None:
            return False
        handle.cancel()
        return True

    def _typing_expired(self, conv: Conversation, me: p.Participant) -> None:
        """Typing expiry (clock callback): nobody types forever after a lost StopTyping."""
        if conv.typing.pop(me.participant_id, None) is not None and conv.record.state in LIVE:
            self.emit(conv, p.TypingStopped, me)

    def _stop_typing_timers(self, conv: Conversation) -> None:
        for handle in conv.typing.values():
            handle.cancel()
        conv.typing.clear()


def _after_customer_left(conv: Conversation) -> str:
    """A chat no agent ever took has nothing to wrap up: it is done at once and leaves
    memory (chats a client opens and abandons cannot pile up); else an agent wraps up."""
    return "ended" if conv.record.owner else "done"


def _beyond_end(field: str, asked: int, last: int) -> str:
    return (
        f"{field}: {asked} is beyond the chat's last event ({last}); "
        f"resume from {last} or less (0 for the whole history)"
    )


def _check_resume_point(asked: int, last: int, field: str) -> None:
    """A resume point past the chat's end would wait for events that never come."""
    if asked > last:
        raise ServiceError(p.ErrorCode.INVALID_FRAME, _beyond_end(field, asked, last))
