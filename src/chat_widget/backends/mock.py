"""``MockBackend``: a scripted customer on a controllable clock.

On a virtual clock nobody drives, the script moves only when a test or a
trainer advances time, and every scripted event fires inside ``advance()``,
in order. It feeds the desk's chats events (``model.events``) and pulls the
commands they produce (``desk.commands_to_send``). Without a clock argument
the backend runs in real time: a ``ClockDriver`` task on the running asyncio
loop (the kernel's) moves the clock, so notebook cells never block.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Any

from ..formats.notices import notice
from ..formats.responses import ResponseLibrary, load_library
from ..formats.transcript import AgentProfile
from ..model import commands as cmd
from ..model import events as ev
from ..model.clock import VirtualClock
from ..model.customer_script import CustomerScript
from ..model.desk import AgentDesk
from ..model.directory import Queue
from ..model.idle_rule import IdleTimes
from ..model.reply_timer import is_reply
from ..model.session import CallState, ChatSession, Connection, SessionConfig, SessionState
from .base import Backend
from .mock_colleagues import MockColleague, MockExternal, MockTeam
from .mock_history import handle_history, load_history
from .mock_idle import MockIdle
from .mock_offers import OfferGate
from .mock_supervisor import ScriptedSupervisor, handle_supervision
from .scenario import Scenario, ScenarioError, load_scenario

__all__ = ["MockBackend", "MockCustomer", "ScriptedSupervisor"]

CALL_CONNECT_SECONDS = 3.0


class MockCustomer:
    """One scripted (or hand-driven) customer in one chat: the ``CustomerScript``
    engine driven by the agent's session in the kernel (the customer's view of the
    reply wait is that session's, on the backend's virtual clock)."""

    def __init__(self, backend: MockBackend, session: ChatSession, scenario: Scenario) -> None:
        self.backend = backend
        self.session = session
        self.scenario = scenario
        self.script = CustomerScript(
            scenario,
            backend.clock,
            _SessionPort(self),
            timer=session.timer,
            replied=self._replied,
            live=lambda: session.state is SessionState.ACCEPTED,
        )
        idle = backend.idle or scenario.idle_times()  # issue 16: the idle rule
        self.idle = MockIdle(session, backend.clock, idle, self.stop) if idle.enabled else None

    @property
    def step_index(self) -> int:
        return self.script.step_index

    @property
    def finished(self) -> bool:
        return self.script.finished

    # -- driven from code ---------------------------------------------------
    def say(self, text: str) -> None:
        """The customer sends ``text`` now."""
        if self.session.state is SessionState.ACCEPTED:
            self.script.say(text)

    def start_typing(self) -> None:
        if self.session.state is SessionState.ACCEPTED:
            self.session.receive(ev.ContactTyping(typing=True))

    def stop_typing(self) -> None:
        if self.session.state is SessionState.ACCEPTED:
            self.session.receive(ev.ContactTyping(typing=False))

    def leave(self, last_words: str | None = None) -> None:
        if last_words:
            self.say(last_words)
        self.script.leave()

    def stop(self) -> None:
        """Stop the script (the customer stays)."""
        self.script.stop()

    # -- script -------------------------------------------------------------
    def begin(self) -> None:
        self.script.accepted()

    def on_agent_reply(self) -> None:
        self.script.agent_replied()

    def _replied(self) -> bool:
        """Has an agent answered since the customer last spoke? (The session's transcript.)"""
        last = 0
        for e in reversed(self.session.transcript):
            if e.sender.role == "contact":
                last = e.index
                break
        return any(is_reply(e) for e in self.session.transcript[last:])


class _SessionPort:
    """The engine's actions as the agent's session sees them."""

    def __init__(self, customer: MockCustomer) -> None:
        self.customer = customer

    def say(self, text: str) -> None:
        if self.customer.session.active:
            self.customer.session.receive(ev.MessageReceived(text=text))

    def typing(self, on: bool) -> None:
        if on:
            self.customer.start_typing()
        else:
            self.customer.stop_typing()

    def leave(self) -> None:
        self.customer.session.receive(ev.ContactLeft())

    def coach(self, text: str) -> None:
        supervisor = self.customer.backend.supervisor
        assert supervisor is not None  # MockBackend refuses coaching scenarios without one
        supervisor.coach(self.customer.session, text)


class MockBackend(Backend):
    """A scripted customer for trainings, prototypes and tests.

    >>> backend = MockBackend("billing", clock=VirtualClock())
    >>> backend.clock.advance(1); session = backend.first_session()
    >>> session.accept(); backend.clock.advance(10)

    ``scenario``: a built-in name (``billing``, ``impatient``, ``leaver``), a
    YAML/JSON file, a dict, or a list of them for several chats.

    ``supervisor``: a name (``"Tess"``) or a ``ScriptedSupervisor`` who speaks the
    scenarios' coaching lines (``coach:`` steps, ``when_yellow``/``when_red`` hooks
    with ``coach``, ``on_flag``) and answers the agent's help flag. A scenario with
    coaching lines needs one: without it the backend raises ``ScenarioError`` naming
    the scenario and the step (there is no default supervisor, so nobody coaches a
    trainee by surprise). The agent's answers to the coach: ``supervisor.answers``.

    ``responses``: the standard response library (issue 16): a YAML/JSON file,
    ``"sample"`` (the shipped one), data or a ``ResponseLibrary``.
    ``auto_answer``: the desk accepts each offer itself as it arrives (default:
    ``config.auto_answer``). ``capacity``: at most this many active chats; scenario
    offers beyond it wait until a chat is done (or declined), then are offered.
    ``idle``: the customer idle timers for every chat (``IdleTimes``; default: each
    scenario's ``idle_alert_after``/``idle_close_after``).
    """

    def __init__(
        self,
        scenario: str | Path | Scenario | dict[str, Any] | list[Any] = "billing",
        *,
        clock: VirtualClock | None = None,
        realtime: bool | None = None,
        agent: AgentProfile | None = None,
        config: SessionConfig | None = None,
        colleagues: list[MockColleague] | None = None,
        queues: list[Queue] | None = None,
        externals: list[MockExternal] | None = None,
        supervisor: str | ScriptedSupervisor | None = None,
        responses: str | Path | ResponseLibrary | dict[str, Any] | None = None,
        auto_answer: bool | None = None,
        capacity: int | None = None,
        idle: IdleTimes | None = None,
    ) -> None:
        self.idle = idle
        scenarios = scenario if isinstance(scenario, list) else [scenario]
        self.scenarios = [load_scenario(s) for s in scenarios]
        self.supervisor = (
            ScriptedSupervisor(supervisor) if isinstance(supervisor, str) else supervisor
        )
        if self.supervisor is None:
            for sc in self.scenarios:
                places = sc.coaching_places()
                if places:
                    raise ScenarioError(
                        f"scenario {sc.name!r}: {places[0]} has a supervisor coach, but the "
                        'MockBackend has no supervisor; pass supervisor="Tess" (a name) '
                        "or a ScriptedSupervisor"
                    )
        self.clock = clock or VirtualClock()
        self.desk = AgentDesk(self.clock, agent=agent, config=config, auto_answer=auto_answer)
        if responses is not None:  # issue 16: a file, "sample", data or a library
            self.desk.responses = load_library(responses)
        self.desk.on_commands(self._perform_commands)
        self.offers = OfferGate(self, capacity)  # issue 16: capacity, auto-answer
        self.customers: dict[str, MockCustomer] = {}
        self.team = MockTeam(self, colleagues, queues, externals)  # issue 4: mock colleagues
        self._ids = itertools.count(1)
        self.connection = Connection.CONNECTED
        self._held: list[tuple[str, str]] = []  # (chat, client id) sent while disconnected
        start = self.clock.now()
        for sc in self.scenarios:
            self.clock.call_at(start + sc.offer_after, functools.partial(self.offers.arrive, sc))
        if realtime if realtime is not None else clock is None:
            self.start_realtime()

    @property
    def virtual_clock(self) -> bool:
        return True

    @property
    def customer(self) -> MockCustomer:
        """The customer of the first chat (the quick path's only one)."""
        if not self.customers:
            raise LookupError("no chat has been offered yet; advance the clock")
        return next(iter(self.customers.values()))

    def set_connection(self, status: Connection | str) -> None:
        """Simulate the agent's connection (F12): ``"connected"``, ``"reconnecting"``
        or ``"disconnected"``, shown next to the Party Action menu of every chat
        (and of chats offered later)."""
        self.connection = Connection(status)
        self.desk.set_connection(self.connection)
        if self.connection is Connection.CONNECTED:
            # what the agent sent while the connection was down goes out now
            held, self._held = self._held, []
            replied: set[str] = set()
            for session_id, client_id in held:
                customer = self.customers.get(session_id)
                if customer is None:
                    continue
                customer.session.receive(ev.MessageDelivered(client_id=client_id))
                if session_id not in replied:
                    replied.add(session_id)
                    customer.on_agent_reply()

    def close(self) -> None:
        self.stop_realtime()
        for customer in self.customers.values():
            customer.stop()

    def _offer(self, scenario: Scenario) -> None:
        session_id = f"chat-{next(self._ids)}"
        how = scenario.offer
        timeout = how.timeout
        session = self.desk.offer(
            session_id,
            scenario.contact.record(),
            kind="chat" if how.kind == "new" else how.kind,
            note=how.note,
            from_name=how.from_,
            expires_at=None if timeout is None else self.clock.now() + timeout,
        )
        self.customers[session_id] = MockCustomer(self, session, scenario)
        load_history(session, scenario)
        if timeout is not None:
            self.clock.call_later(timeout, functools.partial(self._offer_timed_out, session))

    @staticmethod
    def _offer_timed_out(session: ChatSession) -> None:
        """Unanswered: the offer moves on, as the server's does."""
        if session.state is SessionState.OFFERED:
            session.receive(ev.NoticeReceived(text=notice("offer_timed_out")))
            session.ignore()

    def _perform_commands(self) -> None:
        """The desk has commands: pull them and answer as the scripted side would."""
        for command in self.desk.commands_to_send():
            self.handle(command)

    def handle(self, command: cmd.Command) -> None:
        if self.team.handle(command):
            return
        customer = self.customers.get(command.session_id)
        if customer is None:
            return
        session = customer.session
        sv = self.supervisor
        if handle_supervision(command, session, customer.scenario, sv, self.clock.call_later):
            return
        if handle_history(command, session, customer.scenario):
            return
        if isinstance(command, cmd.Accept):
            joined = notice("joined", name=session.agent.public_name)  # what the customer reads
            session.receive(ev.NoticeReceived(text=joined))
            customer.begin()
        elif isinstance(command, cmd.Reject | cmd.Ignore | cmd.End):
            customer.stop()
        elif isinstance(command, cmd.SendMessage | cmd.PushUrl):
            if self.connection is Connection.CONNECTED:
                customer.on_agent_reply()
            else:  # held until the simulated connection is back (shown as sending)
                self._held.append((session.id, command.client_id))
                session.receive(ev.MessagePending(client_id=command.client_id))
        elif isinstance(command, cmd.StartCall):

            def connect() -> None:
                if session.call_state is CallState.DIALING:
                    session.receive(ev.CallStateChanged(state=CallState.CONNECTED))

            self.clock.call_later(CALL_CONNECT_SECONDS, connect)
