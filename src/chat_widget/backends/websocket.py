"""``WebSocketBackend``: an agent's desk connected to ``chat-widget serve``.

It runs as one asyncio task on the running loop (the kernel's): it
authenticates with the agent's token in the first frame, turns server offers
into ``desk.offer(...)`` sessions, sends the sessions' commands as protocol
frames and maps server events onto ``session.receive_*``. The connection
status (F12) of every chat follows the real socket. After a drop it
reconnects with exponential backoff and jitter, resumes each owned chat
from the last ``seq`` it saw (the server sends exactly what was missed) and
resends every unacknowledged frame with its original client id, so the
server stores each message once.

    backend = WebSocketBackend("ws://127.0.0.1:8765/ws", token="...")
    ChatWidget(backend)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from ..clock_driver import ClockDriver, wall_ms
from ..formats import protocol as p
from ..formats.notices import notice, push_url_notice
from ..formats.transcript import AgentProfile, ContactRecord, Entry, Kind, Role, Sender
from ..model import commands as cmd
from ..model.clock import VirtualClock
from ..model.desk import AgentDesk
from ..model.directory import Colleague, ExternalContact, Presence, Queue
from ..model.session import CallState, ChatSession, Connection, SessionConfig, SessionState
from .base import Backend

log = logging.getLogger(__name__)

CALL_CONNECT_SECONDS = 3.0
OWNED_STATES = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT, SessionState.ENDED)
ADOPTED_STATES = ("active", "ended")  # server chat states a new desk takes back on auth
HANDOVER_EVENTS = (
    p.ChatTransferred,
    p.TransferRequested,
    p.TransferDeclined,
    p.InviteSent,
    p.InviteDeclined,
    p.ConsultationState,
    p.ParticipantJoined,
    p.ParticipantLeft,
    p.ChatEnded,
)
PRESENCE = {
    "ready": Presence.AVAILABLE,
    "not_ready": Presence.BUSY,
    "away": Presence.AWAY,
    "offline": Presence.OFFLINE,
}


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff with full jitter, in wall seconds (this is network I/O)."""

    initial: float = 0.2
    maximum: float = 10.0
    auth_timeout: float = 10.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0.5, 1.0) * min(self.maximum, self.initial * 2.0 ** min(attempt, 30))


class AuthenticationError(ConnectionError):
    """The server refused the token; reconnecting will not help."""


