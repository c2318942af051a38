"""The agent's protocol client without sockets: frames in, desk changes and frames out."""

from __future__ import annotations

import json
from typing import Any

from chat_widget.backends.agent_client import AgentClient
from chat_widget.backends.agent_client.outgoing import BUILDERS, SUPERVISOR_COMMANDS
from chat_widget.formats import protocol as p
from chat_widget.formats.event_transcript import transcript_from_events
from chat_widget.formats.notices import DEFAULT_PUSH_URL_TEXT
from chat_widget.formats.transcript_file import format_utc
from chat_widget.model import commands as cmd
from chat_widget.model.clock import VirtualClock
from chat_widget.model.desk import AgentDesk
from chat_widget.model.session import ChatSession, SessionState

ME = p.Participant(nickname="Alice", participant_id="a1", type=p.ParticipantType.AGENT)
BOB = p.Participant(nickname="Bob", participant_id="b1", type=p.ParticipantType.AGENT)
CARLA = p.Participant(nickname="Carla", participant_id="customer", type=p.ParticipantType.CLIENT)


def make_client() -> tuple[AgentClient, AgentDesk]:
    desk = AgentDesk(VirtualClock(start=1_000.0))
    client = AgentClient(desk, prefix="t")
    desk.connect(client.handle)
    ok = p.AuthOk(id="t:auth:0", agent=p.AgentInfo(id="a1", nickname="Alice"))
    client.authenticated(ok)
    assert client.connection_made() == []
    return client, desk


def offer(client: AgentClient, conv: str = "c1", **extra: Any) -> ChatSession:
    contact = p.ContactInfo(nickname="Carla", email="carla@example.org")
    client.receive_frame(p.Offer(conversation=conv, contact=contact, expires_at=2_000_000, **extra))
    (session,) = client.offers_received()
    return session


def accepted(client: AgentClient, conv: str = "c1") -> ChatSession:
    session = offer(client, conv)
    session.accept()
    for frame in sent(client):
        client.receive_frame(p.Ack(id=frame["id"]))
    return session


def sent(client: AgentClient) -> list[dict[str, Any]]:
    return [json.loads(text) for text in client.data_to_send()]


def event(kind: type[p._Event], seq: int, who: p.Participant = CARLA, **fields: Any) -> Any:
    return kind(conversation="c1", seq=seq, utc_time=1_500_000 + seq, **{"from": who}, **fields)


def test_an_offer_makes_an_offered_session() -> None:
    client, desk = make_client()
    session = offer(client)
    assert desk.sessions["c1"] is session
    assert session.state is SessionState.OFFERED
    assert session.contact.name == "Carla"


def test_accept_sends_an_accept_frame_with_a_client_id() -> None:
    client, _ = make_client()
    offer(client).accept()
    (frame,) = sent(client)
    assert frame["type"] == "Accept" and frame["conversation"] == "c1"
    assert frame["id"].startswith("t:accept:")
    assert client.pending == 1


def test_an_ack_clears_the_outbox_and_the_sending_mark() -> None:
    client, _ = make_client()
    session = accepted(client)
    assert client.pending == 0
    session.send("hello")
    (frame,) = sent(client)
    assert frame["type"] == "SendMessage" and client.pending == 1
    assert frame["id"] in session.pending  # shown as sending
    client.receive_data(p.Ack(id=frame["id"]).to_json())
    assert client.pending == 0 and not session.pending


def test_typing_is_sent_but_never_kept_for_resending() -> None:
    client, _ = make_client()
    session = accepted(client)
    session.set_agent_typing(True)
    assert [f["type"] for f in sent(client)] == ["StartTyping"]
    assert client.pending == 0


def test_a_duplicate_event_is_ignored() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.Message, 3, text="hi"))
    client.receive_frame(event(p.Message, 3, text="hi"))
    client.receive_frame(event(p.Message, 2, text="older"))
    assert [e.text for e in session.transcript if e.kind == "message"] == ["hi"]
    assert client.duplicates == 2 and client.last_seq["c1"] == 3


def test_entries_carry_the_server_time() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.Message, 4, text="hi"))
    assert session.transcript[-1].time == 1_500.004


def test_after_a_drop_unacked_frames_are_resent_in_order_and_chats_resume() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.Message, 5, text="hi"))
    client.connection_lost()
    session.send("one")
    session.send("two")
    assert client.data_to_send() == []  # nothing goes out without a socket
    auth = json.loads(client.auth_frame("token"))
    assert auth["resume"] == {"c1": 5}
    again = [json.loads(text) for text in client.connection_made()]
    assert [(f["type"], f.get("text")) for f in again] == [
        ("SendMessage", "one"),
        ("SendMessage", "two"),
    ]
    client.receive_frame(p.Ack(id=again[0]["id"]))
    assert [json.loads(t)["id"] for t in client.connection_made()] == [again[1]["id"]]


def test_joined_and_left_become_coded_notices() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.ParticipantJoined, 2, BOB))
    client.receive_frame(event(p.ParticipantLeft, 3, BOB))
    notices = [(e.code, e.params, e.text) for e in session.transcript if e.kind == "notice"]
    assert notices[-2:] == [
        ("joined", {"name": "Bob"}, "Bob joined the chat"),
        ("left", {"name": "Bob"}, "Bob left the chat"),
    ]


def test_the_customer_leaving_ends_the_contact_side() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.ParticipantLeft, 2))
    assert session.state is SessionState.CONTACT_LEFT


