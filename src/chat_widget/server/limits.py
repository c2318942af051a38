"""Rate limits on the injected clock: per connection, per key (chat, address), and
throttling of failed authentication."""

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


class KeyedBuckets:
    """One ``TokenBucket`` per key (a conversation, a client address), so a limit holds
    across connections. At most ``max_keys`` are kept: when full, the buckets that are
    full again (idle long enough to have refilled) are dropped, which forgets nothing
    that still limits anyone."""

    def __init__(self, clock: Clock, rate: float, burst: float, max_keys: int = 100_000) -> None:
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune()
            bucket = self._buckets[key] = TokenBucket(self._clock, self.rate, self.burst)
        return bucket.take()

    def _prune(self) -> None:
        now = self._clock.now()
        self._buckets = {
            k: b for k, b in self._buckets.items() if b._tokens + (now - b._last) * b.rate < b.burst
        }

    def __len__(self) -> int:
        return len(self._buckets)


class FailureThrottle:
    """Failed authentications per client address: after ``limit`` failures within
    ``window`` seconds the address must wait ``backoff`` seconds (server clock)."""

    def __init__(self, clock: Clock, limit: int, window: float, backoff: float) -> None:
        self._clock = clock
        self.limit = limit
        self.window = window
        self.backoff = backoff
        self._failures: dict[str, list[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def wait(self, key: str) -> float:
        """Seconds ``key`` must still wait before it may try again (0: it may)."""
        until = self._blocked_until.get(key)
        if until is None:
            return 0.0
        left = until - self._clock.now()
        if left <= 0:
            del self._blocked_until[key]
            return 0.0
        return left

    def failed(self, key: str) -> None:
        now = self._clock.now()
        recent = [t for t in self._failures.get(key, ()) if now - t < self.window]
        recent.append(now)
        if len(recent) >= self.limit:
            self._blocked_until[key] = now + self.backoff
            self._failures.pop(key, None)
        else:
            self._failures[key] = recent
        if len(self._failures) > 100_000:  # bounded memory under a spray of addresses
            self._failures.clear()

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
