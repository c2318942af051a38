"""The analysis timeline and waits are the session's ReplyTimer, exactly (one rule)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_widget import AgentDesk, ContactRecord, VirtualClock
from chat_widget.analysis import colour_at, frames_from_transcripts, timeline, waits
from chat_widget.formats.transcript import Kind, Role, Sender, Visibility
from chat_widget.formats.transcript_file import format_utc, parse_utc_ns, transcript_from_session
from chat_widget.model.errors import ChatError
from chat_widget.model.reply_timer import Thresholds
from chat_widget.model.session import ChatSession, SessionConfig, SessionState

START = 1_767_600_000.0
# steps on a 1/4 s grid so that times and thresholds are exact in binary
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(min_value=0, max_value=400)),
        st.tuples(st.just("contact"), st.none()),
        st.tuples(st.just("agent"), st.none()),
        st.tuples(st.just("push"), st.none()),
        st.tuples(st.just("consult"), st.none()),
        st.tuples(st.just("hidden"), st.none()),
        st.tuples(st.just("notice"), st.none()),
        st.tuples(st.just("end"), st.none()),
        st.tuples(st.just("leave"), st.none()),
    ),
    max_size=40,
)


def run_session(
    steps: list[tuple[str, int | None]], accept_after: int, thresholds: Thresholds
) -> ChatSession:
    clock = VirtualClock(start=START)
    desk = AgentDesk(clock, config=SessionConfig(thresholds=thresholds))
    s = desk.offer("prop", ContactRecord("Pat"))
    if accept_after >= 0:
        clock.advance(accept_after / 4)
        s.accept()
    for name, arg in steps:
        try:
            if name == "advance":
                clock.advance((arg or 0) / 4)
            elif name == "contact" and s.state in (SessionState.OFFERED, SessionState.ACCEPTED):
                s.receive_message("hi")
            elif name == "agent":
                s.send("hello")
            elif name == "push":
                s.push_url("https://example.com/a")
            elif name == "consult":
                s.add_entry(
                    Kind.CONSULT,
                    Sender(Role.AGENT, "Agent", "agent"),
                    "psst",
                    visibility=Visibility.AGENTS,
                )
            elif name == "hidden":
                s.add_entry(
                    Kind.MESSAGE,
                    Sender(Role.AGENT, "Agent", "agent"),
                    "internal",
                    visibility=Visibility.AGENTS,
                )
            elif name == "notice":
                s.receive_notice("something happened")
            elif name == "end":
                s.end()
            elif name == "leave":
                s.contact_left()
        except ChatError:
            pass
    clock.advance(1)
    return s


def exact_ns(times: np.ndarray) -> np.ndarray:
    """Float clock seconds → the exact integer nanoseconds (``times * 1e9`` would round)."""
    return np.array([parse_utc_ns(format_utc(float(t))) for t in times], dtype="int64")


def sample_times(s: ChatSession, thresholds: Thresholds) -> np.ndarray:
    points = {s.offered_at, s.clock.now()}
    for e in s.transcript:
        points.add(e.time)
    for start, end in s.timer.waits():
        points.update({start, start + thresholds.yellow_after, start + thresholds.red_after})
        if end is not None:
            points.add(end)
    out = set()
    for p in points:
        out.update({p - 0.25, p, p + 0.25})
    return np.array(sorted(t for t in out if s.offered_at <= t <= s.clock.now()))


@settings(max_examples=60, deadline=None)
@given(
    STEPS,
    st.integers(min_value=-1, max_value=200),
    st.sampled_from([(30.0, 60.0), (10.0, 20.0), (0.25, 0.5)]),
)
def test_timeline_colour_equals_reply_timer(steps, accept_after, limits) -> None:  # type: ignore[no-untyped-def]
    thresholds = Thresholds(*limits)
    s = run_session(steps, accept_after, thresholds)
    frames = frames_from_transcripts([transcript_from_session(s)])
    seg = timeline(frames, "prop", thresholds)
    times = sample_times(s, thresholds)
    ns_times = exact_ns(times)
    ours = colour_at(seg, ns_times)
    theirs = [str(s.timer.colour_at(t)) for t in times]
    # after the data ends an open wait keeps running in the session; the timeline stops
    known = [s.offered_at, *(e.time for e in s.transcript)]
    known += [x for x in (s.accepted_at, s.ended_at, s.done_at) if x is not None]
    horizon = max(known)
    for t, a, b in zip(times, ours, theirs, strict=True):
        if s.timer.pending_since is not None and t >= horizon:
            continue
        assert a == b, (t - START, a, b)
    # and the waits are the timer's (zero-length waits only exist for response metrics)
    w = waits(frames, thresholds)
    ours_w = [
        (a.value / 10**9, None if e is None or str(e) == "NaT" else e.value / 10**9)
        for a, e in zip(
            w["start"], w["end"].astype(object).where(w["end"].notna(), None), strict=True
        )
        if str(e) == "NaT" or e is None or e.value != a.value
    ]
    assert ours_w == s.timer.waits()


def test_threshold_exactly_reached_turns_the_colour() -> None:
    t = Thresholds(30, 60)
    s = run_session([("contact", None), ("advance", 4 * 61), ("agent", None)], 0, t)
    seg = timeline(frames_from_transcripts([transcript_from_session(s)]), "prop", t)
    since = s.timer.waits()[0][0]
    times = np.array([since + 29.75, since + 30, since + 59.75, since + 60])
    assert [str(s.timer.colour_at(x)) for x in times] == ["green", "yellow", "yellow", "red"]
    ours = colour_at(seg, exact_ns(times))
    assert list(ours) == ["green", "yellow", "yellow", "red"]