def test_consultation_events_on_the_consulted_side_count_once_per_chat_and_seq() -> None:
    client, desk = make_client()
    client.receive_frame(
        p.ConsultationOffered(
            conversation="c9",
            consultation="k1",
            contact=p.ContactInfo(nickname="Carla"),
            from_agent=p.AgentInfo(id="b1", nickname="Bob"),
            medium="chat",
            expires_at=2_000_000,
        )
    )
    said = p.ConsultMessage(
        conversation="c9", seq=4, utc_time=1_600_000, consultation="k1", text="?", **{"from": BOB}
    )
    client.receive_frame(said)
    client.last_seq["c9"] = 0  # joining the chat later reads its history from 1 again
    client.receive_frame(said)
    messages = desk.collab.incoming["k1"].messages
    assert [(m.sender_name, m.text, m.at) for m in messages] == [("Bob", "?", 1_600.0)]


def test_a_consultants_live_event_does_not_hide_the_history_of_a_chat_it_joins() -> None:
    """Bob is consulted on Carla's chat, then invited into it. The server pushes the
    conference offer at once but a consultation event only after its commit, so the
    live event (seq 3) can arrive after the offer and before the chat's history (1, 2):
    the history must still reach the new session."""
    client, desk = make_client()
    client.receive_frame(
        p.ConsultationOffered(
            conversation="c1",
            consultation="k1",
            contact=p.ContactInfo(nickname="Carla"),
            from_agent=p.AgentInfo(id="b1", nickname="Bob"),
            medium="chat",
            expires_at=2_000_000,
        )
    )
    session = offer(client, kind="conference", last_seq=3)
    asked = p.ConsultMessage(
        conversation="c1",
        seq=3,
        utc_time=1_500_003,
        consultation="k1",
        text="Refund?",
        **{"from": BOB},
    )
    client.receive_frame(asked)  # live, before the history
    session.accept()
    client.receive_frame(event(p.Message, 1, text="I was charged twice"))
    client.receive_frame(event(p.Message, 2, text="Hello?"))
    assert [e.text for e in session.transcript if e.kind == "message"] == [
        "I was charged twice",
        "Hello?",
    ]
    assert [m.text for m in desk.collab.incoming["k1"].messages] == ["Refund?"]
    assert client.duplicates == 0


def test_a_server_refusal_clears_the_frame_and_says_so() -> None:
    client, _ = make_client()
    session = accepted(client)
    session.send("hello")
    (frame,) = sent(client)
    client.receive_frame(p.Error(id=frame["id"], code=p.ErrorCode.INVALID_STATE, message="not now"))
    assert client.pending == 0 and client.errors[0].message == "not now"
    assert session.transcript[-1].code == "server_refused"
    # the message itself reads "not delivered", not delivered (nor "sending…")
    hello = next(e for e in session.transcript if e.text == "hello")
    assert session.pending == {} and session.refused == {frame["id"]: hello.index}


def test_a_refused_token_is_told_apart() -> None:
    refused = p.Error(code=p.ErrorCode.AUTH_FAILED, message="bad token")
    assert AgentClient.refusal(refused) == "server refused the agent token: bad token"
    assert AgentClient.refusal(p.Error(code=p.ErrorCode.INTERNAL, message="x")) is None


def test_every_command_has_a_frame_builder_or_stays_local() -> None:
    local = {cmd.Ignore, cmd.HangUp}  # the server re-offers by itself; calls are simulated
    # a supervisor's client sends these (backends.supervisor_client), never an agent's desk
    supervisor_side = set(SUPERVISOR_COMMANDS)
    assert supervisor_side == {
        cmd.Monitor,
        cmd.StopMonitoring,
        cmd.MonitorNext,
        cmd.Coach,
        cmd.BargeInMessage,
        cmd.SupervisorLowerFlag,
    }
    for kind in vars(cmd).values():
        if not isinstance(kind, type) or not issubclass(kind, cmd.Command) or kind is cmd.Command:
            continue
        homes = [kind in BUILDERS, kind in local, kind in supervisor_side]
        assert homes.count(True) == 1, kind


def test_consultation_commands_name_their_chat_and_consultation() -> None:
    client, _ = make_client()
    accepted(client)
    client.handle(cmd.StartConsultation("c1", "k1", "agent", "b1", "chat"))
    client.handle(cmd.SendConsultMessage("c1", "k1", "m-1", "can you help?"))
    client.handle(cmd.EndConsultation("c1", "k1"))
    frames = sent(client)
    assert [(f["type"], f["conversation"], f["consultation"]) for f in frames] == [
        ("StartConsultation", "c1", "k1"),
        ("SendConsultMessage", "c1", "k1"),
        ("EndConsultation", "c1", "k1"),
    ]
    assert frames[1]["id"] == "m-1" and frames[0]["targetId"] == "b1"


def test_the_live_client_and_the_export_show_the_same_entries() -> None:
    client, _ = make_client()
    session = accepted(client)
    link = "https://example.org/help"
    frames = [
        event(p.ParticipantJoined, 2, BOB),
        event(p.PushUrl, 3, BOB, url=link, text=DEFAULT_PUSH_URL_TEXT.format(url=link)),
        event(p.Notice, 4, BOB, text="Bob is away"),
        event(p.ParticipantLeft, 5, BOB),
    ]
    frames[1] = frames[1].model_copy(update={"client_id": "b:1"})
    for frame in frames:
        client.receive_frame(frame)
    live = [(e.kind, e.text, e.code, e.params, e.client_id, e.time) for e in session.transcript]
    doc = transcript_from_events("c1", [f.to_json() for f in frames])
    exported = [
        (e["kind"], e["text"], e.get("code"), e.get("params"), e["client_id"], e["time"])
        for e in doc["entries"]
    ]
    assert [entry[:5] for entry in live[-4:]] == [entry[:5] for entry in exported]
    assert [format_utc(entry[5]) for entry in live[-4:]] == [entry[5] for entry in exported]
