"""``AgentClient``: the agent's side of the chat protocol, without I/O.

Like the protocol cores of websockets and h11 it does no I/O and keeps no
time of its own: feed it what the server sent (``receive_data`` with the
frame text, or ``receive_frame``) and it updates the ``AgentDesk`` (offers,
sessions, colleagues, IMs); feed it the desk's commands (``handle``) and it
turns them into protocol frames. Ask ``data_to_send()`` what to write to the
socket. It keeps what survives a dropped connection: every frame not yet
acknowledged (the outbox, resent in order with the same ids by
``connection_made``), the last ``seq`` seen per chat (``auth_frame`` resumes
from there) and the chats that are no longer ours.

    client = AgentClient(desk)
    socket.send(client.auth_frame(token))   # ... AuthOk arrives
    client.authenticated(ok)
    for text in client.connection_made(): socket.send(text)
    client.receive_data(raw); for text in client.data_to_send(): socket.send(text)
"""

from __future__ import annotations

import logging

from ...formats import protocol as p
from ...formats.notices import notice
from ...formats.responses import Response, ResponseLibrary
from ...formats.transcript import AgentProfile
from ...model import commands as cmd
from ...model.desk import AgentDesk
from ...model.directory import Colleague, ExternalContact, Queue
from ...model.session import ChatSession, SessionState
from ..frame_queue import FrameQueue, token_refusal
from . import incoming
from .incoming import OWNED_STATES, PRESENCE, contact_record
from .outgoing import NOT_DURABLE, frames_for

log = logging.getLogger(__name__)

ADOPTED_STATES = ("active", "ended")  # server chat states a new desk takes back on auth


