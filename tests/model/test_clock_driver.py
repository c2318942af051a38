"""ClockDriver: clock time follows a (fake) wall clock at the clock's rate."""

from chat_widget.clock_driver import ClockDriver
from chat_widget.model.clock import VirtualClock


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
