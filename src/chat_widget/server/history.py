"""The contact's history (issue 16): earlier conversations of the same contact.

An agent offered a chat (or in it, on resume) gets ``ContactHistory``: the
conversations of the same e-mail (any case) or phone, newest first, not the
current one, at most ``HISTORY_LIMIT``, each with its date, state, agent,
disposition and notes. ``GetHistoryTranscript`` returns one of them as a
transcript document (``formats.event_transcript``, the export's own mapping).

Only an agent entitled to the current chat (offered it, or in it) may ask, and
only for a conversation of the same contact: everything else is ``forbidden``.
The store is read asynchronously, so the history follows the offer as its own
frame (a task), never delaying the offer.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from ..formats import protocol as p
from ..formats.event_transcript import EventError, transcript_from_events
from ..formats.transcript_schema import TranscriptDoc
from .conversation import ServiceError, agent_topic
from .directory import Directory
from .event_log import EventLog
from .fanout import FanOut
from .peer import AgentPrincipal, Peer
from .routing import Router
from .store import ConversationRecord, StoredEvent
from .tasks import Tasks

log = logging.getLogger(__name__)

HISTORY_LIMIT = 20
EVENT_PAGE = 500


def _email(contact: dict[str, Any]) -> str | None:
    value = contact.get("email")
    return value.strip().lower() or None if isinstance(value, str) else None


def _phone(contact: dict[str, Any]) -> str | None:
    value = contact.get("phone")
    return value.strip() or None if isinstance(value, str) else None


def same_contact(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two conversations' contacts match on e-mail (any case) or phone."""
    email, phone = _email(a), _phone(a)
    return (email is not None and email == _email(b)) or (phone is not None and phone == _phone(b))


class ContactHistory:
    """Builds and sends the contact's history, and answers ``GetHistoryTranscript``."""

    def __init__(
        self, events: EventLog, router: Router, directory: Directory, fanout: FanOut
    ) -> None:
        self.events = events
        self.router = router
        self.directory = directory
        self.fanout = fanout
        self.tasks = Tasks()

    # -- who may see it ------------------------------------------------------------------
    def entitled(self, agent_id: str, conversation: str) -> bool:
        """The agent is offered the chat, or is in it (owner, conference, wrap-up)."""
        offer = self.router.offers.get(conversation)
        if offer is not None and offer.agent == agent_id:
            return True
        return agent_id in self.router.members(conversation)

    # -- sending it ----------------------------------------------------------------------
    def offered(self, agent_id: str, conversation: str) -> None:
        """The router offered ``conversation`` to the agent: its history follows."""
        self.tasks.spawn(self._send_offered(agent_id, conversation))

    async def _send_offered(self, agent_id: str, conversation: str) -> None:
        conv = self.events.conversations.get(conversation)
        if conv is None:
            return
        try:
            frame = await self.frame(conv.record)
        except Exception:  # a store read failed: the offer stands without history
            log.exception("contact history of %s", conversation)
            return
        if self.entitled(agent_id, conversation):
            self.fanout.publish(agent_topic(agent_id), frame.to_json())

    async def send_to(self, peer: Peer, agent_id: str, conversation: str) -> None:
        """On (re)login: the history of a chat the agent is offered or in, to this
        connection (nothing for other chats)."""
        if not self.entitled(agent_id, conversation):
            return
        conv = await self.events.get_conversation(conversation)
        if conv is not None:
            peer.push((await self.frame(conv.record)).to_json())

    async def frame(self, record: ConversationRecord) -> p.ContactHistory:
        return p.ContactHistory(conversation=record.id, items=await self.items(record))

    async def items(self, record: ConversationRecord) -> list[p.HistoryItem]:
        """The contact's earlier conversations, newest first, at most ``HISTORY_LIMIT``."""
        found = await self.events.store.conversations_of_contact(
            _email(record.contact), _phone(record.contact), HISTORY_LIMIT + 1, record.created
        )
        earlier = [r for r in found if r.id != record.id][:HISTORY_LIMIT]
        return [await self._item(r) for r in earlier]

    async def _item(self, record: ConversationRecord) -> p.HistoryItem:
        live = self.events.conversations.get(record.id)
        if live is not None:  # in memory: newer than the committed row
            record = live.record
        disposition: str | None = None
        notes: list[str] = []
        try:
            doc = await self.transcript(record)
        except EventError:
            log.warning("history: conversation %s has an unreadable event", record.id)
        else:
            disposition = doc.get("disposition")
            notes = list(doc.get("notes", []))
        owner = record.owner
        name = None if owner is None else self.directory.name(owner)
        agent = None if owner is None or name is None else p.AgentInfo(id=owner, nickname=name)
        return p.HistoryItem(
            conversation=record.id,
            created=int(record.created * 1000),
            state=record.state.value,
            agent=agent,
            disposition=disposition,
            notes=notes,
        )

    async def transcript(self, record: ConversationRecord) -> TranscriptDoc:
        """The conversation as the export writes it (unknown event types left out)."""
        events: list[StoredEvent] = []
        after = 0
        while True:
            page = await self.events.store.read_events(record.id, after, EVENT_PAGE)
            events.extend(page)
            if len(page) < EVENT_PAGE:
                break
            after = page[-1].seq
        return transcript_from_events(
            record.id, events, contact=record.contact, created=record.created, skipped=Counter()
        )

    # -- GetHistoryTranscript ------------------------------------------------------------
    async def get_transcript(
        self, peer: Peer, who: AgentPrincipal, frame: p.GetHistoryTranscript
    ) -> None:
        if not self.entitled(who.agent.id, frame.conversation):
            raise ServiceError(p.ErrorCode.FORBIDDEN, "you are not offered this chat nor in it")
        current = await self.events.get_conversation(frame.conversation)
        earlier = await self.events.store.get_conversation(frame.of)
        if (
            current is None
            or earlier is None
            or earlier.id == current.id
            or not same_contact(current.record.contact, earlier.contact)
        ):
            raise ServiceError(
                p.ErrorCode.FORBIDDEN, f"{frame.of} is not an earlier chat of this contact"
            )
        try:
            doc = await self.transcript(earlier)
        except EventError as exc:
            raise ServiceError(p.ErrorCode.INTERNAL, f"{frame.of}: {exc}") from None
        peer.push(
            p.HistoryTranscript(
                id=frame.id, conversation=frame.conversation, of=frame.of, transcript=dict(doc)
            ).to_json()
        )
