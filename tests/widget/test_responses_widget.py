"""Standard responses in the ChatWidget (issue 16): the view state lists the library
filled for the chat in the view's language; the send action carries the response id."""

from __future__ import annotations

from chat_widget import ChatWidget, MockBackend, VirtualClock
from chat_widget.formats.transcript import AgentProfile


def test_view_state_has_the_filled_library_and_send_carries_the_response() -> None:
    backend = MockBackend(
        "billing",
        clock=VirtualClock(),
        realtime=False,
        agent=AgentProfile("Lena", "lena"),
        responses="sample",
    )
    widget = ChatWidget(backend)
    backend.clock.advance(3)
    widget.flush()
    greeting = next(r for r in widget.state["responses"] if r["id"] == "greeting")
    assert greeting == {
        "id": "greeting",
        "name": "Greeting",
        "category": "Opening",
        "shortcut": "hi",
        "text": "Hello Maria, I am Lena. How can I help?",
    }
    widget.locale = "de"
    widget.flush()
    greeting = next(r for r in widget.state["responses"] if r["id"] == "greeting")
    assert greeting["text"] == "Hallo Maria, ich bin Lena. Wie kann ich helfen?"

    widget.perform("accept", {})
    widget.perform("send", {"text": "Hallo Maria, ich bin Lena. Gerne!", "response": "greeting"})
    widget.perform("send", {"text": "typed"})
    assert widget.error == ""
    sent = [e for e in backend.first_session().transcript if e.sender.role == "agent"]
    assert [(e.text, e.response) for e in sent] == [
        ("Hallo Maria, ich bin Lena. Gerne!", "greeting"),
        ("typed", None),
    ]


def test_no_library_no_responses() -> None:
    backend = MockBackend("billing", clock=VirtualClock(), realtime=False)
    widget = ChatWidget(backend)
    backend.clock.advance(3)
    widget.flush()
    assert widget.state["responses"] == []
