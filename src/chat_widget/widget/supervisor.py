"""``SupervisorWidget``: the supervisor's team dashboard (issue 14), synced through traitlets.

``team`` mirrors the ``SupervisorDesk`` (agents, chats as rows, queue, flags);
the view draws each row's reply-timer colour itself from ``pending_since_ms``
and the thresholds on the synced clock (Python never ticks the view). The
open chat's transcript travels as batched ``{session_id, first_index,
entries}`` deltas, as ``ChatWidget``'s does; the view asks for a snapshot when
it opens a chat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

from ..model.clock import ClockState, VirtualClock
from ..model.errors import ChatError
from ..model.supervisor_desk import SupervisedChatView, SupervisorBackend, SupervisorDesk
from .actions import Action, clock_actions, run_reporting
from .chat import LOCALES, STATIC
from .sync import DeltaBatcher, snapshot_chunks


def _ms(t: float | None) -> float | None:
    return None if t is None else t * 1000.0


def chat_row(chat: SupervisedChatView) -> dict[str, Any]:
    """One ``supervised-chat`` row as the view draws it (times in clock ms)."""
    flag = chat.flag
    return {
        "id": chat.id,
        "contact": chat.contact,
        "state": chat.state,
        "agent_id": chat.owner_id,
        "agent_name": chat.owner_name,
        "members": list(chat.members),
        "created_ms": _ms(chat.created),
        "accepted_at_ms": _ms(chat.accepted_at),
        "pending_since_ms": _ms(chat.pending_since),
        "flag": None
        if flag is None
        else {"agent": flag.agent_id, "text": flag.text, "raised_at_ms": _ms(flag.raised_at)},
        "my_mode": chat.my_mode,
        "monitors": dict(chat.monitors),
        "entries": len(chat.entries),
    }


def team_view_state(desk: SupervisorDesk) -> dict[str, Any]:
    """The whole dashboard state the view draws from."""
    th = desk.thresholds
    return {
        "me": {"id": desk.supervisor.id, "name": desk.supervisor.name},
        "connection": desk.connection,
        "announce_monitoring": desk.announce_monitoring,
        "thresholds_ms": {"yellow": th.yellow_after * 1000.0, "red": th.red_after * 1000.0},
        "agents": [
            {
                "id": a.id,
                "name": a.name,
                "presence": a.presence,
                "chats": a.chats,
                "watch_next": a.id in desk.watch_next,
            }
            for a in desk.agents.values()
        ],
        "chats": [chat_row(c) for c in desk.chats.values()],
        "queue": [c.id for c in desk.queue],
        "flags": [c.id for c in desk.flags],
    }


class SupervisorWidget(anywidget.AnyWidget):
    """The supervisor's dashboard: ``SupervisorWidget(MockTeam())`` or
    ``SupervisorWidget(WebSocketSupervisor(url, token))`` (or a ``SupervisorDesk``).
    ``widget.desk`` is the model; actions from the view call it."""

    _esm = STATIC / "supervisor.js"
    _css = STATIC / "widget.css"

    team = traitlets.Dict({}).tag(sync=True)
    clock = traitlets.Dict({}).tag(sync=True)
    locale = traitlets.Unicode("en").tag(sync=True)
    virtual_clock = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    error_code = traitlets.Unicode("").tag(sync=True)
    #: the chat whose transcript the view shows ("" none); set by the view's ``open``
    open_chat = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self, source: SupervisorBackend | SupervisorDesk, *, locale: str = "en", **kwargs: Any
    ) -> None:
        if locale not in LOCALES:
            raise ValueError(f"locale must be one of {LOCALES}, got {locale!r}")
        super().__init__(locale=locale, **kwargs)
        if isinstance(source, SupervisorDesk):
            self.backend: SupervisorBackend | None = None
            self.desk = source
        else:
            self.backend = source
            self.desk = source.desk
            self.virtual_clock = bool(source.virtual_clock)
        self._batcher = DeltaBatcher(self._send_entries, self._push_state)
        self._unsubscribers: list[Callable[[], None]] = [self.desk.subscribe(self._on_desk)]
        clock = self.desk.clock
        if isinstance(clock, VirtualClock):
            self._clock: VirtualClock | None = clock
            self._unsubscribers.append(clock.on_change(self._on_clock))
        else:
            self._clock = None
        self._push_state()
        self.on_msg(self._on_view_message)

    # -- model → view --------------------------------------------------------------------
    def _on_desk(self, change: str, payload: Any) -> None:
        if change == "entries":
            chat_id, entries = payload
            if chat_id == self.open_chat:
                self._batcher.entries(entries)
        else:
            if self.open_chat and self.open_chat not in self.desk.chats:
                self.open_chat = ""  # the chat is done: its row and transcript go
            self._batcher.state()

    def _on_clock(self, _state: ClockState) -> None:
        self._batcher.state()

    def _push_state(self) -> None:
        with self.hold_sync():
            self.team = team_view_state(self.desk)
            if self._clock is not None:
                self.clock = self._clock.state().to_dict()
            if self.desk.last_error and not self.error:
                self.error = self.desk.last_error

    def _send_entries(self, first_index: int, entries: list[dict[str, Any]]) -> None:
        message = {"type": "entries", "session_id": self.open_chat}
        self.send({**message, "first_index": first_index, "entries": entries})

    def flush(self) -> None:
        """Send what is queued now (tests, and before a cell waits on the view)."""
        self._batcher.flush()

    # -- view → model --------------------------------------------------------------------
    def _on_view_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "snapshot":
            self._send_snapshot(str(content.get("session_id") or ""), content.get("from_index"))
        elif kind == "action":
            self.perform(str(content.get("name", "")), content.get("args") or {})
        else:
            self.error_code = ""
            self.error = f"unknown message from the view: {content!r}"[:300]

    def _send_snapshot(self, chat_id: str, from_index: Any) -> None:
        chat = self.desk.chats.get(chat_id)
        if chat is None or chat_id != self.open_chat:
            return
        size = self._batcher.chunk_size
        for first_index, entries in snapshot_chunks(chat.entries, int(from_index or 0), size):
            self.send(
                {
                    "type": "entries",
                    "session_id": chat_id,
                    "first_index": first_index,
                    "entries": entries,
                }
            )

    def perform(self, name: str, args: dict[str, Any]) -> None:
        """Run a view action on the desk; errors show in the view."""
        run_reporting(self, lambda: self._perform(name, args))
        self._batcher.state()

    def _perform(self, name: str, args: dict[str, Any]) -> None:
        actions = self._actions(args)
        if name not in actions:
            raise ChatError(f"unknown action {name!r}")
        actions[name]()

    def _actions(self, args: dict[str, Any]) -> dict[str, Action]:
        desk = self.desk

        def chat() -> str:
            return str(args["chat"])

        table: dict[str, Action] = {
            "open": lambda: self.show_chat(chat()),
            "close": lambda: self.show_chat(None),
            "monitor": lambda: desk.monitor(chat(), str(args.get("mode") or "silent")),
            "coach": lambda: desk.monitor(chat(), "coach"),
            "barge_in": lambda: desk.barge_in(chat()),
            "send": lambda: desk.send(chat(), str(args["text"])),
            "say": lambda: desk.say(chat(), str(args["text"])),
            "leave": lambda: desk.leave(chat()),
            "stop": lambda: desk.stop(chat()),
            "lower_flag": lambda: desk.lower_flag(chat()),
            "monitor_next": lambda: desk.monitor_next(
                str(args["agent"]), bool(args.get("cancel", False))
            ),
        }
        if self._clock is not None and self.virtual_clock:
            table.update(clock_actions(self.backend, self._clock, args))
        return table

    def show_chat(self, chat_id: str | None) -> None:
        """Show ``chat_id``'s transcript (None: close it); the view asks for a snapshot."""
        if chat_id is not None and chat_id not in self.desk.chats:
            raise ChatError(f"no chat {chat_id!r} in this team")
        self._batcher.drop_entries()
        self.open_chat = chat_id or ""

    def close(self) -> None:
        for unsubscribe in getattr(self, "_unsubscribers", []):
            unsubscribe()
        self._unsubscribers = []
        super().close()
