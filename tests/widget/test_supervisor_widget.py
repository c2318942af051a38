"""SupervisorWidget: its traits mirror the desk, and the view's actions call the desk."""

from __future__ import annotations

from typing import Any

import pytest

from chat_widget import MockTeam, SupervisorDesk, SupervisorWidget, VirtualClock
from chat_widget.model.supervisor_desk import ChatInfo, TeamMember


def dashboard() -> tuple[SupervisorWidget, MockTeam, list[dict[str, Any]]]:
    mock = MockTeam(clock=VirtualClock(start=0.0))
    widget = SupervisorWidget(mock)
    sent: list[dict[str, Any]] = []
    widget.send = sent.append  # type: ignore[method-assign]
    return widget, mock, sent


def view(widget: SupervisorWidget, content: dict[str, Any]) -> None:
    widget._on_view_message(widget, content, [])


def act(widget: SupervisorWidget, name: str, **args: Any) -> None:
    view(widget, {"type": "action", "name": name, "args": args})


def row(widget: SupervisorWidget, chat: str) -> dict[str, Any]:
    return next(r for r in widget.team["chats"] if r["id"] == chat)


def test_the_team_trait_follows_the_desk_with_times_in_clock_ms() -> None:
    widget, mock, _sent = dashboard()
    assert widget.desk is mock.desk and widget.virtual_clock
    assert [a["name"] for a in widget.team["agents"]] == [
        "Anna Schmidt",
        "Ben Okafor",
        "Clara Jensen",
    ]
    mock.clock.advance(10)
    r = row(widget, "agent-3-chat-1")
    assert r["agent_id"] == "agent-3" and r["state"] == "active"
    since = mock.desk.chats["agent-3-chat-1"].pending_since
    assert since is not None and r["pending_since_ms"] == since * 1000
    assert widget.team["thresholds_ms"] == {"yellow": 30_000, "red": 60_000}
    assert widget.clock["clock_ms"] == 10_000
    mock.clock.advance(20)
    [flagged] = widget.team["flags"]
    assert row(widget, flagged)["flag"]["text"]
    mock.clock.advance(15)
    assert widget.team["queue"] and all(
        row(widget, q)["state"] == "queued" for q in widget.team["queue"]
    )


def test_opening_a_chat_sends_its_transcript_then_only_new_entries() -> None:
    widget, mock, sent = dashboard()
    mock.clock.advance(10)
    chat = "agent-1-chat-1"
    act(widget, "open", chat=chat)
    assert widget.open_chat == chat and widget.error == ""
    view(widget, {"type": "snapshot", "session_id": chat, "from_index": 0})
    [snapshot] = sent
    count = len(mock.desk.chats[chat].entries)
    assert snapshot["session_id"] == chat and snapshot["first_index"] == 0
    assert len(snapshot["entries"]) == count
    sent.clear()
    mock.clock.advance(20)  # Anna answers; the customer writes on
    assert sent and all(m["session_id"] == chat for m in sent)
    assert sent[0]["first_index"] == count
    other = len(sent)
    mock.desk.add_entries("agent-2-chat-1", [])  # other chats' entries never go
    assert len(sent) == other
    act(widget, "close")
    assert widget.open_chat == ""


def test_view_actions_call_the_desk() -> None:
    widget, mock, sent = dashboard()
    mock.clock.advance(10)
    chat = "agent-1-chat-1"
    act(widget, "open", chat=chat)
    act(widget, "monitor", chat=chat)
    assert row(widget, chat)["my_mode"] == "silent"
    act(widget, "coach", chat=chat)
    assert row(widget, chat)["my_mode"] == "coach"
    act(widget, "send", chat=chat, text="Ask for the invoice number")
    assert sent[-1]["entries"][-1]["k"] == "coaching"
    assert any(e.text == "Ask for the invoice number" for e in mock.entries(chat))
    act(widget, "barge_in", chat=chat)
    act(widget, "send", chat=chat, text="Hi, Tess here")
    assert sent[-1]["entries"][-1]["k"] == "message"
    assert sent[-1]["entries"][-1]["r"] == "supervisor"
    act(widget, "leave", chat=chat)
    act(widget, "stop", chat=chat)
    assert row(widget, chat)["my_mode"] is None
    act(widget, "monitor_next", agent="agent-2")
    assert next(a for a in widget.team["agents"] if a["id"] == "agent-2")["watch_next"]
    assert widget.error == ""


def test_errors_show_in_the_view_and_nothing_breaks() -> None:
    widget, mock, _sent = dashboard()
    mock.clock.advance(10)
    act(widget, "lower_flag", chat="agent-1-chat-1")
    assert "no raised help flag" in widget.error
    act(widget, "send", chat="agent-1-chat-1", text="   ")
    assert widget.error_code == "message_empty"
    act(widget, "fly")
    assert "unknown action" in widget.error
    act(widget, "monitor", chat="agent-1-chat-1")
    assert widget.error == ""


def test_the_trainers_clock_strip_works_on_the_mock() -> None:
    widget, mock, _sent = dashboard()
    act(widget, "clock_step", seconds=10)
    assert mock.clock.now() == 10.0 and widget.clock["clock_ms"] == 10_000
    act(widget, "clock_rate", rate=5)
    assert widget.clock["rate"] == 5


def test_a_bare_desk_works_too() -> None:
    desk = SupervisorDesk(VirtualClock(start=0.0))
    desk.load_team([TeamMember("a", "A")], [ChatInfo("c", "C", "queued", created=0.0)])
    widget = SupervisorWidget(desk, locale="de")
    assert widget.team["queue"] == ["c"] and widget.locale == "de"
    with pytest.raises(ValueError):
        SupervisorWidget(desk, locale="fr")
