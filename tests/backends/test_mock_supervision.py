"""The mock's scripted supervisor (issue 14): coaching lines at exact virtual times."""

from __future__ import annotations

from typing import Any

import pytest

from chat_widget import MockBackend, ScenarioError, VirtualClock
from chat_widget.backends.mock import ScriptedSupervisor
from chat_widget.formats.transcript import Kind, Role, Visibility
from chat_widget.model.session import ChatSession

COACHED: dict[str, Any] = {
    "name": "Coached refund",
    "contact": {"name": "Maria Weber"},
    "when_yellow": {"coach": "She has waited 30 s: answer now"},
    "when_red": {"say": "Hello??", "coach": "Apologise for the wait"},
    "on_flag": {"coach": "I'm here - offer the voucher", "after": 5},
    "steps": [
        {"say": "I want my money back", "typing": 1, "delay": 0},
        {"coach": "Apologise first"},
        {"wait_for_reply": True},
        {"say": "Thanks", "typing": 1, "delay": 0},
        {"coach": "Well done", "delay": 2},
        {"wait_for_reply": True},
    ],
}


def _start(supervisor: str | ScriptedSupervisor = "Tess") -> tuple[MockBackend, ChatSession]:
    backend = MockBackend(COACHED, clock=VirtualClock(start=0.0), supervisor=supervisor)
    backend.clock.advance(0)
    session = backend.first_session()
    assert session is not None
    session.accept()
    return backend, session


def _coaching(session: ChatSession) -> list[tuple[float, str]]:
    return [(e.time, e.text) for e in session.transcript if e.kind is Kind.COACHING]


def test_coach_steps_come_right_after_the_previous_step_in_coach_mode() -> None:
    backend, s = _start()
    backend.clock.advance(1)  # typed for 1 s, said; the coaching follows at once
    assert _coaching(s) == [(1.0, "Apologise first")]
    coach = next(e for e in s.transcript if e.kind is Kind.COACHING)
    assert (coach.sender.role, coach.sender.name, coach.visibility) == (
        Role.SUPERVISOR,
        "Tess",
        Visibility.AGENTS,
    )
    assert (s.monitored, s.monitored_by) == ("coach", "Tess")
    monitoring = [e for e in s.transcript if e.code == "monitor_coach"]
    assert len(monitoring) == 1 and monitoring[0].index < coach.index  # announced first
    s.send("I'm sorry, let me look")
    backend.clock.advance(1)  # "Thanks" said at 2
    backend.clock.advance(1.9)
    assert _coaching(s)[-1] == (1.0, "Apologise first")
    backend.clock.advance(0.1)
    assert _coaching(s)[-1] == (4.0, "Well done")  # its delay: 2 s after the step before
    assert len([e for e in s.transcript if e.code == "monitor_coach"]) == 1


def test_when_yellow_and_when_red_coach_at_the_exact_virtual_times() -> None:
    backend, s = _start()
    backend.clock.advance(29.9)
    assert [t for t, _ in _coaching(s)] == [1.0]
    backend.clock.advance(0.1)
    assert _coaching(s)[-1] == (30.0, "She has waited 30 s: answer now")
    assert s.timer.pending_since == 0.0  # coaching is no reply: the wait goes on
    backend.clock.advance(30)
    assert _coaching(s)[-1] == (60.0, "Apologise for the wait")
    contact = [(e.time, e.text) for e in s.transcript if e.sender.role is Role.CONTACT]
    assert contact[-1] == (60.0, "Hello??")
    backend.clock.advance(100)
    assert len(_coaching(s)) == 3  # once per wait


def test_a_reply_in_time_cancels_the_hooks_of_that_wait() -> None:
    backend, s = _start()
    backend.clock.advance(10)
    s.send("Hello Maria")  # at 10: the wait since 0 ends before turning yellow
    backend.clock.advance(100)
    # "Thanks" at 11 starts the next wait: its hooks fire at 11 + 30 and 11 + 60
    assert [t for t, _ in _coaching(s)] == [1.0, 13.0, 41.0, 71.0]


def test_the_flag_is_echoed_and_the_supervisor_answers_after_the_delay() -> None:
    supervisor = ScriptedSupervisor("Tess Trainer")
    backend, s = _start(supervisor)
    backend.clock.advance(2)
    s.raise_flag("Refund over my limit")
    assert s.help_flag is not None and s.help_flag.raised_at == 2.0
    assert s.transcript[-1].text == "Agent asked for help: Refund over my limit"
    backend.clock.advance(4.9)
    assert s.help_flag is not None
    backend.clock.advance(0.1)
    assert s.help_flag is None
    assert _coaching(s)[-1] == (7.0, "I'm here - offer the voucher")
    assert s.transcript[-1].text == "Tess Trainer lowered the help flag"
    s.answer_coach("Thanks, doing it")
    assert supervisor.answers == [(s.id, "Thanks, doing it")]


def test_lowering_the_flag_first_cancels_the_supervisors_answer() -> None:
    backend, s = _start()
    backend.clock.advance(2)
    s.raise_flag()
    backend.clock.advance(1)
    s.lower_flag()
    assert s.transcript[-1].text == "Agent lowered the help flag"
    backend.clock.advance(10)
    assert "I'm here - offer the voucher" not in [t for _, t in _coaching(s)]


def test_coaching_lines_without_a_supervisor_are_a_clear_error() -> None:
    with pytest.raises(ScenarioError, match=r"scenario 'Coached refund': step 2 .* supervisor="):
        MockBackend(COACHED, clock=VirtualClock())
    hook_only = {**COACHED, "steps": [{"say": "hi"}], "on_flag": None, "when_red": None}
    with pytest.raises(ScenarioError, match="when_yellow"):
        MockBackend(hook_only, clock=VirtualClock())


def test_scenario_hooks_are_validated() -> None:
    with pytest.raises(ScenarioError, match="when_yellow"):
        MockBackend({**COACHED, "when_yellow": {}}, clock=VirtualClock(), supervisor="Tess")
    with pytest.raises(ScenarioError, match="step 2, field 'delay'"):
        steps = [{"say": "hi"}, {"coach": "x", "delay": -1}]
        MockBackend({**COACHED, "steps": steps}, clock=VirtualClock(), supervisor="Tess")


def test_a_flag_without_a_supervisor_stays_up() -> None:
    backend = MockBackend("billing", clock=VirtualClock(start=0.0))
    backend.clock.advance(2)
    s = backend.first_session()
    assert s is not None
    s.accept()
    s.raise_flag("anyone?")
    backend.clock.advance(600)
    assert s.help_flag is not None and s.help_flag.text == "anyone?"
