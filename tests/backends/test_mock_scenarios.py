"""MockBackend: each built-in scenario played to the end on the virtual clock."""

from pathlib import Path

import pytest

from chat_widget import MockBackend, ScenarioError, SessionState, VirtualClock
from chat_widget.formats.transcript import Kind, Role
from chat_widget.model.reply_timer import TimerColour


def start(name: str) -> MockBackend:
    backend = MockBackend(name, clock=VirtualClock(start=0.0))
    backend.clock.advance(1)
    return backend


def contact_texts(backend: MockBackend) -> list[str]:
    s = backend.first_session()
    assert s is not None
    return [e.text for e in s.transcript if e.sender.role is Role.CONTACT]


def test_nothing_happens_without_advancing_the_clock() -> None:
    backend = MockBackend("impatient", clock=VirtualClock(start=0.0))
    assert backend.first_session() is None
    backend.clock.advance(0)
    s = backend.first_session()
    assert s is not None and s.state is SessionState.OFFERED


def test_billing_waits_for_each_reply_then_leaves() -> None:
    backend = start("billing")
    s = backend.first_session()
    assert s is not None
    assert s.contact.name == "Maria Weber"
    s.accept()
    backend.clock.advance(4.5)
    assert s.contact_typing()
    backend.clock.advance(0.5)
    assert contact_texts(backend) == ["Hello, I was charged twice for my March invoice."]
    assert not s.contact_typing()
    backend.clock.advance(300)  # no reply: the customer keeps waiting
    assert len(contact_texts(backend)) == 1
    assert s.timer_colour() is TimerColour.RED
    s.send("Let me check that for you.")
    backend.clock.advance(8)
    assert contact_texts(backend)[-1].startswith("The invoice number is 2026-0315")
    s.push_url("https://example.com/refunds")
    backend.clock.advance(5)
    assert contact_texts(backend)[-1].startswith("Great, thank you")
    s.send("Yes, you will.")
    backend.clock.advance(1)
    assert s.state is SessionState.CONTACT_LEFT
    assert contact_texts(backend)[-1] == "Thanks, bye!"
    assert s.transcript[-1].kind is Kind.NOTICE


def test_impatient_customer_complains_exactly_when_timer_turns_red() -> None:
    backend = start("impatient")
    s = backend.first_session()
    assert s is not None
    s.accept()
    backend.clock.advance(59.9)
    assert "Hello??" not in " ".join(contact_texts(backend))
    backend.clock.advance(0.1)
    complaint = [e for e in s.transcript if e.text.startswith("Hello??")]
    assert len(complaint) == 1
    assert complaint[0].time == s.accepted_at + 60  # type: ignore[operator]
    backend.clock.advance(120)
    assert len([t for t in contact_texts(backend) if t.startswith("Hello??")]) == 1


def test_leaver_sends_contact_details_then_leaves_without_reply() -> None:
    backend = start("leaver")
    s = backend.first_session()
    assert s is not None
    s.accept()
    backend.clock.advance(200)
    texts = contact_texts(backend)
    assert "+49 40 9876543" in texts[1]
    assert "aylin.d@example.net" in texts[1]
    assert s.state is SessionState.CONTACT_LEFT
    assert s.numbers_in_chat() == ["+49 40 9876543"]


def test_customer_driven_from_code() -> None:
    backend = start("billing")
    s = backend.first_session()
    assert s is not None
    s.accept()
    backend.customer.stop()
    backend.customer.start_typing()
    assert s.contact_typing()
    backend.customer.say("typed by the trainer")
    assert contact_texts(backend) == ["typed by the trainer"]
    backend.customer.leave()
    assert s.state is SessionState.CONTACT_LEFT


def test_rejected_chat_stops_the_script() -> None:
    backend = start("billing")
    s = backend.first_session()
    assert s is not None
    s.reject()
    backend.clock.advance(100)
    assert contact_texts(backend) == []


def test_simulated_call_connects_after_dialing() -> None:
    backend = start("billing")
    s = backend.first_session()
    assert s is not None
    s.accept()
    s.call("+49 30 1234567")
    assert s.call_state == "dialing"
    backend.clock.advance(3)
    assert s.call_state == "connected"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_scenario_from_yaml_and_json_files(tmp_path: Path) -> None:
    yaml_file = write(
        tmp_path,
        "s.yaml",
        "name: T\ncontact: {name: Tom}\nsteps:\n  - say: hi\n    typing: 1\n    delay: 0\n"
        "  - leave: true\n",
    )
    json_file = write(
        tmp_path,
        "s.json",
        '{"name": "J", "contact": {"name": "Jo"}, "steps": [{"say": "moin", "typing": 0}]}',
    )
    backend = MockBackend([yaml_file, json_file], clock=VirtualClock(start=0.0))
    backend.clock.advance(0)
    for s in backend.desk.sessions.values():
        s.accept()
    backend.clock.advance(5)
    texts = {
        s.contact.name: [e.text for e in s.transcript if e.sender.role is Role.CONTACT]
        for s in backend.desk.sessions.values()
    }
    assert texts == {"Tom": ["hi"], "Jo": ["moin"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: T\ncontact: {name: Tom}\nsteps:\n  - say: hi\n  - pause: -1\n",
            "step 2, field 'pause'",
        ),
        ("name: T\ncontact: {name: Tom}\nsteps:\n  - shout: hi\n", "step 1: needs exactly one of"),
        (
            "name: T\ncontact: {name: Tom}\nsteps:\n  - say: hi\n    typing: slow\n",
            "step 1, field 'typing'",
        ),
        ("name: T\nsteps:\n  - say: hi\n", "field 'contact'"),
        ("name: T\ncontact: {name: Tom}\nsteps: []\n", "field 'steps'"),
        ("name: [unclosed\n", "not valid YAML"),
        ("- just a list\n", "must be a mapping"),
    ],
)
def test_bad_scenario_files_name_file_step_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ScenarioError) as info:
        MockBackend(path, clock=VirtualClock())
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_missing_scenario_names_builtins() -> None:
    with pytest.raises(ScenarioError, match="billing"):
        MockBackend("no-such-scenario", clock=VirtualClock())
