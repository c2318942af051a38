"""Agents: authentication, presence, and what an agent gets when it logs in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum

from ..formats import protocol as p
from ..formats.responses import ResponseLibrary, load_library
from .config import ServerConfig
from .conversation import Conversation, agent_topic, beyond_end
from .directory import Directory
from .event_log import EventLog
from .fanout import FanOut
from .limits import FailureThrottle
from .peer import AgentPrincipal, Peer
from .routing import Router
from .store import AgentRecord
from .team_im import TeamIm

AUTH_CLOSE_CODE = 1008
PRESENCE_TOPIC = "presence"

OfferFrame = Callable[[str, float], p.Offer]  # conversation, expires_at
SupervisorLogin = Callable[[Peer, p.Auth, AgentRecord], Awaitable[None]]
ChatHistory = Callable[[Peer, str, str], Awaitable[None]]  # peer, agent, conversation


class Presence(StrEnum):
    """What colleagues see of an agent (``PresenceChanged``, the directory)."""

    READY = "ready"
    NOT_READY = "not_ready"
    AWAY = "away"
    OFFLINE = "offline"


class Agents:
    """Logs agents in (throttled), keeps their connections and presence."""

    def __init__(
        self,
        events: EventLog,
        router: Router,
        directory: Directory,
        team_im: TeamIm,
        fanout: FanOut,
        config: ServerConfig,
        failures: FailureThrottle,
        offer_frame: OfferFrame,
    ) -> None:
        self.events = events
        self.router = router
        self.directory = directory
        self.team_im = team_im
        self.fanout = fanout
        self.config = config
        self.failures = failures
        self.offer_frame = offer_frame
        # read once at start: a bad file stops the server (``ResponseLibraryError``)
        self.responses = library_frames(
            load_library(config.responses) if config.responses else ResponseLibrary()
        )
        self.peers: dict[str, set[Peer]] = {}  # agent -> its open connections
        self.presence: dict[str, Presence] = {}
        # supervisor tokens log in there (``supervision``): no routing, no presence
        self.supervisor_login: SupervisorLogin | None = None
        # the contact's history of a chat offered again or resumed (issue 16)
        self.history: ChatHistory | None = None

    def consultable(self, agent_id: str) -> list[Peer]:
        """The agent's connections if it can be consulted (online, not away), else none."""
        peers = list(self.peers.get(agent_id, ()))
        return [] if self.presence.get(agent_id) == Presence.AWAY else peers

    def _mine(self, agent_id: str) -> list[Conversation]:
        """Open chats the agent is in or consulted on."""
        return [
            c
            for c in self.events.conversations.values()
            if agent_id in self.router.members(c.id)
            or (c.consult is not None and agent_id in c.consult.parties)
        ]

    async def auth(self, peer: Peer, frame: p.Auth) -> None:
        wait = self.failures.wait(peer.address)
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
        agent = await self.events.store.agent_for_token(frame.token)
        if agent is None:
            self.failures.failed(peer.address)
            peer.push(
                p.Error(
                    id=frame.id, code=p.ErrorCode.AUTH_FAILED, message="unknown agent token"
                ).to_json()
            )
            await peer.flush_and_close(AUTH_CLOSE_CODE, "authentication failed")
            return
        self.failures.succeeded(peer.address)
        if agent.supervisor and self.supervisor_login is not None:
            await self.supervisor_login(peer, frame, agent)
            return
        participant = p.Participant(  # customers see the nickname (issue 16)
            nickname=agent.public_name, participant_id=agent.id, type=p.ParticipantType.AGENT
        )
        peer.principal = AgentPrincipal(agent, participant)
        me = agent.id
        mine = self._mine(me)
        unread = await self.team_im.unread_for(me)
        await self.directory.refresh()
        presence = Presence.READY if frame.ready else Presence.NOT_READY
        self.presence[me] = presence
        peer.push(
            p.AuthOk(
                id=frame.id,
                agent=p.AgentInfo(id=me, nickname=agent.name),
                shown_as=agent.nickname,
                responses=self.responses,
                conversations=[
                    p.ConversationInfo(
                        conversation=c.id,
                        contact=c.contact(),
                        state=c.state.value,
                        last_seq=c.record.last_seq,
                    )
                    for c in mine
                ],
                directory=self.directory.info(self.presence),
                im_unread={k: v for k, v in unread.items() if v},
            ).to_json()
        )
        peer.on_close(self.fanout.subscribe(agent_topic(me), peer.push))
        peer.on_close(self.fanout.subscribe(PRESENCE_TOPIC, peer.push))
        self.peers.setdefault(me, set()).add(peer)
        peer.on_close(lambda: self._gone(me, peer))
        offered = [c for c, offer in self.router.offers.items() if offer.agent == me]
        for conversation in offered:
            offer = self.router.offers[conversation]
            peer.push(self.offer_frame(conversation, offer.expires_at).to_json())
        skills = frozenset(self.directory.skills.get(me, ()))
        self.router.agent_connected(me, frame.ready, skills, agent.capacity)
        self._publish(me, presence)
        peer.on_close(lambda: self.router.agent_disconnected(me))
        await self.team_im.backlog(peer, me, frame.im_after, self.config.replay_page)
        await self._resume(peer, frame, me)
        if self.history is not None:
            for conversation in [*offered, *frame.resume]:
                await self.history(peer, me, conversation)

    async def _resume(self, peer: Peer, frame: p.Auth, me: str) -> None:
        """Replay what the agent missed of the chats it names (``resume``)."""
        for conversation, last_seq in frame.resume.items():
            conv = await self.events.get_conversation(conversation)
            if conv is not None and (me in conv.seen or conv.record.owner == me):
                if last_seq > conv.record.last_seq:
                    peer.push(
                        p.Error(
                            id=frame.id,
                            code=p.ErrorCode.INVALID_FRAME,
                            message=beyond_end("resume", last_seq, conv.record.last_seq),
                            conversation=conversation,
                        ).to_json()
                    )
                    continue
                history = conv.joined.get(me, 0)
                await self.events.attach(
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

    def set_presence(
        self, peer: Peer, who: AgentPrincipal, frame: p.SetReady | p.SetPresence
    ) -> None:
        if isinstance(frame, p.SetReady):
            presence = Presence.READY if frame.ready else Presence.NOT_READY
        else:
            presence = Presence(frame.presence)
        me = who.agent.id
        self.router.set_ready(me, presence == Presence.READY)
        if self.presence.get(me) != presence:
            self.presence[me] = presence
            self._publish(me, presence)
        peer.push(p.Ack(id=frame.id).to_json())

    def _gone(self, agent_id: str, peer: Peer) -> None:
        peers = self.peers.get(agent_id)
        if peers is not None:
            peers.discard(peer)
            if not peers:
                del self.peers[agent_id]
                self.presence[agent_id] = Presence.OFFLINE
                self._publish(agent_id, Presence.OFFLINE)

    def _publish(self, agent_id: str, presence: Presence) -> None:
        frame = p.PresenceChanged(
            agent=agent_id,
            presence=presence.value,
            nickname=self.directory.name(agent_id),
        )
        self.fanout.publish(PRESENCE_TOPIC, frame.to_json())


def library_frames(library: ResponseLibrary) -> list[p.StandardResponse]:
    """The library as ``AuthOk.responses`` carries it (texts unfilled, per language)."""
    return [
        p.StandardResponse(
            id=r.id, name=r.name, category=r.category, shortcut=r.shortcut, texts=dict(r.texts)
        )
        for r in library
    ]
