"""Team IM (F14): one-to-one messages between agents, with unread counts."""

from __future__ import annotations

import asyncio

from ..formats import protocol as p
from ..model.clock import Clock
from .conversation import ServiceError, agent_topic
from .directory import Directory
from .event_log import ack_after
from .fanout import FanOut
from .peer import AgentPrincipal, Peer
from .store import EventStore, ImRecord


class TeamIm:
    """Stores IMs (group commit like events), counts unread ones, replays missed ones."""

    def __init__(
        self, store: EventStore, fanout: FanOut, clock: Clock, directory: Directory
    ) -> None:
        self.store = store
        self.fanout = fanout
        self.clock = clock
        self.directory = directory
        self.unread: dict[str, dict[str, int]] = {}  # agent -> colleague -> unread IMs
        self.client_ids: dict[tuple[str, str], int] = {}
        self.next_id = 1

    async def restore(self) -> None:
        self.next_id = await self.store.next_im_id()

    async def unread_for(self, agent_id: str) -> dict[str, int]:
        """Unread IMs per colleague (loaded from the store on the agent's first login)."""
        if agent_id not in self.unread:
            self.unread[agent_id] = await self.store.im_unread(agent_id)
        return self.unread[agent_id]

    def frame(self, im: ImRecord) -> p.ImMessage:
        return p.ImMessage.model_validate(
            {
                "im_id": im.id,
                "from": p.AgentInfo(id=im.sender, nickname=self.directory.name(im.sender)),
                "to": im.recipient,
                "text": im.text,
                "utc_time": int(im.time * 1000),
                "client_id": im.client_id,
                "unread": self.unread.get(im.recipient, {}).get(im.sender, 0),
            }
        )

    async def backlog(self, peer: Peer, agent_id: str, after: int, page: int) -> None:
        """The IMs ``agent_id`` missed since ``after``, in pages, with flow control."""
        for _ in range(10_000_000):  # bounded: pages of missed IMs
            ims = await self.store.read_im(agent_id, after, page)
            for im in ims:
                await peer.backlog(self.frame(im).to_json())
            if len(ims) < page or peer.closed:
                break
            after = ims[-1].id

    def mark_read(self, peer: Peer, who: AgentPrincipal, frame: p.MarkImRead) -> None:
        me = who.agent.id
        up_to = self.next_id - 1
        fut = self.store.mark_im_read(me, frame.colleague, up_to)
        self.unread.setdefault(me, {})[frame.colleague] = 0
        read = p.ImRead(colleague=frame.colleague, up_to=up_to).to_json()

        def done(f: asyncio.Future[None]) -> None:
            if not f.cancelled() and f.exception() is None:
                self.fanout.publish(agent_topic(me), read)

        fut.add_done_callback(done)
        ack_after(peer, frame.id, None, None, fut)

    async def send(self, peer: Peer, who: AgentPrincipal, frame: p.SendIm) -> None:
        me = who.agent.id
        key = (me, frame.id)
        if key in self.client_ids:
            peer.push(p.Ack(id=frame.id).to_json())
            return
        recipient = (await self.directory.find_agent(frame.to)).id
        if recipient == me:
            raise ServiceError(p.ErrorCode.INVALID_STATE, "that is you")
        text = frame.text.strip() or frame.text
        im = ImRecord(self.next_id, me, recipient, text, self.clock.now(), frame.id)
        self.next_id += 1
        self.client_ids[key] = im.id
        fut = self.store.append_im(im)

        def committed(f: asyncio.Future[None]) -> None:
            if f.cancelled() or f.exception() is not None:
                self.client_ids.pop(key, None)
                return
            counts = self.unread.get(recipient)
            if counts is not None:
                counts[me] = counts.get(me, 0) + 1
            text = self.frame(im).to_json()
            self.fanout.publish(agent_topic(recipient), text)
            self.fanout.publish(agent_topic(me), text)

        fut.add_done_callback(committed)
        ack_after(peer, frame.id, None, None, fut)
