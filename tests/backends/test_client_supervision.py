"""The agent's protocol client and supervision (issue 14): frames in and out."""

from __future__ import annotations

from tests.backends.test_client_core import CARLA, ME, accepted, event, make_client, sent

from chat_widget.formats import protocol as p
from chat_widget.formats.event_transcript import transcript_from_events
from chat_widget.formats.transcript import Kind, Role, Visibility
from chat_widget.model.reply_timer import TimerColour

TESS = p.Participant(nickname="Tess", participant_id="s1", type=p.ParticipantType.SUPERVISOR)


def test_raising_and_lowering_the_flag_send_frames_and_the_echo_shows_a_notice() -> None:
    client, _ = make_client()
    session = accepted(client)
    session.raise_flag("Refund over my limit")
    session.lower_flag()
    frames = sent(client)
    assert [(f["type"], f["conversation"], f.get("text")) for f in frames] == [
        ("RaiseFlag", "c1", "Refund over my limit"),
        ("LowerFlag", "c1", None),
    ]
    assert client.pending == 2  # kept until acked, resent after a drop
    client.receive_frame(event(p.HelpFlagChanged, 2, ME, raised=True, text="Refund over my limit"))
    assert session.help_flag is not None and session.help_flag.raised_at == 1_500.002
    client.receive_frame(event(p.HelpFlagChanged, 3, TESS, raised=False))
    assert session.help_flag is None
    assert [(e.code, e.text, e.visibility) for e in session.transcript[-2:]] == [
        ("flag_raised_note", "Alice asked for help: Refund over my limit", Visibility.AGENTS),
        ("flag_lowered", "Tess lowered the help flag", Visibility.AGENTS),
    ]


def test_monitoring_changes_show_notices_and_set_the_mode() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.MonitoringChanged, 2, TESS, mode="coach"))
    assert (session.monitored, session.monitored_by) == ("coach", "Tess")
    assert session.transcript[-1].code == "monitor_coach"
    assert session.transcript[-1].time == 1_500.002  # the server's time
    client.receive_frame(event(p.MonitoringChanged, 3, TESS, mode="stopped", previous="coach"))
    assert session.monitored is None and session.monitored_by is None
    assert session.transcript[-1].text == "Tess stopped monitoring this chat"


def test_coaching_in_and_the_answer_out_deduped_by_client_id() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.Message, 2, CARLA, text="Where is my refund?"))
    client.receive_frame(event(p.MonitoringChanged, 3, TESS, mode="coach"))
    waiting_since = session.timer.pending_since
    assert waiting_since is not None
    client.receive_frame(event(p.CoachMessage, 4, TESS, text="Apologise first"))
    coaching = session.transcript[-1]
    assert (coaching.kind, coaching.sender.role, coaching.sender.name) == (
        Kind.COACHING,
        Role.SUPERVISOR,
        "Tess",
    )
    assert coaching.visibility is Visibility.AGENTS
    assert session.timer.pending_since == waiting_since  # coaching is no reply
    answer = session.answer_coach("Will do")
    (frame,) = sent(client)
    assert frame == {
        "v": 1,
        "type": "SendCoaching",
        "id": answer.client_id,
        "conversation": "c1",
        "text": "Will do",
    }
    assert answer.index in session.pending.values()  # "sending…" until acked
    client.receive_frame(p.Ack(id=frame["id"]))
    assert not session.pending
    echo = event(p.CoachMessage, 5, ME, text="Will do").model_copy(
        update={"client_id": answer.client_id}
    )
    client.receive_frame(echo)
    assert [e.text for e in session.transcript if e.kind is Kind.COACHING] == [
        "Apologise first",
        "Will do",
    ]


def test_an_answer_the_server_refuses_shows_not_delivered() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.MonitoringChanged, 2, TESS, mode="coach"))
    answer = session.answer_coach("Thanks")
    (frame,) = sent(client)
    client.receive_frame(
        p.Error(id=frame["id"], code=p.ErrorCode.INVALID_STATE, message="nobody coaches")
    )
    assert session.refused == {answer.client_id: answer.index}


def test_a_barged_in_supervisor_speaks_to_everyone_and_resets_the_timer() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.Message, 2, CARLA, text="Hello??"))
    session.clock.advance(1_000)  # the wait is long overdue
    assert session.timer_colour() is TimerColour.RED
    client.receive_frame(event(p.MonitoringChanged, 3, TESS, mode="barge_in"))
    client.receive_frame(event(p.ParticipantJoined, 4, TESS))
    joined = session.transcript[-1]
    assert (joined.kind, joined.text) == (Kind.NOTICE, "Tess joined the chat")
    client.receive_frame(event(p.Message, 5, TESS, text="I'm the team lead, let me help"))
    said = session.transcript[-1]
    assert (said.kind, said.sender.role, said.visibility) == (
        Kind.MESSAGE,
        Role.SUPERVISOR,
        Visibility.ALL,
    )
    assert session.timer.pending_since is None
    assert session.timer_colour() is TimerColour.IDLE
    team = client.desk.collab.team("c1")
    assert team.conference is None  # a supervisor is no colleague in a conference
    assert "Tess" not in [part.name for part in team.participants()]
    client.receive_frame(event(p.ParticipantLeft, 6, TESS))
    assert session.transcript[-1].text == "Tess left the chat"
    assert session.state.value == "accepted"  # the chat stays the agent's


def test_supervision_events_keep_the_seq_guard() -> None:
    client, _ = make_client()
    session = accepted(client)
    client.receive_frame(event(p.CoachMessage, 2, TESS, text="one"))
    client.receive_frame(event(p.CoachMessage, 2, TESS, text="one"))
    assert [e.text for e in session.transcript if e.kind is Kind.COACHING] == ["one"]
    assert client.duplicates == 1


def test_the_live_client_and_the_export_show_the_same_supervision_entries() -> None:
    client, _ = make_client()
    session = accepted(client)
    frames = [
        event(p.MonitoringChanged, 2, TESS, mode="coach"),
        event(p.CoachMessage, 3, TESS, text="Apologise first", client_id="s1:coach:1"),
        event(p.HelpFlagChanged, 4, ME, raised=True, text="refund?"),
        event(p.HelpFlagChanged, 5, TESS, raised=False),
        event(p.MonitoringChanged, 6, TESS, mode="barge_in", previous="coach"),
        event(p.ParticipantJoined, 7, TESS),
        event(p.Message, 8, TESS, text="Hello, I'm Tess", client_id="s1:msg:1"),
        event(p.MonitoringChanged, 9, TESS, mode="stopped", previous="barge_in"),
    ]
    for frame in frames:
        client.receive_frame(frame)
    live = [
        (e.kind, e.text, e.code, e.visibility, e.client_id)
        for e in session.transcript[-len(frames) :]
    ]
    doc = transcript_from_events("c1", [f.to_json() for f in frames])
    exported = [
        (e["kind"], e["text"], e.get("code"), e["visibility"], e["client_id"])
        for e in doc["entries"]
    ]
    assert live == exported
    roles = {e["sender"]["role"] for e in doc["entries"] if e["kind"] in ("coaching", "message")}
    assert roles == {"supervisor"}
