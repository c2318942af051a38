"""The customer idle rule in the mock (issue 16): the server's rule on the virtual clock.

It reads the agent's session (the same process): entries go through ``IdleRule`` while
the chat is accepted; the alert is the ``idle_alert`` notice, the close the session's
``IdleClosed`` (contact-left-like, the ``idle_closed`` notice) and the script stops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..formats.notices import notice
from ..model import events as ev
from ..model.clock import ScheduledCall, VirtualClock
from ..model.idle_rule import IdleRule, IdleStep, IdleTimes
from ..model.session import ChatSession, SessionState


class MockIdle:
    """One chat's idle timers, fed by its session's changes."""

    def __init__(
        self,
        session: ChatSession,
        clock: VirtualClock,
        times: IdleTimes,
        closed: Callable[[], None],
    ) -> None:
        self.session = session
        self.clock = clock
        self.times = times
        self.closed = closed
        self.rule = IdleRule(times)
        self.handle: ScheduledCall | None = None
        self._unsubscribe = session.subscribe(self._changed)

    def _changed(self, change: str, payload: Any) -> None:
        rule, state = self.rule, self.session.state
        if rule.ended:
            return
        if state is SessionState.ACCEPTED and not rule.accepted:
            rule.accept(self.clock.now())
        elif state is not SessionState.ACCEPTED and rule.accepted:
            self._stop()
            return
        if change == "entries":
            for entry in payload:
                rule.message(entry.sender.role, entry.kind, entry.visibility, entry.time)
        self._schedule()

    def _schedule(self) -> None:
        due = self.rule.next_deadline()
        if self.handle is not None:
            if due is not None and self.handle.when == due[0]:
                return
            self.handle.cancel()
        self.handle = None if due is None else self.clock.call_at(due[0], self._due)

    def _due(self) -> None:
        self.handle = None
        step = self.rule.fire(self.clock.now())
        if step is IdleStep.ALERT:
            said = notice("idle_alert", seconds=self.times.closes_in)
            self.session.receive(ev.NoticeReceived(text=said))
        elif step is IdleStep.CLOSE:
            self._stop()
            self.session.receive(ev.IdleClosed())
            self.closed()
            return
        self._schedule()

    def _stop(self) -> None:
        self.rule.end()
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self._unsubscribe()
