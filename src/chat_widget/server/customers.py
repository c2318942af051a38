"""Customers: starting a chat (rate-limited, retry-safe), resuming it, leaving it,
and abandoning a queued chat by closing every tab."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from dataclasses import dataclass

from ..formats import protocol as p
from ..model.clock import Clock
from .config import ServerConfig
from .conversation import (
    CUSTOMER_ID,
    LIVE,
    Conversation,
    ServiceError,
    after_customer_left,
    check_resume_point,
)
from .event_log import EventLog, ack_after
from .lifecycle import Lifecycle
from .limits import KeyedBuckets
from .peer import CustomerPrincipal, Peer
from .routing import Router
from .store import ConversationRecord, ConversationState, hash_token

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ChatRequest:
    """A ``RequestChat`` remembered for ``request_retry_window``: a resend of the same id
    from the same address gets the same chat and token instead of a second chat."""

    conversation: str
    token: str
    address: str
    expires: float
    started: asyncio.Future[None]


class Customers:
    """What a customer's page does, from ``RequestChat`` to leaving."""

    def __init__(
        self,
        events: EventLog,
        router: Router,
        lifecycle: Lifecycle,
        clock: Clock,
        config: ServerConfig,
    ) -> None:
        self.events = events
        self.router = router
        self.lifecycle = lifecycle
        self.clock = clock
        self.config = config
        # limits per client address, across connections (docs/protocol.md, Limits)
        self.new_chats = KeyedBuckets(
            clock, config.address_chats_per_minute / 60.0, config.address_chat_burst
        )
        self.requests: dict[str, ChatRequest] = {}  # RequestChat id -> chat (retry window)

    async def request_chat(self, peer: Peer, frame: p.RequestChat) -> None:
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
        if frame.class_id is not None:
            contact["class"] = frame.class_id  # a classroom run's chat (issue 15)
        record = ConversationRecord(conversation, hash_token(token), contact, now)
        conv = Conversation(record)
        self.events.conversations[conversation] = conv
        self.events.store.create_conversation(record)
        _seq, fut = self.events.emit(conv, p.ParticipantJoined, conv.customer(), client_id=frame.id)
        if request is None:  # another address's id is not a retry, and keeps its entry
            self.requests[frame.id] = ChatRequest(
                conversation, token, peer.address, now + self.config.request_retry_window, fut
            )
        try:
            await fut  # durable before the customer learns the id
        except Exception:  # not stored: a retry with the same id starts afresh
            self.events.conversations.pop(conversation, None)
            if request is None:
                self.requests.pop(frame.id, None)
            raise
        await self._chat_started(peer, frame.id, conv, token, 0, resumed=False)
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
        conv = await self.events.get_conversation(request.conversation)
        if conv is None:
            raise ServiceError(p.ErrorCode.NOT_FOUND, "the chat is gone")
        await self._chat_started(peer, frame.id, conv, request.token, 0, resumed=False)

    async def resume_chat(self, peer: Peer, frame: p.ResumeChat) -> None:
        conv = await self.events.get_conversation(frame.conversation)
        if conv is None or not hmac.compare_digest(conv.record.token_hash, hash_token(frame.token)):
            raise ServiceError(p.ErrorCode.FORBIDDEN, "no such conversation for this token")
        check_resume_point(frame.last_seq, conv.record.last_seq, "lastSeq")
        await self._chat_started(peer, frame.id, conv, frame.token, frame.last_seq, resumed=True)

    async def _chat_started(
        self,
        peer: Peer,
        frame_id: str,
        conv: Conversation,
        token: str,
        after_seq: int,
        *,
        resumed: bool,
    ) -> None:
        peer.principal = CustomerPrincipal(conv.id, conv.customer())
        self._connected(peer, conv)
        peer.push(
            p.ChatStarted(
                id=frame_id,
                conversation=conv.id,
                token=token,
                participant_id=CUSTOMER_ID,
                resumed=resumed,
            ).to_json()
        )
        await self.events.attach(peer, conv.id, after_seq, agents_view=False)

    def _connected(self, peer: Peer, conv: Conversation) -> None:
        """Count the customer's connections; a queued chat whose customer has none for
        ``abandon_timeout`` is ended (never offered to anyone after that)."""
        conv.customer_connections += 1
        if conv.abandon is not None:
            conv.abandon.cancel()
            conv.abandon = None

        def gone() -> None:
            conv.customer_connections -= 1
            if conv.customer_connections == 0 and conv.state == ConversationState.QUEUED:
                conv.abandon = self.clock.call_at(
                    self.clock.now() + self.config.abandon_timeout, lambda: self._abandon(conv)
                )

        peer.on_close(gone)

    def _abandon(self, conv: Conversation) -> None:
        conv.abandon = None
        if (
            conv.customer_connections > 0
            or conv.state != ConversationState.QUEUED
            or self.events.conversations.get(conv.id) is not conv
        ):
            return
        log.info("chat %s abandoned: its customer left before anyone took it", conv.id)
        self.lifecycle.close(conv, p.ChatEnded, conv.customer(), after_customer_left(conv))

    def end_chat(self, peer: Peer, conv: Conversation, frame: p.EndChat) -> None:
        """The customer leaves: an agent wraps up, or a chat nobody took is done."""
        if conv.state not in LIVE or self.events.duplicate(peer, conv, CUSTOMER_ID, frame.id):
            if conv.state not in LIVE:
                peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
            return
        seq, fut = self.lifecycle.close(
            conv,
            p.ParticipantLeft,
            conv.customer(),
            after_customer_left(conv),
            client_id=frame.id,
            reason="the customer left",
        )
        ack_after(peer, frame.id, conv.id, seq, fut)
