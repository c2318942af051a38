"""SupervisorClient: server frames → the SupervisorDesk, the desk's commands → frames.

No server needed: frames go in as the server would send them, and the frames the
client writes are read back with the protocol's own parser.
"""

from __future__ import annotations

import json
from typing import Any

from chat_widget import SupervisorDesk, VirtualClock
from chat_widget.backends.supervisor_client import SupervisorClient
from chat_widget.formats import protocol as p
from chat_widget.formats.transcript import Kind, Role, Visibility
from chat_widget.model import commands as cmd

MARIA = p.Participant(nickname="Maria", participant_id="customer", type=p.ParticipantType.CLIENT)
ANNA = p.Participant(nickname="Anna", participant_id="anna", type=p.ParticipantType.AGENT)
TESS = p.Participant(nickname="Tess", participant_id="tess", type=p.ParticipantType.SUPERVISOR)


def chat(conv: str = "c1", **kw: Any) -> p.SupervisedChat:
    values: dict[str, Any] = {
        "conversation": conv,
        "contact": p.ContactInfo(nickname="Maria"),
        "state": "active",
        "owner": p.AgentInfo(id="anna", nickname="Anna"),
        "members": ["anna"],
        "created": 1_000,
        "accepted_at": 2_000,
    }
    values.update(kw)
    return p.SupervisedChat(**values)


def connected(*chats: p.SupervisedChat) -> tuple[SupervisorClient, SupervisorDesk]:
    desk = SupervisorDesk(VirtualClock(start=0.0))
    client = SupervisorClient(desk, prefix="t")
    desk.on_commands(client.pump)
    ok = p.AuthOk(id="a1", agent=p.AgentInfo(id="tess", nickname="Tess"), role="supervisor")
    client.receive_frame(ok)
    client.connection_made()
    agents = [
        p.TeamAgent(id="anna", nickname="Anna", presence="ready"),
        p.TeamAgent(id="ben", nickname="Ben"),
    ]
    client.receive_frame(p.TeamState(agents=agents, chats=list(chats), announce_monitoring=True))
    return client, desk


def message(seq: int, who: p.Participant, text: str, ms: int, **kw: Any) -> p.Message:
    return p.Message(conversation="c1", seq=seq, utc_time=ms, from_=who, text=text, **kw)


def sent(client: SupervisorClient) -> list[dict[str, Any]]:
    return [json.loads(text) for text in client.data_to_send()]


def test_team_state_fills_the_desk() -> None:
    _client, desk = connected(chat(), chat("q1", state="queued", owner=None, members=[]))
    assert desk.supervisor.name == "Tess" and desk.announce_monitoring
    assert desk.chats["c1"].owner_name == "Anna" and desk.chats["c1"].created == 1.0
    assert [c.id for c in desk.queue] == ["q1"]
    assert desk.agents["anna"].presence == "ready" and desk.agents["anna"].chats == 1
    assert desk.agents["ben"].presence == "offline"


def test_chat_changes_presence_and_done() -> None:
    client, desk = connected(chat())
    flag = p.HelpFlagInfo(agent="anna", text="refund?", raised_at=9_000)
    client.receive_frame(p.TeamChatChanged(chat=chat(flag=flag, monitors={"tess": "coach"})))
    assert desk.flags[0].flag is not None and desk.flags[0].flag.text == "refund?"
    assert desk.chats["c1"].my_mode == "coach"
    client.receive_frame(p.PresenceChanged(agent="ben", presence="away"))
    assert desk.agents["ben"].presence == "away"
    client.receive_frame(p.TeamChatChanged(chat=chat(state="done")))
    assert desk.chats == {} and "c1" not in client.last_seq


def test_events_become_entries_as_the_shared_table_describes_them() -> None:
    client, desk = connected(chat())
    client.receive_frame(message(1, MARIA, "Hello?", 10_000))
    assert desk.chats["c1"].pending_since == 10.0
    coach = p.CoachMessage(
        conversation="c1", seq=2, utc_time=11_000, from_=TESS, text="Be kind",
        visibility=p.Visibility.AGENTS,
    )  # fmt: skip
    client.receive_frame(coach)
    client.receive_frame(p.TypingStarted(conversation="c1", seq=3, utc_time=11_500, from_=ANNA))
    raised = p.HelpFlagChanged(
        conversation="c1", seq=4, utc_time=12_000, from_=ANNA, raised=True, text="refund?"
    )
    client.receive_frame(raised)
    client.receive_frame(message(5, ANNA, "Sorry for the wait", 13_000))
    entries = desk.chats["c1"].entries
    assert [(e.kind, e.sender.role) for e in entries] == [
        (Kind.MESSAGE, Role.CONTACT),
        (Kind.COACHING, Role.SUPERVISOR),
        (Kind.NOTICE, Role.AGENT),
        (Kind.MESSAGE, Role.AGENT),
    ]
    assert entries[1].visibility is Visibility.AGENTS
    assert entries[2].code == "flag_raised_note" and entries[2].params == {
        "name": "Anna",
        "note": "refund?",
    }
    assert desk.chats["c1"].pending_since is None  # the agent answered, coaching did not


