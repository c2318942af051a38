"""``SupervisorDesk``: a supervisor's view of a team's chats (issue 14), sans-I/O.

Like ``AgentDesk`` it does no I/O and reads no wall clock: a backend
(``backends.supervisor_client`` for the server, ``backends.mock_team`` for the
mock) feeds it the team (agents, chats, entries) and pulls the commands the
supervisor's actions produce (``commands_to_send`` / ``on_commands``).
Listeners get ``("team", None)`` on any change and ``("entries", (chat_id,
[Entry]))`` for a chat's new entries.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..formats.transcript import AgentProfile, Entry, Kind, Role, Sender, Visibility
from . import commands as cmd
from .clock import Clock, VirtualClock
from .errors import ChatError
from .reply_timer import ReplyTimer, Thresholds, TimerColour

MODES = ("silent", "coach", "barge_in")
SPEAKING_MODES = ("coach", "barge_in")  # the agent knows; coaching may be sent
MAX_TEXT_LENGTH = 4000  # the protocol's MAX_TEXT_LENGTH
CHAT_STATES = ("queued", "active", "ended")  # "done": the row goes

DeskListener = Callable[[str, Any], None]


@dataclass
class TeamMember:
    """One agent of the team: ``chats`` counts the open chats they own."""

    id: str
    name: str
    presence: str = "offline"
    chats: int = 0


@dataclass(frozen=True, slots=True)
class RaisedFlag:
    """A help flag an agent raised on a chat (clock seconds)."""

    agent_id: str
    text: str | None
    raised_at: float


@dataclass(frozen=True, slots=True)
class ChatInfo:
    """What a backend knows of one chat besides its entries (``SupervisedChat``)."""

    id: str
    contact: str
    state: str
    owner_id: str | None = None
    owner_name: str | None = None
    members: tuple[str, ...] = ()
    created: float = 0.0
    accepted_at: float | None = None
    flag: RaisedFlag | None = None
    monitors: Mapping[str, str] = field(default_factory=dict)


@dataclass
class SupervisedChatView:
    """One team chat as the supervisor sees it; ``my_mode`` is this supervisor's
    monitoring mode (None: not monitoring), ``monitors`` every supervisor's."""

    id: str
    contact: str
    state: str
    owner_id: str | None
    owner_name: str | None
    members: tuple[str, ...]
    created: float
    accepted_at: float | None
    flag: RaisedFlag | None
    monitors: dict[str, str]
    my_mode: str | None = None
    entries: list[Entry] = field(default_factory=list)
    timer: ReplyTimer = field(default_factory=ReplyTimer)
    own_ids: set[str] = field(default_factory=set)  # client ids of this supervisor's lines

    @property
    def pending_since(self) -> float | None:
        """Start of the running reply wait (a contact message not yet answered)."""
        return self.timer.pending_since


class SupervisorBackend(Protocol):
    """What ``SupervisorWidget`` needs of a backend (``WebSocketSupervisor``, ``MockTeam``)."""

    @property
    def desk(self) -> SupervisorDesk: ...

    @property
    def clock(self) -> VirtualClock: ...

    @property
    def virtual_clock(self) -> bool: ...

    def start_realtime(self) -> bool: ...

    def close(self) -> None: ...


