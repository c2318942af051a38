"""Auto-answer (issue 16): the desk accepts offers itself as they arrive."""

from typing import Any

from chat_widget import AgentDesk, ContactRecord, SessionConfig, SessionState, VirtualClock
from chat_widget.formats.transcript import Kind
from chat_widget.model import commands as cmd


def test_auto_answer_accepts_at_offer_time_with_a_notice() -> None:
    clock = VirtualClock(start=100.0)
    desk = AgentDesk(clock, auto_answer=True)
    sent: list[cmd.Command] = []
    desk.connect(sent.append)
    seen: list[tuple[str, SessionState]] = []

    def listener(change: str, payload: Any) -> None:
        if change == "offer":
            seen.append((change, payload.state))

    desk.subscribe(listener)
    session = desk.offer("a", ContactRecord("Maria Weber"))
    assert seen == [("offer", SessionState.OFFERED)]  # the view still sees it arrive
    assert session.state is SessionState.ACCEPTED
    assert session.accepted_at == 100.0
    assert [type(c) for c in sent] == [cmd.Accept]
    notices = [e.code for e in session.transcript if e.kind is Kind.NOTICE]
    assert notices == ["auto_accepted"]


def test_auto_answer_from_the_session_config_and_switchable_live() -> None:
    desk = AgentDesk(VirtualClock(), config=SessionConfig(auto_answer=True))
    assert desk.offer("a", ContactRecord("A")).state is SessionState.ACCEPTED
    desk.auto_answer = False
    assert desk.offer("b", ContactRecord("B")).state is SessionState.OFFERED


def test_without_auto_answer_offers_wait_for_the_agent() -> None:
    desk = AgentDesk(VirtualClock())
    session = desk.offer("a", ContactRecord("A"))
    assert session.state is SessionState.OFFERED
    assert not [e for e in session.transcript if e.code == "auto_accepted"]


def test_transfers_are_auto_answered_but_conference_invitations_wait() -> None:
    desk = AgentDesk(VirtualClock(), auto_answer=True)
    transfer = desk.offer("t", ContactRecord("T"), kind="transfer", from_name="Kim")
    invite = desk.offer("c", ContactRecord("C"), kind="conference", from_name="Kim")
    assert transfer.state is SessionState.ACCEPTED
    assert invite.state is SessionState.OFFERED
