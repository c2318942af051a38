"""Replay a stored transcript in the chat widget, with the timer colours as they were.

``ReplayBackend`` re-creates the ``ChatSession`` on a ``ReplayClock`` (a
``VirtualClock`` that can also go back): offered, accepted, every entry at its
time, typing indicators, the contact leaving, end and done. The session's own
``ReplyTimer`` then gives the colour at every moment, exactly as live.

    backend = ReplayBackend("day.jsonl", conversation="chat-000042")
    ChatWidget(backend)          # the view shows the chat as it was at the offer
    backend.seek(backend.start + 95)   # 95 s in: transcript so far, timer colour then
    backend.play(rate=4)         # on the kernel's loop; backend.pause()

Seeking forward advances the clock; seeking back rebuilds a fresh session
under a new id (``<id>~<n>``), so a view resets instead of un-appending.
Agent actions on a replayed chat raise ``ReplayError``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from ..formats.notices import Notice
from ..formats.transcript import AgentProfile, ContactRecord, Kind
from ..formats.transcript_file import (
    TranscriptDoc,
    contact_from_doc,
    entry_from_doc,
    parse_utc,
    read_transcript,
    validate_transcript,
)
from ..model import commands as cmd
from ..model import events as ev
from ..model.clock import VirtualClock
from ..model.desk import AgentDesk
from ..model.errors import ChatError
from ..model.reply_timer import Thresholds
from ..model.session import ChatSession, SessionConfig, SessionState
from .base import Backend, Replay

# order of lifecycle steps that share a clock time (entries sort by index in between)
_OFFER, _ACCEPT, _ENTRY, _TYPING, _LEFT, _END, _DONE, _FINAL = range(8)
RATES = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class ReplayError(ChatError):
    """An agent action on a replayed chat: the past cannot be changed."""


class ReplayClock(VirtualClock):
    """A ``VirtualClock`` that a replay may wind back (the live clock never goes back)."""

    def rewind(self, when: float) -> None:
        """Drop every scheduled callback and set the time to ``when`` (any direction)."""
        self._queue.clear()
        self._now = float(when)
        self._notify()


class ReplaySession(ChatSession):
    """A read-only ``ChatSession``: every agent action raises ``ReplayError``; the
    backend changes it only through ``receive`` with the recorded facts (``model.events``)."""

    def _refuse(self, action: str) -> NoReturn:
        raise ReplayError(
            f"cannot {action} chat {self.id!r}: it is a replay of a stored transcript "
            "(seek, play or pause instead)"
        )

    def _require(self, action: str, *allowed: SessionState) -> None:
        # every state-checked agent action (accept, send, end, ...) goes through here
        self._refuse(action)

    def set_agent_typing(self, typing: bool) -> None:
        self._refuse("type in")

    def call(self, number: str) -> None:
        self._refuse("call from")

    def hang_up(self) -> None:
        self._refuse("hang up in")

    # the stored transcript says who accepted and when: no one hands a replay over
    def resume_accepted(self, at: float | None = None, *, client_id_tag: str = "") -> None:
        self._refuse("resume")

    def hand_over(self, notice: str | Notice) -> None:
        self._refuse("hand over")


class ReplayDesk(AgentDesk):
    """The desk of a replay: its chats are ``ReplaySession``s."""

    def _new_session(
        self, session_id: str, contact: ContactRecord, config: SessionConfig
    ) -> ChatSession:
        return ReplaySession(session_id, contact, self.clock, agent=self.agent, config=config)


TranscriptSource = TranscriptDoc | Mapping[str, Any] | str | Path


class ReplayBackend(Backend):
    """Plays one stored conversation back on a ``ReplayClock``.

    ``transcript``: a ``TranscriptDoc``/dict, or a ``.json``/``.jsonl`` path
    (``conversation``: id or position in a JSON Lines file). ``thresholds``
    default to the ones recorded in the transcript. ``at``: the first position
    (clock seconds; default the start).
    """

    def __init__(
        self,
        transcript: TranscriptSource,
        *,
        conversation: str | int | None = None,
        thresholds: Thresholds | None = None,
        config: SessionConfig | None = None,
        at: float | None = None,
    ) -> None:
        self.clock: ReplayClock
        if isinstance(transcript, str | Path):
            doc = read_transcript(transcript, conversation)
        else:
            doc = validate_transcript(dict(transcript))
        self.transcript = doc
        limits = thresholds
        if limits is None and doc.get("thresholds"):
            recorded = doc["thresholds"]
            assert recorded is not None
            limits = Thresholds(recorded["yellow_after"], recorded["red_after"])
        base = config or SessionConfig()
        self.config = SessionConfig(
            thresholds=limits or base.thresholds,
            typing_timeout=base.typing_timeout,
            disposition_codes=_with(base.disposition_codes, doc.get("disposition")),
            disposition_required=base.disposition_required,
            clickable_contact_details=base.clickable_contact_details,
            push_url_text=base.push_url_text,
        )
        self._events = _events(doc)
        self.start = min(t for t, *_ in self._events)
        self.end = max(t for t, *_ in self._events)
        self.clock = ReplayClock(self.start)
        agent = AgentProfile(name=doc["agent"]["name"], id=doc["agent"]["id"])
        self.desk = ReplayDesk(self.clock, agent=agent, config=self.config)
        self.desk.connect(self.handle)
        self.contact = contact_from_doc(doc["contact"])
        self.session: ReplaySession | None = None
        self.generation = 0
        self._listeners: list[Callable[[str, Any], None]] = []
        self._rebuild(self.start if at is None else at)

    # -- Backend ---------------------------------------------------------------
    @property
    def virtual_clock(self) -> bool:
        return True

    def handle(self, command: cmd.Command) -> None:
        raise ReplayError(f"a replay performs no commands (got {type(command).__name__})")

    def first_session(self) -> ChatSession | None:
        return self.session

    # -- replay control -------------------------------------------------------------
    @property
    def position(self) -> float:
        """Clock time the replay is at."""
        return self.clock.now()

    def subscribe(self, listener: Callable[[str, Any], None]) -> Callable[[], None]:
        """``listener("session", new_session)`` after a seek back rebuilt the chat."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def seek(self, t: float) -> ReplaySession:
        """Show the chat as it was at clock time ``t`` (clamped to start..end)."""
        t = min(max(float(t), self.start), self.end)
        if self.session is not None and t >= self.clock.now():
            self.clock.advance_to(t)
        else:
            self._rebuild(t)
        assert self.session is not None
        return self.session

    def seek_offset(self, seconds: float) -> ReplaySession:
        """``seek(start + seconds)``."""
        return self.seek(self.start + seconds)

    def play(self, rate: float | None = None) -> bool:
        """Run the replay with the wall clock (at ``rate``); False without a running loop
        (then move it with ``seek`` or ``clock.advance``). At the end it starts over."""
        if rate is not None:
            self.clock.set_rate(rate)
        if self.clock.now() >= self.end:
            self.seek(self.start)
        self.clock.resume()
        return self.start_realtime()

    def pause(self) -> None:
        self.clock.pause()

    def perform(self, name: str, args: Mapping[str, Any]) -> None:
        """The view's replay actions: ``replay_seek {t_ms}``, ``replay_play {rate?}``,
        ``replay_pause``, ``replay_rate {rate}``."""
        if name == "replay_seek":
            self.seek(float(args["t_ms"]) / 1000.0)
        elif name == "replay_play":
            self.play(float(args["rate"]) if args.get("rate") else None)
        elif name == "replay_pause":
            self.pause()
        elif name == "replay_rate":
            self.clock.set_rate(float(args["rate"]))
        else:
            raise ChatError(f"unknown replay action {name!r}")

    @property
    def replay(self) -> Replay:
        """This backend is a replay (the widget shows the timeline, not the agent's controls)."""
        return self

    def view_state(self) -> dict[str, Any]:
        """What the view's timeline slider needs (times in clock ms, like ``clock``)."""
        marks = [
            {"t_ms": t * 1000.0, "kind": kind}
            for t, order, _seq, kind, _payload in self._events
            if order != _FINAL
        ]
        return {
            "conversation_id": self.transcript["id"],
            "session_id": None if self.session is None else self.session.id,
            "start_ms": self.start * 1000.0,
            "end_ms": self.end * 1000.0,
            "marks": marks,
            "rates": list(RATES),
        }

    # -- internals ----------------------------------------------------------------
    def _rebuild(self, t: float) -> None:
        """A fresh session, replayed from the start up to ``t``."""
        self.generation += 1
        if self.session is not None:
            self.desk.sessions.pop(self.session.id, None)
        self.session = None
        self.desk.url_history = []
        self.clock.rewind(self.start)
        for when, order, seq, kind, payload in self._events:
            self.clock.call_at(when, _Step(self, order, seq, kind, payload))
        self.clock.call_at(self.end, self._at_end)
        self.clock.advance_to(min(max(t, self.start), self.end))
        if self.generation > 1:
            for listener in list(self._listeners):
                listener("session", self.session)

    def _at_end(self) -> None:
        # the transcript is over: stop a running replay there (seek still works)
        if self.driver is not None and self.driver.running:
            self.clock.pause()

    def _apply(self, kind: str, payload: Any) -> None:
        if kind == "offer":
            sid = (
                self.transcript["id"]
                if self.generation == 1
                else (f"{self.transcript['id']}~{self.generation}")
            )
            offered = self.desk.offer(sid, self.contact)
            assert isinstance(offered, ReplaySession)
            offered.offered_at = payload
            self.session = offered
            return
        session = self.session
        if session is not None:
            for event in self._facts(kind, payload):
                session.receive(event)
            if kind == "entry" and payload.kind is Kind.PUSH_URL and payload.url:
                self.desk.record_url(payload.url)

    def _facts(self, kind: str, payload: Any) -> list[ev.SessionEvent]:
        """The events one replay step feeds the session, at the clock's time."""
        now = self.clock.now()
        if kind == "accept":
            return [ev.ResumedAccepted(at=payload)]
        if kind == "entry":
            return [ev.EntryRecorded(entry=payload, at=payload.time)]
        if kind == "typing":
            role, typing = payload
            if role == "contact":
                return [ev.ContactTyping(typing=typing, at=now)]
            if role == "agent":
                return [ev.AgentTypingRecorded(typing=typing, at=now)]
            return []
        if kind in _RECORDED:
            return [_RECORDED[kind](at=payload)]
        if kind == "final":
            wrap_up = ev.WrapUpRecorded(
                disposition=self.transcript.get("disposition"),
                notes=tuple(self.transcript.get("notes") or []),
                at=now,
            )
            if payload is None:
                return [wrap_up]
            return [wrap_up, ev.FinalStateRecorded(state=payload, at=now)]
        return []


