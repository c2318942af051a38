"""``AgentDesk``: one agent's desktop, across all of their chats (SPEC section 9).

It owns the agent's chats (each a ``ChatSession``), their shared settings,
and the URL history (F17: URLs this agent pushed, across chats, most recent
first, no duplicates, bounded). Backends feed it offers and take the
commands its sessions produce. No I/O here either.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from ..formats.notices import notice, with_detail
from ..formats.responses import ResponseLibrary
from ..formats.transcript import (
    SYSTEM_SENDER,
    AgentProfile,
    ContactRecord,
    Entry,
    Kind,
    Visibility,
)
from . import commands as cmd
from .clock import Clock
from .collaboration import Collaboration
from .directory import Directory
from .errors import ChatError
from .events import SessionEvent
from .responses_use import NO_RESPONSES
from .session import ChatSession, Connection, SessionConfig, SessionState
from .team_im import TeamIm

URL_HISTORY_LIMIT = 20
PRESENCES = ("ready", "not_ready", "away")

DeskListener = Callable[[str, Any], None]


class AgentDesk:
    """Listeners get ``("offer", session)``, ``("session", session)`` on any change
    of a chat, ``("url_history", list)``; and (issue 4) ``("collab", session_id)``,
    ``("directory", None)``, ``("im", colleague_id)``; ``("connection", status)``; and
    (issue 16) ``("responses", library)``."""

    def __init__(
        self,
        clock: Clock,
        *,
        agent: AgentProfile | None = None,
        config: SessionConfig | None = None,
        url_history_limit: int = URL_HISTORY_LIMIT,
        auto_answer: bool | None = None,
    ) -> None:
        if url_history_limit < 1:
            raise ValueError(f"url_history_limit must be at least 1, got {url_history_limit}")
        self.clock = clock
        self.agent = agent or AgentProfile()
        self.config = config or SessionConfig()
        #: accept offers as they arrive (default: ``config.auto_answer``); settable live
        self.auto_answer = self.config.auto_answer if auto_answer is None else auto_answer
        self.url_history_limit = url_history_limit
        self.url_history: list[str] = []
        self.presence = "ready"
        self.connection = Connection.CONNECTED
        self.sessions: dict[str, ChatSession] = {}
        self._responses = NO_RESPONSES  # standard responses (issue 16)
        self._listeners: list[DeskListener] = []
        self._outbox: deque[cmd.Command] = deque()  # pulled by commands_to_send
        self._attached = False  # a backend takes the commands (see ``on_commands``)
        self._wake: Callable[[], None] | None = None
        # working with colleagues (issue 4): directory, transfer/conference/consult, IM
        self.directory = Directory()
        self.team_im = TeamIm(clock, self.agent, self.emit)
        self.collab = Collaboration(self)
        self.directory.subscribe(lambda: self._notify("directory", None))
        self.team_im.subscribe(lambda colleague_id: self._notify("im", colleague_id))

    def subscribe(self, listener: DeskListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- the backend's face: events in, commands out -------------------------
    def receive(self, session_id: str, event: SessionEvent) -> Entry | None:
        """Route what the backend reports about one chat to it (``ChatSession.receive``)."""
        try:
            session = self.sessions[session_id]
        except KeyError:
            raise ChatError(
                f"no chat {session_id!r} on this desk for {type(event).__name__}"
            ) from None
        return session.receive(event)

    def commands_to_send(self) -> list[cmd.Command]:
        """Commands queued since the last call, oldest first; each is handed out once."""
        out = list(self._outbox)
        self._outbox.clear()
        return out

    def on_commands(self, wake: Callable[[], None] | None = None) -> None:
        """A backend attaches: from now on every command is queued for it, and ``wake()``
        (if given) is called whenever one is (a cheap "there is something to send"
        nudge; the backend then pulls ``commands_to_send()``). A desk no backend
        attached to drops desk-level commands and leaves a chat's in its session
        (``ChatSession.take_commands``)."""
        self._attached = True
        self._wake = wake

    def connect(self, sink: Callable[[cmd.Command], None]) -> None:
        """Compatibility adapter for push backends: ``sink(command)`` for every command,
        at once and in order (it drains ``commands_to_send`` on each nudge)."""

        def deliver() -> None:
            while self._outbox:
                sink(self._outbox.popleft())

        self.on_commands(deliver)

    # -- chats -------------------------------------------------------------
    def offer(
        self,
        session_id: str,
        contact: ContactRecord,
        config: SessionConfig | None = None,
        *,
        kind: str = "chat",
        note: str | None = None,
        from_name: str | None = None,
        expires_at: float | None = None,
    ) -> ChatSession:
        """A chat is offered to this agent (F1); or (``kind``) a colleague transfers it
        to this agent with a ``note``, or invites this agent to a conference.
        ``expires_at``: clock time the offer moves on if unanswered (the view counts down).

        With auto-answer (``self.auto_answer``, or ``config.auto_answer`` when this offer
        has its own config) a new or transferred chat is accepted right after the
        listeners saw the offer, with an ``auto_accepted`` notice; conference
        invitations still wait for the agent."""
        if session_id in self.sessions:
            raise ValueError(f"chat {session_id!r} is already on this desk")
        session = self._new_session(session_id, contact, config or self.config)
        session.responses = self._responses
        self.sessions[session_id] = session
        if self.connection is not Connection.CONNECTED:
            session.set_connection(self.connection)
        session.offer_kind, session.offer_note, session.offer_from = kind, note, from_name
        session.offer_expires_at = expires_at
        if kind != "chat":
            code = "offer_transfer" if kind == "transfer" else "offer_invite"
            if from_name:
                text = with_detail(code, note, "note", name=from_name)
            else:
                text = with_detail(f"{code}_anonymous", note, "note")
            session.add_entry(Kind.NOTICE, SYSTEM_SENDER, text, visibility=Visibility.AGENTS)
        session.subscribe(lambda change, payload: self._on_session(session))
        self._notify("offer", session)
        auto = self.auto_answer if config is None else config.auto_answer
        if auto and kind != "conference" and session.state is SessionState.OFFERED:
            self._auto_accept(session)
        return session

    # -- standard responses (issue 16) -------------------------------------------
    @property
    def responses(self) -> ResponseLibrary:
        """The standard response library every chat on this desk uses."""
        return self._responses

    @responses.setter
    def responses(self, library: ResponseLibrary) -> None:
        self._responses = library
        for session in self.sessions.values():
            session.responses = library
        self._notify("responses", library)

    def _auto_accept(self, session: ChatSession) -> None:
        """Auto-answer: the desk accepts for the agent and says so in the transcript."""
        text = notice("auto_accepted")
        session.add_entry(Kind.NOTICE, SYSTEM_SENDER, text, visibility=Visibility.AGENTS)
        session.accept()

    # -- presence (issue 6) --------------------------------------------------
    def set_presence(self, presence: str) -> None:
        """This agent's own presence: "ready" (gets offers), "not_ready" or "away"."""
        if presence not in PRESENCES:
            raise ValueError(f"presence must be one of {PRESENCES}, got {presence!r}")
        self.presence = presence
        self.emit(cmd.SetPresence("", presence))
        self._notify("presence", presence)

    def set_connection(self, status: Connection | str) -> None:
        """The agent's connection (F12), for every chat on the desk and for the view
        while no chat is there yet (listeners get ``("connection", status)``)."""
        self.connection = Connection(status)
        for session in self.sessions.values():
            session.set_connection(self.connection)
        self._notify("connection", self.connection)

    def active_sessions(self) -> list[ChatSession]:
        """Chats still on the desk: everything not done, declined or ignored."""
        gone = (
            SessionState.DONE,
            SessionState.DECLINED,
            SessionState.IGNORED,
            SessionState.TRANSFERRED,
        )
        return [s for s in self.sessions.values() if s.state not in gone]

    # -- URL history (F17) -------------------------------------------------
    def record_url(self, url: str) -> None:
        history = [url, *(u for u in self.url_history if u != url)]
        self.url_history = history[: self.url_history_limit]
        self._notify("url_history", list(self.url_history))

    def emit(self, command: cmd.Command) -> None:
        """Queue a desk-level command (collaboration, IM) for the backend."""
        if not self._attached:
            return
        self._outbox.append(command)
        if self._wake is not None:
            self._wake()

    # -- internal ----------------------------------------------------------
    def _new_session(
        self, session_id: str, contact: ContactRecord, config: SessionConfig
    ) -> ChatSession:
        """The chat an offer makes (a replay's desk makes chats that replay)."""
        return ChatSession(
            session_id,
            contact,
            self.clock,
            agent=self.agent,
            config=config,
            url_recorder=self.record_url,
        )

    def _on_session(self, session: ChatSession) -> None:
        if self._attached:
            for command in session.take_commands():
                self.emit(command)
        self._notify("session", session)

    def _notify(self, change: str, payload: Any) -> None:
        for listener in list(self._listeners):
            listener(change, payload)
