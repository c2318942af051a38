"""The agent's side of supervision (issue 14): monitoring, coaching, the help flag."""

from __future__ import annotations

import pytest

from chat_widget import AgentDesk, ChatError, ChatSession, ContactRecord, VirtualClock
from chat_widget.formats.transcript import Kind, Role, Sender, Visibility
from chat_widget.model import commands as cmd
from chat_widget.model import events as ev
from chat_widget.model.reply_timer import TimerColour
from chat_widget.model.session import HelpFlag
from chat_widget.widget.view_state import session_view_state

TESS = Sender(Role.SUPERVISOR, "Tess", "tess")


def _chat(clock: VirtualClock) -> ChatSession:
    """Accepted at 0; the contact asked at 0, nobody replied yet."""
    s = AgentDesk(clock).offer("c1", ContactRecord("Maria Weber"))
    s.accept()
    s.receive(ev.MessageReceived(text="My invoice is wrong"))
    s.take_commands()
    return s


def test_coaching_arrives_as_an_agents_only_entry_and_never_resets_the_timer() -> None:
    clock = VirtualClock(start=0.0)
    s = _chat(clock)
    s.receive(ev.MonitoringSeen(mode="coach", supervisor="Tess", at=10.0))
    clock.advance(40)
    s.receive(ev.CoachingReceived(text="Apologise first", sender=TESS, client_id="k1"))
    s.receive(ev.CoachingReceived(text="Apologise first", sender=TESS, client_id="k1"))  # resent
    coaching = [e for e in s.transcript if e.kind is Kind.COACHING]
    assert [(e.text, e.sender.role, e.visibility, e.time) for e in coaching] == [
        ("Apologise first", Role.SUPERVISOR, Visibility.AGENTS, 40.0)
    ]
    assert s.timer.pending_since == 0.0  # the contact still waits since 0
    assert s.timer_colour() is TimerColour.YELLOW


def test_a_barged_in_supervisors_message_resets_the_timer() -> None:
    clock = VirtualClock(start=0.0)
    s = _chat(clock)
    clock.advance(70)
    assert s.timer_colour() is TimerColour.RED
    s.receive(ev.MonitoringSeen(mode="barge_in", supervisor="Tess"))
    s.receive(ev.MessageReceived(text="I'm Tess, I'll help", sender=TESS, client_id="t1"))
    assert s.timer.pending_since is None and s.timer_colour() is TimerColour.IDLE


def test_monitoring_notices_and_state() -> None:
    clock = VirtualClock(start=0.0)
    s = _chat(clock)
    assert s.monitored is None and s.monitored_by is None
    s.receive(ev.MonitoringSeen(mode="silent", supervisor="Tess", at=3.0))
    assert (s.monitored, s.monitored_by) == ("silent", "Tess")
    s.receive(ev.MonitoringSeen(mode="coach", supervisor="Tess", at=4.0))
    s.receive(ev.MonitoringSeen(mode=None, supervisor="Tess", at=5.0))
    assert s.monitored is None and s.monitored_by is None
    notices = [e for e in s.transcript if e.code and e.code.startswith("monitor_")]
    assert [(e.code, e.text, e.visibility, e.time) for e in notices] == [
        ("monitor_silent", "Tess is monitoring this chat", Visibility.AGENTS, 3.0),
        (
            "monitor_coach",
            "Tess is coaching you in this chat (the contact does not see it)",
            Visibility.AGENTS,
            4.0,
        ),
        ("monitor_stopped", "Tess stopped monitoring this chat", Visibility.AGENTS, 5.0),
    ]
    with pytest.raises(ValueError, match="monitoring mode"):
        s.receive(ev.MonitoringSeen(mode="lurking", supervisor="Tess"))


