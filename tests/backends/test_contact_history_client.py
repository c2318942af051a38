"""Issue 16, contact history without sockets: the model's history, the agent client's
frames (ContactHistory, GetHistoryTranscript, HistoryTranscript) and the mock's
scenario ``history:``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chat_widget import MockBackend, ScenarioError, VirtualClock
from chat_widget.backends.agent_client import AgentClient
from chat_widget.formats import protocol as p
from chat_widget.formats.transcript import ContactRecord, Role
from chat_widget.model import commands as cmd
from chat_widget.model.contact_history import HistoryItem
from chat_widget.model.desk import AgentDesk
from chat_widget.model.session import ChatSession
from chat_widget.widget.actions import session_actions
from chat_widget.widget.view_state import session_view_state

NOV_20 = datetime(2026, 11, 20, 10, 15, tzinfo=UTC).timestamp()


def _client() -> tuple[AgentClient, AgentDesk, ChatSession]:
    desk = AgentDesk(VirtualClock(start=NOV_20 + 86_400))
    client = AgentClient(desk, prefix="t")
    desk.connect(client.handle)
    client.authenticated(p.AuthOk(id="t:auth:0", agent=p.AgentInfo(id="a1", nickname="Alice")))
    client.connection_made()
    contact = p.ContactInfo(nickname="Carla", email="carla@example.org")
    client.receive_frame(p.Offer(conversation="c3", contact=contact, expires_at=2_000_000_000))
    (session,) = client.offers_received()
    return client, desk, session


def _history() -> p.ContactHistory:
    return p.ContactHistory(
        conversation="c3",
        items=[
            p.HistoryItem(
                conversation="c2",
                created=int(NOV_20 * 1000),
                state="done",
                agent=p.AgentInfo(id="b1", nickname="Bob"),
                disposition="Callback",
                notes=["Call back Monday"],
            ),
            p.HistoryItem(conversation="c1", created=int(NOV_20 * 1000) - 86_400_000, state="done"),
        ],
    )


def _sent(client: AgentClient) -> list[dict[str, Any]]:
    return [json.loads(t) for t in client.data_to_send()]


def test_the_offered_session_gets_the_history_newest_first() -> None:
    client, _, session = _client()
    client.receive_frame(_history())
    assert [i.conversation for i in session.history] == ["c2", "c1"]
    first = session.history[0]
    assert first.agent == "Bob" and first.disposition == "Callback"
    assert first.notes == ("Call back Monday",) and first.created == NOV_20
    assert session.history[1].agent is None and session.history[1].transcript is None
    # a history for a chat this desk does not have changes nothing
    client.receive_frame(p.ContactHistory(conversation="other", items=[]))
    assert len(session.history) == 2


def test_opening_a_transcript_asks_the_server_once_and_shows_its_entries() -> None:
    client, _, session = _client()
    client.receive_frame(_history())
    session.load_history_transcript("c2")
    session.load_history_transcript("c2")  # on its way: not asked twice
    (frame,) = _sent(client)
    assert frame["type"] == "GetHistoryTranscript"
    assert frame["conversation"] == "c3" and frame["of"] == "c2"
    assert session.history_item("c2").loading
    doc = {
        "format": "chat_widget.transcript",
        "version": 1,
        "id": "c2",
        "agent": {"name": "Bob", "id": "b1"},
        "contact": {"name": "Carla"},
        "offered_at": "2026-11-20T10:15:00Z",
        "entries": [
            {
                "index": 0,
                "time": "2026-11-20T10:15:01Z",
                "kind": "message",
                "sender": {"role": "contact", "name": "Carla", "id": "customer"},
                "text": "Still no refund",
            }
        ],
    }
    client.receive_frame(
        p.HistoryTranscript(id=frame["id"], conversation="c3", of="c2", transcript=doc)
    )
    item = session.history_item("c2")
    assert not item.loading and item.transcript is not None
    assert [(e.sender.role, e.text) for e in item.transcript] == [(Role.CONTACT, "Still no refund")]
    assert client.pending == 0  # answered: not resent after a reconnect
    session.load_history_transcript("c2")  # fetched: nothing more goes out
    assert _sent(client) == []
    # a new ContactHistory (resume) keeps what was fetched
    client.receive_frame(_history())
    assert session.history_item("c2").transcript == item.transcript
    # the current chat's transcript is untouched
    assert session.transcript == []


def test_a_refused_transcript_may_be_asked_for_again() -> None:
    client, _, session = _client()
    client.receive_frame(_history())
    session.load_history_transcript("c1")
    (frame,) = _sent(client)
    client.receive_frame(
        p.Error(id=frame["id"], code=p.ErrorCode.FORBIDDEN, message="no", conversation="c3")
    )
    assert not session.history_item("c1").loading
    session.load_history_transcript("c1")
    assert [f["type"] for f in _sent(client)] == ["GetHistoryTranscript"]


def test_an_unknown_earlier_chat_is_refused_in_the_model() -> None:
    session = ChatSession("s1", ContactRecord("Carla"), VirtualClock())
    with pytest.raises(LookupError):
        session.load_history_transcript("nope")
    session.set_history([HistoryItem("h1", NOV_20, agent="Lena")])
    session.load_history_transcript("h1")
    assert session.take_commands() == [cmd.GetHistoryTranscript("s1", "h1")]


SCENARIO: dict[str, Any] = {
    "name": "Returning customer",
    "contact": {"name": "Maria Weber", "emails": ["maria@example.com"]},
    "history": [
        {
            "date": "2026-10-02T09:00:00Z",
            "agent": "Tom",
            "disposition": "Escalated",
            "transcript": [{"from": "contact", "text": "Where is my parcel?"}],
        },
        {
            "date": "2026-11-20T10:15:00Z",
            "agent": "Lena",
            "disposition": "Resolved",
            "notes": ["Refund promised"],
            "transcript": [
                {"from": "contact", "text": "My invoice is wrong"},
                {"from": "agent", "text": "Sorry, I fix it"},
            ],
        },
    ],
    "steps": [{"say": "Hello again", "delay": 0}],
}


def test_the_mock_puts_the_scenario_history_on_the_offer() -> None:
    backend = MockBackend(SCENARIO, clock=VirtualClock(start=NOV_20 + 86_400))
    backend.clock.advance(0)
    session = backend.first_session()
    assert session is not None
    assert [(i.agent, i.disposition) for i in session.history] == [
        ("Lena", "Resolved"),
        ("Tom", "Escalated"),
    ]
    assert session.history[0].notes == ("Refund promised",)
    assert session.history[0].created == NOV_20
    # the view action fetches it, and the mock has it at once
    session_actions(session, {"conversation": session.history[0].conversation})["history_open"]()
    item = session.history[0]
    assert item.transcript is not None
    assert [(e.sender.role, e.sender.name, e.text) for e in item.transcript] == [
        (Role.CONTACT, "Maria Weber", "My invoice is wrong"),
        (Role.AGENT, "Lena", "Sorry, I fix it"),
    ]
    assert item.transcript[0].time == NOV_20
    view = session_view_state(session, [])["history"]
    assert view[0]["created_ms"] == NOV_20 * 1000 and view[0]["agent"] == "Lena"
    assert [e["x"] for e in view[0]["entries"]] == ["My invoice is wrong", "Sorry, I fix it"]
    assert view[1]["entries"] is None
    backend.close()


def test_a_scenario_without_history_shows_none() -> None:
    backend = MockBackend("billing", clock=VirtualClock())
    backend.clock.advance(5)
    session = backend.first_session()
    assert session is not None and session.history == []
    assert session_view_state(session, [])["history"] == []
    backend.close()


def test_a_bad_history_date_names_the_field() -> None:
    bad = {**SCENARIO, "history": [{"date": "last week"}]}
    with pytest.raises(ScenarioError, match="history"):
        MockBackend(bad, clock=VirtualClock())
