"""The agent's view actions for supervision (issue 14), through ChatWidget and the mock."""

from __future__ import annotations

from typing import Any

from chat_widget import ChatWidget, MockBackend, VirtualClock

SCENARIO: dict[str, Any] = {
    "name": "Flagged",
    "contact": {"name": "Maria Weber"},
    "on_flag": {"coach": "Offer the voucher", "after": 5},
    "steps": [{"say": "Hi", "typing": 0, "delay": 0}, {"wait_for_reply": True}],
}


def test_flag_coaching_and_answer_reach_the_view() -> None:
    backend = MockBackend(SCENARIO, clock=VirtualClock(start=0.0), supervisor="Tess")
    backend.clock.advance(0)
    widget = ChatWidget(backend)
    sent: list[dict[str, Any]] = []
    widget.send = sent.append  # type: ignore[method-assign]
    widget.perform("accept", {})
    widget.perform("answer_coach", {"text": "hello?"})
    assert widget.error_code == "not_now"  # nobody coaches yet: said in the view's locale
    widget.perform("raise_flag", {"text": "Refund over my limit"})
    assert widget.error == ""
    assert widget.state["help_flag"] == {"text": "Refund over my limit", "raised_at_ms": 0.0}
    backend.clock.advance(5)
    widget.flush()
    assert widget.state["help_flag"] is None
    assert widget.state["monitored"] == {"mode": "coach", "by": "Tess"}
    entries = [e for m in sent for e in m["entries"]]
    coaching = [e for e in entries if e["k"] == "coaching"]
    assert [(e["r"], e["n"], e["x"], e["v"]) for e in coaching] == [
        ("supervisor", "Tess", "Offer the voucher", "agents")
    ]
    widget.perform("answer_coach", {"text": "On it"})
    assert widget.error == ""
    assert backend.supervisor is not None and backend.supervisor.answers[-1][1] == "On it"
    widget.perform("raise_flag", {})
    widget.perform("lower_flag", {})
    assert widget.state["help_flag"] is None and widget.error == ""
