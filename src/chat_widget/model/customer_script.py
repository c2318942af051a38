"""``CustomerScript``: a scenario's customer, sans I/O, on an injected clock.

One engine, two drivers: ``MockCustomer`` (the agent's session in the kernel, a
virtual clock) and the classroom's ``WireCustomer`` (a websocket to the server,
the class's clock moved with the wall clock). The engine runs the steps with
``call_later`` on the clock, keeps the customer's own view of the reply wait
(a ``ReplyTimer``: a customer message starts a wait, a visible agent or
supervisor message ends it) and fires the ``when_yellow``/``when_red`` hooks at
the exact clock time the wait turns that colour. It acts through a
``CustomerPort``; the driver feeds it ``accepted``, ``agent_replied``, ``ended``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol, cast

from .clock import ScheduledCall
from .reply_timer import ReplyTimer, Thresholds

if TYPE_CHECKING:
    # the scenario file format (types only: the model does not import backends)
    from ..backends.scenario import Coach, Leave, Pause, Say, Scenario, TypingPause, WaitForReply


class SchedulingClock(Protocol):
    """What the engine needs from time (a ``VirtualClock`` has it)."""

    def now(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> ScheduledCall: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> ScheduledCall: ...


class CustomerPort(Protocol):
    """How the customer acts: the driver turns these into session events or frames."""

    def say(self, text: str) -> None: ...

    def typing(self, on: bool) -> None: ...

    def leave(self) -> None:
        """The customer leaves (after any last words were said)."""

    def coach(self, text: str) -> None:
        """The scenario's supervisor coaches (the mock's; the wire ignores it)."""


class CustomerScript:
    """Runs ``scenario``'s steps for one customer in one chat.

    ``timer``/``replied``/``live``: a driver that already has the customer's view
    (the mock: the agent's session in the same process) passes it; otherwise the
    engine keeps its own from what it said and was told.
    """

    def __init__(
        self,
        scenario: Scenario,
        clock: SchedulingClock,
        port: CustomerPort,
        *,
        thresholds: Thresholds | None = None,
        timer: ReplyTimer | None = None,
        replied: Callable[[], bool] | None = None,
        live: Callable[[], bool] | None = None,
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.port = port
        self._own_timer = timer is None
        self.timer = timer if timer is not None else ReplyTimer(thresholds)
        self.thresholds = thresholds or self.timer.thresholds
        self._replied_fn = replied
        self._live_fn = live
        self.step_index = 0
        self.finished = False
        self.started = False
        self.over = False  # the chat ended (either side): nothing more is said
        self._replied = False  # an agent answered since the customer last spoke
        self._pending: ScheduledCall | None = None
        self._waiting = False
        self._hooked: set[tuple[str, float]] = set()  # (colour, wait start) hooks set

    # -- inputs from the driver ------------------------------------------------
    def accepted(self, at: float | None = None) -> None:
        """An agent took the chat: the wait starts, the script begins (once)."""
        if self.started or self.over:
            return
        self.started = True
        if self._own_timer:
            self.timer.start(self._at(at))
        self._hook_timer()
        self._schedule(0.0, self._run_step)

    def agent_replied(self, at: float | None = None) -> None:
        """A message or pushed URL the customer can see, from an agent or supervisor."""
        self._replied = True
        if self._own_timer:
            self.timer.stop(self._at(at))
        if self._waiting:
            self._waiting = False
            if self._pending is not None:
                self._pending.cancel()
            self.step_index += 1
            self._schedule(0.0, self._run_step)

    def ended(self) -> None:
        """The chat ended from the other side: the script stops, no hook fires."""
        self.over = True
        if self._own_timer:
            self.timer.stop(self.clock.now())
        self.stop()

    # -- acting ------------------------------------------------------------------
    def say(self, text: str) -> None:
        """The customer sends ``text`` now (a wait starts if none runs)."""
        self.port.say(text)
        self._replied = False
        if self._own_timer:
            self.timer.start(self.clock.now())
        self._hook_timer()

    def typing(self, on: bool) -> None:
        self.port.typing(on)

    def leave(self, last_words: str | None = None) -> None:
        if last_words:
            self.say(last_words)
        self.stop()
        self.over = True
        self.port.leave()

    def stop(self) -> None:
        """Stop the script (the customer stays)."""
        self.finished = True
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    # -- the script ---------------------------------------------------------------
    @property
    def live(self) -> bool:
        """May the customer act in the chat now?"""
        if self._live_fn is not None:
            return self._live_fn()
        return self.started and not self.over

    @property
    def waiting_for_reply(self) -> bool:
        return self._waiting

    def _at(self, at: float | None) -> float:
        return self.clock.now() if at is None else at

    def _has_reply(self) -> bool:
        return self._replied_fn() if self._replied_fn is not None else self._replied

    def _schedule(self, delay: float, fn: Callable[[], None]) -> None:
        self._pending = self.clock.call_later(delay, fn)

    def _run_step(self) -> None:
        self._pending = None
        if self.finished or not self.live:
            return
        if self.step_index >= len(self.scenario.steps):
            self.finished = True
            return
        step = self.scenario.steps[self.step_index]
        kind = type(step).__name__  # the file format's step classes (backends.scenario)
        if kind == "Say":
            say = cast("Say", step)

            def type_it() -> None:
                if say.typing > 0:
                    self.typing(True)
                self._schedule(say.typing, lambda: self._said(say.say))

            self._schedule(say.delay, type_it)
        elif kind == "WaitForReply":
            step = cast("WaitForReply", step)
            if self._has_reply():
                self._next()
                return
            self._waiting = True
            if step.wait_for_reply is not True:
                self._schedule(float(step.wait_for_reply), self._wait_timed_out)
        elif kind == "TypingPause":
            self.typing(True)
            self._schedule(cast("TypingPause", step).typing_pause, self._typing_paused)
        elif kind == "Pause":
            self._schedule(cast("Pause", step).pause, self._next)
        elif kind == "Leave":
            words = cast("Leave", step).leave
            self.leave(words if isinstance(words, str) else None)
        elif kind == "Coach":
            coach = cast("Coach", step)
            self._schedule(coach.delay, lambda: self._coached(coach.coach))

    def _coached(self, text: str) -> None:
        self.port.coach(text)
        self._next()

    def _typing_paused(self) -> None:
        self.typing(False)
        self._next()

    def _said(self, text: str) -> None:
        self.say(text)
        self._next()

    def _next(self) -> None:
        self.step_index += 1
        self._run_step()

    def _wait_timed_out(self) -> None:
        self._waiting = False
        self._next()

    def _hook_timer(self) -> None:
        """The scenario's ``when_yellow``/``when_red`` hooks, once per wait, at the exact
        clock time the wait turns that colour (if no agent has replied by then)."""
        since = self.timer.pending_since
        if since is None:
            return
        colours: tuple[tuple[Literal["yellow", "red"], float], ...] = (
            ("yellow", self.thresholds.yellow_after),
            ("red", self.thresholds.red_after),
        )
        for colour, after in colours:
            hook = self.scenario.hook(colour)
            if hook is None or (colour, since) in self._hooked:
                continue
            self._hooked.add((colour, since))

            def fire(say: str | None = hook.say, coach: str | None = hook.coach) -> None:
                if self.timer.pending_since != since or not self.live:
                    return
                if say is not None:
                    self.port.say(say)
                if coach is not None:
                    self.port.coach(coach)

            self.clock.call_at(since + after, fire)
