"""SupervisorDesk: the team's chats as a supervisor sees them, and the supervisor's actions."""

from __future__ import annotations

from typing import Any

import pytest

from chat_widget import AgentProfile, ChatError, SupervisorDesk, VirtualClock
from chat_widget.formats.transcript import Entry, Kind, Role, Sender, Visibility
from chat_widget.model import commands as cmd
from chat_widget.model.reply_timer import TimerColour
from chat_widget.model.supervisor_desk import ChatInfo, RaisedFlag, TeamMember

CONTACT = Sender(Role.CONTACT, "Maria", "customer")
ANNA = Sender(Role.AGENT, "Anna", "anna")
TESS = Sender(Role.SUPERVISOR, "Tess", "tess")


def line(sender: Sender, text: str, t: float, **kw: Any) -> Entry:
    return Entry(0, t, kw.pop("kind", Kind.MESSAGE), sender, text, **kw)


def team(clock: VirtualClock | None = None) -> SupervisorDesk:
    desk = SupervisorDesk(clock or VirtualClock(start=0.0), supervisor=AgentProfile("Tess", "tess"))
    desk.load_team(
        [TeamMember("anna", "Anna", "ready"), TeamMember("ben", "Ben", "away")],
        [
            ChatInfo("c1", "Maria", "active", "anna", "Anna", ("anna",), created=0.0),
            ChatInfo("c2", "Jonas", "active", "anna", "Anna", ("anna",), created=1.0),
            ChatInfo("q2", "Later", "queued", created=5.0),
            ChatInfo("q1", "Earlier", "queued", created=2.0),
        ],
    )
    desk.on_commands(lambda: None)
    return desk


def test_team_state_makes_rows_queue_oldest_first_and_counts_each_agents_chats() -> None:
    desk = team()
    assert set(desk.chats) == {"c1", "c2", "q1", "q2"}
    assert desk.chats["c1"].owner_name == "Anna" and desk.chats["q1"].owner_id is None
    assert [c.id for c in desk.queue] == ["q1", "q2"]
    assert desk.agents["anna"].chats == 2 and desk.agents["ben"].chats == 0
    desk.clock.advance(12)  # type: ignore[attr-defined]
    assert desk.waiting("q1") == pytest.approx(10.0)


def test_owner_and_state_changes_move_rows_and_done_removes_them() -> None:
    desk = team()
    changes: list[str] = []
    desk.subscribe(lambda change, _payload: changes.append(change))
    desk.update_chat(ChatInfo("q1", "Earlier", "active", "ben", "Ben", ("ben",), created=2.0))
    assert [c.id for c in desk.queue] == ["q2"]
    assert desk.agents["ben"].chats == 1
    desk.update_chat(ChatInfo("c1", "Maria", "done", "anna", "Anna"))
    assert "c1" not in desk.chats and desk.agents["anna"].chats == 1
    assert changes == ["team", "team"]
    desk.set_presence("ben", "ready")
    assert desk.agents["ben"].presence == "ready"


def test_a_contact_message_starts_a_wait_an_agent_or_supervisor_message_ends_it() -> None:
    clock = VirtualClock(start=0.0)
    desk = team(clock)
    seen: list[tuple[str, int]] = []
    desk.subscribe(
        lambda change, payload: (
            seen.append((payload[0], len(payload[1]))) if change == "entries" else None
        )
    )
    desk.add_entries("c1", [line(CONTACT, "Hello?", 10.0)])
    assert desk.chats["c1"].pending_since == 10.0
    assert desk.colour("c1", 39.0) is TimerColour.GREEN
    assert desk.colour("c1", 40.0) is TimerColour.YELLOW
    assert desk.colour("c1", 70.0) is TimerColour.RED
    coaching = line(TESS, "Apologise", 50.0, kind=Kind.COACHING, visibility=Visibility.AGENTS)
    desk.add_entries("c1", [coaching])
    assert desk.chats["c1"].pending_since == 10.0  # coaching is no reply
    desk.add_entries("c1", [line(ANNA, "Sorry!", 80.0)])
    assert desk.chats["c1"].pending_since is None
    assert desk.colour("c1", 90.0) is TimerColour.IDLE
    desk.add_entries("c1", [line(CONTACT, "Still there?", 100.0)])
    desk.add_entries("c1", [line(TESS, "I am, Tess here", 110.0)])  # a barged-in supervisor
    assert desk.chats["c1"].pending_since is None
    assert [e.index for e in desk.chats["c1"].entries] == [0, 1, 2, 3, 4]
    assert seen == [("c1", 1)] * 5


