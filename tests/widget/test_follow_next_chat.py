"""A ChatWidget on a backend follows the agent's chats (issue 10): after done or reject
the next offer shows; waiting offers are counted; transfer offers show kind, sender,
note and the time left, and move on when unanswered."""

from __future__ import annotations

from typing import Any

from chat_widget import ChatWidget, MockBackend, VirtualClock


def chat(name: str, offer_after: float, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "contact": {"name": name},
        "offer_after": offer_after,
        "steps": [{"say": f"Hello from {name}"}, {"pause": 1000}],
        **extra,
    }


def test_widget_moves_on_to_the_next_offer_after_done_and_after_reject() -> None:
    backend = MockBackend(
        [chat("Ann", 1), chat("Ben", 2), chat("Cem", 3)], clock=VirtualClock(), realtime=False
    )
    widget = ChatWidget(backend)
    assert widget.state["state"] == "waiting"
    backend.clock.advance(3)
    assert widget.state["contact"]["name"] == "Ann"
    assert widget.state["others_offered"] == 2
    widget.perform("accept", {})
    backend.clock.advance(5)
    widget.perform("end", {})
    widget.perform("done", {})
    # Ann is done: the oldest waiting offer takes the view, with the others counted
    assert widget.state["contact"]["name"] == "Ben"
    assert widget.state["state"] == "offered"
    assert widget.state["others_offered"] == 1
    widget.perform("reject", {})
    assert widget.state["contact"]["name"] == "Cem"
    assert widget.state["others_offered"] == 0
    widget.perform("ignore", {})
    assert widget.state["state"] == "waiting"
    assert widget.session is None


def test_a_done_chat_stays_in_view_until_the_next_one_comes() -> None:
    backend = MockBackend([chat("Ann", 1), chat("Ben", 20)], clock=VirtualClock(), realtime=False)
    widget = ChatWidget(backend)
    backend.clock.advance(1)
    widget.perform("accept", {})
    widget.perform("end", {})
    widget.perform("done", {})
    assert widget.state["state"] == "done"  # the trainee sees it is done
    assert widget.state["contact"]["name"] == "Ann"
    backend.clock.advance(20)
    assert widget.state["state"] == "offered"
    assert widget.state["contact"]["name"] == "Ben"


def test_an_active_chat_keeps_the_view_while_new_offers_are_counted() -> None:
    backend = MockBackend([chat("Ann", 1), chat("Ben", 5)], clock=VirtualClock(), realtime=False)
    widget = ChatWidget(backend)
    backend.clock.advance(1)
    widget.perform("accept", {})
    backend.clock.advance(5)
    assert widget.state["contact"]["name"] == "Ann"
    assert widget.state["others_offered"] == 1
    # a pinned widget stays with its chat
    pinned = ChatWidget(backend, session="chat-2")
    assert pinned.state["contact"]["name"] == "Ben"


def test_transfer_offer_shows_kind_sender_note_and_moves_on_unanswered() -> None:
    transfer = chat(
        "Dana",
        1,
        offer={"kind": "transfer", "from": "Kim Meyer", "note": "wants a refund", "timeout": 20},
    )
    backend = MockBackend([transfer, chat("Eli", 2)], clock=VirtualClock(), realtime=False)
    widget = ChatWidget(backend)
    backend.clock.advance(2)
    offer = widget.state["offer"]
    assert offer["kind"] == "transfer"
    assert offer["from"] == "Kim Meyer"
    assert offer["note"] == "wants a refund"
    assert offer["expires_at_ms"] == widget.state["offered_at_ms"] + 20_000
    backend.clock.advance(18)  # offered at 1 s, now 20 s: 1 s left
    assert widget.state["contact"]["name"] == "Dana"
    backend.clock.advance(1)
    # unanswered: withdrawn, and the next chat shows
    assert backend.desk.sessions["chat-1"].state == "ignored"
    assert widget.state["contact"]["name"] == "Eli"
    assert widget.state["offer"]["kind"] == "new"
    assert widget.state["offer"]["expires_at_ms"] is None
