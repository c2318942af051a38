"""The mock's customer idle alert and auto-close (issue 16): the scripted customer stays
silent in a ``pause``/``wait_for_reply`` step and the rule fires on the virtual clock."""

from __future__ import annotations

from typing import Any

import pytest

from chat_widget import MockBackend, ScenarioError, SessionState, VirtualClock
from chat_widget.formats.transcript import Role
from chat_widget.model.idle_rule import IdleTimes
from chat_widget.model.session import ChatSession

SILENT: dict[str, Any] = {
    "name": "Goes quiet",
    "contact": {"name": "Maria Weber"},
    "idle_alert_after": 60,
    "idle_close_after": 30,
    "steps": [
        {"say": "My parcel is late", "typing": 0, "delay": 0},
        {"wait_for_reply": True},
        {"pause": 1000},  # answered, she goes quiet
        {"say": "Still there?", "typing": 0, "delay": 0},
    ],
}


def accepted(scenario: dict[str, Any], **options: Any) -> tuple[MockBackend, ChatSession]:
    backend = MockBackend(scenario, clock=VirtualClock(start=0.0), **options)
    backend.clock.advance(0)
    session = backend.first_session()
    assert session is not None
    session.accept()
    backend.clock.advance(1)
    assert [e.text for e in session.transcript if e.sender.role is Role.CONTACT] == [
        "My parcel is late"
    ]
    return backend, session


def codes(session: ChatSession) -> list[str | None]:
    return [e.code for e in session.transcript if e.code in ("idle_alert", "idle_closed")]


def test_silent_customer_gets_the_alert_then_the_chat_closes() -> None:
    backend, session = accepted(SILENT)
    backend.clock.advance(500)  # the customer waits for the agent: nothing runs
    assert codes(session) == []
    session.send("Which order is it?")
    sent = session.transcript[-1].time
    backend.clock.advance(60 - 0.001)
    assert codes(session) == []
    backend.clock.advance(0.001)
    assert codes(session) == ["idle_alert"]
    alert = session.transcript[-1]
    assert alert.time == sent + 60 and alert.params == {"seconds": "30"}
    assert session.state is SessionState.ACCEPTED
    backend.clock.advance(30)
    assert codes(session) == ["idle_alert", "idle_closed"]
    assert session.state is SessionState.CONTACT_LEFT
    assert session.transcript[-1].time == sent + 90
    backend.clock.advance(2000)  # the script stopped: she says nothing after the close
    assert "Still there?" not in [e.text for e in session.transcript]
    session.set_disposition("No action")
    session.end()
    session.mark_done()
    assert session.state is SessionState.DONE


def test_a_customer_message_after_the_alert_keeps_the_chat_open() -> None:
    scenario = dict(SILENT, steps=[*SILENT["steps"][:2], {"pause": 70}, *SILENT["steps"][3:]])
    backend, session = accepted(scenario)
    session.send("Which order is it?")
    backend.clock.advance(60)
    assert codes(session) == ["idle_alert"]
    backend.clock.advance(10)  # her pause ends: "Still there?"
    assert session.transcript[-1].text == "Still there?"
    backend.clock.advance(1000)
    assert codes(session) == ["idle_alert"] and session.state is SessionState.ACCEPTED


def test_backend_idle_option_overrides_and_off_by_default() -> None:
    plain = {k: v for k, v in SILENT.items() if not k.startswith("idle_")}
    backend, session = accepted(plain)
    session.send("Which order is it?")
    backend.clock.advance(900)
    assert codes(session) == []
    backend, session = accepted(plain, idle=IdleTimes(alert_after=5, close_after=5))
    session.send("Which order is it?")
    backend.clock.advance(10)
    assert codes(session) == ["idle_alert", "idle_closed"]


def test_an_alert_without_a_close_is_a_scenario_error() -> None:
    bad = dict(SILENT)
    del bad["idle_close_after"]
    with pytest.raises(ScenarioError, match="close_after"):
        MockBackend(bad, clock=VirtualClock())
