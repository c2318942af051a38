"""ClockDriver: clock time follows a (fake) wall clock at the clock's rate."""

from chat_widget.clock_driver import ClockDriver
from chat_widget.model.clock import ClockState, VirtualClock


class FakeWall:
    def __init__(self) -> None:
        self.ms = 1_000_000.0

    def __call__(self) -> float:
        return self.ms


async def test_driver_follows_wall_clock_at_rate_and_respects_pause() -> None:
    wall = FakeWall()
    clock = VirtualClock(start=0.0)
    fired: list[float] = []
    clock.call_at(3.0, lambda: fired.append(clock.now()))
    driver = ClockDriver(clock, wall=wall, interval=3600)
    driver.start()
    try:
        assert clock.state().paused is False
        wall.ms += 2000
        driver.tick()
        assert clock.now() == 2.0
        clock.set_rate(10)  # re-anchors at 2.0
        wall.ms += 500
        driver.tick()
        assert clock.now() == 7.0
        assert fired == [3.0]
        clock.pause()
        wall.ms += 5000
        driver.tick()
        assert clock.now() == 7.0
        clock.resume()
        clock.advance(10)  # trainer's step while running: re-anchor, no stall
        wall.ms += 100
        driver.tick()
        assert clock.now() == 18.0
    finally:
        driver.stop()
    assert clock.state().paused is True


def view_now(state: ClockState, wall_ms: float) -> float:
    """What the view computes (js/core/clock.ts clockNow), in clock seconds."""
    if state.paused:
        return state.clock_ms / 1000.0
    return (state.clock_ms + max(0.0, wall_ms - state.wall_anchor_ms) * state.rate) / 1000.0


async def test_state_sent_to_the_view_extrapolates_to_the_kernels_clock() -> None:
    """Issue 10: after ticks the view ran ahead by the time since the last anchor
    (current clock time paired with the old wall anchor): every new chat started late."""
    wall = FakeWall()
    clock = VirtualClock(start=100.0)
    seen: list[ClockState] = []
    clock.on_change(seen.append)  # a widget subscribed before the driver started
    driver = ClockDriver(clock, wall=wall, interval=3600)
    driver.start()
    try:
        for _ in range(40):  # 40 ticks of 250 ms, no re-anchor in between
            wall.ms += 250
            driver.tick()
        assert clock.now() == 110.0
        assert view_now(clock.state(), wall.ms) == 110.0
        clock.set_rate(4)
        wall.ms += 1000
        driver.tick()
        assert view_now(clock.state(), wall.ms) == clock.now() == 114.0
        clock.advance(30)  # a trainer's step while running: listeners see the new anchor
        assert view_now(seen[-1], wall.ms) == clock.now() == 144.0
        wall.ms += 500
        driver.tick()
        assert view_now(clock.state(), wall.ms) == clock.now() == 146.0
    finally:
        driver.stop()
