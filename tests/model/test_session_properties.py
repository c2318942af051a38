"""Property-based: random event sequences keep the session's invariants."""

from hypothesis import given
from hypothesis import strategies as st

from chat_widget import AgentDesk, ContactRecord, VirtualClock
from chat_widget.model.errors import ChatError
from chat_widget.model.reply_timer import TimerColour
from chat_widget.model.session import SessionState

EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.floats(min_value=0, max_value=90)),
        st.tuples(st.just("contact_says"), st.text(min_size=1, max_size=20)),
        st.tuples(st.just("agent_says"), st.text(min_size=1, max_size=20)),
        st.tuples(st.just("push"), st.just("https://example.com")),
        st.tuples(st.just("typing"), st.booleans()),
        st.tuples(st.just("notice"), st.just("note")),
        st.tuples(st.just("end"), st.none()),
        st.tuples(st.just("leave"), st.none()),
    ),
    max_size=40,
)


@given(EVENTS)
def test_invariants_over_random_sequences(events: list[tuple[str, object]]) -> None:
    clock = VirtualClock(start=0.0)
    s = AgentDesk(clock).offer("p", ContactRecord("P"))
    s.accept()
    yellow = s.config.thresholds.yellow_after
    for name, arg in events:
        try:
            if name == "advance":
                clock.advance(float(arg))  # type: ignore[arg-type]
            elif name == "contact_says" and s.state is SessionState.ACCEPTED:
                s.receive_message(str(arg))
            elif name == "agent_says":
                s.send(str(arg))
            elif name == "push":
                s.push_url(str(arg))
            elif name == "typing":
                s.receive_typing(bool(arg))
            elif name == "notice":
                s.receive_notice(str(arg))
            elif name == "end":
                s.end()
            elif name == "leave":
                s.contact_left()
        except ChatError:
            pass  # illegal in this state: refused, nothing changed
        now = clock.now()
        since = s.timer.pending_since
        colour = s.timer_colour()
        # never idle while a reply is pending
        if since is not None:
            assert colour is not TimerColour.IDLE
            # never yellow (or red) before yellow_after
            if now - since < yellow:
                assert colour is TimerColour.GREEN
        else:
            assert colour is TimerColour.IDLE
        # a pending reply only in an accepted chat
        if s.state is not SessionState.ACCEPTED:
            assert since is None
    indices = [e.index for e in s.transcript]
    assert indices == list(range(len(indices)))
    times = [e.time for e in s.transcript]
    assert times == sorted(times)
