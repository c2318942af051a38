"""Stateful property test: transfers, conferences and consultations on the mock.

Random sequences of the agent's actions, colleagues' moves and clock steps;
after every step: each live chat has exactly one owning agent, nobody is left
in a conference or consultation of a chat they are not part of on both sides,
and the contact never receives a consultation message.
"""

from __future__ import annotations

import contextlib

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from chat_widget import ChatError, MockBackend, VirtualClock
from chat_widget.formats.transcript import Kind, Visibility
from chat_widget.model.collaboration import ConsultState
from chat_widget.model.directory import Presence
from chat_widget.model.session import SessionState

CHATS = ["chat-1", "chat-2", "chat-3"]
AGENTS = ["c-lena", "c-tobias", "c-sophie", "c-markus", "c-eva"]
QUEUES = ["q-billing", "q-technical", "q-sales"]
EXTERNALS = ["x-brandt", "x-stadtwerke"]
OWNED = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT, SessionState.ENDED, SessionState.DONE)
LIVE = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT)


def _scenario(n: int) -> dict[str, object]:
    return {
        "name": f"customer {n}",
        "contact": {"name": f"Customer {n}"},
        "offer_after": n - 1,
        "steps": [
            {"say": f"Hello, question {n}", "typing": 1, "delay": 0},
            {"wait_for_reply": 20},
            {"say": "Still there?", "typing": 1},
            {"wait_for_reply": True},
            {"leave": "Bye"},
        ],
    }


chats = st.sampled_from(CHATS)


class CollaborationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.backend = MockBackend([_scenario(n) for n in (1, 2, 3)], clock=VirtualClock())
        self.backend.clock.advance(3)
        self.desk = self.backend.desk
        self.collab = self.desk.collab
        self.team = self.backend.team
        for sid in ("chat-1", "chat-2"):  # start mid-shift; chat-3 stays offered
            self.desk.sessions[sid].accept()

    def _try(self, fn: object, *args: object) -> None:
        """Do it (refusals are fine), then let 1.5 s pass: the agent is not instant."""
        with contextlib.suppress(ChatError):
            fn(*args)  # type: ignore[operator]
        self.backend.clock.advance(1.5)

    # -- the agent -------------------------------------------------------------
    @rule(sid=chats)
    def accept(self, sid: str) -> None:
        self._try(self.desk.sessions[sid].accept)

    @rule(sid=chats, text=st.sampled_from(["On it", "One moment"]))
    def reply(self, sid: str, text: str) -> None:
        self._try(self.desk.sessions[sid].send, text)

    @rule(sid=chats)
    def end(self, sid: str) -> None:
        self._try(self.desk.sessions[sid].end)

    @rule(sid=chats)
    def mark_done(self, sid: str) -> None:
        self._try(self.desk.sessions[sid].mark_done)

    @rule(sid=chats, who=st.sampled_from(AGENTS + QUEUES), note=st.sampled_from([None, "vip"]))
    def transfer(self, sid: str, who: str, note: str | None) -> None:
        kind = "queue" if who.startswith("q-") else "agent"
        self._try(self.collab.transfer, sid, kind, who, note)

    @rule(sid=chats)
    def cancel_transfer(self, sid: str) -> None:
        self._try(self.collab.cancel_transfer, sid)

    @rule(sid=chats, who=st.sampled_from(AGENTS))
    def invite(self, sid: str, who: str) -> None:
        self._try(self.collab.invite, sid, who)

    @rule(sid=chats)
    def leave_conference(self, sid: str) -> None:
        self._try(self.collab.leave_conference, sid)

    @rule(
        sid=chats,
        who=st.sampled_from(AGENTS + EXTERNALS),
        medium=st.sampled_from(["chat", "voice"]),
    )
    def consult(self, sid: str, who: str, medium: str) -> None:
        kind = "external" if who.startswith("x-") else "agent"
        self._try(self.collab.consult, sid, kind, who, medium)

    @rule(sid=chats, text=st.sampled_from(["secret question", "internal only"]))
    def consult_send(self, sid: str, text: str) -> None:
        self._try(self.collab.consult_send, sid, text)

    @rule(sid=chats)
    def end_consultation(self, sid: str) -> None:
        self._try(self.collab.end_consultation, sid)

    @rule(sid=chats, into=st.sampled_from(["conference", "transfer"]))
    def convert(self, sid: str, into: str) -> None:
        if into == "conference":
            self._try(self.collab.consultation_to_conference, sid)
        else:
            self._try(self.collab.consultation_to_transfer, sid, "see consult")

    # -- colleagues and time ------------------------------------------------------
    @rule(sid=chats)
    def colleague_leaves(self, sid: str) -> None:
        self.team.leave_conference(sid)

    @rule(agent=st.sampled_from(AGENTS[:4]), presence=st.sampled_from(list(Presence)))
    def presence(self, agent: str, presence: Presence) -> None:
        self.team.set_presence(agent, presence)

    @rule(seconds=st.sampled_from([0.5, 1.0, 2.0, 3.0, 5.0, 12.0]))
    def advance(self, seconds: float) -> None:
        self.backend.clock.advance(seconds)

    # -- invariants ------------------------------------------------------------------
    @invariant()
    def coverage(self) -> None:  # shows in --hypothesis-show-statistics
        for sid, session in self.desk.sessions.items():
            team = self.collab.teams.get(sid)
            if session.state is SessionState.TRANSFERRED:
                event("a chat was transferred away")
            if team and team.conference:
                event("a conference ran")
            if team and team.consultation and team.consultation.state is ConsultState.ACTIVE:
                event(f"a {team.consultation.medium} consultation was active")

    @invariant()
    def exactly_one_owner(self) -> None:
        for sid, session in self.desk.sessions.items():
            mine = session.state in OWNED
            theirs = sid in self.team.owner_of
            if session.state is SessionState.TRANSFERRED:
                assert theirs and not mine, sid
                owner = self.collab.team(sid).owner
                assert owner is not None and owner.id == self.team.owner_of[sid]
            elif mine:
                assert not theirs, sid
                owner = self.collab.team(sid).owner
                assert owner is not None and owner.id == self.desk.agent.id
            else:
                assert not theirs, sid

    @invariant()
    def no_orphaned_participant(self) -> None:
        for sid, session in self.desk.sessions.items():
            team = self.collab.teams.get(sid)
            conf = team.conference.id if team and team.conference else None
            assert conf == self.team.conference.get(sid), sid
            if conf is not None:
                assert session.state in LIVE, (sid, session.state)
            c = team.consultation if team else None
            live_c = c.id if c is not None and not c.state.terminal else None
            assert live_c == self.team.consulting.get(sid, (None,))[0], sid
            if live_c is not None:
                assert session.state in LIVE
            if team and team.transfer is not None:
                assert session.state is SessionState.ACCEPTED
                assert (sid, "transfer") in self.team._timers, sid
            if team and team.invite is not None:
                assert session.state is SessionState.ACCEPTED
                assert (sid, "invite") in self.team._timers, sid
        assert set(self.team.conference) <= set(self.desk.sessions)
        for c in (c for t in self.collab.teams.values() for c in t.consultations):
            assert c.state in ConsultState

    @invariant()
    def contact_never_gets_a_consultation(self) -> None:
        for sid, session in self.desk.sessions.items():
            consult_ids = set()
            for e in session.transcript:
                if e.kind is Kind.CONSULT:
                    assert e.visibility is Visibility.AGENTS
                    consult_ids.add(e.index)
            received = self.team.contact_received.get(sid, [])
            for e in received:
                assert e.kind is not Kind.CONSULT and e.visibility is Visibility.ALL
                assert e.index not in consult_ids
                assert e.text not in ("secret question", "internal only")


CollaborationMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None
)
TestCollaboration = CollaborationMachine.TestCase
