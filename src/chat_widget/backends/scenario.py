"""Scenario files: a scripted customer that a trainer writes without code.

YAML or JSON, validated with pydantic; a bad file raises ``ScenarioError``
naming the file, the step and the field. Schema (see README "Scenarios")::

    name: Billing question
    contact: {name: Maria Weber, phones: ["+49 30 1234567"], emails: [m@example.com]}
    offer_after: 2            # seconds until the chat is offered
    # classroom runs (issue 15): when this scenario's customers connect to the server
    arrive_after: 5           # seconds after the class starts (default: offer_after)
    count: 3                  # how many customers of this scenario (default 1) ...
    every: 20                 # ... each this many seconds after the previous (default 0)
    offer: {kind: transfer, from: Kim Meyer, note: "wants a refund", timeout: 20}
                              # optional: how the chat reaches the agent (new, transfer,
                              # conference), and seconds until an unanswered offer moves on
    when_red: "Hello? Anyone there?"   # optional: said once per wait that turns red
    # supervision (issue 14; needs ``MockBackend(..., supervisor="Tess")``):
    when_yellow: {coach: "Answer her now"}  # hooks: {say: ..., coach: ...}, once per wait
    on_flag: {coach: "I'm here - offer the voucher", after: 5}
                              # the agent raised the help flag: after 5 s the supervisor
                              # lowers it and coaches
    idle_alert_after: 60      # optional (issue 16): the customer silent 60 s while the
    idle_close_after: 30      # agent waits: alert; 30 s more: the chat closes
    steps:
      - say: "Hi, my invoice is wrong"   # typing first (default 2 s), then the message
        typing: 3
        delay: 1                          # seconds before typing starts (default 1)
      - wait_for_reply: 60                # until the agent replies (or 60 s pass); true = forever
      - typing_pause: 4                   # types, then stops without sending
      - pause: 5
      - coach: "Apologise first"          # the supervisor coaches the agent, right
        delay: 0                          # after the previous step (plus delay)
      - leave: "Thanks, bye"              # optional last words; true = just leave
    # the contact's earlier chats (issue 16), shown to the agent with the offer:
    history:
      - date: "2026-11-20T10:15:00Z"
        agent: Lena
        disposition: Resolved
        notes: ["Refund promised"]
        transcript: [{from: contact, text: "My invoice is wrong"}, {from: agent, text: "..."}]
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..formats.data_files import read_data_file, read_packaged_yaml
from ..formats.transcript import ContactRecord
from ..model.errors import ChatError
from ..model.idle_rule import IdleTimes

BUILTIN = ("billing", "impatient", "leaver")

Seconds = Annotated[float, Field(ge=0, le=86_400)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    phones: list[str] = []
    emails: list[str] = []

    def record(self) -> ContactRecord:
        return ContactRecord(self.name, tuple(self.phones), tuple(self.emails))


class Say(_Strict):
    say: str = Field(min_length=1, max_length=4000)
    typing: Seconds = 2.0
    delay: Seconds = 1.0


class WaitForReply(_Strict):
    wait_for_reply: bool | Seconds

    @field_validator("wait_for_reply")
    @classmethod
    def _not_false(cls, v: bool | float) -> bool | float:
        if v is False:
            raise ValueError("use true (wait forever) or a number of seconds")
        return v


class TypingPause(_Strict):
    typing_pause: Seconds


class Pause(_Strict):
    pause: Seconds


class Leave(_Strict):
    leave: Literal[True] | str


class Coach(_Strict):
    """The mock's supervisor coaches the agent (coach mode, issue 14)."""

    coach: str = Field(min_length=1, max_length=4000)
    delay: Seconds = 0.0


Step = Say | WaitForReply | TypingPause | Pause | Leave | Coach
_STEP_TYPES: dict[str, type[BaseModel]] = {
    "say": Say,
    "wait_for_reply": WaitForReply,
    "typing_pause": TypingPause,
    "pause": Pause,
    "leave": Leave,
    "coach": Coach,
}


