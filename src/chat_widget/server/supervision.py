"""Supervision (issue 14): supervisors' logins, the team dashboard, monitoring,
coaching, barge-in and the agents' help flags.

A supervisor is an agent token with the supervisor role. The router never learns
of supervisors: they are never offered chats, and monitoring never changes who is
in a chat (membership is asked of the router each time). This module keeps only
what supervision adds, in memory: who monitors which chat in which mode, the
raised help flags, pending ``MonitorNext`` requests and when each chat was
accepted. Flags and acceptance times are rebuilt from the stored events after a
restart; monitoring ends with a restart (stored as stopped at once, with
``ParticipantLeft`` for a supervisor who had barged in): supervisors reconnect and
monitor again.

A supervisor's *team*: every agent, or, if the supervisor has skills, the agents
sharing one of them. A chat is the team's while nobody has it (queued chats are
shown to every supervisor) or while one of its agents is in the team. Supervisors
read every event of their team's chats (a ``Feed`` without an agent), and a chat
they were shown keeps reaching them until it is done, even if it is transferred out
of the team.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..formats import protocol as p
from ..model.clock import Clock
from .agents import PRESENCE_TOPIC
from .config import ServerConfig
from .conversation import Conversation, ServiceError, agent_topic, live
from .directory import Directory
from .event_log import Emitted, EventLog, ack_after
from .fanout import FanOut
from .messaging import Messaging
from .peer import AgentPrincipal, Peer
from .routing import Router
from .store import AgentRecord, ConversationState, StoredEvent
from .tasks import Tasks
from .team_im import TeamIm

SUPERVISORS_TOPIC = "supervisors"
STOPPED = "stopped"
COACHING = ("coach", "barge_in")  # modes in which the agents know, and coaching flows
JOINS = ("ParticipantJoined", "ChatTransferred")

Mode = str  # "silent" | "coach" | "barge_in" | "stopped"


def monitoring_audience(
    mode: Mode, previous: Mode, members: list[str] | tuple[str, ...], announce: bool
) -> tuple[str, ...]:
    """The agents who get a ``MonitoringChanged``: the chat's agents when the change
    concerns coaching or barge-in (now or before), or when monitoring is announced;
    nobody else (supervisors read every event anyway)."""
    if announce or mode in COACHING or previous in COACHING:
        return tuple(members)
    return ()


def supervisor_participant(agent: AgentRecord) -> p.Participant:
    return p.Participant(
        nickname=agent.name, participant_id=agent.id, type=p.ParticipantType.SUPERVISOR
    )


@dataclass(frozen=True, slots=True)
class TeamChange:
    """What the supervisors' topic carries: a chat's dashboard row (``TeamChatChanged``
    JSON) and the agents in it, so each supervisor keeps only its team's."""

    conversation: str
    frame: str
    members: tuple[str, ...]
    done: bool


