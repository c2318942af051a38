"""ChatSession: lifecycle, reply rule, typing, wrap-up, commands for the backend."""

import pytest

from chat_widget import ChatError, IllegalTransitionError, InvalidUrlError, SessionState
from chat_widget.formats.transcript import AgentProfile, ContactRecord, Kind, Permissions, Role
from chat_widget.model import commands as cmd
from chat_widget.model.clock import VirtualClock
from chat_widget.model.desk import AgentDesk
from chat_widget.model.reply_timer import TimerColour
from chat_widget.model.session import MAX_MESSAGE_LENGTH, ChatSession, SessionConfig


def test_accept_starts_green_timer_and_emits_accept(
    session: ChatSession, clock: VirtualClock
) -> None:
    assert session.timer_colour() is TimerColour.IDLE
    session.accept()
    assert session.state is SessionState.ACCEPTED
    assert session.timer_colour() is TimerColour.GREEN
    assert session.take_commands() == [cmd.Accept("c1")]
    clock.advance(30)
    assert session.timer_colour() is TimerColour.YELLOW
    clock.advance(30)
    assert session.timer_colour() is TimerColour.RED
    assert session.timer_blinking()


def test_reply_makes_timer_idle_and_next_contact_message_restarts_it(
    session: ChatSession, clock: VirtualClock
) -> None:
    session.accept()
    clock.advance(40)
    session.send("Hello, how can I help?")
    assert session.timer_colour() is TimerColour.IDLE
    clock.advance(5)
    session.receive_message("My invoice is wrong")
    assert session.timer.pending_since == clock.now()
    clock.advance(10)
    session.receive_message("Hello?")  # a second message does not restart the wait
    assert session.timer.pending_since == clock.now() - 10
    # the past stays answerable: yellow 40 s after accept, before the reply
    assert session.timer_colour(session.accepted_at + 35) is TimerColour.YELLOW  # type: ignore[operator]


def test_pushed_url_resets_timer_and_is_recorded_in_desk_history(
    desk: AgentDesk, session: ChatSession, clock: VirtualClock
) -> None:
    session.accept()
    clock.advance(10)
    entry = session.push_url("https://example.com/help")
    assert entry.kind is Kind.PUSH_URL
    assert "https://example.com/help" in entry.text
    assert session.timer_colour() is TimerColour.IDLE
    assert desk.url_history == ["https://example.com/help"]


def test_notices_and_notes_do_not_reset_timer(session: ChatSession, clock: VirtualClock) -> None:
    session.accept()
    clock.advance(31)
    session.receive_notice("Supervisor is watching")
    session.add_note("customer is angry")
    assert session.timer_colour() is TimerColour.YELLOW


@pytest.mark.parametrize(
    ("action", "state_setup"),
    [
        ("send", "offered"),
        ("end", "offered"),
        ("mark_done", "accepted"),
        ("accept", "accepted"),
        ("reject", "accepted"),
        ("accept", "done"),
    ],
)
def test_illegal_transitions_name_state_and_action(
    session: ChatSession, action: str, state_setup: str
) -> None:
    if state_setup in ("accepted", "done"):
        session.accept()
    if state_setup == "done":
        session.end()
        session.mark_done()
    with pytest.raises(IllegalTransitionError) as info:
        if action == "send":
            session.send("hi")
        else:
            getattr(session, action)()
    message = str(info.value)
    assert state_setup in message
    assert "c1" in message


def test_reject_and_ignore_are_final(desk: AgentDesk) -> None:
    a = desk.offer("a", ContactRecord("A"))
    b = desk.offer("b", ContactRecord("B"))
    a.reject()
    b.ignore()
    assert (a.state, b.state) == (SessionState.DECLINED, SessionState.IGNORED)
    assert desk.active_sessions() == []
    with pytest.raises(IllegalTransitionError):
        a.accept()


def test_end_then_done_with_mandatory_disposition(clock: VirtualClock) -> None:
    desk = AgentDesk(clock, config=SessionConfig(disposition_required=True))
    s = desk.offer("c", ContactRecord("C"))
    s.accept()
    s.end()
    assert s.state is SessionState.ENDED
    assert s.transcript[-1].kind is Kind.NOTICE
    with pytest.raises(IllegalTransitionError, match="disposition"):
        s.mark_done()
    with pytest.raises(ChatError, match="unknown disposition"):
        s.set_disposition("Nope")
    s.set_disposition("Resolved")
    s.add_note("refund issued")
    s.mark_done()
    assert s.state is SessionState.DONE
    assert (s.disposition, s.notes) == ("Resolved", ["refund issued"])
    assert s not in desk.active_sessions()


