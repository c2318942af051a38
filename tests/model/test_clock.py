"""VirtualClock: scheduled callbacks fire in order inside advance(), never early."""

import pytest

from chat_widget.model.clock import VirtualClock


def test_callbacks_fire_in_time_order_with_now_at_their_time() -> None:
    clock = VirtualClock(start=100.0)
    seen: list[tuple[str, float]] = []
    clock.call_at(105, lambda: seen.append(("b", clock.now())))
    clock.call_at(102, lambda: seen.append(("a", clock.now())))
    clock.call_at(105, lambda: seen.append(("c", clock.now())))
    clock.advance(4)
    assert seen == [("a", 102.0)]
    clock.advance(1)
    assert seen == [("a", 102.0), ("b", 105.0), ("c", 105.0)]
    assert clock.now() == 105.0


def test_callbacks_scheduled_by_callbacks_fire_in_the_same_advance() -> None:
    clock = VirtualClock(start=0.0)
    seen: list[float] = []
    clock.call_at(1, lambda: clock.call_later(1, lambda: seen.append(clock.now())))
    clock.advance(5)
    assert seen == [2.0]


def test_cancelled_callback_does_not_fire() -> None:
    clock = VirtualClock(start=0.0)
    seen: list[int] = []
    handle = clock.call_later(1, lambda: seen.append(1))
    handle.cancel()
    clock.advance(2)
    assert seen == []


def test_cannot_go_back_in_time() -> None:
    clock = VirtualClock(start=10.0)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="cannot move the clock back"):
        clock.advance_to(5)


def test_state_reports_paused_when_nobody_drives_it() -> None:
    clock = VirtualClock(start=1.0)
    assert clock.state().paused is True
    clock.anchor(5000.0)
    assert clock.state().paused is False
    clock.pause()
    assert clock.state().paused is True
    assert clock.state().clock_ms == 1000.0


def test_rate_must_be_positive_and_change_notifies() -> None:
    clock = VirtualClock()
    states = []
    clock.on_change(states.append)
    clock.set_rate(5)
    assert states[-1].rate == 5
    with pytest.raises(ValueError, match="positive"):
        clock.set_rate(0)
