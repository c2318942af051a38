"""WorkspaceWidget syncs colleagues' consultations of this agent (F7, consulted side)."""

from __future__ import annotations

from typing import Any

from chat_widget import MockBackend, VirtualClock, WorkspaceWidget
from chat_widget.backends.mock_colleagues import REPLY_SECONDS


def _act(ws: WorkspaceWidget, name: str, **args: Any) -> None:
    """What the view sends when the agent clicks (no session: a desk-level action)."""
    ws._on_view_message(ws, {"type": "action", "name": name, "args": args}, None)


def test_request_answer_reply_hang_up_dismiss_through_the_view() -> None:
    backend = MockBackend("billing", clock=VirtualClock())
    backend.clock.advance(1)
    ws = WorkspaceWidget(backend)
    assert ws.consultations == []
    c = backend.team.consult("c-lena", text="<img src=x onerror=alert(1)>", contact_name="Jonas")
    [view] = ws.consultations
    assert view["id"] == c.id and view["state"] == "requested" and view["medium"] == "chat"
    assert view["from_name"] == "Lena Hoffmann" and view["contact_name"] == "Jonas"
    assert view["expires_at_ms"] is not None and view["messages"] == []

    _act(ws, "incoming_answer", consultation_id=c.id)
    assert ws.error == ""
    [view] = ws.consultations
    assert view["state"] == "active" and view["connected_at_ms"] is not None
    # the colleague's text reaches the view as data (the view renders it as text)
    assert view["messages"][0]["text"] == "<img src=x onerror=alert(1)>"

    _act(ws, "incoming_reply", consultation_id=c.id, text="Yes, go ahead")
    assert [m["mine"] for m in ws.consultations[0]["messages"]] == [False, True]
    backend.clock.advance(REPLY_SECONDS)
    assert ws.consultations[0]["messages"][-1]["text"] == "Thanks, that helps."

    _act(ws, "incoming_reply", consultation_id=c.id, text="   ")
    assert ws.error == "message is empty"
    _act(ws, "incoming_dismiss", consultation_id=c.id)
    assert "still running" in ws.error
    _act(ws, "incoming_hang_up", consultation_id=c.id)
    assert ws.error == "" and ws.consultations[0]["state"] == "ended"
    _act(ws, "incoming_dismiss", consultation_id=c.id)
    assert ws.consultations == []
    # the agent's own chat pane is untouched: no chat was created for the consultation
    assert list(ws.chats) == ["chat-1"]


def test_decline_unknown_and_a_fresh_widget_sees_what_is_waiting() -> None:
    backend = MockBackend("billing", clock=VirtualClock())
    first = backend.team.consult("c-tobias", medium="voice", contact_name="Maria")
    second = backend.team.consult("c-lena")
    ws = WorkspaceWidget(backend)  # opened after the requests came in
    assert [v["id"] for v in ws.consultations] == [first.id, second.id]
    assert ws.consultations[0]["state"] == "ringing"
    _act(ws, "incoming_decline", consultation_id=second.id)
    assert [v["state"] for v in ws.consultations] == ["ringing", "declined"]
    _act(ws, "incoming_answer", consultation_id="nope")
    assert "no consultation 'nope'" in ws.error
    _act(ws, "incoming_answer")  # no id at all: an error in the view, nothing breaks
    assert ws.error
    _act(ws, "incoming_answer", consultation_id=first.id)
    assert ws.error == "" and ws.consultations[0]["state"] == "active"
    ws.close()
    backend.team.hang_up(first.id)  # a closed widget no longer listens
    assert ws.consultations[0]["state"] == "active"
