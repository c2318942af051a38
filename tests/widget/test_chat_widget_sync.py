"""ChatWidget sync: deltas not whole transcripts, batched bursts, errors shown, nothing lost."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

from chat_widget import ChatWidget, MockBackend, VirtualClock
from chat_widget.model.session import ChatSession


class FakePacer:
    """A hand-moved stand-in for the kernel's event loop (no sleeping in tests)."""

    def __init__(self) -> None:
        self.now = 100.0
        self._calls: list[tuple[float, int, Callable[[], None], list[bool]]] = []
        self._seq = 0

    def time(self) -> float:
        return self.now

    def call_soon(self, callback: Callable[[], None]) -> Any:
        return self.call_at(self.now, callback)

    def call_at(self, when: float, callback: Callable[[], None]) -> Any:
        cancelled = [False]
        self._seq += 1
        self._calls.append((when, self._seq, callback, cancelled))

        class _Handle:
            def cancel(self) -> None:
                cancelled[0] = True

        return _Handle()

    def run_due(self) -> None:
        while True:
            due = sorted(c for c in self._calls if c[0] <= self.now and not c[3][0])
            if not due:
                return
            call = due[0]
            self._calls.remove(call)
            call[2]()

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while True:
            pending = sorted(c for c in self._calls if not c[3][0] and c[0] <= end)
            if not pending:
                break
            self.now = max(self.now, pending[0][0])
            self.run_due()
        self.now = end


class Recorder:
    def __init__(self, widget: ChatWidget) -> None:
        self.messages: list[dict[str, Any]] = []
        widget.send = self.messages.append  # type: ignore[method-assign]

    def entries(self) -> list[dict[str, Any]]:
        return [e for m in self.messages for e in m["entries"]]


def accepted_widget() -> tuple[ChatWidget, ChatSession, MockBackend]:
    backend = MockBackend("billing", clock=VirtualClock(start=0.0))
    backend.clock.advance(1)
    widget = ChatWidget(backend)
    session = backend.first_session()
    assert session is not None
    widget.perform("accept", {})
    backend.customer.stop()
    return widget, session, backend


def test_one_more_message_after_500_sends_about_one_entry() -> None:
    widget, session, _ = accepted_widget()
    for i in range(500):
        session.receive_message(f"message {i}")
    rec = Recorder(widget)
    session.receive_message("the 501st")
    assert len(rec.messages) == 1
    msg = rec.messages[0]
    assert msg["type"] == "entries"
    assert [e["x"] for e in msg["entries"]] == ["the 501st"]
    assert msg["first_index"] == len(session.transcript) - 1
    assert len(json.dumps(msg)) < 400


def test_burst_is_batched_under_the_rate_limit_and_arrives_whole() -> None:
    widget, session, _ = accepted_widget()
    pacer = FakePacer()
    widget._batcher._pacer = lambda: pacer
    rec = Recorder(widget)
    start = len(session.transcript)
    for i in range(5000):
        session.receive_message(f"m{i}")
    assert rec.messages == []  # nothing sent inside the loop
    pacer.run_due()  # the kernel's loop takes its next turn
    got = rec.entries()
    assert [e["i"] for e in got] == list(range(start, start + 5000))
    assert len(rec.messages) <= 10


def test_snapshot_request_returns_entries_from_index() -> None:
    widget, session, _ = accepted_widget()
    for i in range(5):
        session.receive_message(f"m{i}")
    rec = Recorder(widget)
    widget._on_view_message(widget, {"type": "snapshot", "from_index": 3}, None)
    assert [e["i"] for e in rec.entries()] == list(range(3, len(session.transcript)))


def test_view_actions_errors_are_shown_and_lose_nothing() -> None:
    widget, session, _ = accepted_widget()
    widget.perform("push_url", {"url": "javascript:alert(1)"})
    assert "only http and https" in widget.error
    widget.perform("send", {"text": "<b>hello</b>"})
    assert widget.error == ""
    assert session.transcript[-1].text == "<b>hello</b>"
    widget.perform("fly", {})
    assert "unknown action" in widget.error
    widget._on_view_message(widget, {"type": "nonsense"}, None)
    assert "unknown message" in widget.error


def test_state_carries_clock_deadlines_not_colours() -> None:
    widget, session, backend = accepted_widget()
    assert widget.state["pending_since_ms"] == session.accepted_at * 1000  # type: ignore[operator]
    assert widget.state["thresholds_ms"] == {"yellow": 30000.0, "red": 60000.0}
    backend.clock.advance(12)
    assert widget.clock["clock_ms"] == backend.clock.now() * 1000
    assert widget.clock["paused"] is True  # nobody drives it: the view must not extrapolate


def test_clock_controls_only_for_virtual_clock_backends() -> None:
    widget, _, backend = accepted_widget()
    assert widget.virtual_clock is True
    before = backend.clock.now()
    widget.perform("clock_step", {"seconds": 10})
    assert backend.clock.now() == before + 10
    widget.perform("clock_rate", {"rate": 5})
    assert backend.clock.rate == 5


def test_constructor_rejects_unknown_arguments_and_locales() -> None:
    backend = MockBackend("billing", clock=VirtualClock())
    with pytest.raises(TypeError, match="colour"):
        ChatWidget(backend, colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="locale"):
        ChatWidget(backend, locale="fr")