class Supervision:
    """Supervisors' connections and what they do; agents' coaching answers and flags."""

    def __init__(
        self,
        events: EventLog,
        router: Router,
        directory: Directory,
        messaging: Messaging,
        team_im: TeamIm,
        fanout: FanOut,
        clock: Clock,
        config: ServerConfig,
        presence: Callable[[], Mapping[str, str]],
    ) -> None:
        self.events = events
        self.router = router
        self.directory = directory
        self.messaging = messaging
        self.team_im = team_im
        self.fanout = fanout
        self.clock = clock
        self.config = config
        self.presence = presence  # the agents' presence (``Agents.presence``)
        self.peers: dict[str, set[Peer]] = {}  # supervisor -> its open connections
        self.monitors: dict[str, dict[str, Mode]] = {}  # chat -> supervisor -> mode
        self.flags: dict[str, p.HelpFlagInfo] = {}  # chat -> its raised flag
        self.accepted_at: dict[str, int] = {}  # chat -> server ms of its first accept
        self.next_for: dict[str, set[str]] = {}  # agent -> supervisors (MonitorNext)
        self._tasks = Tasks()  # attaching supervisors to new chats
        events.on_change = self.chat_changed

    # -- the team ------------------------------------------------------------------------
    def team(self, supervisor: str) -> set[str]:
        """Every agent, or the agents sharing a skill with a supervisor who has skills."""
        d = self.directory
        mine = set(d.skills.get(supervisor, ()))
        return {
            a.id
            for a in d.agents.values()
            if not a.supervisor and (not mine or mine & set(d.skills.get(a.id, ())))
        }

    def _members(self, conv: Conversation) -> list[str]:
        members = self.router.members(conv.id)
        owner = conv.record.owner
        return members if members or owner is None else [owner]

    def in_team(self, supervisor: str, conv: Conversation) -> bool:
        members = self._members(conv)
        return not members or bool(self.team(supervisor) & set(members))

    def _is_supervisor(self, agent_id: str | None) -> bool:
        record = None if agent_id is None else self.directory.agents.get(agent_id)
        return record is not None and record.supervisor

    def _team_chat(self, who: AgentPrincipal, conversation: str) -> Conversation:
        conv = self.events.conversations.get(conversation)
        if conv is None:
            raise ServiceError(p.ErrorCode.NOT_FOUND, "no such open conversation")
        if not self.in_team(who.agent.id, conv):
            raise ServiceError(p.ErrorCode.FORBIDDEN, "this chat is not your team's")
        return conv

    def mode(self, conversation: str, supervisor: str) -> Mode:
        return self.monitors.get(conversation, {}).get(supervisor, STOPPED)

    # -- the dashboard -------------------------------------------------------------------
    def row(self, conv: Conversation) -> p.SupervisedChat:
        """The chat as a supervisor's dashboard shows it."""
        record = conv.record
        owner = record.owner
        done = record.state == ConversationState.DONE
        return p.SupervisedChat(
            conversation=conv.id,
            contact=conv.contact(),
            state=record.state.value,
            owner=None
            if owner is None
            else p.AgentInfo(id=owner, nickname=self.directory.name(owner)),
            members=[] if done else self.router.members(conv.id),
            created=int(record.created * 1000),
            accepted_at=self.accepted_at.get(conv.id),
            last_seq=record.last_seq,
            flag=self.flags.get(conv.id),
            monitors=dict(self.monitors.get(conv.id, {})),  # type: ignore[arg-type]
        )

    def publish(self, conv: Conversation) -> None:
        """Tell every connected supervisor whose team it concerns (``TeamChatChanged``)."""
        done = conv.state == ConversationState.DONE
        frame = p.TeamChatChanged(chat=self.row(conv)).to_json()
        change = TeamChange(conv.id, frame, tuple(self._members(conv)), done)
        self.fanout.publish(SUPERVISORS_TOPIC, change)

    def chat_changed(self, conv: Conversation, event: StoredEvent) -> None:
        """The event log's hook: a chat was created, or its state, owner or members
        changed (after the commit)."""
        if self._is_supervisor(event.sender):  # a barge-in: published where it is made
            return
        if event.type in JOINS and event.sender in self.router.members(conv.id):
            self.accepted_at.setdefault(conv.id, int(event.time * 1000))
            for supervisor in sorted(self.next_for.pop(event.sender or "", ())):
                record = self.directory.agents.get(supervisor)
                if record is not None and self.mode(conv.id, supervisor) == STOPPED:
                    self._set_mode(conv, record, "silent")
        if conv.state == ConversationState.DONE:
            self.monitors.pop(conv.id, None)
            self.flags.pop(conv.id, None)
            self.accepted_at.pop(conv.id, None)
        self.publish(conv)

    def _team_change(
        self, peer: Peer, supervisor: str, planned: set[str], change: TeamChange
    ) -> None:
        """One supervisor's filter on the supervisors' topic."""
        conversation = change.conversation
        attached = conversation in peer.subscriptions or conversation in planned
        if change.done:
            if attached:
                peer.push(change.frame)
                planned.discard(conversation)
                stop = peer.subscriptions.pop(conversation, None)
                if stop is not None:
                    stop()
            return
        if not attached and change.members and not self.team(supervisor) & set(change.members):
            return
        peer.push(change.frame)
        if not attached:
            self._tasks.spawn(self.events.attach(peer, conversation, 0, agents_view=True))

    # -- logging in and out ---------------------------------------------------------------
    async def login(self, peer: Peer, frame: p.Auth, agent: AgentRecord) -> None:
        """After a valid supervisor token: ``AuthOk`` (role supervisor), ``TeamState``,
        then every event of every open team chat (from ``Auth.resume``'s seq, else 0)."""
        me = agent.id
        peer.principal = AgentPrincipal(agent, supervisor_participant(agent))
        unread = await self.team_im.unread_for(me)
        await self.directory.refresh()
        presence = self.presence()
        chats = [c for c in self.events.conversations.values() if self.in_team(me, c)]
        peer.push(
            p.AuthOk(
                id=frame.id,
                agent=p.AgentInfo(id=me, nickname=agent.name),
                role="supervisor",
                directory=self.directory.info(presence),
                im_unread={k: v for k, v in unread.items() if v},
            ).to_json()
        )
        skills = self.directory.skills
        peer.push(
            p.TeamState(
                agents=[
                    p.TeamAgent(
                        id=a,
                        nickname=self.directory.name(a),
                        presence=str(presence.get(a, "offline")),  # type: ignore[arg-type]
                        skills=list(skills.get(a, ())),
                    )
                    for a in sorted(self.team(me))
                ],
                chats=[self.row(c) for c in chats],
                announce_monitoring=self.config.announce_monitoring,
            ).to_json()
        )
        planned = {c.id for c in chats}  # attached below; the topic must not attach them too
        peer.on_close(
            self.fanout.subscribe(
                SUPERVISORS_TOPIC, lambda change: self._team_change(peer, me, planned, change)
            )
        )
        peer.on_close(self.fanout.subscribe(PRESENCE_TOPIC, peer.push))
        peer.on_close(self.fanout.subscribe(agent_topic(me), peer.push))  # team IM
        self.peers.setdefault(me, set()).add(peer)
        peer.on_close(lambda: self._gone(agent, peer))
        await self.team_im.backlog(peer, me, frame.im_after, self.config.replay_page)
        for conv in chats:
            if conv.id not in planned:  # done meanwhile
                continue
            after = frame.resume.get(conv.id, 0)
            after = after if after <= conv.record.last_seq else 0
            await self.events.attach(peer, conv.id, after, agents_view=True)
            planned.discard(conv.id)

    def _gone(self, agent: AgentRecord, peer: Peer) -> None:
        """A supervisor's last connection closed: it stops monitoring everything."""
        peers = self.peers.get(agent.id)
        if peers is None:
            return
        peers.discard(peer)
        if peers:
            return
        del self.peers[agent.id]
        for supervisors in self.next_for.values():
            supervisors.discard(agent.id)
        for conversation, modes in list(self.monitors.items()):
            conv = self.events.conversations.get(conversation)
            if agent.id in modes and conv is not None:
                self._set_mode(conv, agent, STOPPED)

    # -- monitoring ------------------------------------------------------------------------
    def _set_mode(
        self, conv: Conversation, agent: AgentRecord, mode: Mode, client_id: str | None = None
    ) -> Emitted:
        """Store the change (``MonitoringChanged``, and ``ParticipantJoined``/``Left`` around
        barge-in), keep it, and tell the supervisors."""
        previous = self.mode(conv.id, agent.id)
        me = supervisor_participant(agent)
        if previous == "barge_in":
            self.events.emit(conv, p.ParticipantLeft, me)
        audience = monitoring_audience(
            mode, previous, self.router.members(conv.id), self.config.announce_monitoring
        )
        emitted = self.events.emit(
            conv,
            p.MonitoringChanged,
            me,
            visibility=p.Visibility.AGENTS,
            client_id=client_id,
            audience=audience,
            mode=mode,
            previous=previous,
            shown=mode if self.config.announce_monitoring or mode in COACHING else STOPPED,
        )
        if mode == "barge_in":
            self.events.emit(conv, p.ParticipantJoined, me)
        modes = self.monitors.setdefault(conv.id, {})
        if mode == STOPPED:
            modes.pop(agent.id, None)
            if not modes:
                del self.monitors[conv.id]
        else:
            modes[agent.id] = mode
        self.publish(conv)
        return emitted

    def monitor(self, peer: Peer, who: AgentPrincipal, frame: p.Monitor | p.StopMonitoring) -> None:
        """Start, switch or stop monitoring a team chat."""
        conv = self._team_chat(who, frame.conversation)
        me = who.agent.id
        if self.events.duplicate(peer, conv, me, frame.id):
            return
        mode = frame.mode if isinstance(frame, p.Monitor) else STOPPED
        if mode == self.mode(conv.id, me):  # nothing changes (a resend, or already so)
            peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
            return
        if mode != STOPPED:
            live(conv)
        seq, fut = self._set_mode(conv, who.agent, mode, frame.id)
        ack_after(peer, frame.id, conv.id, seq, fut)

    async def monitor_next(self, peer: Peer, who: AgentPrincipal, frame: p.MonitorNext) -> None:
        agent = await self.directory.find_agent(frame.agent)
        if agent.supervisor or agent.id not in self.team(who.agent.id):
            raise ServiceError(p.ErrorCode.FORBIDDEN, f"{agent.id} is not in your team")
        waiting = self.next_for.setdefault(agent.id, set())
        if frame.cancel:
            waiting.discard(who.agent.id)
        else:
            waiting.add(who.agent.id)
        if not waiting:
            del self.next_for[agent.id]
        peer.push(p.Ack(id=frame.id).to_json())

    # -- coaching, barge-in messages, flags ---------------------------------------------
    def coach(self, peer: Peer, who: AgentPrincipal, frame: p.SendCoaching) -> None:
        """A supervisor coaching (coach or barge-in mode), or an agent of the chat
        answering while a supervisor coaches."""
        me = who.agent.id
        if who.agent.supervisor:
            conv = self._team_chat(who, frame.conversation)
            if self.mode(conv.id, me) not in COACHING:
                raise ServiceError(
                    p.ErrorCode.INVALID_STATE, "monitor the chat in coach or barge-in mode first"
                )
        else:
            conv = self.events.owned(me, frame.conversation)
            if not any(m in COACHING for m in self.monitors.get(conv.id, {}).values()):
                raise ServiceError(p.ErrorCode.INVALID_STATE, "no supervisor coaches this chat")
        if self.events.duplicate(peer, conv, me, frame.id):
            return
        text = frame.text.strip()
        if not text:
            raise ServiceError(p.ErrorCode.INVALID_FRAME, "coaching text is empty")
        seq, fut = self.events.emit(
            conv,
            p.CoachMessage,
            who.participant,
            visibility=p.Visibility.AGENTS,
            client_id=frame.id,
            text=text,
        )
        ack_after(peer, frame.id, conv.id, seq, fut)

    def barge_in_frame(
        self,
        peer: Peer,
        who: AgentPrincipal,
        frame: p.SendMessage | p.StartTyping | p.StopTyping,
    ) -> None:
        """A supervisor who barged in writes (and types) to everyone in the chat."""
        conv = live(self._team_chat(who, frame.conversation))
        if self.mode(conv.id, who.agent.id) != "barge_in":
            raise ServiceError(p.ErrorCode.INVALID_STATE, "barge in first to write to the chat")
        if isinstance(frame, p.SendMessage):
            self.messaging.message(peer, conv, who.participant, frame)
        else:
            self.messaging.typing(peer, conv, who.participant, frame)

    def raise_flag(self, peer: Peer, who: AgentPrincipal, frame: p.RaiseFlag) -> None:
        me = who.agent.id
        conv = live(self.events.owned(me, frame.conversation))
        if self.events.duplicate(peer, conv, me, frame.id):
            return
        text = (frame.text or "").strip() or None
        seq, fut = self.events.emit(
            conv,
            p.HelpFlagChanged,
            who.participant,
            visibility=p.Visibility.AGENTS,
            client_id=frame.id,
            raised=True,
            text=text,
        )
        self.flags[conv.id] = p.HelpFlagInfo(
            agent=me, text=text, raised_at=int(self.clock.now() * 1000)
        )
        self.publish(conv)
        ack_after(peer, frame.id, conv.id, seq, fut)

    def lower_flag(self, peer: Peer, who: AgentPrincipal, frame: p.LowerFlag) -> None:
        me = who.agent.id
        if who.agent.supervisor:
            conv = self._team_chat(who, frame.conversation)
        else:
            conv = self.events.owned(me, frame.conversation)
        if self.events.duplicate(peer, conv, me, frame.id):
            return
        if conv.id not in self.flags:  # down already: nothing to store
            peer.push(p.Ack(id=frame.id, conversation=conv.id).to_json())
            return
        seq, fut = self.events.emit(
            conv,
            p.HelpFlagChanged,
            who.participant,
            visibility=p.Visibility.AGENTS,
            client_id=frame.id,
            raised=False,
        )
        del self.flags[conv.id]
        self.publish(conv)
        ack_after(peer, frame.id, conv.id, seq, fut)

    # -- after a restart --------------------------------------------------------------------
    def restored(self, conv: Conversation, event: StoredEvent) -> None:
        """One stored event of an open chat, read back at start-up (``Lifecycle.restore``)."""
        if event.type == "HelpFlagChanged":
            body = json.loads(event.body)
            if body.get("raised"):
                self.flags[conv.id] = p.HelpFlagInfo(
                    agent=event.sender or "",
                    text=body.get("text"),
                    raised_at=int(event.time * 1000),
                )
            else:
                self.flags.pop(conv.id, None)
        elif event.type == "MonitoringChanged" and event.sender:
            modes = self.monitors.setdefault(conv.id, {})
            mode = json.loads(event.body).get("mode", STOPPED)
            if mode == STOPPED:
                modes.pop(event.sender, None)
            else:
                modes[event.sender] = mode
            if not modes:
                del self.monitors[conv.id]
        elif event.type in JOINS and conv.id not in self.accepted_at:
            sender = json.loads(event.body).get("from", {})
            if sender.get("type") == p.ParticipantType.AGENT:
                self.accepted_at[conv.id] = int(event.time * 1000)

    def end_restored_monitoring(self) -> None:
        """Monitoring does not survive a restart (no supervisor is connected yet): store
        it as stopped, so agents, customer and transcript agree."""
        for conversation, modes in list(self.monitors.items()):
            conv = self.events.conversations.get(conversation)
            for supervisor in sorted(modes):
                record = self.directory.agents.get(supervisor) or AgentRecord(
                    supervisor, supervisor, 0.0, True
                )
                if conv is not None:
                    self._set_mode(conv, record, STOPPED)
        self.monitors.clear()
