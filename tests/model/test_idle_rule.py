"""The customer idle rule on a virtual clock: alert and close at their times, a customer
message resets, nothing while the customer waits for the agent or before accept."""

from __future__ import annotations

import pytest

from chat_widget.formats.transcript import Kind, Role, Visibility
from chat_widget.model.clock import VirtualClock
from chat_widget.model.idle_rule import IdleRule, IdleStep, IdleTimes

ALL = Visibility.ALL


class Driven:
    """The rule scheduled on a virtual clock, as the server and the mock use it."""

    def __init__(self, times: IdleTimes) -> None:
        self.clock = VirtualClock(start=1000.0)
        self.rule = IdleRule(times)
        self.steps: list[tuple[float, IdleStep]] = []
        self.handle = None

    def reschedule(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
        due = self.rule.next_deadline()
        self.handle = None if due is None else self.clock.call_at(due[0], self.due)

    def due(self) -> None:
        step = self.rule.fire(self.clock.now())
        if step is not None:
            self.steps.append((self.clock.now() - 1000.0, step))
        self.reschedule()

    def accept(self) -> None:
        self.rule.accept(self.clock.now())
        self.reschedule()

    def say(self, role: Role, kind: Kind = Kind.MESSAGE, visibility: Visibility = ALL) -> None:
        self.rule.message(role, kind, visibility, self.clock.now())
        self.reschedule()


def test_alert_then_close_at_exact_times() -> None:
    d = Driven(IdleTimes(alert_after=60, close_after=30))
    d.accept()
    d.clock.advance(5)
    d.say(Role.CONTACT)
    d.clock.advance(5)
    d.say(Role.AGENT)  # at 10 the agent waits for the customer
    d.clock.advance(59.999)
    assert d.steps == []
    d.clock.advance(0.001)
    assert d.steps == [(70.0, IdleStep.ALERT)]
    d.clock.advance(29.999)
    assert d.steps == [(70.0, IdleStep.ALERT)]
    d.clock.advance(0.001)
    assert d.steps == [(70.0, IdleStep.ALERT), (100.0, IdleStep.CLOSE)]
    d.clock.advance(1000)
    assert len(d.steps) == 2  # closed: nothing more


def test_a_customer_message_resets() -> None:
    d = Driven(IdleTimes(alert_after=60, close_after=30))
    d.accept()
    d.say(Role.AGENT)
    d.clock.advance(50)
    d.say(Role.CONTACT)  # before the alert: the wait is over
    d.clock.advance(200)
    assert d.steps == []
    d.say(Role.AGENT)  # at 250 a new wait
    d.clock.advance(60)
    assert d.steps == [(310.0, IdleStep.ALERT)]
    d.clock.advance(20)
    d.say(Role.CONTACT)  # between the alert and the close: no close
    d.clock.advance(500)
    assert d.steps == [(310.0, IdleStep.ALERT)]


def test_more_agent_messages_do_not_restart_the_wait() -> None:
    d = Driven(IdleTimes(alert_after=60, close_after=30))
    d.accept()
    d.say(Role.AGENT)
    d.clock.advance(40)
    d.say(Role.AGENT)  # "are you still there?": the customer is silent since 0
    d.clock.advance(20)
    assert d.steps == [(60.0, IdleStep.ALERT)]


def test_nothing_while_the_customer_waits_for_the_agent() -> None:
    d = Driven(IdleTimes(alert_after=10, close_after=10))
    d.accept()
    d.say(Role.CONTACT)
    d.clock.advance(1000)  # the agent never answers: not the customer's idleness
    assert d.steps == []
    d.say(Role.AGENT, Kind.COACHING, Visibility.AGENTS)  # whispers and notices do not count
    d.say(Role.SYSTEM, Kind.NOTICE)
    d.say(Role.AGENT, Kind.CONSULT, Visibility.AGENTS)
    d.clock.advance(1000)
    assert d.steps == []


def test_nothing_before_accept() -> None:
    d = Driven(IdleTimes(alert_after=10, close_after=10))
    d.say(Role.CONTACT)
    d.say(Role.AGENT)  # (cannot happen on the server; the rule ignores it anyway)
    d.clock.advance(1000)
    assert d.steps == []
    d.accept()
    d.clock.advance(1000)
    assert d.steps == []


def test_a_barged_in_supervisor_and_a_pushed_url_answer_too() -> None:
    d = Driven(IdleTimes(alert_after=10, close_after=5))
    d.accept()
    d.say(Role.SUPERVISOR)
    d.clock.advance(15)
    assert [s for _, s in d.steps] == [IdleStep.ALERT, IdleStep.CLOSE]
    e = Driven(IdleTimes(alert_after=10, close_after=5))
    e.accept()
    e.say(Role.AGENT, Kind.PUSH_URL)
    e.clock.advance(10)
    assert e.steps == [(10.0, IdleStep.ALERT)]


def test_ended_chat_and_close_only() -> None:
    d = Driven(IdleTimes(close_after=20))  # no alert: the close counts from the wait
    d.accept()
    d.say(Role.AGENT)
    d.clock.advance(20)
    assert d.steps == [(20.0, IdleStep.CLOSE)]
    e = Driven(IdleTimes(alert_after=10, close_after=5))
    e.accept()
    e.say(Role.AGENT)
    e.rule.end()
    e.reschedule()
    e.clock.advance(100)
    assert e.steps == []


def test_times_are_checked() -> None:
    assert not IdleTimes().enabled
    assert IdleTimes(alert_after=1.5, close_after=1.2).closes_in == 2
    with pytest.raises(ValueError, match="close_after"):
        IdleTimes(alert_after=10)
    with pytest.raises(ValueError, match="positive"):
        IdleTimes(alert_after=0, close_after=5)


def test_a_late_alert_still_gives_the_customer_the_whole_close_time() -> None:
    """After a restart the alert may come late: the close counts from when it came."""
    d = Driven(IdleTimes(alert_after=10, close_after=30))
    d.accept()
    d.say(Role.AGENT)
    d.rule.alerted(1000.0 + 25)  # read back: the alert was given at 25
    d.reschedule()
    d.clock.advance(54.999)
    assert d.steps == []
    d.clock.advance(0.001)
    assert d.steps == [(55.0, IdleStep.CLOSE)]
