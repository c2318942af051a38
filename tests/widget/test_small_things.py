"""Issue 12, "Smaller things seen": model, backend and widget-state parts."""

from __future__ import annotations

import pytest
from tests.analysis.test_analysis_replay import DOC

from chat_widget import ChatWidget, MockBackend, VirtualClock
from chat_widget.model.errors import IllegalTransitionError
from chat_widget.model.session import CallState, ChatSession, SessionState
from chat_widget.replay import ReplayBackend

WAITS_FOR_REPLY = {
    "name": "Waits",
    "contact": {"name": "Maria Weber", "phones": ["+49 30 1234567"]},
    "offer_after": 1,
    "steps": [{"say": "Hi, my invoice is wrong"}, {"wait_for_reply": True}, {"say": "Thanks!"}],
}


def offered() -> tuple[MockBackend, ChatSession, ChatWidget]:
    backend = MockBackend(WAITS_FOR_REPLY, clock=VirtualClock())
    widget = ChatWidget(backend)
    backend.clock.advance(1)
    session = backend.first_session()
    assert session is not None
    return backend, session, widget


def test_mock_holds_messages_sent_while_disconnected_until_reconnected() -> None:
    backend, session, widget = offered()
    session.accept()
    backend.clock.advance(10)
    assert [e.text for e in session.transcript if e.sender.role == "contact"] == [
        "Hi, my invoice is wrong"
    ]
    backend.set_connection("disconnected")
    entry = session.send("Let me check that for you.")
    assert session.pending == {entry.client_id: entry.index}
    widget.flush()
    assert widget.state["pending"] == [entry.index]
    backend.clock.advance(120)  # the customer waits for the reply they never got
    assert entry.client_id in session.pending
    assert "Thanks!" not in [e.text for e in session.transcript]
    backend.set_connection("reconnecting")
    assert entry.client_id in session.pending
    backend.set_connection("connected")
    assert session.pending == {}
    widget.flush()
    assert widget.state["pending"] == []
    backend.clock.advance(30)
    assert "Thanks!" in [e.text for e in session.transcript]  # it arrived: the script goes on


def test_mock_messages_while_connected_are_never_pending() -> None:
    _, session, _ = offered()
    session.accept()
    session.send("Hello")
    assert session.pending == {}


def test_connection_status_while_waiting_and_contact_left_after_done() -> None:
    backend = MockBackend("leaver", clock=VirtualClock())
    widget = ChatWidget(backend)
    widget.flush()
    assert widget.state["state"] == "waiting"
    assert widget.state["connection"] == "connected"
    backend.set_connection("reconnecting")
    widget.flush()
    assert widget.state["connection"] == "reconnecting"
    backend.set_connection("connected")
    backend.clock.advance(1)
    session = backend.first_session()
    assert session is not None
    session.accept()
    backend.customer.leave("bye")
    assert session.state is SessionState.CONTACT_LEFT
    session.mark_done()
    widget.flush()
    assert widget.state["state"] == "done"
    assert widget.state["contact_left"] is True


def test_a_second_call_is_refused_while_one_runs() -> None:
    backend, session, _ = offered()
    session.accept()
    number = session.contact.phones[0]
    session.call(number)
    with pytest.raises(IllegalTransitionError):
        session.call(number)
    backend.clock.advance(5)
    assert session.call_state is CallState.CONNECTED


def test_replay_marks_the_view_state_as_replaying() -> None:
    widget = ChatWidget(ReplayBackend(DOC))
    widget.flush()
    assert widget.state.get("replaying") is True
    _, _, live = offered()
    live.flush()
    assert "replaying" not in live.state


def test_calls_and_e_mails_leave_an_agents_only_trace() -> None:
    _, session, widget = offered()
    session.accept()
    number = session.contact.phones[0]
    widget.perform("call", {"number": number})
    widget.perform("hang_up", {})
    session.receive_message("or write to maria@example.org")
    widget.perform("email", {"address": "maria@example.org"})
    assert widget.error == ""
    notices = [e for e in session.transcript if e.kind == "notice" and e.visibility == "agents"]
    assert [e.text for e in notices] == [
        f"Agent called {number}",
        f"Call to {number} ended",
        "Agent opened an e-mail to maria@example.org",
    ]
    # stored language-neutral, so a German agent reads them in German
    assert [e.code for e in notices] == ["called", "call_ended", "emailed"]
    widget.perform("email", {"address": "someone@else.example"})
    assert "not an address of contact" in widget.error