def test_each_seq_once_and_resume_from_the_last_seen() -> None:
    client, desk = connected(chat(), chat("c2"))
    client.receive_frame(message(1, MARIA, "one", 10_000))
    client.receive_frame(message(2, MARIA, "two", 11_000))
    client.receive_frame(message(2, MARIA, "two", 11_000))
    assert client.duplicates == 1 and len(desk.chats["c1"].entries) == 2
    auth = p.parse_client_frame(client.auth_frame("secret"))
    assert isinstance(auth, p.Auth) and auth.token == "secret"
    assert auth.resume == {"c1": 2}


def test_events_before_their_chat_wait_for_it() -> None:
    client, desk = connected()
    event = message(1, MARIA, "early", 10_000).model_copy(update={"conversation": "c9"})
    client.receive_frame(event)
    client.receive_frame(p.TeamChatChanged(chat=chat("c9", state="queued", owner=None)))
    assert [e.text for e in desk.chats["c9"].entries] == ["early"]


def test_commands_become_frames_with_the_desks_client_ids() -> None:
    client, desk = connected(chat())
    desk.monitor("c1")
    entry = desk.coach("c1", "Offer the refund")
    desk.barge_in("c1")
    said = desk.say("c1", "Hello Maria")
    desk.update_chat(desk_info_with_flag())
    desk.lower_flag("c1")
    desk.stop("c1")
    desk.monitor_next("ben")
    frames = sent(client)
    assert [f["type"] for f in frames] == [
        "Monitor", "Monitor", "SendCoaching", "Monitor", "SendMessage", "LowerFlag",
        "StopMonitoring", "MonitorNext",
    ]  # fmt: skip
    assert [f.get("mode") for f in frames if f["type"] == "Monitor"] == [
        "silent",
        "coach",
        "barge_in",
    ]
    assert frames[2] == {
        "v": 1, "type": "SendCoaching", "id": entry.client_id, "conversation": "c1",
        "text": "Offer the refund",
    }  # fmt: skip
    assert frames[4]["id"] == said.client_id and frames[4]["text"] == "Hello Maria"
    assert frames[-1] == {"v": 1, "type": "MonitorNext", "id": frames[-1]["id"], "agent": "ben",
                          "cancel": False}  # fmt: skip
    for text in client.outbox.values():
        p.parse_client_frame(text)  # every frame is valid on the wire


def desk_info_with_flag() -> Any:
    from chat_widget.backends.supervisor_client import chat_info

    flag = p.HelpFlagInfo(agent="anna", text=None, raised_at=5_000)
    return chat_info(chat(flag=flag, monitors={"tess": "barge_in"}))


def test_the_echo_of_my_own_line_is_not_shown_twice() -> None:
    client, desk = connected(chat())
    entry = desk.coach("c1", "Breathe")
    echo = p.CoachMessage(
        conversation="c1", seq=1, utc_time=3_000, from_=TESS, text="Breathe",
        visibility=p.Visibility.AGENTS, client_id=entry.client_id,
    )  # fmt: skip
    client.receive_frame(echo)
    assert [e.text for e in desk.chats["c1"].entries] == ["Breathe"]
    assert client.last_seq["c1"] == 1


def test_unacknowledged_frames_are_resent_on_reconnect_and_acks_clear_them() -> None:
    client, desk = connected(chat())
    desk.monitor("c1")
    desk.coach("c1", "One")
    first = sent(client)
    client.connection_lost()
    desk.coach("c1", "Two")  # while away: kept, not written
    assert client.data_to_send() == []
    client.receive_frame(p.Ack(id=first[0]["id"]))
    again = [json.loads(t) for t in client.connection_made()]
    assert [f["id"] for f in again] == [f["id"] for f in first[1:]] + [again[-1]["id"]]
    assert again[-1]["text"] == "Two"


def test_a_refused_monitor_goes_back_to_the_servers_word() -> None:
    client, desk = connected(chat())
    desk.barge_in("c1")
    [frame] = sent(client)
    client.receive_frame(
        p.Error(id=frame["id"], code=p.ErrorCode.FORBIDDEN, message="not your team")
    )
    assert desk.chats["c1"].my_mode is None
    assert "not your team" in desk.last_error and client.pending == 0


def test_an_agent_token_is_refused_for_the_dashboard() -> None:
    ok = p.AuthOk(id="a1", agent=p.AgentInfo(id="anna", nickname="Anna"))
    assert SupervisorClient.refusal(ok) is not None
    bad = p.Error(code=p.ErrorCode.AUTH_FAILED, message="bad token")
    assert SupervisorClient.refusal(bad) is not None


def test_every_supervisor_command_has_a_frame() -> None:
    client, _desk = connected(chat())
    commands = [
        cmd.Monitor("c1", "coach"),
        cmd.StopMonitoring("c1"),
        cmd.MonitorNext("", "anna", cancel=True),
        cmd.Coach("c1", "x:1", "hi"),
        cmd.BargeInMessage("c1", "x:2", "hi"),
        cmd.SupervisorLowerFlag("c1"),
    ]
    for command in commands:
        client.handle(command)
    frames = [p.parse_client_frame(text) for text in client.data_to_send()]
    assert [type(f) for f in frames] == [
        p.Monitor, p.StopMonitoring, p.MonitorNext, p.SendCoaching, p.SendMessage, p.LowerFlag,
    ]  # fmt: skip