class WebSocketBackend(Backend):
    """One agent on the live chat server; ``ChatWidget(WebSocketBackend(url, token=...))``.

    ``agent``: how the agent appears locally (default: the name the server
    knows for the token). ``clock``: a ``VirtualClock`` for tests; by default
    the clock runs with the wall clock (a ``ClockDriver`` on the loop).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str,
        agent: AgentProfile | None = None,
        config: SessionConfig | None = None,
        clock: VirtualClock | None = None,
        ready: bool = True,
        reconnect: ReconnectPolicy | None = None,
        start: bool = True,
    ) -> None:
        self.url = url
        self._token = token
        self._agent_given = agent is not None
        self._own_clock = clock is None
        self.clock = clock or VirtualClock(start=wall_ms() / 1000.0)
        self.desk = AgentDesk(self.clock, agent=agent, config=config)
        self.desk.connect(self.handle)
        self.ready = ready
        self.policy = reconnect or ReconnectPolicy()
        self.status = Connection.DISCONNECTED
        self.last_seq: dict[str, int] = {}
        self.errors: list[p.Error] = []
        self.connects = 0
        self.duplicates = 0  # events received twice (should stay 0: resume is exact)
        self._outbox: OrderedDict[str, str] = OrderedDict()  # client id -> frame, until acked
        self._frame_conv: dict[str, str] = {}
        self._lost: set[str] = set()  # chats another agent won: ignore their commands
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self.im_last = 0  # the last team IM id seen (Auth.imAfter)
        self._consulting: set[str] = set()  # chats this agent is consulted on
        # (chat, seq) of consultation events already shown on the consulted side: joining the
        # chat later reads its history from 1 again, consultation included
        self._consultant_seen: set[tuple[str, int]] = set()
        self._offer_from: dict[str, tuple[str, str]] = {}  # conference offers: who invited
        self._history: dict[str, int] = {}  # transfer/conference offers: seq of the history
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._offers: asyncio.Queue[ChatSession] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.driver: ClockDriver | None = None
        if start:
            self.start()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background on the running loop (the kernel's, in a notebook)."""
        if self._task is not None:
            return
        loop = asyncio.get_running_loop()
        if self.driver is None and self._own_clock:
            self.driver = ClockDriver(self.clock)
            self.driver.start()
        self._closing = False
        self._task = loop.create_task(self._run())

    def close(self) -> None:
        """Disconnect for good."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.driver is not None:
            self.driver.stop()
        self._set_status(Connection.DISCONNECTED)

    async def aclose(self) -> None:
        task = self._task
        self.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def next_offer(self, timeout: float = 10.0) -> ChatSession:
        """The next chat the server offers this agent that is still waiting for an answer
        (offers answered, withdrawn or finished meanwhile are skipped)."""

        async def waiting() -> ChatSession:
            while True:
                session = await self._offers.get()
                if session.state is SessionState.OFFERED:
                    return session

        return await asyncio.wait_for(waiting(), timeout)

    def drop_connection(self) -> None:
        """Cut the socket as a network failure would (tests, demos); it reconnects."""
        if self._ws is not None:
            self._ws.transport.abort()

    @property
    def pending(self) -> int:
        """Frames sent or queued but not yet acknowledged by the server."""
        return len(self._outbox)

    # -- connection loop -------------------------------------------------------------
    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                await self._session()
                attempt = 0
            except AuthenticationError as exc:
                log.error("websocket backend: %s", exc)
                self._set_status(Connection.DISCONNECTED)
                return
            except asyncio.CancelledError:
                raise
            except (
                OSError,
                ConnectionClosed,
                InvalidHandshake,
                InvalidURI,
                TimeoutError,
                ValidationError,
                ValueError,
            ) as exc:
                log.info("websocket backend: connection lost (%r)", exc)
            if self._closing:
                return
            self._set_status(Connection.RECONNECTING)
            await asyncio.sleep(self.policy.delay(attempt))
            attempt += 1

    async def _session(self) -> None:
        ws, ok = await self._open()
        try:
            if self._adopt(ok):
                # the server replays a chat only for Auth.resume: open a second connection
                # that resumes the adopted chats from seq 0, then let this one go (the
                # agent stays online in between, so pending offers stay with us)
                first = ws
                try:
                    ws, _ = await self._open()
                finally:
                    await first.close()
            self._ws = ws
            self.connects += 1
            self._set_status(Connection.CONNECTED)
            self._connected.set()
            for frame in list(self._outbox.values()):  # resend, same client ids
                await ws.send(frame)
            async for raw in ws:
                self._on_frame(p.parse_server_frame(raw))
        finally:
            self._ws = None
            self._connected.clear()
            await ws.close()

    async def _open(self) -> tuple[ClientConnection, p.AuthOk]:
        """A new connection, authenticated."""
        ws = await connect(self.url, max_size=4 * 2**20, compression=None)
        try:
            return ws, await self._authenticate(ws)
        except BaseException:
            await ws.close()
            raise

    def _adopt(self, ok: p.AuthOk) -> bool:
        """Put the chats the server says this agent is in, but this desk has never seen
        (a new backend after a kernel restart), on the desk as accepted chats to be read
        from seq 0. True if there were any: they need a new ``Auth.resume``."""
        adopted = False
        for info in ok.conversations:
            conv = info.conversation
            if (
                conv in self.desk.sessions
                or conv in self._consulting
                or info.state not in ADOPTED_STATES
            ):
                continue
            session = self.desk.offer(conv, self._contact(info.contact))
            session.resume_accepted(client_id_tag=f"{self._prefix}-")  # new ids: no repeats
            self.last_seq[conv] = 0
            adopted = True
        return adopted

    async def _authenticate(self, ws: ClientConnection) -> p.AuthOk:
        resume = {
            s.id: self.last_seq.get(s.id, 0)
            for s in self.desk.sessions.values()
            if s.state in OWNED_STATES and s.id in self.last_seq and s.id not in self._lost
        }
        for conv in self._consulting:
            if conv in self.last_seq:
                resume.setdefault(conv, self.last_seq[conv])
        # ownership may have moved while we were away (transfer, conference): resume
        # every chat we had, the server sends what we may still see
        for sid, session in self.desk.sessions.items():
            if session.state is SessionState.ACCEPTED and sid in self.last_seq:
                resume.setdefault(sid, self.last_seq[sid])
        auth_id = self._next_id("auth")
        ready = self.ready and self.desk.presence == "ready"
        await ws.send(
            p.Auth(
                id=auth_id, token=self._token, resume=resume, ready=ready, im_after=self.im_last
            ).to_json()
        )

        async def answer() -> p.AuthOk:
            async for raw in ws:
                frame = p.parse_server_frame(raw)
                if isinstance(frame, p.AuthOk):
                    return frame
                if isinstance(frame, p.Error) and frame.code in (
                    p.ErrorCode.AUTH_FAILED,
                    p.ErrorCode.AUTH_TIMEOUT,
                ):
                    raise AuthenticationError(f"server refused the agent token: {frame.message}")
                self._on_frame(frame)
            raise ConnectionError("connection closed during authentication")

        ok = await asyncio.wait_for(answer(), self.policy.auth_timeout)
        if not self._agent_given:
            permissions = self.desk.agent.permissions
            self.desk.agent = AgentProfile(ok.agent.nickname, ok.agent.id, permissions)
            self.desk.team_im.agent = self.desk.agent
        d = ok.directory
        self.desk.directory.load(
            [
                Colleague(a.id, a.nickname, tuple(a.skills), PRESENCE[a.presence])
                for a in d.agents
                if a.id != ok.agent.id
            ],
            [Queue(q.id, q.name, q.skill) for q in d.queues],
            [ExternalContact(x.id, x.name, x.phone, x.organisation) for x in d.externals],
        )
        return ok

    # -- server → model ----------------------------------------------------------------
    def _on_frame(self, frame: p.ServerFrame) -> None:
        if isinstance(frame, p.Ack):
            self._acked(frame.id)
        elif isinstance(frame, p.Error):
            self._error(frame)
        elif isinstance(frame, p.Offer):
            self._offer(frame)
        elif isinstance(frame, p.OfferRevoked):
            session = self.desk.sessions.get(frame.conversation)
            if session is not None and session.state is SessionState.OFFERED:
                self._lost.add(session.id)
                session.receive_notice(notice("offer_withdrawn", reason=frame.reason))
                session.ignore()
        elif isinstance(frame, p.PresenceChanged):
            directory = self.desk.directory
            if frame.agent in directory.agents:
                directory.set_presence(frame.agent, PRESENCE[frame.presence])
            elif frame.agent != self.desk.agent.id:  # a colleague who is new on the server
                new = Colleague(
                    frame.agent, frame.nickname or frame.agent, (), PRESENCE[frame.presence]
                )
                directory.load(
                    [*directory.agents.values(), new],
                    directory.queues.values(),
                    directory.externals.values(),
                )
        elif isinstance(frame, p.ImMessage):
            self._im(frame)
        elif isinstance(frame, p.ConsultationOffered):
            self._consulting.add(frame.conversation)
            self.desk.collab.consultation_offered(
                frame.conversation,
                frame.consultation,
                frame.from_agent.id,
                frame.from_agent.nickname,
                frame.medium,
                frame.contact.nickname,
                expires_at=frame.expires_at / 1000.0,
            )
        elif p.is_event(frame):
            self._event(frame)  # type: ignore[arg-type]

    def _im(self, frame: p.ImMessage) -> None:
        if frame.im_id <= self.im_last:
            return
        self.im_last = frame.im_id
        me = self.desk.agent.id
        if frame.from_.id == me:
            return  # our own message: already in the thread (or sent from another device)
        self.desk.team_im.receive(
            frame.from_.id,
            frame.from_.nickname,
            frame.text,
            client_id=f"{frame.from_.id}:{frame.client_id}",
        )

    def _acked(self, frame_id: str) -> None:
        self._outbox.pop(frame_id, None)
        conversation = self._frame_conv.pop(frame_id, None)
        session = self.desk.sessions.get(conversation or "")
        if session is not None:
            session.acknowledge(frame_id)  # the message is no longer shown as sending

    def _error(self, frame: p.Error) -> None:
        self.errors.append(frame)
        log.warning("server error %s: %s", frame.code, frame.message)
        if frame.id is None or frame.id not in self._outbox:
            return
        conversation = self._frame_conv.get(frame.id)
        self._acked(frame.id)  # not retried: the server has decided
        session = self.desk.sessions.get(conversation or "")
        if session is None:
            return
        if frame.code is p.ErrorCode.OFFER_NOT_AVAILABLE and session.state is SessionState.ACCEPTED:
            self._lost.add(session.id)
            hand_over = getattr(session, "hand_over", None)
            if callable(hand_over):
                hand_over(notice("taken_elsewhere"))
            else:
                session.receive_notice(notice("taken_elsewhere"))
        else:
            session.receive_notice(notice("server_refused", message=frame.message))

    def _offer(self, frame: p.Offer) -> None:
        existing = self.desk.sessions.get(frame.conversation)
        if existing is not None:
            if existing.state is SessionState.OFFERED:
                return
            if existing.state in OWNED_STATES and frame.conversation not in self._lost:
                return
            del self.desk.sessions[frame.conversation]  # offered again after a withdrawal
        self._lost.discard(frame.conversation)
        self.last_seq.pop(frame.conversation, None)  # a new session reads the chat from 1
        contact = self._contact(frame.contact)
        who = frame.from_agent
        self._history[frame.conversation] = frame.last_seq or 0
        if frame.kind == "conference" and who is not None:
            self._offer_from[frame.conversation] = (who.id, who.nickname)
        session = self.desk.offer(
            frame.conversation,
            contact,
            kind=frame.kind,
            note=frame.note,
            from_name=None if who is None else who.nickname,
            expires_at=frame.expires_at / 1000.0,
        )
        self._offers.put_nowait(session)

    @staticmethod
    def _contact(c: p.ContactInfo) -> ContactRecord:
        return ContactRecord(
            name=c.nickname,
            phones=(c.phone,) if c.phone else (),
            emails=(c.email,) if c.email else (),
            id="customer",
        )

    def _event(self, event: p._Event) -> None:
        conv = event.conversation
        if event.seq <= self.last_seq.get(conv, 0):
            self.duplicates += 1  # the server resends nothing twice; this is a guard
            return
        self.last_seq[conv] = event.seq
        consultation = getattr(event, "consultation", None)
        if consultation is not None and consultation in self.desk.collab.incoming:
            self._consultant_event(event)  # type: ignore[arg-type]
            return
        session = self.desk.sessions.get(conv)
        if session is None or conv in self._lost:
            return
        with session.stamped(event.utc_time / 1000.0):  # the server's time, in every view
            self._session_event(event, session)

    def _session_event(self, event: p._Event, session: ChatSession) -> None:
        conv = event.conversation
        sender = event.from_
        mine = sender.type is p.ParticipantType.AGENT and sender.participant_id == session.agent.id
        client = sender.type is p.ParticipantType.CLIENT
        collab = self.desk.collab
        if event.seq <= self._history.get(conv, 0) and isinstance(event, HANDOVER_EVENTS):
            return  # history from before this agent joined: it changes nothing here
        if isinstance(event, p.ChatTransferred):
            if mine:
                session.receive_notice(notice("you_took_over", previous=event.previous.nickname))
            elif event.previous.participant_id == session.agent.id:
                self._lost.add(conv)  # commands of this chat are no longer ours to send
                who, name = sender.participant_id, sender.nickname
                if session.state in (
                    SessionState.ACCEPTED,
                    SessionState.CONTACT_LEFT,
                ) and not collab.transfer_accepted(conv, who, name):
                    session.hand_over(notice("transferred_to", name=name))
            return
        if isinstance(event, p.TransferDeclined):
            if not mine:
                collab.transfer_declined(conv, event.reason)
            return
        if isinstance(event, p.InviteDeclined):
            collab.invite_declined(conv, event.reason)
            return
        if isinstance(event, p.TransferRequested | p.InviteSent):
            return  # our own request (the model noted it) or history for a new owner
        if isinstance(event, p.ConsultationState):
            if mine and event.status == "requested":
                return
            collab.consultation_state(conv, event.consultation, event.status)
            return
        if isinstance(event, p.ConsultMessage):
            if mine and session.has_client_id(event.client_id):
                return
            collab.consult_message(
                conv,
                event.consultation,
                event.text,
                sender_id=sender.participant_id,
                sender_name=sender.nickname,
                client_id=event.client_id,
            )
            return
        if isinstance(event, p.ParticipantJoined) and sender.type is p.ParticipantType.AGENT:
            if mine:
                inviter = self._offer_from.pop(conv, None)
                if inviter is not None and session.offer_kind == "conference":
                    collab.joined_conference(conv, *inviter)
                # the notice the customer reads, in the agent's transcript too
                session.receive_notice(notice("joined", name=sender.nickname))
            elif not collab.participant_joined(conv, sender.participant_id, sender.nickname):
                session.receive_notice(notice("joined", name=sender.nickname))
            return
        if isinstance(event, p.ParticipantLeft) and sender.type is p.ParticipantType.AGENT:
            if mine:
                return  # we left (the model handed the chat over already)
            if not collab.participant_left(conv, sender.participant_id):
                session.receive_notice(notice("left", name=sender.nickname))
            return
        if isinstance(event, p.Message):
            if client:
                session.receive_message(event.text, client_id=f"{conv}#{event.seq}")
            elif not (mine and session.has_client_id(event.client_id)):
                role = Role.AGENT if sender.type is p.ParticipantType.AGENT else Role.EXTERNAL
                session.receive_message(
                    event.text,
                    sender=Sender(role, sender.nickname, sender.participant_id),
                    client_id=event.client_id,
                )
        elif isinstance(event, p.PushUrl):
            if not session.has_client_id(event.client_id):
                # a link pushed before a restart (ours: the model has it already otherwise)
                role = Role.AGENT if sender.type is p.ParticipantType.AGENT else Role.EXTERNAL
                default = push_url_notice(event.text, event.url)
                entry = Entry(
                    index=len(session.transcript),
                    time=event.utc_time / 1000.0,
                    kind=Kind.PUSH_URL,
                    sender=Sender(role, sender.nickname, sender.participant_id),
                    text=event.text,
                    url=event.url,
                    client_id=event.client_id,
                    code=default.code if default else None,
                    params=dict(default.params) if default else None,
                )
                session.append_entries([entry])
        elif isinstance(event, p.TypingStarted | p.TypingStopped):
            if client and session.state is SessionState.ACCEPTED:
                session.receive_typing(isinstance(event, p.TypingStarted))
        elif isinstance(event, p.ParticipantJoined):
            if not client:
                session.receive_notice(notice("joined", name=sender.nickname))
        elif isinstance(event, p.ParticipantLeft):
            if client:
                session.contact_left()
            else:
                session.receive_notice(notice("left", name=sender.nickname))
        elif isinstance(event, p.Notice):
            session.receive_notice(event.text)
        elif isinstance(event, p.ChatEnded) and not mine:
            session.receive_notice(notice("ended", name=sender.nickname))
        elif isinstance(event, p.ChatEnded) and session.state is SessionState.ACCEPTED:
            session.end()  # we ended it before a restart (adopted); the server acks again

    def _consultant_event(self, event: p.ConsultationState | p.ConsultMessage) -> None:
        """Events of a consultation this agent was asked for (the consultant's side)."""
        collab = self.desk.collab
        key = (event.conversation, event.seq)
        if key in self._consultant_seen:
            return
        self._consultant_seen.add(key)
        if isinstance(event, p.ConsultationState):
            collab.incoming_state(event.consultation, event.status, event.utc_time / 1000.0)
        elif event.from_.participant_id != self.desk.agent.id:
            at = event.utc_time / 1000.0  # the server's time (one truth for every view)
            collab.incoming_message(event.consultation, event.from_.nickname, event.text, at)

    # -- model → server ------------------------------------------------------------------
    def _next_id(self, what: str) -> str:
        return f"{self._prefix}:{what}:{next(self._ids)}"

    def _send(self, frame: p._ClientFrame, *, durable: bool = True) -> None:
        """Queue ``frame`` until acknowledged (``durable``) or send it if connected."""
        text = frame.to_json()
        if durable:
            self._outbox[frame.id] = text
            conversation = getattr(frame, "conversation", None)
            if conversation is not None:
                self._frame_conv[frame.id] = conversation
        ws = self._ws
        if ws is not None and self._connected.is_set():
            asyncio.get_running_loop().create_task(self._transmit(ws, text))

    @staticmethod
    async def _transmit(ws: ClientConnection, text: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(text)  # lost ones stay in the outbox and are resent

    def handle(self, command: cmd.Command) -> None:
        conv = command.session_id
        if conv and conv in self._lost:
            return
        if isinstance(command, cmd.Accept):
            self._send(p.Accept(id=self._next_id("accept"), conversation=conv))
        elif isinstance(command, cmd.Reject):
            self._send(p.Reject(id=self._next_id("reject"), conversation=conv))
        elif isinstance(command, cmd.SendMessage):
            self._mark_pending(conv, command.client_id)
            self._send(p.SendMessage(id=command.client_id, conversation=conv, text=command.text))
        elif isinstance(command, cmd.PushUrl):
            self._mark_pending(conv, command.client_id)
            self._send(
                p.SendPushUrl(
                    id=command.client_id, conversation=conv, url=command.url, text=command.text
                )
            )
        elif isinstance(command, cmd.SetTyping):
            kind = p.StartTyping if command.typing else p.StopTyping
            frame: Any = kind(id=self._next_id("typing"), conversation=conv)
            self._send(frame, durable=False)  # typing is not worth resending
        elif isinstance(command, cmd.SetDisposition):
            self._send(
                p.SetDisposition(
                    id=self._next_id("disposition"), conversation=conv, code=command.code
                )
            )
        elif isinstance(command, cmd.AddNote):
            self._send(p.AddNote(id=self._next_id("note"), conversation=conv, text=command.text))
        elif isinstance(command, cmd.End):
            self._send(p.EndChat(id=self._next_id("end"), conversation=conv))
        elif isinstance(command, cmd.MarkDone):
            self._send(p.MarkDone(id=self._next_id("done"), conversation=conv))
        elif isinstance(command, cmd.StartCall):
            self._simulate_call(conv)
        else:
            self._team_command(command)
        # Ignore: no frame (the server re-offers after its timeout).

    def _mark_pending(self, conv: str, client_id: str) -> None:
        """The agent's message shows as sending until the server acknowledges it."""
        session = self.desk.sessions.get(conv)
        if session is not None:
            session.mark_pending(client_id)

    def _team_command(self, command: cmd.Command) -> None:
        """Issue 4's colleague commands as protocol frames (issue 6)."""
        conv = command.session_id
        frame: Any = None
        if isinstance(command, cmd.RequestTransfer):
            frame = p.RequestTransfer(
                id=self._next_id("transfer"),
                conversation=conv,
                target_kind=command.target_kind,  # type: ignore[arg-type]
                target_id=command.target_id,
                note=command.note,
            )
        elif isinstance(command, cmd.CancelTransfer):
            frame = p.CancelTransfer(id=self._next_id("cancel"), conversation=conv)
        elif isinstance(command, cmd.InviteToConference):
            frame = p.InviteToConference(
                id=self._next_id("invite"), conversation=conv, target_id=command.target_id
            )
        elif isinstance(command, cmd.LeaveConference):
            self._lost.add(conv)
            frame = p.LeaveConference(id=self._next_id("leave"), conversation=conv)
        elif isinstance(command, cmd.StartConsultation):
            frame = p.StartConsultation(
                id=self._next_id("consult"),
                conversation=conv,
                consultation=command.consultation_id,
                target_kind=command.target_kind,  # type: ignore[arg-type]
                target_id=command.target_id,
                medium=command.medium,  # type: ignore[arg-type]
            )
        elif isinstance(command, cmd.AnswerConsultation):
            frame = p.AnswerConsultation(
                id=self._next_id("answer"),
                conversation=conv,
                consultation=command.consultation_id,
                accept=command.accept,
            )
        elif isinstance(command, cmd.SendConsultMessage):
            frame = p.SendConsultMessage(
                id=command.client_id,
                conversation=conv,
                consultation=command.consultation_id,
                text=command.text,
            )
        elif isinstance(command, cmd.EndConsultation):
            frame = p.EndConsultation(
                id=self._next_id("endconsult"),
                conversation=conv,
                consultation=command.consultation_id,
            )
        elif isinstance(command, cmd.ConvertConsultation):
            c = self.desk.collab.team(conv).consultation
            if c is not None:
                self._send(
                    p.EndConsultation(
                        id=self._next_id("endconsult"), conversation=conv, consultation=c.id
                    )
                )
                if command.into == "transfer":
                    frame = p.RequestTransfer(
                        id=self._next_id("transfer"),
                        conversation=conv,
                        target_kind="agent",
                        target_id=c.target_id,
                        note=command.note,
                    )
                else:
                    frame = p.InviteToConference(
                        id=self._next_id("invite"), conversation=conv, target_id=c.target_id
                    )
        elif isinstance(command, cmd.SendIm):
            frame = p.SendIm(id=command.client_id, to=command.colleague_id, text=command.text)
        elif isinstance(command, cmd.MarkImRead):
            frame = p.MarkImRead(id=self._next_id("imread"), colleague=command.colleague_id)
        elif isinstance(command, cmd.SetPresence):
            frame = p.SetPresence(
                id=self._next_id("presence"),
                presence=command.presence,  # type: ignore[arg-type]
            )
        if frame is not None:
            self._send(frame)

    def _simulate_call(self, conv: str) -> None:
        """Calls are simulated (no telephony), as in the mock."""
        session = self.desk.sessions.get(conv)
        if session is None:
            return

        def connect_call() -> None:
            if session.call_state is CallState.DIALING:
                session.set_call_state(CallState.CONNECTED)

        self.clock.call_at(self.clock.now() + CALL_CONNECT_SECONDS, connect_call)

    def _set_status(self, status: Connection) -> None:
        self.status = status
        self.desk.set_connection(status)