_RECORDED: dict[str, type[ev.SessionEvent]] = {
    "left": ev.ContactLeftRecorded,
    "end": ev.EndRecorded,
    "done": ev.DoneRecorded,
}


class _Step:
    """One scheduled replay step (a callable the clock fires)."""

    __slots__ = ("backend", "kind", "order", "payload", "seq")

    def __init__(
        self, backend: ReplayBackend, order: int, seq: int, kind: str, payload: Any
    ) -> None:
        self.backend, self.order, self.seq, self.kind, self.payload = (
            backend,
            order,
            seq,
            kind,
            payload,
        )

    def __call__(self) -> None:
        self.backend._apply(self.kind, self.payload)


def _with(codes: tuple[str, ...], extra: str | None) -> tuple[str, ...]:
    return codes if extra is None or extra in codes else (*codes, extra)


def _events(doc: TranscriptDoc) -> list[tuple[float, int, int, str, Any]]:
    """Everything that happened, as (time, order, seq, kind, payload), in replay order."""
    seq = itertools.count()
    out: list[tuple[float, int, int, str, Any]] = []
    entries = [entry_from_doc(e) for e in doc["entries"]]
    offered = parse_utc(doc["offered_at"])
    first = min([offered, *(e.time for e in entries)])
    out.append((first, _OFFER, next(seq), "offer", offered))
    lifecycle = {
        key: parse_utc(v)
        for key in ("accepted_at", "left_at", "ended_at", "done_at")
        if isinstance(v := doc.get(key), str)
    }
    if "accepted_at" in lifecycle:
        out.append(
            (lifecycle["accepted_at"], _ACCEPT, next(seq), "accept", lifecycle["accepted_at"])
        )
    for e in entries:
        out.append((e.time, _ENTRY, next(seq), "entry", e))
    for typing in doc.get("typing", []):
        out.append(
            (
                parse_utc(typing["time"]),
                _TYPING,
                next(seq),
                "typing",
                (typing["role"], typing["typing"]),
            )
        )
    for key, order, kind in (
        ("left_at", _LEFT, "left"),
        ("ended_at", _END, "end"),
        ("done_at", _DONE, "done"),
    ):
        if key in lifecycle:
            out.append((lifecycle[key], order, next(seq), kind, lifecycle[key]))
    # wrap-up data and end states the file gives no time for: at the last moment
    state = doc.get("state")
    final = SessionState(state) if state in ("declined", "ignored", "transferred") else None
    out.append((max(t for t, *_ in out), _FINAL, next(seq), "final", final))
    return sorted(out, key=lambda ev: (ev[0], ev[1], ev[2]))
