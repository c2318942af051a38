"""Fan-out between connections: the interface and the in-process implementation.

Topics are strings (``conv:<id>`` for a conversation's events, ``agent:<id>``
for one agent's offers). Publishing is synchronous and ordered per topic;
a Redis pub/sub or streams implementation for several server processes
would implement the same two methods (its subscriber callbacks then run
when the message arrives from Redis).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Subscriber = Callable[[Any], None]


class FanOut(Protocol):
    def subscribe(self, topic: str, subscriber: Subscriber) -> Callable[[], None]:
        """Deliver every later ``publish`` on ``topic``; returns the unsubscribe function."""
        ...

    def publish(self, topic: str, message: Any) -> None: ...


class LocalFanOut:
    """All subscribers live in this process; delivery is a direct call."""

    def __init__(self) -> None:
        self._topics: dict[str, list[Subscriber]] = {}

    def subscribe(self, topic: str, subscriber: Subscriber) -> Callable[[], None]:
        self._topics.setdefault(topic, []).append(subscriber)

        def unsubscribe() -> None:
            subs = self._topics.get(topic)
            if subs is not None and subscriber in subs:
                subs.remove(subscriber)
                if not subs:
                    del self._topics[topic]

        return unsubscribe

    def publish(self, topic: str, message: Any) -> None:
        for subscriber in list(self._topics.get(topic, ())):
            subscriber(message)

    def subscribers(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))
