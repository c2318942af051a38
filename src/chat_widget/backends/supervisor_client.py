"""``SupervisorClient``: the supervisor's side of the chat protocol, without I/O.

The supervisor's twin of ``AgentClient``: feed it what the server sent
(``receive_data``/``receive_frame``) and it updates the ``SupervisorDesk``
(``TeamState``, ``TeamChatChanged``, ``PresenceChanged``, and every event of
every team chat, as transcript entries described by the shared table
``formats.event_entries``, each ``seq`` once per chat); feed it the desk's
commands (``handle``) and it queues protocol frames (``data_to_send``). Frames
not yet acknowledged wait in the outbox and go again, same ids, on
``connection_made``; ``auth_frame`` resumes every chat from its last ``seq``.
"""

from __future__ import annotations

import logging

from ..formats import protocol as p
from ..formats.event_entries import entry_parts
from ..formats.notices import Notice
from ..formats.transcript import AgentProfile, Entry, Kind, Role, Sender, Visibility
from ..model import commands as cmd
from ..model.supervisor_desk import ChatInfo, RaisedFlag, SupervisorDesk, TeamMember
from .frame_queue import FrameQueue, token_refusal

log = logging.getLogger(__name__)

ROLES = {
    p.ParticipantType.CLIENT: Role.CONTACT,
    p.ParticipantType.AGENT: Role.AGENT,
    p.ParticipantType.EXTERNAL: Role.EXTERNAL,
    p.ParticipantType.SYSTEM: Role.SYSTEM,
    p.ParticipantType.SUPERVISOR: Role.SUPERVISOR,
}
EARLY_LIMIT = 1000  # entries kept per chat that arrive before the chat itself


def chat_info(chat: p.SupervisedChat) -> ChatInfo:
    """The server's ``SupervisedChat`` as the desk's ``ChatInfo`` (ms → clock seconds)."""
    flag = chat.flag
    return ChatInfo(
        id=chat.conversation,
        contact=chat.contact.nickname,
        state=chat.state,
        owner_id=chat.owner.id if chat.owner else None,
        owner_name=chat.owner.nickname if chat.owner else None,
        members=tuple(chat.members),
        created=chat.created / 1000.0,
        accepted_at=None if chat.accepted_at is None else chat.accepted_at / 1000.0,
        flag=None if flag is None else RaisedFlag(flag.agent, flag.text, flag.raised_at / 1000.0),
        monitors=dict(chat.monitors),
    )


def event_entry(event: p._Event) -> Entry | None:
    """The transcript entry an event shows (index 0: the desk numbers it), or None."""
    parts = entry_parts(event)
    if parts is None:
        return None
    said = parts.text if isinstance(parts.text, Notice) else None
    who = event.from_
    return Entry(
        index=0,
        time=event.utc_time / 1000.0,
        kind=Kind(parts.kind),
        sender=Sender(ROLES.get(who.type, Role.EXTERNAL), who.nickname, who.participant_id),
        text=said.text if said else str(parts.text),
        url=parts.url,
        visibility=Visibility(parts.visibility or event.visibility),
        client_id=event.client_id,
        code=said.code if said else None,
        params=dict(said.params) if said else None,
    )