def test_answer_coach_only_while_a_coach_is_there() -> None:
    clock = VirtualClock(start=0.0)
    s = _chat(clock)
    with pytest.raises(ChatError, match="nobody coaches") as info:
        s.answer_coach("Thanks")
    assert info.value.code == "not_now"
    s.receive(ev.MonitoringSeen(mode="silent", supervisor="Tess"))
    with pytest.raises(ChatError, match="nobody coaches"):
        s.answer_coach("Thanks")
    s.receive(ev.MonitoringSeen(mode="coach", supervisor="Tess"))
    clock.advance(8)
    entry = s.answer_coach("  Will do  ")
    assert (entry.kind, entry.text, entry.sender.role, entry.visibility, entry.time) == (
        Kind.COACHING,
        "Will do",
        Role.AGENT,
        Visibility.AGENTS,
        8.0,
    )
    assert s.take_commands() == [cmd.AnswerCoach("c1", entry.client_id or "", "Will do")]
    assert s.timer.pending_since == 0.0  # an answer to the coach is no reply
    # our own answer read back (the server's echo) shows once
    s.receive(ev.CoachingReceived(text="Will do", sender=entry.sender, client_id=entry.client_id))
    assert [e.text for e in s.transcript if e.kind is Kind.COACHING] == ["Will do"]
    s.receive(ev.MonitoringSeen(mode="barge_in", supervisor="Tess"))
    s.answer_coach("Over to you")  # a barged-in supervisor may be answered too
    with pytest.raises(ChatError, match="empty"):
        s.answer_coach("   ")


def test_raise_and_lower_the_flag() -> None:
    clock = VirtualClock(start=0.0)
    s = _chat(clock)
    clock.advance(12)
    flag = s.raise_flag("  Customer wants a refund over my limit ")
    assert flag == HelpFlag("Customer wants a refund over my limit", 12.0)
    assert s.help_flag == flag
    assert s.take_commands() == [cmd.RaiseFlag("c1", "Customer wants a refund over my limit")]
    with pytest.raises(ChatError, match="raised already"):
        s.raise_flag()
    # no notice of its own: the server's echo brings it
    assert not [e for e in s.transcript if e.code and e.code.startswith("flag_")]
    s.receive(ev.HelpFlagSeen(raised=True, text=flag.text, by="Alice", at=12.5))
    assert s.help_flag == HelpFlag(flag.text, 12.5)  # the server's time
    s.lower_flag()
    assert s.help_flag is None and s.take_commands() == [cmd.LowerFlag("c1")]
    with pytest.raises(ChatError, match="no help flag"):
        s.lower_flag()
    assert s.raise_flag("").text is None  # the line is optional
    assert s.take_commands() == [cmd.RaiseFlag("c1", None)]
    s.lower_flag()
    with pytest.raises(ChatError, match="limit is 500"):
        s.raise_flag("x" * 501)
    assert s.help_flag is None


def test_a_supervisor_lowers_the_flag() -> None:
    clock = VirtualClock(start=0.0)
    s = _chat(clock)
    s.raise_flag()
    s.receive(ev.HelpFlagSeen(raised=True, by="Agent", at=1.0))
    s.receive(ev.HelpFlagSeen(raised=False, by="Tess", at=9.0))
    assert s.help_flag is None
    notices = [(e.code, e.text, e.visibility) for e in s.transcript if e.code and "flag" in e.code]
    assert notices == [
        ("flag_raised", "Agent asked for help", Visibility.AGENTS),
        ("flag_lowered", "Tess lowered the help flag", Visibility.AGENTS),
    ]
    s.receive(ev.HelpFlagSeen(raised=True, text="refund?", by="Agent"))
    assert s.transcript[-1].text == "Agent asked for help: refund?"


def test_the_flag_needs_a_chat_in_progress() -> None:
    clock = VirtualClock(start=0.0)
    s = AgentDesk(clock).offer("c1", ContactRecord("Maria Weber"))
    with pytest.raises(ChatError, match="raise the help flag"):
        s.raise_flag()


def test_view_state_and_export_carry_monitoring_and_the_flag() -> None:
    clock = VirtualClock(start=0.0)
    s = _chat(clock)
    view = session_view_state(s, [])
    assert view["monitored"] is None and view["help_flag"] is None
    s.receive(ev.MonitoringSeen(mode="coach", supervisor="Tess"))
    clock.advance(2.5)
    s.raise_flag("help")
    view = session_view_state(s, [])
    assert view["monitored"] == {"mode": "coach", "by": "Tess"}
    assert view["help_flag"] == {"text": "help", "raised_at_ms": 2500.0}
    data = s.to_dict()
    assert (data["monitored"], data["monitored_by"]) == ("coach", "Tess")
    assert data["help_flag"] == {"text": "help", "at": 2.5}
