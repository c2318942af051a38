"""``MockTeam``: a simulated team for the supervisor's dashboard, without a server.

A few simulated agents, each an ``AgentDesk`` behind a ``MockBackend`` (the
scripted customers of the scenarios) on one shared virtual clock, accept
their chats and answer on a script: the first answers quickly, the second
slowly, the third very slowly, so reply timers turn yellow and red; the
second raises a help flag. Their chats feed a ``SupervisorDesk``, and the
supervisor's actions reach the agents' sessions: coaching becomes a coaching
entry, barge-in messages reach the contact, lowering the flag tells the agent.

    SupervisorWidget(MockTeam(agents=3))
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..formats.notices import notice, with_detail
from ..formats.transcript import SYSTEM_SENDER, AgentProfile, Entry, Kind, Role, Sender, Visibility
from ..model import commands as cmd
from ..model.clock import VirtualClock
from ..model.reply_timer import Thresholds
from ..model.session import ChatSession, SessionConfig, SessionState
from ..model.supervisor_desk import SPEAKING_MODES, ChatInfo, RaisedFlag, SupervisorDesk, TeamMember
from .base import RealtimeClock
from .mock import MockBackend
from .scenario import Scenario, load_scenario

NAMES = ("Anna Schmidt", "Ben Okafor", "Clara Jensen", "Deniz Yilmaz", "Emma Rossi")
REPLY_AFTER = (8.0, 40.0, 75.0)  # seconds each agent takes to answer: green, yellow, red
REPLIES = (
    "Thanks for waiting, let me check that for you.",
    "I have looked into it: this is sorted now.",
    "Is there anything else I can help you with?",
)
FLAG_TEXT = "The customer wants a refund above my limit"
STATES = {
    SessionState.OFFERED: "queued",
    SessionState.ACCEPTED: "active",
    SessionState.CONTACT_LEFT: "ended",
    SessionState.ENDED: "ended",
}
ScenarioLike = str | Path | Scenario | dict[str, Any]


class SimulatedAgent:
    """One scripted agent: accepts after ``accept_after`` s, answers after ``reply_after`` s,
    ends a chat the contact left; raises a help flag ``flag_after`` s into a chat."""

    def __init__(
        self,
        team: MockTeam,
        profile: AgentProfile,
        scenario: ScenarioLike,
        reply_after: float,
        flag_after: float | None,
    ) -> None:
        self.team = team
        self.profile = profile
        self.reply_after = reply_after
        self.flag_after = flag_after
        config = SessionConfig(thresholds=team.desk.thresholds)
        first = load_scenario(scenario)
        chats = [
            first.model_copy(update={"offer_after": first.offer_after + k * team.offer_every})
            for k in range(team.chats_each)
        ]  # one after another: a chat offered while the agent is busy waits in the queue
        self.backend = MockBackend(
            chats, clock=team.clock, realtime=False, agent=profile, config=config
        )
        self._replies = itertools.cycle(REPLIES)
        self._waits: set[float] = set()  # waits an answer is scheduled for
        self._leaving: set[str] = set()  # chats the contact left: wrapped up soon
        self.backend.desk.subscribe(self._on_desk)

    def _on_desk(self, change: str, payload: Any) -> None:
        if change == "offer" and isinstance(payload, ChatSession):
            session = payload
            chat_id = f"{self.profile.id}-{session.id}"
            self.team.track(chat_id, self, session)
            session.subscribe(lambda change, entries: self._on_session(chat_id, change, entries))
            self.team.clock.call_later(self.team.accept_after, self._accept_next)

    def _accept_next(self) -> None:
        """Take the oldest waiting chat, unless busy with one (then it waits, queued)."""
        sessions = list(self.backend.desk.sessions.values())
        if any(s.state in (SessionState.ACCEPTED, SessionState.CONTACT_LEFT) for s in sessions):
            return
        session = next((s for s in sessions if s.state is SessionState.OFFERED), None)
        if session is None:
            return
        if self.profile.id in self.team.desk.watch_next:  # MonitorNext: this is the one
            chat_id = f"{self.profile.id}-{session.id}"
            self.team.monitors.setdefault(chat_id, {})[self.team.desk.supervisor.id] = "silent"
        session.accept()
        if self.flag_after is not None:
            self.team.clock.call_later(self.flag_after, lambda: self._raise_flag(session))

    def _on_session(self, chat_id: str, change: str, entries: Any) -> None:
        session = self.team.sessions[chat_id]
        if change == "entries":
            self.team.desk.add_entries(chat_id, entries)
        self.team.publish(chat_id)
        since = session.timer.pending_since
        if since is not None and since not in self._waits and session.active:
            self._waits.add(since)
            self.team.clock.call_at(since + self.reply_after, lambda: self._answer(session, since))
        if session.state is SessionState.CONTACT_LEFT and chat_id not in self._leaving:
            self._leaving.add(chat_id)
            self.team.clock.call_later(3.0, lambda: self._wrap_up(session))

    def _answer(self, session: ChatSession, since: float) -> None:
        if session.state is SessionState.ACCEPTED and session.timer.pending_since == since:
            session.send(next(self._replies))

    def _wrap_up(self, session: ChatSession) -> None:
        if session.state is SessionState.CONTACT_LEFT:
            session.end()
        if session.state is SessionState.ENDED:
            session.mark_done()
        self.team.clock.call_later(self.team.accept_after, self._accept_next)

    def _raise_flag(self, session: ChatSession) -> None:
        chat_id = f"{self.profile.id}-{session.id}"
        if not session.active or chat_id in self.team.flags:
            return
        self.team.flags[chat_id] = RaisedFlag(self.profile.id, FLAG_TEXT, self.team.clock.now())
        said = with_detail("flag_raised", FLAG_TEXT, "note", name=self.profile.name)
        session.add_entry(Kind.NOTICE, SYSTEM_SENDER, said, visibility=Visibility.AGENTS)


class MockTeam(RealtimeClock):
    """A simulated team (``.desk``: the supervisor's ``SupervisorDesk``; ``.clock``).

    ``agents``: how many simulated agents (or their names); ``scenarios``: their
    customers' scenarios, one per agent, cycled (default billing, impatient,
    billing); ``chats_each``: chats per agent, offered ``offer_every`` seconds apart
    (one arriving while its agent is busy waits in the queue); ``reply_after``: each
    agent's answer time in seconds, cycled;
    ``flag_after``: seconds into its chat the second agent raises a help flag
    (None: never). Without ``clock`` the clock runs in real time.
    """

    virtual_clock = True

    def __init__(
        self,
        agents: int | Sequence[str] = 3,
        scenarios: Sequence[ScenarioLike] | None = None,
        *,
        clock: VirtualClock | None = None,
        supervisor: str = "Tess Trainer",
        thresholds: Thresholds | None = None,
        reply_after: Sequence[float] = REPLY_AFTER,
        accept_after: float = 3.0,
        flag_after: float | None = 20.0,
        chats_each: int = 2,
        offer_every: float = 30.0,
        realtime: bool | None = None,
    ) -> None:
        names = list(NAMES[: max(0, agents)]) if isinstance(agents, int) else list(agents)
        if isinstance(agents, int) and agents > len(NAMES):
            names += [f"Agent {i + 1}" for i in range(len(NAMES), agents)]
        if not names or not reply_after:
            raise ValueError("a mock team needs at least one agent and one reply time")
        chosen = list(scenarios or ("billing", "impatient", "billing"))
        self.clock = clock or VirtualClock()
        self.accept_after = accept_after
        self.chats_each = chats_each
        self.offer_every = offer_every
        me = AgentProfile(supervisor, "supervisor")
        self.desk = SupervisorDesk(self.clock, supervisor=me, thresholds=thresholds)
        self.sessions: dict[str, ChatSession] = {}
        self.owners: dict[str, SimulatedAgent] = {}
        self.flags: dict[str, RaisedFlag] = {}
        self.monitors: dict[str, dict[str, str]] = {}
        self.agents = [
            SimulatedAgent(
                self,
                AgentProfile(name, f"agent-{i + 1}"),
                chosen[i % len(chosen)],
                reply_after[i % len(reply_after)],
                flag_after if i == min(1, len(names) - 1) else None,
            )
            for i, name in enumerate(names)
        ]
        members = [TeamMember(a.profile.id, a.profile.name, "ready") for a in self.agents]
        self.desk.load_team(members, [])
        self.desk.on_commands(self._perform)
        if realtime if realtime is not None else clock is None:
            self.start_realtime()

    # -- the backend interface ---------------------------------------------------------
    def close(self) -> None:
        self.stop_realtime()
        for agent in self.agents:
            agent.backend.close()

    # -- the simulated agents' chats → the desk -----------------------------------------
    def track(self, chat_id: str, agent: SimulatedAgent, session: ChatSession) -> None:
        self.sessions[chat_id] = session
        self.owners[chat_id] = agent
        self.publish(chat_id)
        self.desk.add_entries(chat_id, session.transcript)

    def publish(self, chat_id: str) -> None:
        """Tell the desk the chat's state now (after which its entries follow)."""
        session, agent = self.sessions[chat_id], self.owners[chat_id]
        state = STATES.get(session.state, "done")
        monitors = self.monitors.setdefault(chat_id, {})
        queued = state == "queued"
        self.desk.update_chat(
            ChatInfo(
                id=chat_id,
                contact=session.contact.name,
                state=state,
                owner_id=None if queued else agent.profile.id,
                owner_name=None if queued else agent.profile.name,
                members=() if queued else (agent.profile.id,),
                created=session.offered_at,
                accepted_at=session.accepted_at,
                flag=self.flags.get(chat_id),
                monitors=dict(monitors),
            )
        )

    # -- the supervisor's commands → the simulated agents --------------------------------
    def _perform(self) -> None:
        for command in self.desk.commands_to_send():
            session = self.sessions.get(command.session_id)
            if session is not None and session.state not in (SessionState.DONE,):
                self._apply(command, command.session_id, session)

    def _apply(self, command: cmd.Command, chat_id: str, session: ChatSession) -> None:
        sup = self.desk.supervisor
        me = Sender(Role.SUPERVISOR, sup.name, sup.id)
        if isinstance(command, cmd.Monitor | cmd.StopMonitoring):
            mode = command.mode if isinstance(command, cmd.Monitor) else "stopped"
            monitors = self.monitors.setdefault(chat_id, {})
            previous = monitors.pop(sup.id, "stopped")
            if mode != "stopped":
                monitors[sup.id] = mode
            if previous == "barge_in" and mode != "barge_in":
                session.add_entry(Kind.NOTICE, me, notice("left", name=sup.name))
            if mode in SPEAKING_MODES or previous in SPEAKING_MODES:
                code = "monitor_stopped" if mode == "stopped" else f"monitor_{mode}"
                said = notice(code, name=sup.name)
                session.add_entry(Kind.NOTICE, me, said, visibility=Visibility.AGENTS)
            if mode == "barge_in" and previous != "barge_in":
                session.add_entry(Kind.NOTICE, me, notice("joined", name=sup.name))
        elif isinstance(command, cmd.Coach):
            session.add_entry(
                Kind.COACHING,
                me,
                command.text,
                visibility=Visibility.AGENTS,
                client_id=command.client_id,
            )
        elif isinstance(command, cmd.BargeInMessage):
            session.receive_message(command.text, sender=me, client_id=command.client_id)
            customer = self.owners[chat_id].backend.customers.get(session.id)
            if customer is not None:
                customer.on_agent_reply()  # the contact reads an answer
        elif isinstance(command, cmd.SupervisorLowerFlag) and self.flags.pop(chat_id, False):
            said = notice("flag_lowered", name=sup.name)
            session.add_entry(Kind.NOTICE, me, said, visibility=Visibility.AGENTS)
        self.publish(chat_id)

    def entries(self, chat_id: str) -> list[Entry]:
        """The simulated agent's transcript of a chat (what the agent sees)."""
        return list(self.sessions[chat_id].transcript)
