"""F2: the reply-reminder timer's colours at and around the thresholds."""

import pytest

from chat_widget.model.reply_timer import ReplyTimer, Thresholds, TimerColour


@pytest.mark.parametrize(
    ("elapsed", "colour"),
    [
        (0.0, TimerColour.GREEN),
        (29.999, TimerColour.GREEN),
        (30.0, TimerColour.YELLOW),
        (30.001, TimerColour.YELLOW),
        (59.999, TimerColour.YELLOW),
        (60.0, TimerColour.RED),
        (3600.0, TimerColour.RED),
    ],
)
def test_colour_at_boundaries(elapsed: float, colour: TimerColour) -> None:
    timer = ReplyTimer(Thresholds(30, 60))
    timer.start(100.0)
    assert timer.colour_at(100.0 + elapsed) is colour


def test_idle_before_start_and_after_stop_and_history_kept() -> None:
    timer = ReplyTimer(Thresholds(10, 20))
    assert timer.colour_at(0) is TimerColour.IDLE
    timer.start(5)
    timer.stop(40)
    timer.start(50)
    assert timer.colour_at(4) is TimerColour.IDLE
    assert timer.colour_at(30) is TimerColour.RED
    assert timer.colour_at(40) is TimerColour.IDLE
    assert timer.colour_at(55) is TimerColour.GREEN
    assert timer.waits() == [(5, 40), (50, None)]


def test_start_while_running_keeps_the_first_start() -> None:
    timer = ReplyTimer()
    timer.start(0)
    timer.start(25)
    assert timer.pending_since == 0
    assert timer.colour_at(31) is TimerColour.YELLOW


@pytest.mark.parametrize(("yellow", "red"), [(0, 10), (10, 10), (20, 10), (-1, 5)])
def test_bad_thresholds_are_refused(yellow: float, red: float) -> None:
    with pytest.raises(ValueError, match="yellow_after"):
        Thresholds(yellow, red)
