"""The customer idle timers on the server clock (issue 16): one ``IdleRule`` per chat.

``Messaging`` tells it every message and pushed URL, ``Lifecycle`` every accept and
end; when a deadline comes it stores ``IdleAlert`` (everyone sees it), then asks
``close`` to end the chat (``ChatEnded`` with ``reason: idle`` from the system).
Off (``ServerConfig.idle_*_after`` None) it does nothing at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..formats import protocol as p
from ..formats.transcript import Kind, Role, Visibility
from ..model.clock import Clock, ScheduledCall
from ..model.idle_rule import IdleRule, IdleStep, IdleTimes
from .conversation import SYSTEM, Conversation
from .event_log import EventLog
from .store import ConversationState, StoredEvent

ROLES = {
    p.ParticipantType.CLIENT: Role.CONTACT,
    p.ParticipantType.AGENT: Role.AGENT,
    p.ParticipantType.SUPERVISOR: Role.SUPERVISOR,
    p.ParticipantType.SYSTEM: Role.SYSTEM,
    p.ParticipantType.EXTERNAL: Role.EXTERNAL,
}
KINDS: dict[type[p._Event], Kind] = {p.Message: Kind.MESSAGE, p.PushUrl: Kind.PUSH_URL}
STORED_KINDS = {"Message": Kind.MESSAGE, "PushUrl": Kind.PUSH_URL}


class IdleTimers:
    """Each accepted chat's idle rule and its one scheduled deadline."""

    def __init__(self, events: EventLog, clock: Clock, times: IdleTimes) -> None:
        self.events = events
        self.clock = clock
        self.times = times
        self.rules: dict[str, tuple[IdleRule, ScheduledCall | None]] = {}
        # ends a chat for idleness (``Lifecycle`` sets it: the chat ends as any other)
        self.close: Callable[[Conversation], None] = lambda conv: None

    def accepted(self, conv: Conversation) -> None:
        """An agent took the chat: the rule starts (again after a transfer: kept)."""
        if self.times.enabled and conv.id not in self.rules:
            rule = IdleRule(self.times)
            rule.accept(self.clock.now())
            self.rules[conv.id] = (rule, None)

    def sent(self, conv: Conversation, model: type[p._Event], sender: p.Participant) -> None:
        """A message or pushed URL everyone sees was stored."""
        held = self.rules.get(conv.id)
        if held is None:
            return
        role = ROLES.get(sender.type, Role.EXTERNAL)
        held[0].message(role, KINDS[model], Visibility.ALL, self.clock.now())
        self._schedule(conv)

    def restored(self, conv: Conversation, event: StoredEvent) -> None:
        """A stored event of an active chat read back at start-up: the rule picks up
        where it was (a deadline already past comes at once)."""
        kind = STORED_KINDS.get(event.type)
        alert = event.type == "IdleAlert"
        if conv.state != ConversationState.ACTIVE or not (kind or alert) or not self.times.enabled:
            return
        self.accepted(conv)  # an active chat was accepted
        if kind is None:  # the stored IdleAlert: given already
            self.rules[conv.id][0].alerted(event.time)
            self._schedule(conv)
            return
        sender = p.ParticipantType(json.loads(event.body)["from"]["type"])
        visibility = Visibility(event.visibility)
        self.rules[conv.id][0].message(
            ROLES.get(sender, Role.EXTERNAL), kind, visibility, event.time
        )
        self._schedule(conv)

    def ended(self, conv: Conversation) -> None:
        """The chat ended (any way): its timers go."""
        held = self.rules.pop(conv.id, None)
        if held is not None and held[1] is not None:
            held[1].cancel()

    def _schedule(self, conv: Conversation) -> None:
        rule, handle = self.rules[conv.id]
        due = rule.next_deadline()
        if handle is not None:
            if due is not None and handle.when == due[0] and not handle.cancelled:
                return  # the same deadline: keep it
            handle.cancel()
        handle = None if due is None else self.clock.call_at(due[0], lambda: self._due(conv))
        self.rules[conv.id] = (rule, handle)

    def _due(self, conv: Conversation) -> None:
        """A deadline came (clock callback): alert, or close."""
        held = self.rules.get(conv.id)
        if held is None or conv.state != ConversationState.ACTIVE:
            return
        self.rules[conv.id] = (held[0], None)
        step = held[0].fire(self.clock.now())
        if step is IdleStep.ALERT:
            self.events.emit(conv, p.IdleAlert, SYSTEM, closes_in=self.times.closes_in)
            self._schedule(conv)
        elif step is IdleStep.CLOSE:
            self.close(conv)  # ends the chat; ``ended`` drops the rule
        else:
            self._schedule(conv)