class SupervisorDesk:
    """A supervisor's dashboard state and actions.

    >>> desk = SupervisorDesk(VirtualClock(), supervisor=AgentProfile("Tess", "tess"))
    """

    def __init__(
        self,
        clock: Clock,
        *,
        supervisor: AgentProfile | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.clock = clock
        self.supervisor = supervisor or AgentProfile("Supervisor", "supervisor")
        self.thresholds = thresholds or Thresholds()
        self.agents: dict[str, TeamMember] = {}
        self.chats: dict[str, SupervisedChatView] = {}
        self.announce_monitoring = False
        self.connection = "connected"
        self.watch_next: set[str] = set()  # agents whose next chat is monitored (MonitorNext)
        self.last_error = ""
        self._listeners: list[DeskListener] = []
        self._outbox: deque[cmd.Command] = deque()
        self._wake: Callable[[], None] | None = None
        self._ids = itertools.count(1)

    # -- reading -------------------------------------------------------------------
    @property
    def queue(self) -> list[SupervisedChatView]:
        """Queued chats, oldest first."""
        return sorted((c for c in self.chats.values() if c.state == "queued"), key=_created)

    @property
    def flags(self) -> list[SupervisedChatView]:
        """Chats with a raised help flag, oldest flag first."""
        flagged = [c for c in self.chats.values() if c.flag is not None]
        return sorted(flagged, key=lambda c: (c.flag.raised_at if c.flag else 0.0, c.id))

    def colour(self, chat_id: str, t: float | None = None) -> TimerColour:
        """The chat's reply-reminder colour now (or at clock time ``t``)."""
        return self._chat(chat_id).timer.colour_at(self.clock.now() if t is None else t)

    def waiting(self, chat_id: str, t: float | None = None) -> float:
        """Seconds the chat has been queued (queued chats) at ``t`` (default now)."""
        return (self.clock.now() if t is None else t) - self._chat(chat_id).created

    def subscribe(self, listener: DeskListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- the backend's face: team in, commands out -----------------------------------
    def commands_to_send(self) -> list[cmd.Command]:
        """Commands queued since the last call, oldest first; each handed out once."""
        out = list(self._outbox)
        self._outbox.clear()
        return out

    def on_commands(self, wake: Callable[[], None]) -> None:
        """A backend attaches: ``wake()`` whenever a command is queued (it then pulls)."""
        self._wake = wake

    def load_team(
        self, agents: Iterable[TeamMember], chats: Iterable[ChatInfo], *, announce: bool = False
    ) -> None:
        """The whole team (``TeamState``): chats not in it are gone; entries are kept."""
        self.agents = {a.id: a for a in agents}
        self.announce_monitoring = announce
        infos = list(chats)
        keep = {i.id for i in infos}
        for gone in [c for c in self.chats if c not in keep]:
            del self.chats[gone]
        for info in infos:
            self._apply(info)
        self._changed()

    def update_chat(self, info: ChatInfo) -> None:
        """A chat was created or changed (``TeamChatChanged``); state "done": it goes."""
        if info.state == "done":
            self.chats.pop(info.id, None)
        else:
            self._apply(info)
        self._changed()

    def set_presence(self, agent_id: str, presence: str, name: str | None = None) -> None:
        member = self.agents.get(agent_id)
        if member is None:
            return  # not of this team
        member.presence = presence
        if name:
            member.name = name
        self._changed()

    def set_connection(self, status: str) -> None:
        self.connection = str(status)
        self._changed()

    def add_entries(self, chat_id: str, entries: Iterable[Entry]) -> list[Entry]:
        """Append a chat's new entries (re-indexed); this supervisor's own lines, already
        shown, are skipped by client id. Returns what was added."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        added: list[Entry] = []
        for entry in entries:
            if entry.client_id is not None and entry.client_id in chat.own_ids:
                continue
            added.append(self._record(chat, replace(entry, index=len(chat.entries))))
        if added:
            self._notify("entries", (chat_id, added))
            self._changed()
        return added

    def refused(self, chat_id: str | None, message: str) -> None:
        """The backend refused an action: show why, and go back to the server's mode."""
        self.last_error = message
        chat = self.chats.get(chat_id or "")
        if chat is not None:
            chat.my_mode = chat.monitors.get(self.supervisor.id)
        self._changed()

    # -- the supervisor's actions ------------------------------------------------------
    def monitor(self, chat_id: str, mode: str = "silent") -> None:
        """Monitor a chat (or switch mode): "silent", "coach" or "barge_in"."""
        if mode not in MODES:
            raise ChatError(f"mode must be one of {MODES}, got {mode!r}")
        chat = self._chat(chat_id)
        chat.my_mode = mode
        self._emit(cmd.Monitor(chat_id, mode))

    def barge_in(self, chat_id: str) -> None:
        """Join the chat: the contact sees the supervisor and their messages."""
        self.monitor(chat_id, "barge_in")

    def coach(self, chat_id: str, text: str) -> Entry:
        """A coaching line to the agents in the chat (never to the contact); switches a
        silent (or not yet monitored) chat to coach mode first."""
        chat = self._chat(chat_id)
        text = _checked(text)
        if chat.my_mode not in SPEAKING_MODES:
            self.monitor(chat_id, "coach")
        client_id = self._next_id(chat_id)
        entry = self._own_line(chat, Kind.COACHING, text, client_id, Visibility.AGENTS)
        self._emit(cmd.Coach(chat_id, client_id, text))
        return entry

    def say(self, chat_id: str, text: str) -> Entry:
        """A message to everyone in the chat (barge-in mode only): it answers the contact."""
        chat = self._chat(chat_id)
        text = _checked(text)
        if chat.my_mode != "barge_in":
            raise ChatError("barge in first: only then the contact reads your messages")
        client_id = self._next_id(chat_id)
        entry = self._own_line(chat, Kind.MESSAGE, text, client_id, Visibility.ALL)
        self._emit(cmd.BargeInMessage(chat_id, client_id, text))
        return entry

    def send(self, chat_id: str, text: str) -> Entry:
        """The composer's send: a message to everyone when barged in, else coaching."""
        if self._chat(chat_id).my_mode == "barge_in":
            return self.say(chat_id, text)
        return self.coach(chat_id, text)

    def leave(self, chat_id: str) -> None:
        """Back from barge-in or coach to silent monitoring; from silent: stop."""
        mode = self._chat(chat_id).my_mode
        if mode in SPEAKING_MODES:
            self.monitor(chat_id, "silent")
        elif mode == "silent":
            self.stop(chat_id)

    def stop(self, chat_id: str) -> None:
        """Stop monitoring (leaving the chat first if barged in)."""
        chat = self._chat(chat_id)
        chat.my_mode = None
        self._emit(cmd.StopMonitoring(chat_id))

    def lower_flag(self, chat_id: str) -> None:
        """Lower the chat's help flag (the agent sees who did)."""
        chat = self._chat(chat_id)
        if chat.flag is None:
            raise ChatError(f"chat {chat_id!r} has no raised help flag")
        chat.flag = None
        self._emit(cmd.SupervisorLowerFlag(chat_id))

    def monitor_next(self, agent_id: str, cancel: bool = False) -> None:
        """Monitor silently the next chat ``agent_id`` accepts (``cancel`` undoes it)."""
        if agent_id not in self.agents:
            raise ChatError(f"no agent {agent_id!r} in this team")
        if cancel:
            self.watch_next.discard(agent_id)
        else:
            self.watch_next.add(agent_id)
        self._emit(cmd.MonitorNext("", agent_id, cancel))

    # -- internal --------------------------------------------------------------------
    def _chat(self, chat_id: str) -> SupervisedChatView:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise ChatError(f"no chat {chat_id!r} in this team") from None

    def _apply(self, info: ChatInfo) -> None:
        chat = self.chats.get(info.id)
        newly_active = info.state == "active" and (chat is None or chat.state != "active")
        monitors = dict(info.monitors)
        mine = monitors.get(self.supervisor.id)
        if chat is None:
            chat = SupervisedChatView(
                info.id, info.contact, info.state, info.owner_id, info.owner_name,
                tuple(info.members), info.created, info.accepted_at, info.flag, monitors,
                my_mode=mine, timer=ReplyTimer(self.thresholds),
            )  # fmt: skip
            self.chats[info.id] = chat
        else:
            chat.contact, chat.state = info.contact, info.state
            chat.owner_id, chat.owner_name = info.owner_id, info.owner_name
            chat.members, chat.created = tuple(info.members), info.created
            chat.accepted_at, chat.flag = info.accepted_at, info.flag
            chat.monitors, chat.my_mode = monitors, mine
        if mine is not None and info.owner_id in self.watch_next and newly_active:
            self.watch_next.discard(info.owner_id)  # the next chat came: monitored now
        if info.owner_id and info.owner_id not in self.agents:
            self.agents[info.owner_id] = TeamMember(info.owner_id, info.owner_name or "")

    def _record(self, chat: SupervisedChatView, entry: Entry) -> Entry:
        chat.entries.append(entry)
        chat.timer.observe(entry)
        return entry

    def _own_line(
        self, chat: SupervisedChatView, kind: Kind, text: str, client_id: str, vis: Visibility
    ) -> Entry:
        me = Sender(Role.SUPERVISOR, self.supervisor.name, self.supervisor.id)
        latest = chat.entries[-1].time if chat.entries else float("-inf")
        entry = Entry(
            len(chat.entries), max(self.clock.now(), latest), kind, me, text,
            visibility=vis, client_id=client_id,
        )  # fmt: skip
        chat.own_ids.add(client_id)
        self._record(chat, entry)
        self._notify("entries", (chat.id, [entry]))
        return entry

    def _next_id(self, chat_id: str) -> str:
        return f"{chat_id}:{self.supervisor.id}:{next(self._ids)}"

    def _emit(self, command: cmd.Command) -> None:
        self.last_error = ""
        self._outbox.append(command)
        if self._wake is not None:
            self._wake()
        self._changed()

    def _changed(self) -> None:
        counts: dict[str, int] = {}
        for chat in self.chats.values():
            if chat.owner_id and chat.state != "queued":
                counts[chat.owner_id] = counts.get(chat.owner_id, 0) + 1
        for member in self.agents.values():
            member.chats = counts.get(member.id, 0)
        self._notify("team", None)

    def _notify(self, change: str, payload: Any) -> None:
        for listener in list(self._listeners):
            listener(change, payload)


def _created(chat: SupervisedChatView) -> tuple[float, str]:
    return (chat.created, chat.id)


def _checked(text: str) -> str:
    text = str(text).strip()
    if not text:
        raise ChatError("message is empty", code="message_empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise ChatError(
            f"message has {len(text)} characters; the limit is {MAX_TEXT_LENGTH}",
            code="message_too_long",
        )
    return text