class SupervisorClient(FrameQueue):
    """One supervisor's protocol state; the I/O layer around it only moves text."""

    def __init__(self, desk: SupervisorDesk, *, prefix: str | None = None) -> None:
        super().__init__(prefix)
        self.desk = desk
        self.last_seq: dict[str, int] = {}
        self.errors: list[p.Error] = []
        self.duplicates = 0
        self._early: dict[str, list[Entry]] = {}  # events of chats not on the desk yet

    # -- the I/O layer's verbs -------------------------------------------------------
    def receive_data(self, raw: str | bytes) -> None:
        """One frame as received; raises ``ValidationError``/``ValueError`` if malformed."""
        self.receive_frame(p.parse_server_frame(raw))

    def receive_frame(self, frame: p.ServerFrame) -> None:
        desk = self.desk
        if isinstance(frame, p.TeamState):
            members = [TeamMember(a.id, a.nickname, a.presence) for a in frame.agents]
            infos = [chat_info(c) for c in frame.chats]
            desk.load_team(members, infos, announce=frame.announce_monitoring)
            for gone in set(self.last_seq) - set(desk.chats):
                del self.last_seq[gone]
            for info in infos:
                self._flush_early(info.id)
        elif isinstance(frame, p.TeamChatChanged):
            info = chat_info(frame.chat)
            desk.update_chat(info)
            if info.state == "done":
                self.last_seq.pop(info.id, None)
                self._early.pop(info.id, None)
            else:
                self._flush_early(info.id)
        elif isinstance(frame, p.PresenceChanged):
            desk.set_presence(frame.agent, frame.presence, frame.nickname)
        elif isinstance(frame, p.AuthOk):
            self.authenticated(frame)
        elif isinstance(frame, p.Ack):
            self.acked(frame.id)
        elif isinstance(frame, p.Error):
            self.error(frame)
        elif p.is_event(frame):
            self._event(frame)  # type: ignore[arg-type]

    def handle(self, command: cmd.Command) -> None:
        """A command of the desk: queue its frame."""
        frame = self._frame_for(command)
        if frame is not None:
            self.send(frame)

    def pump(self) -> None:
        """Take every command the desk queued (the desk's ``on_commands`` wake-up)."""
        for command in self.desk.commands_to_send():
            self.handle(command)

    # -- authentication ----------------------------------------------------------------
    def auth_frame(self, token: str) -> str:
        """The first frame: the token, and the last seq seen of every team chat."""
        resume = {conv: seq for conv, seq in self.last_seq.items() if conv in self.desk.chats}
        return p.Auth(id=self.next_id("auth"), token=token, resume=resume).to_json()

    @staticmethod
    def refusal(frame: p.ServerFrame) -> str | None:
        """Why the server refused the token (reconnecting will not help), or None."""
        if isinstance(frame, p.AuthOk) and frame.role != "supervisor":
            return f"{frame.agent.nickname!r} is an agent, not a supervisor"
        return token_refusal(frame, "supervisor")

    def authenticated(self, ok: p.AuthOk) -> None:
        self.desk.supervisor = AgentProfile(ok.agent.nickname, ok.agent.id)

    # -- bookkeeping -------------------------------------------------------------------
    def acked(self, frame_id: str) -> None:
        self.settle(frame_id)

    def error(self, frame: p.Error) -> None:
        self.errors.append(frame)
        log.warning("server error %s: %s", frame.code, frame.message)
        if frame.id is None or frame.id not in self.outbox:
            return
        conversation = self.frame_conv.get(frame.id) or frame.conversation
        self.acked(frame.id)  # not retried: the server has decided
        self.desk.refused(conversation, f"{frame.code}: {frame.message}")

    def _frame_for(self, command: cmd.Command) -> p._ClientFrame | None:
        conv = command.session_id
        if isinstance(command, cmd.Monitor):
            return p.Monitor(id=self.next_id("monitor"), conversation=conv, mode=command.mode)  # type: ignore[arg-type]
        if isinstance(command, cmd.StopMonitoring):
            return p.StopMonitoring(id=self.next_id("stop"), conversation=conv)
        if isinstance(command, cmd.MonitorNext):
            agent, cancel = command.agent_id, command.cancel
            return p.MonitorNext(id=self.next_id("next"), agent=agent, cancel=cancel)
        if isinstance(command, cmd.Coach):
            return p.SendCoaching(id=command.client_id, conversation=conv, text=command.text)
        if isinstance(command, cmd.BargeInMessage):
            return p.SendMessage(id=command.client_id, conversation=conv, text=command.text)
        if isinstance(command, cmd.SupervisorLowerFlag):
            return p.LowerFlag(id=self.next_id("lower"), conversation=conv)
        log.warning("supervisor client: no frame for %s", type(command).__name__)
        return None

    # -- conversation events -----------------------------------------------------------
    def _event(self, event: p._Event) -> None:
        conv = event.conversation
        if event.seq <= self.last_seq.get(conv, 0):
            self.duplicates += 1  # the server resends nothing twice; this is a guard
            return
        self.last_seq[conv] = event.seq
        entry = event_entry(event)
        if entry is None:
            return
        if conv in self.desk.chats:
            self.desk.add_entries(conv, [entry])
        else:
            early = self._early.setdefault(conv, [])
            if len(early) < EARLY_LIMIT:
                early.append(entry)

    def _flush_early(self, conv: str) -> None:
        early = self._early.pop(conv, None)
        if early and conv in self.desk.chats:
            self.desk.add_entries(conv, early)
