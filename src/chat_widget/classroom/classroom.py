"""``Classroom``: a class of scripted customers on the real server, with a lifecycle.

One ``VirtualClock`` per class, moved with the wall clock by a ``ClockDriver``:
arrivals and every customer's script are scheduled on it, so pausing the class
pauses that clock and every customer holds exactly where it was. Stopping ends
every open chat of the class with the customer's ``EndChat`` (a queued chat is
done at once: no ghost chats) and starts no new customer.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..backends.scenario import Scenario, load_scenario
from ..backends.server_urls import server_urls
from ..clock_driver import ClockDriver
from ..model.clock import VirtualClock
from ..model.reply_timer import Thresholds
from .wire_customer import CustomerStatus, WireCustomer, origin_for

CLASS_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TICK = 0.01  # wall seconds between clock ticks: scripted actions are at most this late


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    """One customer of the class, as the trainer sees it."""

    name: str
    scenario: str
    status: CustomerStatus
    conversation: str | None
    step: int
    arrives_after: float


def plan(scenarios: Sequence[Scenario], trainees: int) -> list[tuple[Scenario, float]]:
    """Who arrives when (seconds after the start): with files that say ``count``, each
    file's count; otherwise ``trainees`` customers cycling through the scenarios."""
    if any("count" in s.model_fields_set for s in scenarios):
        out = [(s, t) for s in scenarios for t in s.arrivals()]
    else:
        seen: dict[int, int] = {}
        out = []
        for n in range(max(trainees, 0)):
            s = scenarios[n % len(scenarios)]
            k = seen[id(s)] = seen.get(id(s), -1) + 1
            out.append((s, s.arrivals()[0] + k * s.every))
    return sorted(out, key=lambda pair: pair[1])


class Classroom:
    """A class of scripted customers against the server at ``url``.

    >>> room = Classroom("ws://127.0.0.1:8765/ws", ["billing", "impatient"], trainees=4)
    >>> await room.start(); await room.finished(timeout=600)  # doctest: +SKIP
    >>> await room.stop()  # doctest: +SKIP

    ``thresholds``: the customers' patience (when ``when_yellow``/``when_red`` fire);
    ``origin``: the Origin the customers send (default: the server's own http origin).
    ``url`` may list several processes of one service: each customer starts on the
    first and moves to the next on every reconnect.
    """

    def __init__(
        self,
        url: str | Sequence[str],
        scenarios: Sequence[str | Path | Scenario | dict[str, Any]] | str | Path,
        trainees: int = 1,
        *,
        thresholds: Thresholds | None = None,
        origin: str | None = None,
        class_id: str | None = None,
        tick: float = TICK,
    ) -> None:
        if isinstance(scenarios, str | Path):
            scenarios = [scenarios]
        if not scenarios:
            raise ValueError("a class needs at least one scenario")
        if class_id is not None and not CLASS_ID.match(class_id):
            raise ValueError(f"class id must match {CLASS_ID.pattern}, got {class_id!r}")
        self.urls = server_urls(url)
        self.url = self.urls[0]
        self.scenarios = [load_scenario(s) for s in scenarios]
        self.trainees = trainees
        self.thresholds = thresholds or Thresholds()
        self.origin = origin or origin_for(self.url)  # each customer's, for the first URL
        self._origin_given = origin
        self.class_id = class_id or f"class-{time.strftime('%Y%m%d-%H%M')}-{secrets.token_hex(3)}"
        self.clock = VirtualClock(start=time.time())
        self.driver = ClockDriver(self.clock, interval=tick)
        self.plan = plan(self.scenarios, trainees)
        names: dict[str, int] = {}
        self.wire: list[WireCustomer] = []
        for n, (sc, _) in enumerate(self.plan, start=1):
            k = names[sc.contact.name] = names.get(sc.contact.name, 0) + 1
            self.wire.append(
                WireCustomer(
                    self.urls,
                    sc,
                    self.clock,
                    nickname=sc.contact.name if k == 1 else f"{sc.contact.name} {k}",
                    class_id=self.class_id,
                    origin=self._origin_given,  # None: each server's own origin
                    thresholds=self.thresholds,
                    wall_of=self.wall_ms,
                    label=f"{self.class_id}-{n}",
                )
            )
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._stopped = False

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        """The class begins now: customers arrive as planned (on the class's clock)."""
        if self._started:
            return
        self._started = True
        start = self.clock.now()
        for customer, (_, after) in zip(self.wire, self.plan, strict=True):
            self.clock.call_at(start + after, functools.partial(self._arrive, customer))
        self.driver.start()
        self.driver.tick()  # who arrives at once does not wait for the first tick

    def pause(self) -> None:
        """Customers hold: nothing is typed or said, nobody arrives, until ``resume``."""
        self.clock.pause()

    def resume(self) -> None:
        self.clock.resume()

    @property
    def paused(self) -> bool:
        return self.clock.paused

    async def stop(self) -> None:
        """End every open chat of the class and start no new customer."""
        self._stopped = True
        self.driver.stop()
        await asyncio.gather(*(c.stop() for c in self.wire), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def finished(self, timeout: float | None = None) -> bool:
        """Wait until every customer is through (done, left or stopped); False on timeout."""
        loop = asyncio.get_running_loop()
        end = None if timeout is None else loop.time() + timeout
        while not all(c.final for c in self.wire):
            if end is not None and loop.time() >= end:
                return False
            await asyncio.sleep(0.05)
        return True

    async def __aenter__(self) -> Classroom:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- what the trainer sees -------------------------------------------------------
    @property
    def customers(self) -> list[CustomerInfo]:
        return [
            CustomerInfo(
                c.nickname,
                c.scenario.name,
                c.status,
                c.conversation,
                c.step,
                after,
            )
            for c, (_, after) in zip(self.wire, self.plan, strict=True)
        ]

    def lateness(self) -> list[float]:
        """Seconds each scripted frame went out after its scheduled time."""
        return [x for c in self.wire for x in c.lateness]

    def timing(self) -> dict[str, float]:
        """p50, p99 and max lateness of the scripted frames, in milliseconds."""
        late = sorted(self.lateness())
        if not late:
            return {"actions": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
        q = statistics.quantiles(late, n=100, method="inclusive") if len(late) > 1 else late * 99
        return {
            "actions": len(late),
            "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000,
            "max_ms": late[-1] * 1000,
        }

    def wall_ms(self, clock_time: float) -> float:
        """The wall time (ms) the class's clock reaches ``clock_time`` (at the current
        anchor: pauses move it)."""
        state = self.clock.state()
        if not self.clock.driven:
            return time.time() * 1000.0
        return state.wall_anchor_ms + (clock_time * 1000.0 - state.clock_ms) / state.rate

    # -- internal ------------------------------------------------------------------------
    def _arrive(self, customer: WireCustomer) -> None:
        if self._stopped:
            return
        task = asyncio.get_running_loop().create_task(customer.run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
