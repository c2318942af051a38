"""ReplayBackend: seek, colours as they were, typing, read-only; all on the virtual clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_widget import ChatWidget, MockBackend, VirtualClock
from chat_widget.formats.transcript_file import transcript_from_session, write_transcripts
from chat_widget.model.reply_timer import Thresholds, TimerColour
from chat_widget.model.session import SessionState
from chat_widget.replay import ReplayBackend, ReplayError
from tests.analysis.docs import T0, entry, make_doc

DOC = make_doc(
    "r1",
    offered=0,
    accepted=10,
    left=150,
    ended=160,
    done=170,
    entries=[
        entry(2, "contact"),
        entry(10, "system", "notice", event="joined"),
        entry(25, "agent"),
        entry(40, "contact"),
        entry(120, "agent", "push_url"),
        entry(130, "contact"),
        entry(150, "system", "notice", event="left"),
    ],
    typing=[(35, "contact", True), (38, "contact", False), (125, "contact", True)],
)


def test_starts_at_the_offer_and_seeks_forward_in_place() -> None:
    r = ReplayBackend(DOC)
    s = r.session
    assert s is not None and s.id == "r1" and s.state is SessionState.OFFERED
    assert len(s.transcript) == 0 and r.position == T0
    assert r.seek(T0 + 30) is s  # forward: same session, entries appended
    assert s.state is SessionState.ACCEPTED and len(s.transcript) == 3
    assert s.timer_colour() is TimerColour.IDLE


@pytest.mark.parametrize(
    ("offset", "colour", "entries"),
    [
        (9, TimerColour.IDLE, 1),  # offered, not yet accepted
        (10, TimerColour.GREEN, 2),  # accepted: the timer starts green
        (69, TimerColour.GREEN, 4),  # contact wrote at 40: 29 s later still green
        (70, TimerColour.YELLOW, 4),  # 30 s after 40
        (100, TimerColour.RED, 4),  # 60 s after 40: red
        (119, TimerColour.RED, 4),
        (120, TimerColour.IDLE, 5),  # pushed URL is a reply
        (140, TimerColour.GREEN, 6),  # contact wrote at 130
        (150, TimerColour.IDLE, 7),  # contact left: timer stops
    ],
)
def test_colour_and_transcript_at_any_moment(
    offset: float, colour: TimerColour, entries: int
) -> None:
    r = ReplayBackend(DOC)
    r.seek(T0 + 160)
    s = r.seek(T0 + offset)  # backwards: a fresh session
    assert s.timer_colour() is colour
    assert len(s.transcript) == entries
    assert all(e.time <= T0 + offset for e in s.transcript)


def test_seek_back_rebuilds_under_a_new_id_and_tells_listeners() -> None:
    r = ReplayBackend(DOC)
    seen: list[str] = []
    r.subscribe(lambda change, session: seen.append(session.id))
    r.seek(T0 + 130)
    first = r.session
    r.seek(T0 + 50)
    assert r.session is not first and r.session is not None
    assert r.session.id == "r1~2" and seen == ["r1~2"]
    assert list(r.desk.sessions) == ["r1~2"]


def test_lifecycle_typing_and_wrap_up_replayed() -> None:
    doc = DOC | {"disposition": "Resolved", "notes": ["booked"]}
    r = ReplayBackend(doc)
    assert r.seek(T0 + 36).contact_typing()
    assert not r.seek(T0 + 39).contact_typing()
    assert r.seek(T0 + 126).contact_typing()
    s = r.seek(T0 + 155)
    assert s.state is SessionState.CONTACT_LEFT
    s = r.seek(T0 + 500)  # clamped to the end
    assert r.position == T0 + 170
    assert s.state is SessionState.DONE and s.disposition == "Resolved" and s.notes == ["booked"]
    assert r.desk.url_history == ["https://example.com/help"]


def test_agent_actions_are_refused() -> None:
    r = ReplayBackend(DOC)
    s = r.seek(T0 + 50)
    before = s.to_dict()
    for action in (
        s.accept,
        s.end,
        s.mark_done,
        lambda: s.send("hi"),
        lambda: s.push_url("https://example.com"),
        lambda: s.set_agent_typing(True),
        lambda: s.add_note("x"),
        lambda: s.set_disposition("Resolved"),
    ):
        with pytest.raises(ReplayError, match="replay"):
            action()
    assert s.to_dict() == before


def test_thresholds_recorded_or_given() -> None:
    assert ReplayBackend(DOC).config.thresholds == Thresholds(30, 60)
    r = ReplayBackend(DOC, thresholds=Thresholds(5, 10))
    assert r.seek(T0 + 51).timer_colour() is TimerColour.RED


def test_clock_moves_the_replay_and_pause_play_without_loop() -> None:
    r = ReplayBackend(DOC)
    r.clock.advance(25)
    assert r.session is not None and len(r.session.transcript) == 3
    assert r.play(rate=4) is False  # no running loop here: move it by hand
    assert r.clock.rate == 4
    r.pause()
    assert r.clock.paused


def test_widget_shows_a_replay_and_refuses_actions(tmp_path: Path) -> None:
    backend = MockBackend("impatient", clock=VirtualClock())
    backend.clock.advance(1)
    live = backend.first_session()
    assert live is not None
    live.accept()
    backend.clock.advance(75)
    live.send("Sorry!")
    backend.clock.advance(120)
    path = write_transcripts(tmp_path / "day.jsonl", [transcript_from_session(live)])
    r = ReplayBackend(path, conversation=live.id)
    w = ChatWidget(r)
    assert w.virtual_clock
    red_at = live.accepted_at + 61  # type: ignore[operator]
    r.seek(red_at)
    w.flush()
    assert w.session is r.session
    assert w.state["state"] == "accepted"
    assert w.state["pending_since_ms"] == live.accepted_at * 1000  # type: ignore[operator]
    assert w.state["thresholds_ms"] == {"yellow": 30_000.0, "red": 60_000.0}
    assert r.session is not None and r.session.timer_colour() is TimerColour.RED
    w.perform("send", {"text": "changing the past"})
    assert "replay" in w.error
    state = r.view_state()
    assert state["start_ms"] == r.start * 1000 and state["end_ms"] == r.end * 1000
    assert state["conversation_id"] == live.id and state["marks"]
    r.perform("replay_seek", {"t_ms": (r.start + 5) * 1000})
    assert r.position == r.start + 5
