"""The consulted side of F7 on the mock: a colleague consults this agent.

``backend.team.consult(...)`` makes a mock colleague ask; the agent answers,
declines, replies and hangs up through ``backend.desk.collab``; the colleague's
messages and answers come on the training clock.
"""

from __future__ import annotations

import pytest

from chat_widget import ChatError, MockBackend, VirtualClock
from chat_widget.backends.mock_colleagues import REPLY_SECONDS, MockColleague
from chat_widget.model import commands as cmd
from chat_widget.model.collaboration import ConsultState
from chat_widget.model.directory import Presence


@pytest.fixture
def backend() -> MockBackend:
    b = MockBackend("billing", clock=VirtualClock())
    b.clock.advance(1)
    return b


def _commands(backend: MockBackend) -> list[cmd.Command]:
    seen: list[cmd.Command] = []
    original = backend.handle

    def spy(command: cmd.Command) -> None:
        seen.append(command)
        original(command)

    backend.desk.connect(spy)
    return seen


def test_chat_consultation_answer_reply_hang_up(backend: MockBackend) -> None:
    collab = backend.desk.collab
    changes: list[str] = []
    backend.desk.subscribe(lambda change, _: changes.append(change))
    sent = _commands(backend)
    c = backend.team.consult(
        "c-lena", text="Can I refund 40 EUR?", contact_name="Jonas Becker", timeout=20
    )
    assert changes.count("consultations") == 1
    assert c.state is ConsultState.REQUESTED and c.medium == "chat"
    assert c.from_name == "Lena Hoffmann" and c.contact_name == "Jonas Becker"
    assert c.session_id not in backend.desk.sessions  # the colleague's chat, not ours
    assert c.expires_at == pytest.approx(backend.clock.now() + 20)
    view = collab.incoming_view()
    assert [v["id"] for v in view] == [c.id]
    assert view[0]["expires_at_ms"] == pytest.approx(c.expires_at * 1000)
    with pytest.raises(ChatError):
        collab.reply(c.id, "too early")  # not answered yet

    collab.answer(c.id)
    assert isinstance(sent[-1], cmd.AnswerConsultation) and sent[-1].accept
    assert c.state is ConsultState.ACTIVE and c.connected_at == backend.clock.now()
    assert [(m.sender_name, m.text, m.mine) for m in c.messages] == [
        ("Lena Hoffmann", "Can I refund 40 EUR?", False)
    ]
    with pytest.raises(ChatError):
        collab.answer(c.id)  # already active

    collab.reply(c.id, "  Yes, up to 500 EUR  ")
    assert c.messages[-1].text == "Yes, up to 500 EUR" and c.messages[-1].mine
    assert isinstance(sent[-1], cmd.SendConsultMessage)
    backend.clock.advance(REPLY_SECONDS - 0.5)
    assert len(c.messages) == 2  # the colleague answers on the clock, not at once
    backend.clock.advance(0.5)
    assert c.messages[-1].text == "Thanks, that helps." and not c.messages[-1].mine
    collab.reply(c.id, "Anything else?")
    backend.clock.advance(REPLY_SECONDS)
    assert c.messages[-1].text == "Got it, I'll tell the customer."
    # the request's expiry no longer applies once answered
    backend.clock.advance(30)
    assert c.state is ConsultState.ACTIVE
    with pytest.raises(ChatError):
        collab.reply(c.id, "   ")
    with pytest.raises(ChatError):
        collab.dismiss(c.id)  # still running

    collab.hang_up(c.id)
    assert isinstance(sent[-1], cmd.EndConsultation)
    assert c.state is ConsultState.ENDED and c.ended_at == backend.clock.now()
    with pytest.raises(ChatError):
        collab.reply(c.id, "after the end")
    view = collab.incoming_view()[0]
    assert view["state"] == "ended"
    assert [m["mine"] for m in view["messages"]] == [False, True, False, True, False]
    assert view["messages"][1] == {
        "from": backend.desk.agent.name,
        "text": "Yes, up to 500 EUR",
        "t": pytest.approx(c.messages[1].at * 1000),
        "mine": True,
    }
    collab.dismiss(c.id)
    assert collab.incoming_view() == [] and c.id in collab.incoming