class Hook(_Strict):
    """What happens once per wait when the reply timer reaches a colour: the customer
    says something, the supervisor coaches, or both (customer first)."""

    say: str | None = Field(default=None, min_length=1, max_length=4000)
    coach: str | None = Field(default=None, min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _something(self) -> Hook:
        if self.say is None and self.coach is None:
            raise ValueError("a hook needs say, coach or both")
        return self


class OnFlag(_Strict):
    """The supervisor's answer to the agent's help flag: ``after`` seconds later it
    lowers the flag and coaches ``coach``."""

    coach: str = Field(min_length=1, max_length=4000)
    after: Seconds = 5.0


class OfferSpec(_Strict):
    """How the chat reaches the agent: a new chat, or a colleague's transfer or
    conference invitation with a note; ``timeout``: unanswered, the offer moves on."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: Literal["new", "transfer", "conference"] = "new"
    from_: str | None = Field(default=None, alias="from", min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=4000)
    timeout: Annotated[float, Field(gt=0, le=86_400)] | None = None


class HistoryLine(_Strict):
    """One message of an earlier chat: who wrote it (the contact or the agent) and what."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: Literal["contact", "agent"] = Field(alias="from")
    text: str = Field(min_length=1, max_length=4000)


class HistorySpec(_Strict):
    """An earlier chat of the same contact (issue 16): when, who, how it ended."""

    date: AwareDatetime
    agent: str | None = Field(default=None, min_length=1, max_length=200)
    disposition: str | None = Field(default=None, min_length=1, max_length=100)
    notes: list[str] = []
    state: Literal["done", "ended", "active", "queued"] = "done"
    transcript: list[HistoryLine] = []


class Scenario(_Strict):
    name: str = Field(min_length=1)
    contact: ContactSpec
    offer_after: Seconds = 0.0
    offer: OfferSpec = OfferSpec()
    when_yellow: str | Hook | None = None  # a plain string: the customer says it
    when_red: str | Hook | None = None
    on_flag: OnFlag | None = None
    arrive_after: Seconds | None = None  # classroom: None means offer_after
    count: Annotated[int, Field(ge=1, le=10_000)] = 1
    every: Seconds = 0.0
    # the customer idle timers (issue 16, ``model.idle_rule``); None: off
    idle_alert_after: Annotated[float, Field(gt=0, le=86_400)] | None = None
    idle_close_after: Annotated[float, Field(gt=0, le=86_400)] | None = None
    steps: list[Step] = Field(min_length=1)
    history: list[HistorySpec] = Field(default=[], max_length=20)

    @model_validator(mode="after")
    def _idle_fits(self) -> Scenario:
        self.idle_times()  # an alert without a close is a ValueError naming the field
        return self

    def idle_times(self) -> IdleTimes:
        """The scenario's idle timers (both None: off)."""
        return IdleTimes(self.idle_alert_after, self.idle_close_after)

    def arrivals(self) -> list[float]:
        """When this scenario's customers arrive, in seconds after the class starts."""
        first = self.offer_after if self.arrive_after is None else self.arrive_after
        return [first + n * self.every for n in range(self.count)]

    def hook(self, colour: Literal["yellow", "red"]) -> Hook | None:
        """The hook for a wait reaching ``colour``, as a ``Hook`` (strings: said)."""
        hook = self.when_yellow if colour == "yellow" else self.when_red
        return Hook(say=hook) if isinstance(hook, str) else hook

    def coaching_places(self) -> list[str]:
        """Where the scenario has its supervisor coach ("step 3", "when_red", ...)."""
        places = [f"step {n}" for n, s in enumerate(self.steps, start=1) if isinstance(s, Coach)]
        for colour in ("yellow", "red"):
            hook = self.hook(colour)
            if hook is not None and hook.coach is not None:
                places.append(f"when_{colour}")
        if self.on_flag is not None:
            places.append("on_flag")
        return places


class ScenarioError(ChatError, ValueError):
    """A scenario file that cannot be played; the message names file, step and field."""


def parse_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate plain data into a ``Scenario``, with errors a trainer can act on."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: the scenario must be a mapping, got {type(data).__name__}")
    steps = data.get("steps")
    if isinstance(steps, list):
        for number, step in enumerate(steps, start=1):
            _check_step(step, number, source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_describe(exc, source)) from None


def _check_step(step: Any, number: int, source: str) -> None:
    if not isinstance(step, dict):
        raise ScenarioError(f"{source}: step {number}: must be a mapping, got {step!r}")
    kinds = [k for k in step if k in _STEP_TYPES]
    if len(kinds) != 1:
        raise ScenarioError(
            f"{source}: step {number}: needs exactly one of {sorted(_STEP_TYPES)}, "
            f"got fields {sorted(step)}"
        )
    try:
        _STEP_TYPES[kinds[0]].model_validate(step)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or kinds[0]
        raise ScenarioError(f"{source}: step {number}, field {field!r}: {err['msg']}") from None


def _describe(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        where = f"step {loc[1] + 1}, field {'.'.join(str(p) for p in loc[2:3]) or 'step'!r}"
    else:
        where = f"field {'.'.join(str(p) for p in loc)!r}"
    return f"{source}: {where}: {err['msg']}"


def load_scenario(source: str | Path | Scenario | dict[str, Any]) -> Scenario:
    """A built-in name (``billing``, ``impatient``, ``leaver``), a .yaml/.json path, or data."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, dict):
        return parse_scenario(source)
    if isinstance(source, str) and source in BUILTIN:
        name = f"{source}.yaml"
        return parse_scenario(read_packaged_yaml("chat_widget.backends.scenarios", name), name)
    path = Path(source)
    hint = f" (built-in scenarios: {', '.join(BUILTIN)})"
    return parse_scenario(read_data_file(path, ScenarioError, "scenario", hint), str(path))