def test_flags_are_listed_oldest_first() -> None:
    desk = team()
    desk.update_chat(
        ChatInfo("c2", "Jonas", "active", "anna", "Anna", flag=RaisedFlag("anna", "help", 30.0))
    )
    desk.update_chat(
        ChatInfo("c1", "Maria", "active", "anna", "Anna", flag=RaisedFlag("anna", None, 20.0))
    )
    assert [c.id for c in desk.flags] == ["c1", "c2"]


def test_monitor_coach_barge_in_leave_and_stop_produce_commands_and_modes() -> None:
    desk = team()
    desk.monitor("c1")
    assert desk.chats["c1"].my_mode == "silent"
    entry = desk.coach("c1", "  Offer the refund  ")  # switches to coach first
    assert desk.chats["c1"].my_mode == "coach"
    assert entry.kind is Kind.COACHING and entry.visibility is Visibility.AGENTS
    assert entry.sender == TESS and entry.text == "Offer the refund"
    with pytest.raises(ChatError, match="barge in first"):
        desk.say("c1", "Hello Maria")
    desk.barge_in("c1")
    said = desk.send("c1", "Hello Maria")  # the composer in barge-in mode: to everyone
    assert said.kind is Kind.MESSAGE and said.visibility is Visibility.ALL
    assert desk.chats["c1"].pending_since is None
    desk.leave("c1")
    assert desk.chats["c1"].my_mode == "silent"
    desk.leave("c1")
    assert desk.chats["c1"].my_mode is None
    sent = desk.commands_to_send()
    assert [type(c) for c in sent] == [
        cmd.Monitor,
        cmd.Monitor,
        cmd.Coach,
        cmd.Monitor,
        cmd.BargeInMessage,
        cmd.Monitor,
        cmd.StopMonitoring,
    ]
    assert [c.mode for c in sent if isinstance(c, cmd.Monitor)] == [
        "silent",
        "coach",
        "barge_in",
        "silent",
    ]
    assert sent[2] == cmd.Coach("c1", entry.client_id or "", "Offer the refund")
    assert desk.commands_to_send() == []


def test_own_lines_echoed_back_are_not_shown_twice() -> None:
    desk = team()
    entry = desk.coach("c1", "Breathe")
    echo = line(TESS, "Breathe", 5.0, kind=Kind.COACHING, client_id=entry.client_id)
    assert desk.add_entries("c1", [echo]) == []
    assert [e.text for e in desk.chats["c1"].entries] == ["Breathe"]


def test_actions_refuse_what_makes_no_sense() -> None:
    desk = team()
    with pytest.raises(ChatError):
        desk.monitor("nope")
    with pytest.raises(ChatError, match="mode"):
        desk.monitor("c1", "loud")
    with pytest.raises(ChatError, match="no raised help flag"):
        desk.lower_flag("c1")
    with pytest.raises(ChatError, match="empty"):
        desk.coach("c1", "   ")
    with pytest.raises(ChatError):
        desk.monitor_next("zoe")
    assert desk.commands_to_send() == []


def test_lower_flag_clears_it_at_once() -> None:
    desk = team()
    desk.update_chat(
        ChatInfo("c1", "Maria", "active", "anna", "Anna", flag=RaisedFlag("anna", "help", 3.0))
    )
    desk.lower_flag("c1")
    assert desk.flags == [] and desk.commands_to_send() == [cmd.SupervisorLowerFlag("c1")]


def test_monitor_next_waits_for_the_agents_next_chat() -> None:
    desk = team()
    desk.monitor_next("ben")
    assert desk.watch_next == {"ben"}
    assert desk.commands_to_send() == [cmd.MonitorNext("", "ben")]
    desk.update_chat(ChatInfo("q1", "Earlier", "active", "ben", "Ben", monitors={"tess": "silent"}))
    assert desk.chats["q1"].my_mode == "silent" and desk.watch_next == set()
    desk.monitor_next("anna")
    desk.monitor_next("anna", cancel=True)
    assert desk.watch_next == set()
    assert desk.commands_to_send()[-1] == cmd.MonitorNext("", "anna", cancel=True)


def test_a_refused_action_goes_back_to_the_servers_mode() -> None:
    desk = team()
    desk.monitor("c1", "barge_in")
    desk.refused("c1", "forbidden: not your team")
    assert desk.chats["c1"].my_mode is None and desk.last_error.startswith("forbidden")