def test_the_agent_chats_are_untouched(backend: MockBackend) -> None:
    """A consultation of this agent is no chat on the desk and never reaches a contact."""
    session = backend.desk.sessions["chat-1"]
    session.accept()
    backend.clock.advance(5)
    before = len(session.transcript)
    c = backend.team.consult("c-tobias", text="Is the outage in Berlin known?")
    backend.desk.collab.answer(c.id)
    backend.desk.collab.reply(c.id, "Yes, since 9:00")
    backend.clock.advance(REPLY_SECONDS)
    assert list(backend.desk.sessions) == ["chat-1"]
    assert len(session.transcript) == before
    got = backend.team.contact_received["chat-1"]
    assert not any("outage" in e.text or "9:00" in e.text for e in got)


def test_decline_withdraw_and_colleague_hangs_up(backend: MockBackend) -> None:
    collab = backend.desk.collab
    declined = backend.team.consult("c-lena")
    collab.decline(declined.id)
    assert declined.state is ConsultState.DECLINED and declined.messages == []
    with pytest.raises(ChatError):
        collab.answer(declined.id)

    missed = backend.team.consult("c-tobias", timeout=10)
    backend.clock.advance(9.9)
    assert missed.state is ConsultState.REQUESTED
    backend.clock.advance(0.1)
    assert missed.state is ConsultState.DECLINED  # withdrawn unanswered

    waits = backend.team.consult("c-lena", timeout=None)
    backend.clock.advance(600)
    assert waits.state is ConsultState.REQUESTED and waits.expires_at is None
    collab.answer(waits.id)
    collab.reply(waits.id, "Hello?")
    backend.team.hang_up(waits.id)  # the colleague ends it before answering the reply
    assert waits.state is ConsultState.ENDED
    backend.clock.advance(REPLY_SECONDS)
    assert [m.text for m in waits.messages][-1] == "Hello?"  # nothing after the end
    with pytest.raises(LookupError):
        backend.team.hang_up(waits.id)
    assert [v["state"] for v in collab.incoming_view()] == ["declined", "declined", "ended"]


def test_voice_consultation_is_a_simulated_call(backend: MockBackend) -> None:
    collab = backend.desk.collab
    c = backend.team.consult("c-lena", medium="voice")
    assert c.state is ConsultState.RINGING and c.medium == "voice"
    backend.clock.advance(2)
    collab.answer(c.id)
    assert c.state is ConsultState.ACTIVE and c.messages == []  # a call has no text
    with pytest.raises(ChatError):
        collab.reply(c.id, "by chat?")
    backend.clock.advance(42)
    collab.hang_up(c.id)
    assert c.ended_at is not None and c.connected_at is not None
    assert c.ended_at - c.connected_at == pytest.approx(42)


def test_scripted_colleague_and_bad_requests() -> None:
    team = (
        MockColleague("c-ana", "Ana", consult_followups=("One.", "Two.")),
        MockColleague("c-off", "Off", presence=Presence.OFFLINE),
    )
    backend = MockBackend("billing", clock=VirtualClock(), colleagues=list(team))
    collab = backend.desk.collab
    with pytest.raises(ValueError, match="offline"):
        backend.team.consult("c-off")
    with pytest.raises(ValueError, match="medium"):
        backend.team.consult("c-ana", medium="fax")
    with pytest.raises(KeyError):
        backend.team.consult("c-nobody")
    c = backend.team.consult("c-ana", text="<b>Hi</b>", followups=None)
    collab.answer(c.id)
    for said in ("a", "b", "c"):
        collab.reply(c.id, said)
        backend.clock.advance(REPLY_SECONDS)
    theirs = [m.text for m in c.messages if not m.mine]
    assert theirs == ["<b>Hi</b>", "One.", "Two.", "Two."]  # the last one repeats
    silent = backend.team.consult("c-ana", text="", followups=())
    collab.answer(silent.id)
    collab.reply(silent.id, "hello")
    backend.clock.advance(REPLY_SECONDS)
    assert [m.mine for m in silent.messages] == [True]
    with pytest.raises(ChatError):
        collab.answer("nope")
