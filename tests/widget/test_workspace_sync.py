"""WorkspaceWidget sends per-chat changes: typing in one chat re-sends only that chat."""

from __future__ import annotations

from typing import Any

from chat_widget import MockBackend, VirtualClock, WorkspaceWidget


def two_chats() -> tuple[WorkspaceWidget, MockBackend]:
    backend = MockBackend(["billing", "impatient"], clock=VirtualClock(start=0.0))
    backend.clock.advance(1)
    ws = WorkspaceWidget(backend)
    for sid in list(backend.desk.sessions):
        ws.perform("accept", {}, sid)
    backend.customer.stop()
    assert len(ws.order) == 2
    return ws, backend


def test_typing_in_one_chat_sends_only_that_chats_state() -> None:
    ws, backend = two_chats()
    first, second = ws.order
    messages: list[dict[str, Any]] = []
    ws.send = messages.append  # type: ignore[method-assign]
    whole: list[Any] = []
    ws.observe(whole.append, names="chats")
    backend.desk.sessions[second].receive_typing(True)
    assert whole == []  # the chats trait is not re-sent
    [msg] = messages
    assert msg["type"] == "chat" and msg["session_id"] == second
    assert msg["chat"]["contact_typing_until_ms"] is not None
    # Python's copy is current (a view that loads the state afresh sees the typing)
    assert ws.chats[second] == msg["chat"]
    assert ws.chats[first]["contact_typing_until_ms"] is None


def test_a_chat_that_leaves_re_sends_the_chats_trait() -> None:
    ws, _backend = two_chats()
    first, second = ws.order
    whole: list[Any] = []
    ws.observe(whole.append, names="chats")
    for name in ("end", "done"):
        ws.perform(name, {}, first)
    assert ws.error == ""
    assert list(ws.chats) == [second] and ws.order == [second]
    assert len(whole) == 1
