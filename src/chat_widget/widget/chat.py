"""``ChatWidget``: one chat's interaction view, synced through traitlets.

Python never ticks the view: it sends the clock state and the reply
deadlines, and the view computes colours itself. Transcript entries travel
as batched ``{first_index, entries}`` deltas; a fresh view asks for a
snapshot from the index it has.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

from ..model.backend import Backend, Replay
from ..model.clock import ClockState, VirtualClock
from ..model.desk import AgentDesk
from ..model.errors import ChatError
from ..model.session import ChatSession, SessionState
from .actions import clock_actions, run_reporting, session_actions
from .sync import DeltaBatcher, snapshot_chunks
from .view_state import WAITING_STATE, session_view_state

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"
LOCALES = ("en", "de")
# a chat in one of these states has left the agent's desk: the widget moves on
GONE_STATES = (
    SessionState.DONE,
    SessionState.DECLINED,
    SessionState.IGNORED,
    SessionState.TRANSFERRED,
)


class ChatWidget(anywidget.AnyWidget):
    """The agent's chat interaction view for one chat.

    >>> from chat_widget import ChatWidget, MockBackend
    >>> ChatWidget(MockBackend("billing"))          # doctest: +SKIP

    ``source`` is a backend or a ``ChatSession``. On a backend the widget follows the
    agent's chats: it shows the active chat (else the oldest offer), and when that chat
    is done, rejected, ignored or withdrawn it moves on to the next one (or waits for
    it); "1 more chat offered" tells of offers waiting behind the one shown.
    ``session="chat-2"`` pins the widget to one chat of that backend instead.
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    state = traitlets.Dict(WAITING_STATE).tag(sync=True)
    clock = traitlets.Dict({}).tag(sync=True)
    locale = traitlets.Unicode("en").tag(sync=True)
    virtual_clock = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    #: the error's code when it is one of ``model.errors.ERROR_CODES`` (the view says it in
    #: its locale), else "" (the view shows ``error`` as it is)
    error_code = traitlets.Unicode("").tag(sync=True)
    replay = traitlets.Dict({}).tag(sync=True)

    def __init__(
        self,
        source: Backend | ChatSession,
        *,
        locale: str = "en",
        session: str | ChatSession | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - {"layout"}
        if unknown:
            raise TypeError(f"ChatWidget got unexpected keyword arguments: {sorted(unknown)}")
        if locale not in LOCALES:
            raise ValueError(f"locale must be one of {LOCALES}, got {locale!r}")
        super().__init__(locale=locale, **kwargs)
        self.backend: Backend | None = source if isinstance(source, Backend) else None
        # a replay shows one stored chat with its timeline instead of the agent's controls
        self._replay: Replay | None = None if self.backend is None else self.backend.replay
        self.session: ChatSession | None = None
        self._desk: AgentDesk | None = None
        # follow the agent's next chat unless pinned to one (or replaying one)
        self._follow = self.backend is not None and session is None and self._replay is None
        self._batcher = DeltaBatcher(self._send_entries, self._push_state)
        # the standard responses are filled in the view's language (issue 16)
        self.observe(lambda _change: self._batcher.state(), names="locale")
        self._unsubscribers: list[Callable[[], None]] = []
        if isinstance(source, ChatSession):
            clock = source.clock
            self._url_history: Callable[[], list[str]] = lambda: []
            self._attach(source)
        else:
            clock = source.clock
            self.virtual_clock = source.virtual_clock
            desk = self._desk = source.desk
            self._url_history = lambda: list(desk.url_history)
            self._unsubscribers.append(desk.subscribe(self._on_desk))
            if isinstance(session, ChatSession):
                chosen: ChatSession | None = session
            elif session is not None:
                if session not in desk.sessions:
                    raise KeyError(
                        f"no chat {session!r} on this desk; chats: {sorted(desk.sessions)}"
                    )
                chosen = desk.sessions[session]
            else:
                chosen = self._next_chat() if self._follow else source.first_session()
            if chosen is not None:
                self._attach(chosen)
            else:
                self._batcher.state()  # waiting: the connection status shows already
            if self._replay is not None:
                self._unsubscribers.append(self._replay.subscribe(self._on_replay_session))
                self.replay = self._replay.view_state()
        if isinstance(clock, VirtualClock):
            self._clock = clock
            self._unsubscribers.append(clock.on_change(self._on_clock))
            self.clock = clock.state().to_dict()
        self.on_msg(self._on_view_message)

    # -- model → view ---------------------------------------------------------
    def _attach(self, session: ChatSession) -> None:
        self.session = session
        self._session_unsubscribe = session.subscribe(self._on_session)
        self._batcher.drop_entries()
        self._batcher.state()
        if session.transcript:
            self._batcher.entries(list(session.transcript))

    def _on_replay_session(self, change: str, session: Any) -> None:
        """A replay rebuilt the chat (seek back): show the new one from its start."""
        if change != "session" or not isinstance(session, ChatSession):
            return
        self._session_unsubscribe()
        self._attach(session)
        if self._replay is not None:
            self.replay = self._replay.view_state()

    def _next_chat(self) -> ChatSession | None:
        """The chat to show: the current one while it is on the desk, else the oldest
        active chat, else the oldest offer; a chat done or transferred stays in view
        until another comes (None, after reject or ignore: wait for one)."""
        if self._desk is None:
            return self.session
        current = self.session
        if current is not None and current.state not in GONE_STATES:
            return current
        chats = self._desk.active_sessions()
        active = [s for s in chats if s.state is not SessionState.OFFERED]
        offered = [s for s in chats if s.state is SessionState.OFFERED]
        if active or offered:
            return (active or offered)[0]
        if current is not None and current.state in (SessionState.TRANSFERRED, SessionState.DONE):
            return current  # nothing else to do: keep "Done" / "transferred to …" in view
        return None

    def _others_offered(self) -> int:
        if self._desk is None:
            return 0
        return sum(
            1
            for s in self._desk.sessions.values()
            if s.state is SessionState.OFFERED and s is not self.session
        )

    def _follow_next(self) -> None:
        chosen = self._next_chat()
        if chosen is self.session:
            return
        if self.session is not None:
            self._session_unsubscribe()
        if chosen is None:
            self.session = None
            self._batcher.state()
        else:
            self._attach(chosen)

    def _on_desk(self, change: str, payload: Any) -> None:
        if self._follow and change in ("offer", "session"):
            self._follow_next()
            self._batcher.state()  # the "more chats offered" count
        elif change == "offer" and self.session is None:
            self._attach(payload)
        elif change in ("url_history", "connection", "responses"):
            self._batcher.state()

    def _on_session(self, change: str, payload: Any) -> None:
        if change == "entries":
            self._batcher.entries(payload)
        else:
            self._batcher.state()

    def _on_clock(self, state: ClockState) -> None:
        self._batcher.state()

    def _push_state(self) -> None:
        if self.session is not None:
            state = session_view_state(self.session, self._url_history(), self.locale)
            state["others_offered"] = self._others_offered()
            if self._replay is not None:
                state["replaying"] = True  # nobody watching a replay is "(You)"
            self.state = state
        else:
            waiting: dict[str, Any] = {**WAITING_STATE, "others_offered": self._others_offered()}
            if self._desk is not None:  # F12: the connection shows while waiting for a chat
                waiting["connection"] = str(self._desk.connection)
            self.state = waiting
        if hasattr(self, "_clock"):
            self.clock = self._clock.state().to_dict()

    def _send_entries(self, first_index: int, entries: list[dict[str, Any]]) -> None:
        self.send({"type": "entries", "first_index": first_index, "entries": entries})

    def flush(self) -> None:
        """Send what is queued now (tests, and before a cell waits on the view)."""
        self._batcher.flush()

    # -- view → model ---------------------------------------------------------
    def _on_view_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "snapshot":
            self._send_snapshot(int(content.get("from_index", 0)))
        elif kind == "action":
            self.perform(str(content.get("name", "")), content.get("args") or {})
        else:
            self.error_code = ""
            self.error = f"unknown message from the view: {content!r}"[:300]

    def _send_snapshot(self, from_index: int) -> None:
        if self.session is None:
            return
        chunks = snapshot_chunks(self.session.transcript, from_index, self._batcher.chunk_size)
        for first_index, entries in chunks:
            self._send_entries(first_index, entries)

    def perform(self, name: str, args: dict[str, Any]) -> None:
        """Run a view action on the session; errors show in the view, nothing is lost."""
        run_reporting(self, lambda: self._perform(name, args))
        self._batcher.state()

    def _perform(self, name: str, args: dict[str, Any]) -> None:
        clocks = (
            clock_actions(self.backend, self._clock, args)
            if hasattr(self, "_clock") and self.virtual_clock
            else {}
        )
        if name in clocks:
            clocks[name]()
            return
        if name.startswith("replay_") and self._replay is not None:
            self._replay.perform(name, args)
            return
        session = self.session
        if session is None:
            raise ChatError(f"no chat to {name} yet")
        actions = session_actions(session, args)
        if name not in actions:
            raise ChatError(f"unknown action {name!r}")
        actions[name]()

    def close(self) -> None:
        getattr(self, "_session_unsubscribe", lambda: None)()
        for unsubscribe in getattr(self, "_unsubscribers", []):
            unsubscribe()
        self._unsubscribers = []
        super().close()