class AgentClient(FrameQueue):
    """One agent's protocol state; the I/O layer around it only moves text.

    ``prefix``: what makes this client's frame ids unique (default: random).
    """

    def __init__(self, desk: AgentDesk, *, prefix: str | None = None) -> None:
        super().__init__(prefix)
        self.desk = desk
        self.last_seq: dict[str, int] = {}
        self.errors: list[p.Error] = []
        self.duplicates = 0  # events received twice (should stay 0: resume is exact)
        self.im_last = 0  # the last team IM id seen (Auth.imAfter)
        self.lost: set[str] = set()  # chats another agent won: ignore their commands
        self.consulting: set[str] = set()  # chats this agent is consulted on
        # (chat, seq) of consultation events already shown on the consulted side: joining the
        # chat later reads its history from 1 again, consultation included
        self.consultant_seen: set[tuple[str, int]] = set()
        self.offer_from: dict[str, tuple[str, str]] = {}  # conference offers: who invited
        self.history: dict[str, int] = {}  # transfer/conference offers: seq of the history
        # GetHistoryTranscript frames not yet answered: frame id -> (chat, earlier chat)
        self.history_requests: dict[str, tuple[str, str]] = {}
        self._offers: list[ChatSession] = []

    # -- the I/O layer's verbs -------------------------------------------------------
    def receive_data(self, raw: str | bytes) -> None:
        """One frame as received; raises ``ValidationError``/``ValueError`` if malformed."""
        self.receive_frame(p.parse_server_frame(raw))

    def receive_frame(self, frame: p.ServerFrame) -> None:
        """One parsed frame from the server."""
        incoming.receive(self, frame)

    def handle(self, command: cmd.Command) -> None:
        """A command of the desk (its sink): queue its frames."""
        conv = command.session_id
        if conv and conv in self.lost:
            return
        for frame in frames_for(self, command):
            self.send(frame, durable=not isinstance(frame, NOT_DURABLE))

    def offers_received(self) -> list[ChatSession]:
        """The sessions offered since the last call, in order."""
        out, self._offers = self._offers, []
        return out

    # -- authentication ----------------------------------------------------------------
    def auth_frame(self, token: str, *, ready: bool = True) -> str:
        """The first frame of a connection: the token, and where each chat resumes."""
        resume = {
            s.id: self.last_seq.get(s.id, 0)
            for s in self.desk.sessions.values()
            if s.state in OWNED_STATES and s.id in self.last_seq and s.id not in self.lost
        }
        for conv in self.consulting:
            if conv in self.last_seq:
                resume.setdefault(conv, self.last_seq[conv])
        # ownership may have moved while we were away (transfer, conference): resume
        # every chat we had, the server sends what we may still see
        for sid, session in self.desk.sessions.items():
            if session.state is SessionState.ACCEPTED and sid in self.last_seq:
                resume.setdefault(sid, self.last_seq[sid])
        ready = ready and self.desk.presence == "ready"
        auth = p.Auth(
            id=self.next_id("auth"), token=token, resume=resume, ready=ready, im_after=self.im_last
        )
        return auth.to_json()

    @staticmethod
    def refusal(frame: p.ServerFrame) -> str | None:
        """Why the server refused the token (reconnecting will not help), or None."""
        return token_refusal(frame, "agent")

    def authenticated(self, ok: p.AuthOk, *, name_agent: bool = True) -> None:
        """Take the agent's name (``name_agent``), the team's directory and the standard
        responses (issue 16) from ``ok``."""
        if name_agent:
            permissions = self.desk.agent.permissions
            self.desk.agent = AgentProfile(
                ok.agent.nickname, ok.agent.id, permissions, nickname=ok.shown_as
            )
            self.desk.team_im.agent = self.desk.agent
        self.desk.responses = ResponseLibrary(  # the server's library (issue 16)
            (Response(r.id, r.name, r.category, r.shortcut, dict(r.texts)) for r in ok.responses),
            "the server's library",
        )
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

    def adopt(self, ok: p.AuthOk) -> bool:
        """Put the chats the server says this agent is in, but this desk has never seen
        (a new backend after a kernel restart), on the desk as accepted chats to be read
        from seq 0. True if there were any: they need a new ``Auth.resume``."""
        adopted = False
        for info in ok.conversations:
            conv = info.conversation
            if (
                conv in self.desk.sessions
                or conv in self.consulting
                or info.state not in ADOPTED_STATES
            ):
                continue
            session = self.desk.offer(conv, contact_record(info.contact))
            session.resume_accepted(client_id_tag=f"{self._prefix}-")  # new ids: no repeats
            self.last_seq[conv] = 0
            adopted = True
        return adopted

    # -- bookkeeping the translation uses ------------------------------------------------
    def offered(self, session: ChatSession) -> None:
        self._offers.append(session)

    def mark_pending(self, conv: str, client_id: str) -> None:
        """The agent's message shows as sending until the server acknowledges it."""
        session = self.desk.sessions.get(conv)
        if session is not None:
            session.mark_pending(client_id)

    def acked(self, frame_id: str) -> None:
        conversation = self.settle(frame_id)
        session = self.desk.sessions.get(conversation or "")
        if session is not None:
            session.acknowledge(frame_id)  # the message is no longer shown as sending

    def error(self, frame: p.Error) -> None:
        self.errors.append(frame)
        log.warning("server error %s: %s", frame.code, frame.message)
        if frame.id is None or frame.id not in self.outbox:
            return
        conversation = self.frame_conv.get(frame.id)
        session = self.desk.sessions.get(conversation or "")
        if session is not None and frame.id in session.pending:
            session.refuse(frame.id)  # the message shows "not delivered", not delivered
        self.acked(frame.id)  # not retried: the server has decided
        if session is None:
            return
        if frame.code is p.ErrorCode.OFFER_NOT_AVAILABLE and session.state is SessionState.ACCEPTED:
            self.lost.add(session.id)
            hand_over = getattr(session, "hand_over", None)
            if callable(hand_over):
                hand_over(notice("taken_elsewhere"))
            else:
                session.receive_notice(notice("taken_elsewhere"))
        else:
            session.receive_notice(notice("server_refused", message=frame.message))
