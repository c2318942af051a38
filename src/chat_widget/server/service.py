"""The chat service: what each client frame does to conversations.

Every event gets the next ``seq`` of its conversation synchronously, then
goes to the store; fan-out and the ``Ack`` happen only after the group
commit, in order. A peer subscribes to a conversation with the last seq it
saw: it is subscribed first (live events are buffered), then the store is
read, then the buffer is drained, skipping what the replay already sent.
So a client gets every event it may see exactly once, however long it was
away. Customers never receive ``visibility: agents`` events.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from ..formats import protocol as p
from ..model.clock import Clock, ScheduledCall
from ..model.urls import InvalidUrlError, validate_push_url
from .config import ServerConfig
from .fanout import FanOut
from .peer import AgentPrincipal, CustomerPrincipal, Peer
from .routing import Router
from .sqlite_store import client_key, hash_token
from .store import ConversationRecord, ConversationUpdate, EventStore, StoredEvent

log = logging.getLogger(__name__)

SYSTEM = p.Participant(nickname="System", participant_id="system", type=p.ParticipantType.SYSTEM)
CUSTOMER_ID = "customer"
LIVE = ("queued", "active")
AUTH_CLOSE_CODE = 1008


class ServiceError(Exception):
    def __init__(self, code: p.ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class Conversation:
    """An open conversation in memory: its record plus what is in flight."""

    record: ConversationRecord
    pending: dict[str, tuple[int, asyncio.Future[None]]] = field(default_factory=dict)
    typing: dict[str, ScheduledCall] = field(default_factory=dict)

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
    """One peer's subscription to one conversation, with exactly-once delivery."""

    def __init__(self, peer: Peer, agents_view: bool, high: int) -> None:
        self.peer = peer
        self.agents_view = agents_view
        self.high = high
        self.replaying = True
        self.buffer: list[StoredEvent] = []

    def on_event(self, event: StoredEvent) -> None:
        if self.replaying:
            if len(self.buffer) >= self.peer.limit:
                self.peer.close(1008, "slow reader: replay buffer full")
                return
            self.buffer.append(event)
        else:
            self.deliver(event)

    def deliver(self, event: StoredEvent) -> None:
        if event.seq <= self.high:
            return
        self.high = event.seq
        if self.agents_view or event.visibility == p.Visibility.ALL:
            self.peer.push(event.body)

    def go_live(self) -> None:
        self.replaying = False
        buffered, self.buffer = self.buffer, []
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
        self.router = Router(
            clock,
            self._send_offer,
            self._revoke_offer,
            offer_timeout=config.offer_timeout,
            capacity=config.agent_capacity,
        )

    # -- start-up ------------------------------------------------------------------
    async def restore(self) -> None:
        """Load open conversations after a (re)start; queued ones wait for agents."""
        for record in await self.store.open_conversations():
            self.conversations[record.id] = Conversation(record)
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
        **fields: Any,
    ) -> tuple[int, asyncio.Future[None]]:
        """Append an event: seq now, store next, fan-out after the commit."""
        record = conv.record
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
        return seq, future

    def _ack_after(
        self,
        peer: Peer,
        frame_id: str,
        conv: str,
        seq: int | None,
        future: asyncio.Future[None],
    ) -> None:
        def done(f: asyncio.Future[None]) -> None:
            if f.cancelled() or f.exception() is not None:
                log.error("store write failed: %r", None if f.cancelled() else f.exception())
                peer.push(
                    p.Error(
                        id=frame_id,
                        code=p.ErrorCode.INTERNAL,
                        message="could not store the event; retry",
                        conversation=conv,
                    ).to_json()
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

    # -- subscriptions -------------------------------------------------------------------
    async def attach(
        self, peer: Peer, conversation: str, after_seq: int, agents_view: bool
    ) -> None:
        """Send ``peer`` every event after ``after_seq``, then everything new, once each."""
        feed = Feed(peer, agents_view, after_seq)
        peer.on_close(self.fanout.subscribe(topic(conversation), feed.on_event))
        high = after_seq
        for _ in range(1_000_000):  # bounded: pages of replay_page events
            rows = await self.store.read_events(conversation, high, self.config.replay_page)
            for event in rows:
                feed.deliver(event)
            if not rows or peer.closed:
                break
            high = rows[-1].seq
            if len(rows) < self.config.replay_page:
                break
        feed.go_live()

    async def get_conversation(self, conversation: str) -> Conversation | None:
        conv = self.conversations.get(conversation)
        if conv is None:
            record = await self.store.get_conversation(conversation)
            if record is None:
                return None
            conv = Conversation(record)  # done: read-only, not kept
        return conv

    # -- routing callbacks --------------------------------------------------------------
    def _send_offer(self, agent_id: str, conversation: str, expires_at: float) -> None:
        conv = self.conversations[conversation]
        frame = p.Offer(
            conversation=conversation, contact=conv.contact(), expires_at=int(expires_at * 1000)
        )
        self.fanout.publish(agent_topic(agent_id), frame.to_json())

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
                self._customer_frame(peer, peer.principal, frame)
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
        agent = await self.store.agent_for_token(frame.token)
        if agent is None:
            peer.push(
                p.Error(
                    id=frame.id, code=p.ErrorCode.AUTH_FAILED, message="unknown agent token"
                ).to_json()
            )
            await peer.flush_and_close(AUTH_CLOSE_CODE, "authentication failed")
            return
        participant = p.Participant(
            nickname=agent.name, participant_id=agent.id, type=p.ParticipantType.AGENT
        )
        peer.principal = AgentPrincipal(agent, participant)
        owned = [c for c in self.conversations.values() if c.record.owner == agent.id]
        peer.push(
            p.AuthOk(
                id=frame.id,
                agent=p.AgentInfo(id=agent.id, nickname=agent.name),
                conversations=[
                    p.ConversationInfo(
                        conversation=c.id,
                        contact=c.contact(),
                        state=c.record.state,
                        last_seq=c.record.last_seq,
                    )
                    for c in owned
                ],
            ).to_json()
        )
        peer.on_close(self.fanout.subscribe(agent_topic(agent.id), peer.push))
        for conversation, offer in list(self.router.offers.items()):
            if offer.agent == agent.id:
                self._send_offer_to(peer, conversation, offer.expires_at)
        self.router.agent_connected(agent.id, frame.ready)
        peer.on_close(lambda: self.router.agent_disconnected(agent.id))
        for conversation, last_seq in frame.resume.items():
            conv = await self.get_conversation(conversation)
            if conv is not None and conv.record.owner == agent.id:
                await self.attach(peer, conversation, last_seq, agents_view=True)
            else:
                peer.push(
                    p.Error(
                        id=frame.id,
                        code=p.ErrorCode.FORBIDDEN,
                        message="not your conversation",
                        conversation=conversation,
                    ).to_json()
                )

    def _send_offer_to(self, peer: Peer, conversation: str, expires_at: float) -> None:
        conv = self.conversations[conversation]
        peer.push(
            p.Offer(
                conversation=conversation, contact=conv.contact(), expires_at=int(expires_at * 1000)
            ).to_json()
        )

    def _owned(self, principal: AgentPrincipal, conversation: str) -> Conversation:
        conv = self.conversations.get(conversation)
        if conv is None or conv.record.owner != principal.agent.id:
            raise ServiceError(p.ErrorCode.FORBIDDEN, "not your conversation (or it is done)")
        return conv

    async def _agent_frame(self, peer: Peer, who: AgentPrincipal, frame: p.ClientFrame) -> None:
        me = who.participant
        if isinstance(frame, p.SetReady):
            self.router.set_ready(who.agent.id, frame.ready)
            peer.push(p.Ack(id=frame.id).to_json())
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
            seq, fut = self.emit(conv, p.ChatEnded, me, client_id=frame.id, state="ended")
            self.router.finish(conv.id)
            self._ack_after(peer, frame.id, conv.id, seq, fut)
        elif isinstance(frame, p.MarkDone):
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
        if conv is not None and conv.record.owner == agent_id:
            if not self._duplicate(peer, conv, agent_id, frame.id):  # accepted before
                peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
            return
        if conv is None or not self.router.try_accept(agent_id, frame.conversation):
            raise ServiceError(
                p.ErrorCode.OFFER_NOT_AVAILABLE, "this chat is not offered to you (any more)"
            )
        seq, fut = self.emit(
            conv,
            p.ParticipantJoined,
            who.participant,
            client_id=frame.id,
            state="active",
            owner=agent_id,
        )
        self._ack_after(peer, frame.id, conv.id, seq, fut)
        await self.attach(peer, conv.id, 0, agents_view=True)

    # -- customers -------------------------------------------------------------------------
    async def _request_chat(self, peer: Peer, frame: p.RequestChat) -> None:
        conversation = "c" + secrets.token_hex(8)
        token = secrets.token_urlsafe(24)
        contact = frame.model_dump(
            include={"nickname", "email", "phone", "subject"}, exclude_none=True
        )
        record = ConversationRecord(conversation, hash_token(token), contact, self.clock.now())
        conv = Conversation(record)
        self.conversations[conversation] = conv
        self.store.create_conversation(record)
        _seq, fut = self.emit(conv, p.ParticipantJoined, conv.customer(), client_id=frame.id)
        await fut  # durable before the customer learns the id
        peer.principal = CustomerPrincipal(conversation, conv.customer())
        peer.push(
            p.ChatStarted(
                id=frame.id, conversation=conversation, token=token, participant_id=CUSTOMER_ID
            ).to_json()
        )
        await self.attach(peer, conversation, 0, agents_view=False)
        self.router.enqueue(conversation)

    async def _resume_chat(self, peer: Peer, frame: p.ResumeChat) -> None:
        conv = await self.get_conversation(frame.conversation)
        if conv is None or not hmac.compare_digest(conv.record.token_hash, hash_token(frame.token)):
            raise ServiceError(p.ErrorCode.FORBIDDEN, "no such conversation for this token")
        peer.principal = CustomerPrincipal(conv.id, conv.customer())
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

    def _customer_frame(self, peer: Peer, who: CustomerPrincipal, frame: p.ClientFrame) -> None:
        conversation = getattr(frame, "conversation", None)
        if conversation is not None and conversation != who.conversation:
            raise ServiceError(p.ErrorCode.FORBIDDEN, "customers may act only on their own chat")
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
            seq, fut = self.emit(conv, p.ParticipantLeft, me, client_id=frame.id, state="ended")
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
