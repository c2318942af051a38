"""MockBackend auto-answer and capacity (issue 16) on the virtual clock."""

from chat_widget import AgentProfile, MockBackend, SessionState, VirtualClock
from chat_widget.formats.transcript import Role


def three_chats(**kwargs: object) -> MockBackend:
    scenarios = [
        {
            "name": f"chat {i}",
            "contact": {"name": f"Customer {i}"},
            "offer_after": i,
            "steps": [{"say": "Hello"}],
        }
        for i in (1, 2, 3)
    ]
    return MockBackend(scenarios, clock=VirtualClock(start=0.0), **kwargs)  # type: ignore[arg-type]


def test_auto_answer_accepts_and_the_scripted_customer_starts() -> None:
    backend = MockBackend("billing", clock=VirtualClock(start=0.0), auto_answer=True)
    backend.clock.advance(1)
    s = backend.first_session()
    assert s is not None and s.state is SessionState.ACCEPTED
    assert [e.code for e in s.transcript] == ["auto_accepted", "joined"]
    backend.clock.advance(5)  # the customer writes without anyone clicking Accept
    assert [e.text for e in s.transcript if e.sender.role is Role.CONTACT] == [
        "Hello, I was charged twice for my March invoice."
    ]


def test_the_third_chat_waits_until_one_is_done() -> None:
    backend = three_chats(capacity=2)
    backend.clock.advance(10)
    assert [s.contact.name for s in backend.desk.sessions.values()] == [
        "Customer 1",
        "Customer 2",
    ]
    first = backend.desk.sessions["chat-1"]
    first.accept()
    first.end()  # ended, wrapping up: still one of the agent's chats
    backend.clock.advance(10)
    assert len(backend.desk.sessions) == 2
    first.mark_done()
    assert backend.desk.sessions["chat-3"].contact.name == "Customer 3"
    assert backend.desk.sessions["chat-3"].state is SessionState.OFFERED


def test_a_declined_offer_makes_room() -> None:
    backend = three_chats(capacity=1)
    backend.clock.advance(10)
    assert list(backend.desk.sessions) == ["chat-1"]
    backend.desk.sessions["chat-1"].reject()
    assert list(backend.desk.sessions) == ["chat-1", "chat-2"]
    backend.desk.sessions["chat-2"].ignore()
    assert backend.desk.sessions["chat-3"].contact.name == "Customer 3"


def test_without_capacity_every_offer_arrives_on_time() -> None:
    backend = three_chats()
    backend.clock.advance(3)
    assert len(backend.desk.sessions) == 3


def test_the_customer_reads_the_nickname_in_the_joined_notice() -> None:
    agent = AgentProfile(name="Alice Agent", nickname="Ally")
    backend = MockBackend("billing", clock=VirtualClock(start=0.0), agent=agent)
    backend.clock.advance(1)
    s = backend.first_session()
    assert s is not None
    s.accept()
    assert s.transcript[-1].text == "Ally joined the chat"
    s.send("Hello")
    assert s.transcript[-1].sender.name == "Alice Agent"  # the agent's own view: the name
