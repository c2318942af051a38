"""``WorkspaceWidget``: all of one agent's chats, the interaction bar, colleagues and IM.

Each chat syncs like ``ChatWidget`` does: its view state (plus who is in the
chat, ``collab``) in the ``chats`` trait (re-sent whole only when chats come or
go; a change of one chat travels alone as a ``chat`` message), its transcript as batched
``{session_id, first_index, entries}`` deltas (one ``DeltaBatcher`` per
chat); a fresh view asks for a snapshot per chat. The directory and team IM
(bounded to the last 100 messages per thread) are traits of their own, and so
are the colleagues' consultations of this agent (``consultations``: the
consulted side of F7, answered, replied to and hung up in the view).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

from ..model.backend import Backend
from ..model.clock import ClockState, VirtualClock
from ..model.errors import ChatError
from ..model.session import ChatSession
from .actions import (
    clock_actions,
    collab_actions,
    im_actions,
    incoming_consultation_actions,
    run_reporting,
    session_actions,
)
from .chat import LOCALES, STATIC
from .sync import DeltaBatcher, snapshot_chunks
from .view_state import session_view_state


class WorkspaceWidget(anywidget.AnyWidget):
    """The agent's workspace: several chats at once, transfer, conference, consult, IM.

    >>> from chat_widget import MockBackend, WorkspaceWidget
    >>> WorkspaceWidget(MockBackend(["billing", "impatient"]))   # doctest: +SKIP
    """

    _esm = STATIC / "workspace.js"
    _css = STATIC / "widget.css"

    chats = traitlets.Dict({}).tag(sync=True)
    order = traitlets.List(traitlets.Unicode(), []).tag(sync=True)
    directory = traitlets.Dict({}).tag(sync=True)
    im = traitlets.Dict({}).tag(sync=True)
    consultations = traitlets.List(traitlets.Dict(), []).tag(sync=True)
    agent = traitlets.Dict({}).tag(sync=True)
    clock = traitlets.Dict({}).tag(sync=True)
    locale = traitlets.Unicode("en").tag(sync=True)
    virtual_clock = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    #: the error's code when it is one of ``model.errors.ERROR_CODES`` (the view says it in
    #: its locale), else "" (the view shows ``error`` as it is)
    error_code = traitlets.Unicode("").tag(sync=True)

    def __init__(self, backend: Backend, *, locale: str = "en", **kwargs: Any) -> None:
        unknown = set(kwargs) - {"layout"}
        if unknown:
            raise TypeError(f"WorkspaceWidget got unexpected keyword arguments: {sorted(unknown)}")
        if locale not in LOCALES:
            raise ValueError(f"locale must be one of {LOCALES}, got {locale!r}")
        super().__init__(locale=locale, **kwargs)
        self.backend = backend
        self.desk = backend.desk
        self.virtual_clock = backend.virtual_clock
        self.agent = {"name": self.desk.agent.name, "id": self.desk.agent.id}
        self._batchers: dict[str, DeltaBatcher] = {}
        self._unsubscribers: list[Callable[[], None]] = [self.desk.subscribe(self._on_desk)]
        self._clock = backend.clock
        if isinstance(self._clock, VirtualClock):
            self._unsubscribers.append(self._clock.on_change(self._on_clock))
            self.clock = self._clock.state().to_dict()
        for session in list(self.desk.sessions.values()):
            self._attach(session)
        self._push_chats()
        self.directory = self.desk.directory.to_dict()
        self.im = self.desk.team_im.to_dict()
        self.consultations = self.desk.collab.incoming_view()
        self.on_msg(self._on_view_message)

    # -- model → view ---------------------------------------------------------
    def _attach(self, session: ChatSession) -> None:
        sid = session.id

        def send_entries(first: int, entries: list[dict[str, Any]]) -> None:
            self.send(
                {"type": "entries", "session_id": sid, "first_index": first, "entries": entries}
            )

        batcher = DeltaBatcher(send_entries, self._push_chats)
        self._batchers[sid] = batcher

        def on_session(change: str, payload: Any) -> None:
            if change == "entries":
                batcher.entries(payload)
            else:
                batcher.state()

        self._unsubscribers.append(session.subscribe(on_session))
        batcher.state()

    def _on_desk(self, change: str, payload: Any) -> None:
        if change == "offer":
            self._attach(payload)
        elif change in ("collab", "url_history"):
            self._mark(payload if change == "collab" else None)
        elif change == "directory":
            self.directory = self.desk.directory.to_dict()
        elif change == "im":
            self.im = self.desk.team_im.to_dict()
        elif change == "consultations":
            self.consultations = self.desk.collab.incoming_view()

    def _mark(self, session_id: str | None) -> None:
        batcher = self._batchers.get(session_id or "") or next(iter(self._batchers.values()), None)
        if batcher is not None:
            batcher.state()

    def _on_clock(self, state: ClockState) -> None:
        self.clock = state.to_dict()

    def _push_chats(self) -> None:
        """Send what changed: the whole ``chats`` trait only when chats came or went, else
        each changed chat alone as a ``{type: "chat", session_id, chat}`` message (typing
        in one chat does not re-send the others). ``chats`` is updated in place then, so
        it stays current in Python and for a view that loads the state afresh."""
        history = list(self.desk.url_history)
        active = self.desk.active_sessions()
        chats = {
            s.id: {
                **session_view_state(s, history, self.locale),
                "collab": self.desk.collab.view(s.id),
            }
            for s in active
        }
        if list(chats) != list(self.chats):
            self.chats = chats
        else:
            for sid, chat in chats.items():
                if chat != self.chats[sid]:
                    self.chats[sid] = chat
                    self.send({"type": "chat", "session_id": sid, "chat": chat})
        order = [s.id for s in active]
        if order != self.order:
            self.order = order
        if isinstance(self._clock, VirtualClock):
            self.clock = self._clock.state().to_dict()

    def _send_entries_now(self, sid: str, from_index: int) -> None:
        session = self.desk.sessions.get(sid)
        if session is None:
            return
        chunks = snapshot_chunks(session.transcript, from_index, self._batchers[sid].chunk_size)
        for first_index, entries in chunks:
            self.send(
                {
                    "type": "entries",
                    "session_id": sid,
                    "first_index": first_index,
                    "entries": entries,
                }
            )

    def flush(self) -> None:
        """Send what is queued now (tests, and before a cell waits on the view)."""
        for batcher in self._batchers.values():
            batcher.flush()

    # -- view → model ---------------------------------------------------------
    def _on_view_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "snapshot":
            self._send_entries_now(
                str(content.get("session_id")), int(content.get("from_index", 0))
            )
        elif kind == "action":
            sid = content.get("session_id")
            self.perform(str(content.get("name", "")), content.get("args") or {}, sid)
        else:
            self.error_code = ""
            self.error = f"unknown message from the view: {content!r}"[:300]

    def perform(self, name: str, args: dict[str, Any], session_id: str | None = None) -> None:
        """Run a view action; errors show in the view, nothing is lost."""
        run_reporting(self, lambda: self._perform(name, args, session_id))
        self._mark(session_id)

    def _perform(self, name: str, args: dict[str, Any], session_id: str | None) -> None:
        clock = self._clock
        if self.virtual_clock and isinstance(clock, VirtualClock):
            clocks = clock_actions(self.backend, clock, args)
            if name in clocks:
                clocks[name]()
                return
        desk_actions = {
            **im_actions(self.desk, args),
            **incoming_consultation_actions(self.desk, args),
        }
        if name in desk_actions:
            desk_actions[name]()
            return
        if not session_id or session_id not in self.desk.sessions:
            raise ChatError(f"no chat {session_id!r} to {name}")
        session = self.desk.sessions[session_id]
        actions = {**session_actions(session, args), **collab_actions(self.desk, session_id, args)}
        if name not in actions:
            raise ChatError(f"unknown action {name!r}")
        actions[name]()

    def close(self) -> None:
        for unsubscribe in getattr(self, "_unsubscribers", []):
            unsubscribe()
        self._unsubscribers = []
        super().close()
