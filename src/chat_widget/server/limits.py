"""Per-connection rate limit: a token bucket on the injected clock."""

from __future__ import annotations

from ..model.clock import Clock


class TokenBucket:
    """``rate`` frames per second on average, bursts up to ``burst``.

    Time comes from the injected clock, so tests step it instead of sleeping.
    """

    __slots__ = ("_clock", "_last", "_tokens", "burst", "rate")

    def __init__(self, clock: Clock, rate: float, burst: float) -> None:
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last = clock.now()

    def take(self) -> bool:
        now = self._clock.now()
        if now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