def test_widget_attaches_to_the_next_offer() -> None:
    backend = MockBackend("billing", clock=VirtualClock(start=0.0))
    widget = ChatWidget(backend)
    assert widget.state["state"] == "waiting"
    backend.clock.advance(1)
    assert widget.state["state"] == "offered"
    assert widget.state["contact"]["name"] == "Maria Weber"


def test_an_incoming_message_sends_one_delta_and_no_state() -> None:
    """Incremental both ways: a plain message changes no view state, only the transcript."""
    widget, session, _ = accepted_widget()
    for i in range(500):
        session.receive_message(f"message {i}")
    rec = Recorder(widget)
    states: list[Any] = []
    widget.observe(states.append, names="state")
    session.receive_message("the 501st")
    assert states == []
    assert [len(m["entries"]) for m in rec.messages] == [1]


def test_a_lone_change_goes_out_at_once_and_bursts_are_rate_limited() -> None:
    widget, session, _ = accepted_widget()
    pacer = FakePacer()
    widget._batcher._pacer = lambda: pacer
    rec = Recorder(widget)
    sent_at: list[float] = []

    def send(msg: dict[str, Any]) -> None:
        rec.messages.append(msg)
        sent_at.append(pacer.now)

    widget.send = send  # type: ignore[method-assign]
    pacer.advance(0.01)  # a quiet spell
    session.receive_message("one")
    pacer.run_due()  # next turn of the loop: no added latency
    assert len(rec.messages) == 1 and sent_at == [pacer.now]
    for i in range(20):  # a stream: at most one flush per min_interval (≤ 200/s)
        session.receive_message(f"m{i}")
        pacer.advance(0.001)
    pacer.advance(0.02)
    assert len(rec.entries()) == 21
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert len(gaps) >= 3
    assert all(g >= 0.005 - 1e-9 for g in gaps), gaps


def test_widget_on_another_chat_of_the_backend_shares_the_url_history() -> None:
    def sc(name: str) -> dict[str, Any]:
        return {"name": name, "contact": {"name": name}, "steps": [{"wait_for_reply": True}]}

    backend = MockBackend([sc("A"), sc("B")], clock=VirtualClock(start=0.0))
    backend.clock.advance(0)
    first, second = backend.desk.sessions.values()
    first.accept()
    second.accept()
    w2 = ChatWidget(backend, session="chat-2")
    assert w2.session is second
    first.push_url("https://example.com/a")
    w2.flush()
    assert w2.state["url_history"] == ["https://example.com/a"]
    assert ChatWidget(backend, session=first).session is first
    with pytest.raises(KeyError, match="chat-9"):
        ChatWidget(backend, session="chat-9")


def test_mock_connection_changes_show_in_the_view_state() -> None:
    backend = MockBackend("billing", clock=VirtualClock(start=0.0))
    backend.set_connection("reconnecting")
    backend.clock.advance(1)  # offered after the change: it inherits the status
    widget = ChatWidget(backend)
    assert widget.state["connection"] == "reconnecting"
    backend.set_connection("disconnected")
    assert widget.state["connection"] == "disconnected"
    with pytest.raises(ValueError):
        backend.set_connection("sleepy")


def test_reconfigure_a_live_chat_redraws_the_view() -> None:
    from dataclasses import replace

    from chat_widget import AgentProfile, ContactRecord, Permissions, Thresholds, TimerColour

    widget, session, backend = accepted_widget()
    backend.clock.advance(40)
    assert session.timer_colour() is TimerColour.YELLOW
    session.reconfigure(replace(session.config, thresholds=Thresholds(50, 100)))
    assert session.timer_colour() is TimerColour.GREEN
    assert widget.state["thresholds_ms"] == {"yellow": 50000.0, "red": 100000.0}
    session.reconfigure(agent=AgentProfile(permissions=Permissions(push_urls=False)))
    assert widget.state["permissions"]["push_urls"] is False
    session.reconfigure(contact=ContactRecord("Maria Weber", phones=("+49 1",)))
    assert widget.state["contact"]["phones"] == ["+49 1"]


async def test_play_starts_the_clock_driver_of_a_hand_driven_mock() -> None:
    widget, _, backend = accepted_widget()
    assert widget.clock["paused"] is True  # nobody drives it
    widget.perform("clock_resume", {})
    try:
        assert widget.error == ""
        assert backend.clock.driven
        widget.flush()
        assert widget.clock["paused"] is False
        widget.perform("clock_pause", {})
        widget.flush()
        assert widget.clock["paused"] is True
    finally:
        backend.close()


def test_errors_from_a_known_set_reach_the_view_with_their_code() -> None:
    widget, _session, _ = accepted_widget()
    widget.perform("push_url", {"url": "javascript:alert(1)"})
    assert widget.error_code == "url_scheme"
    widget.perform("send", {"text": "   "})
    assert widget.error_code == "message_empty"
    widget.perform("accept", {})  # already accepted
    assert widget.error_code == "not_now"
    assert "SessionState" not in widget.error
    widget.perform("fly", {})  # no code: the view shows the text
    assert (widget.error_code, "unknown action" in widget.error) == ("", True)
    widget.perform("send", {"text": "ok"})
    assert (widget.error_code, widget.error) == ("", "")
