"""MockTeam: a simulated team on the virtual clock feeds the supervisor's desk, and the
supervisor's actions reach the simulated agents' chats."""

from __future__ import annotations

from chat_widget import MockTeam, VirtualClock
from chat_widget.formats.transcript import Kind, Role, Visibility
from chat_widget.model.reply_timer import TimerColour


def team(**kw: object) -> MockTeam:
    return MockTeam(clock=VirtualClock(start=0.0), **kw)  # type: ignore[arg-type]


def test_the_agents_chats_appear_accepted_by_their_agents() -> None:
    mock = team()
    desk = mock.desk
    assert [a.name for a in desk.agents.values()] == ["Anna Schmidt", "Ben Okafor", "Clara Jensen"]
    mock.clock.advance(5)
    assert {c.owner_id for c in desk.chats.values()} == {"agent-1", "agent-2", "agent-3"}
    assert all(c.state == "active" for c in desk.chats.values())
    assert all(a.chats == 1 and a.presence == "ready" for a in desk.agents.values())
    mock.clock.advance(35)  # the second chats arrive while the agents are busy: queued
    assert [c.owner_id for c in desk.queue] == [None, None, None]


def test_reply_timers_turn_yellow_and_red_on_the_virtual_clock() -> None:
    mock = team()
    desk = mock.desk
    slow = "agent-3-chat-1"  # Clara answers after 75 s
    mock.clock.advance(10)
    assert desk.colour(slow) is TimerColour.GREEN
    since = desk.chats[slow].pending_since
    assert since is not None
    mock.clock.advance_to(since + 30)
    assert desk.colour(slow) is TimerColour.YELLOW
    mock.clock.advance_to(since + 60)
    assert desk.colour(slow) is TimerColour.RED
    mock.clock.advance_to(since + 76)
    assert desk.colour(slow) is TimerColour.IDLE  # she answered at last
    assert desk.chats[slow].entries[-1].sender.role is Role.AGENT


def test_coaching_reaches_the_simulated_agents_session_only() -> None:
    mock = team()
    mock.clock.advance(10)
    chat = "agent-1-chat-1"
    mock.desk.coach(chat, "Mention the refund form")
    coaching = [e for e in mock.entries(chat) if e.kind is Kind.COACHING]
    assert [(e.text, e.sender.role, e.visibility) for e in coaching] == [
        ("Mention the refund form", Role.SUPERVISOR, Visibility.AGENTS)
    ]
    # the agent read that they are coached; the supervisor sees the line once
    assert any(e.code == "monitor_coach" for e in mock.entries(chat))
    assert [e.text for e in mock.desk.chats[chat].entries].count("Mention the refund form") == 1
    assert mock.desk.chats[chat].my_mode == "coach"


def test_barging_in_answers_the_contact() -> None:
    mock = team()
    mock.clock.advance(10)
    chat = "agent-3-chat-1"
    assert mock.desk.chats[chat].pending_since is not None
    mock.desk.barge_in(chat)
    mock.desk.say(chat, "Hello, I am Tess, the team lead")
    session = mock.sessions[chat]
    assert session.timer.pending_since is None  # the contact got an answer
    joined = [e for e in session.transcript if e.code == "joined"]
    assert joined and joined[0].visibility is Visibility.ALL
    mock.desk.leave(chat)
    assert any(e.code == "left" for e in session.transcript)
    assert mock.desk.chats[chat].my_mode == "silent"


def test_an_agent_raises_a_help_flag_and_the_supervisor_lowers_it() -> None:
    mock = team()
    mock.clock.advance(10)
    assert mock.desk.flags == []
    mock.clock.advance(15)  # Ben raises his flag 20 s into his chat
    [flagged] = mock.desk.flags
    assert flagged.owner_id == "agent-2" and flagged.flag is not None
    assert flagged.flag.text
    mock.desk.lower_flag(flagged.id)
    assert mock.desk.flags == []
    assert any(e.code == "flag_lowered" for e in mock.entries(flagged.id))


def test_monitor_next_takes_the_agents_next_chat() -> None:
    mock = team()
    mock.clock.advance(5)
    mock.desk.monitor_next("agent-1")
    assert mock.desk.chats["agent-1-chat-1"].my_mode is None  # the one she has already
    mock.clock.advance(55)  # Anna finished her first chat and took the queued one
    nexts = [c for c in mock.desk.chats.values() if c.owner_id == "agent-1"]
    assert [c.id for c in nexts] == ["agent-1-chat-2"] and nexts[0].my_mode == "silent"
    assert mock.desk.watch_next == set()
