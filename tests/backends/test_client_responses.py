"""The agent client and standard responses (issue 16): AuthOk's library on the desk, the
response id in SendMessage, a stored Message's response on the entry."""

from __future__ import annotations

import json
from typing import Any

from chat_widget.backends.agent_client import AgentClient
from chat_widget.formats import protocol as p
from chat_widget.model.clock import VirtualClock
from chat_widget.model.desk import AgentDesk

ME = p.Participant(nickname="Alice", participant_id="a1", type=p.ParticipantType.AGENT)
GREETING = p.StandardResponse(
    id="greeting",
    name="Greeting",
    category="Opening",
    shortcut="hi",
    texts={
        "en": "Hello {contact.first_name}, I am {agent.nickname}.",
        "de": "Hallo {contact.first_name}.",
    },
)


def sent(client: AgentClient) -> list[dict[str, Any]]:
    return [json.loads(text) for text in client.data_to_send()]


def logged_in() -> tuple[AgentClient, AgentDesk]:
    desk = AgentDesk(VirtualClock(start=1_000.0))
    client = AgentClient(desk, prefix="t")
    desk.connect(client.handle)
    ok = p.AuthOk(id="t:auth:0", agent=p.AgentInfo(id="a1", nickname="Alice"), responses=[GREETING])
    client.authenticated(ok)
    client.connection_made()
    return client, desk


def test_the_servers_library_reaches_the_desk_and_fills_for_the_chat() -> None:
    client, desk = logged_in()
    assert [r.id for r in desk.responses] == ["greeting"]
    contact = p.ContactInfo(nickname="Carla Gomez", email="carla@example.org")
    client.receive_frame(p.Offer(conversation="c1", contact=contact, expires_at=2_000_000))
    (session,) = client.offers_received()
    assert session.insert_response("greeting") == "Hello Carla, I am Alice."
    assert session.insert_response("greeting", "de") == "Hallo Carla."


def test_a_message_from_a_response_carries_its_id_in_the_frame() -> None:
    client, _ = logged_in()
    contact = p.ContactInfo(nickname="Carla", email="carla@example.org")
    client.receive_frame(p.Offer(conversation="c1", contact=contact, expires_at=2_000_000))
    (session,) = client.offers_received()
    session.accept()
    for frame in sent(client):
        client.receive_frame(p.Ack(id=frame["id"]))
    session.send("Hello Carla, I am Alice. Welcome!", response="greeting")
    session.send("typed freely")
    first, second = sent(client)
    assert first["type"] == "SendMessage" and first["response"] == "greeting"
    assert "response" not in second


def test_a_stored_message_with_a_response_keeps_it_on_the_entry() -> None:
    """After a kernel restart the agent's own earlier message comes back from the server."""
    client, _ = logged_in()
    contact = p.ContactInfo(nickname="Carla", email="carla@example.org")
    client.receive_frame(p.Offer(conversation="c1", contact=contact, expires_at=2_000_000))
    (session,) = client.offers_received()
    session.accept()
    for frame in sent(client):
        client.receive_frame(p.Ack(id=frame["id"]))
    client.receive_frame(
        p.Message(
            conversation="c1",
            seq=3,
            utc_time=1_500_003,
            text="Hello Carla, I am Alice.",
            client_id="old-kernel-1",
            response="greeting",
            **{"from": ME},
        )
    )
    entry = session.transcript[-1]
    assert entry.text == "Hello Carla, I am Alice." and entry.response == "greeting"