def test_contact_left_stops_timer_and_allows_wrap_up(session: ChatSession) -> None:
    session.accept()
    session.contact_left()
    assert session.state is SessionState.CONTACT_LEFT
    assert session.timer_colour() is TimerColour.IDLE
    with pytest.raises(IllegalTransitionError):
        session.send("are you there?")
    session.set_disposition("No action")
    session.mark_done()
    assert session.state is SessionState.DONE


def test_contact_typing_expires_by_itself_and_clears_on_message(
    session: ChatSession, clock: VirtualClock
) -> None:
    session.accept()
    session.receive_typing(True)
    assert session.contact_typing()
    clock.advance(session.config.typing_timeout - 0.001)
    assert session.contact_typing()
    clock.advance(0.001)
    assert not session.contact_typing()
    session.receive_typing(True)
    session.receive_message("hi")
    assert not session.contact_typing()


def test_agent_typing_goes_to_backend_once_and_send_clears_it(session: ChatSession) -> None:
    session.accept()
    session.take_commands()
    session.set_agent_typing(True)
    session.set_agent_typing(True)
    assert session.take_commands() == [cmd.SetTyping("c1", True)]
    session.send("hello")
    assert not session.agent_typing
    commands = session.take_commands()
    assert isinstance(commands[0], cmd.SendMessage)
    assert commands[0].text == "hello"


def test_duplicate_client_ids_are_dropped(session: ChatSession) -> None:
    session.accept()
    assert session.receive_message("once", client_id="x1") is not None
    assert session.receive_message("once", client_id="x1") is None
    assert [e.text for e in session.transcript if e.sender.role is Role.CONTACT] == ["once"]


def test_bad_messages_are_refused_and_nothing_is_appended(session: ChatSession) -> None:
    session.accept()
    before = len(session.transcript)
    with pytest.raises(ChatError, match="empty"):
        session.send("   ")
    with pytest.raises(ChatError, match="limit"):
        session.send("x" * (MAX_MESSAGE_LENGTH + 1))
    with pytest.raises(InvalidUrlError):
        session.push_url("javascript:alert(1)")
    assert len(session.transcript) == before


def test_push_url_needs_permission(clock: VirtualClock) -> None:
    agent = AgentProfile("Trainee", "t", Permissions(push_urls=False))
    s = AgentDesk(clock, agent=agent).offer("c", ContactRecord("C"))
    s.accept()
    with pytest.raises(ChatError, match="not permitted"):
        s.push_url("https://example.com")


def test_simulated_call_states(session: ChatSession) -> None:
    session.accept()
    with pytest.raises(ChatError, match="not a number"):
        session.call("+1 555 0000")
    session.call("+49 30 1234567")
    assert session.call_state == "dialing"
    session.hang_up()
    assert session.call_state == "ended"


def test_number_sent_in_chat_can_be_called(session: ChatSession) -> None:
    session.accept()
    session.receive_message("call me at +49 40 9876543 please")
    assert session.numbers_in_chat() == ["+49 40 9876543"]
    session.call("+49 40 9876543")
    assert session.call_number == "+49 40 9876543"


def test_html_is_stored_verbatim_as_text(session: ChatSession) -> None:
    session.accept()
    payload = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    entry = session.receive_message(payload)
    assert entry is not None and entry.text == payload


def test_server_time_ahead_of_the_kernel_keeps_transcript_and_timer_in_order(
    session: ChatSession, clock: VirtualClock
) -> None:
    """A server on another clock (a training clock on a live server, or a skewed
    machine): the agent's reply after a message the server stored later than the
    kernel's now neither crashes nor lands before that message."""
    session.accept()
    ahead = clock.now() + 3600
    with session.stamped(ahead):
        session.receive_message("Are you there?")
    reply = session.send("Yes, here I am")
    assert reply.time >= ahead
    assert [e.time for e in session.transcript] == sorted(e.time for e in session.transcript)
    assert session.timer_colour(ahead + 1) is TimerColour.IDLE
    session.end()
    assert session.ended_at is not None and session.ended_at >= ahead


def test_server_time_behind_the_kernel_after_accept_keeps_the_timer_running(
    session: ChatSession, clock: VirtualClock
) -> None:
    session.accept()
    accepted = clock.now()
    with session.stamped(accepted - 5):
        message = session.receive_message("Hello")
    assert message.time == accepted - 5  # the server's time is kept
    assert session.timer.pending_since == accepted
    reply = session.send("Hello, how can I help?")
    assert reply.time >= accepted and session.timer_colour() is TimerColour.IDLE
