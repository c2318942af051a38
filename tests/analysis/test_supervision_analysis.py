"""Supervision (issue 14) in exports and analysis: a stored conversation with monitoring,
coaching, a help flag and two barge-ins goes through the server database, the export,
both loaders and Parquet, and the metrics give the numbers worked out by hand."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chat_widget.analysis import (
    agent_metrics,
    export_parquet,
    export_store,
    flag_answers,
    frames_from_transcripts,
    generate,
    load_store,
    load_transcripts,
    supervision_by_agent,
    supervision_events,
    supervision_metrics,
    waits,
)
from chat_widget.formats import protocol as p
from chat_widget.formats.event_transcript import transcript_from_events
from chat_widget.formats.transcript_file import (
    TranscriptFileError,
    validate_transcript,
    write_transcripts,
)
from chat_widget.model.reply_timer import Thresholds
from chat_widget.server.sqlite_store import SQLiteStore, hash_token
from chat_widget.server.store import StoredEvent

from .test_columnar import assert_same, no_fallback
from .test_store_load import ALICE, BOB, CARLA, T0

TESS = p.Participant(nickname="Tess", participant_id="tess", type=p.ParticipantType.SUPERVISOR)
AGENTS = p.Visibility.AGENTS
LIMITS = Thresholds(30.0, 60.0)


def mode(now: str, before: str = "stopped") -> dict[str, Any]:
    return {"visibility": AGENTS, "mode": now, "previous": before}


def stored(
    conv: str, seq: int, t: float, model: type[p._Event], who: p.Participant, **fields: Any
) -> StoredEvent:
    values = {"conversation": conv, "seq": seq, "utc_time": int((T0 + t) * 1000), "from": who}
    frame = model.model_validate({**values, **fields})
    vis = str(frame.visibility)
    return StoredEvent(
        conv, seq, frame.type, T0 + t, vis, who.participant_id, None, frame.to_json()
    )


def supervised_chat() -> list[StoredEvent]:
    """Alice's chat: Tess monitors, Alice raises the flag at +10, Tess coaches at +22.5
    (the flag is answered after 12.5 s), Alice answers, Tess lowers the flag, then barges
    in twice; her first message (+35) ends the wait that began at the accept (+2)."""
    events: list[tuple[float, type[p._Event], p.Participant, dict[str, Any]]] = [
        (0, p.ParticipantJoined, CARLA, {}),
        (2, p.ParticipantJoined, ALICE, {}),
        (3, p.Message, CARLA, {"text": "My refund is missing"}),
        (5, p.MonitoringChanged, TESS, mode("silent")),
        (10, p.HelpFlagChanged, ALICE, {"visibility": AGENTS, "raised": True, "text": "refund?"}),
        (15, p.MonitoringChanged, TESS, mode("coach", "silent")),
        (22.5, p.CoachMessage, TESS, {"visibility": AGENTS, "text": "Offer the refund"}),
        (25, p.CoachMessage, ALICE, {"visibility": AGENTS, "text": "OK, doing it"}),
        (27, p.HelpFlagChanged, TESS, {"visibility": AGENTS, "raised": False}),
        (33, p.MonitoringChanged, TESS, mode("barge_in", "coach")),
        (33, p.ParticipantJoined, TESS, {}),
        (35, p.Message, TESS, {"text": "Hello, I am Tess, Alice's lead"}),
        (40, p.ParticipantLeft, TESS, {}),
        (40, p.MonitoringChanged, TESS, mode("coach", "barge_in")),
        (44, p.Message, CARLA, {"text": "Thanks. And the fee?"}),
        (45, p.MonitoringChanged, TESS, mode("barge_in", "coach")),
        (45, p.ParticipantJoined, TESS, {}),
        (47, p.Message, TESS, {"text": "The fee is waived"}),
        (50, p.ParticipantLeft, TESS, {}),
        (50, p.MonitoringChanged, TESS, mode("stopped", "barge_in")),
        (55, p.Message, ALICE, {"text": "Anything else?"}),
        (60, p.ParticipantLeft, CARLA, {}),
        (70, p.ChatDone, ALICE, {"visibility": AGENTS}),
    ]  # fmt: skip
    return [
        stored("c1", seq, t, model, who, **fields)
        for seq, (t, model, who, fields) in enumerate(events, start=1)
    ]


def transferred_chat() -> list[StoredEvent]:
    """Alice accepts, transfers to Bob at +8; Bob raises the flag at +10, never answered."""
    events: list[tuple[float, type[p._Event], p.Participant, dict[str, Any]]] = [
        (100, p.ParticipantJoined, CARLA, {}),
        (101, p.ParticipantJoined, ALICE, {}),
        (102, p.Message, ALICE, {"text": "Hi"}),
        (108, p.ChatTransferred, BOB, {"previous": ALICE}),
        (110, p.HelpFlagChanged, BOB, {"visibility": AGENTS, "raised": True}),
        (112, p.Message, BOB, {"text": "Bob here"}),
        (130, p.ChatEnded, BOB, {}),
    ]
    return [
        stored("c2", seq, t, model, who, **fields)
        for seq, (t, model, who, fields) in enumerate(events, start=1)
    ]


def seed_store(db: Path) -> None:
    """The two conversations in a server database, as the server stores them."""
    SQLiteStore(db)._reader.close()
    with sqlite3.connect(db) as conn:
        for conv, created, events in (
            ("c1", T0, supervised_chat()),
            ("c2", T0 + 100, transferred_chat()),
        ):
            conn.execute(
                "INSERT INTO conversations (id, token_hash, contact, created, state, owner)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (conv, hash_token(conv), json.dumps({"nickname": "Carla"}), created, "done", None),
            )
            conn.executemany(
                "INSERT INTO events (conversation, seq, type, time, visibility, sender,"
                " client_id, body, audience) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.conversation,
                        e.seq,
                        e.type,
                        e.time,
                        e.visibility,
                        e.sender,
                        None,
                        e.body,
                        None,
                    )
                    for e in events
                ],
            )


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "chats.sqlite"
    seed_store(db)
    path = tmp_path / "chats.jsonl"
    assert export_store(db, path) == 2
    return db, path


# ----------------------------------------------------------------------------- the export
def test_export_has_the_supervision_entries() -> None:
    doc = transcript_from_events("c1", supervised_chat(), contact={"nickname": "Carla"})
    validate_transcript(doc)
    rows = [
        (e["kind"], e["sender"]["role"], e["visibility"], e.get("event"), e.get("code"))
        for e in doc["entries"]
    ]
    assert rows[3:11] == [
        ("notice", "supervisor", "agents", "monitor", "monitor_silent"),
        ("notice", "agent", "agents", "flag_raised", "flag_raised_note"),
        ("notice", "supervisor", "agents", "monitor", "monitor_coach"),
        ("coaching", "supervisor", "agents", "coaching", None),
        ("coaching", "agent", "agents", "coaching", None),
        ("notice", "supervisor", "agents", "flag_lowered", "flag_lowered"),
        ("notice", "supervisor", "agents", "monitor", "monitor_barge_in"),
        ("notice", "supervisor", "all", "joined", "joined"),
    ]
    assert rows[11] == ("message", "supervisor", "all", None, None)
    assert rows[12][1:4] == ("supervisor", "all", "left")
    assert rows[19] == ("notice", "supervisor", "agents", "monitor_stop", "monitor_stopped")
    assert doc["entries"][6]["text"] == "Offer the refund"
    assert doc["entries"][4]["text"] == "Alice asked for help: refund?"
    # the supervisor is a party, never the chat's agent; the barge-in is no conference
    assert doc["agent"] == {"id": "alice", "name": "Alice"}
    assert {"role": "supervisor", "id": "tess", "name": "Tess"} in doc["parties"]
    assert "conference" not in [e.get("event") for e in doc["entries"]]
    assert doc["state"] == "done"


def test_both_engines_and_the_store_give_the_same_frames(
    exported: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, path = exported
    rows = load_transcripts(path, engine="rows")
    stored_frames = load_store(db)
    no_fallback(monkeypatch)
    columns = load_transcripts(path)
    assert_same(rows, columns)
    for name in ("conversations", "entries", "typing"):
        a, b = getattr(stored_frames, name), getattr(columns, name)
        keep = [c for c in a.columns if c != "source"]
        pd.testing.assert_frame_equal(a[keep], b[keep], check_exact=True)
    coaching = columns.entries[columns.entries["kind"] == "coaching"]
    assert coaching["visibility"].astype(str).tolist() == ["agents", "agents"]
    assert coaching["sender_role"].astype(str).tolist() == ["supervisor", "agent"]
    assert "supervisor" in columns.entries["sender_role"].cat.categories
    events = columns.entries["event"].dropna().astype(str)
    assert {"monitor", "monitor_stop", "coaching", "flag_raised", "flag_lowered"} <= set(events)


def test_supervision_events_table(exported: tuple[Path, Path]) -> None:
    frames = load_transcripts(exported[1])
    ev = supervision_events(frames)
    c1 = ev[ev["conversation_id"] == "c1"]
    assert c1["action"].astype(str).tolist() == [
        "monitor",
        "flag_raised",
        "monitor",
        "coaching",
        "coach_answer",
        "flag_lowered",
        "monitor",
        "barge_in",
        "supervisor_message",
        "barge_in_left",
        "monitor",
        "monitor",
        "barge_in",
        "supervisor_message",
        "barge_in_left",
        "monitor_stop",
    ]
    monitors = c1[c1["action"].isin(["monitor", "monitor_stop"])]
    assert monitors["mode"].astype(str).tolist() == [
        "silent",
        "coach",
        "barge_in",
        "coach",
        "barge_in",
        "stopped",
    ]
    assert set(c1["owner_id"]) == {"alice"}
    c2 = ev[ev["conversation_id"] == "c2"]
    assert c2[["action", "owner_id", "owner_name"]].astype(str).values.tolist() == [
        ["flag_raised", "bob", "Bob"]  # Bob owned the chat then (transfer), not Alice
    ]


# ----------------------------------------------------------------------------- metrics
def test_supervision_metrics_per_conversation(exported: tuple[Path, Path]) -> None:
    frames = load_transcripts(exported[1])
    m = supervision_metrics(frames).set_index("conversation_id")
    c1, c2 = m.loc["c1"], m.loc["c2"]
    assert (c1["flags_raised"], c1["flags_answered"]) == (1, 1)
    assert c1["flag_answer_first_s"] == 12.5  # raised +10, coached +22.5
    assert c1["flag_answer_mean_s"] == 12.5 and c1["flag_answer_max_s"] == 12.5
    assert bool(c1["coached"]) and bool(c1["monitored"])
    assert (c1["coaching_lines"], c1["coach_answers"]) == (1, 1)
    assert (c1["barge_ins"], c1["supervisor_messages"]) == (2, 2)
    assert (c2["flags_raised"], c2["flags_answered"]) == (1, 0)
    assert np.isnan(c2["flag_answer_first_s"]) and np.isnan(c2["flag_answer_mean_s"])
    assert not c2["coached"] and not c2["monitored"] and c2["barge_ins"] == 0
    flags = flag_answers(frames)
    assert flags["answered_by"].tolist()[0] == "coaching" and pd.isna(flags["answered_by"][1])
    assert flags["answered_at"].iloc[0] == pd.Timestamp(T0 + 22.5, unit="s", tz="UTC")
    assert pd.isna(flags["answered_at"].iloc[1])


def test_supervision_by_agent(exported: tuple[Path, Path]) -> None:
    table = supervision_by_agent(load_transcripts(exported[1]))
    assert table.index.tolist() == ["alice", "bob"]
    alice, bob = table.loc["alice"], table.loc["bob"]
    assert alice["agent_name"] == "Alice"
    assert (alice["coached_chats"], alice["barge_ins"], alice["flags_raised"]) == (1, 2, 1)
    assert (alice["monitored_chats"], alice["coaching_lines"]) == (1, 1)
    assert alice["flag_answer_median_s"] == 12.5 and alice["flag_answer_mean_s"] == 12.5
    assert (bob["coached_chats"], bob["barge_ins"], bob["flags_raised"]) == (0, 0, 1)
    assert bob["flags_answered"] == 0 and np.isnan(bob["flag_answer_median_s"])


def test_flag_lowered_first_answers_it() -> None:
    events = supervised_chat()
    # without the coaching line, the flag is answered by its lowering at +27
    doc = transcript_from_events("c1", [e for e in events if e.type != "CoachMessage"])
    frames = frames_from_transcripts([doc])
    flags = flag_answers(frames)
    assert flags["answered_by"].astype(str).tolist() == ["flag_lowered"]
    assert flags["time_to_answer_s"].tolist() == [17.0]
    # nor lowering: the first barge-in (+33) answers it
    late = [e for e in events if e.type not in ("CoachMessage", "HelpFlagChanged") or e.seq == 5]
    flags = flag_answers(frames_from_transcripts([transcript_from_events("c1", late)]))
    assert (flags["answered_by"].iloc[0], flags["time_to_answer_s"].iloc[0]) == ("barge_in", 23.0)
    assert not supervision_metrics(frames)["coached"].iloc[0]


# ----------------------------------------------------------------------------- waits
def test_coaching_is_no_reply_a_barge_in_message_is(exported: tuple[Path, Path]) -> None:
    frames = load_transcripts(exported[1])
    w = waits(frames, LIMITS)
    c1 = w[w["conversation_id"] == "c1"]
    # accept +2 → Tess's message +35: the coaching (+22.5, +25) did not end it
    first = c1.iloc[0]
    assert first["duration_s"] == 33.0 and first["ended_by"] == "reply"
    assert first["responder_id"] == "tess"
    # Carla at +44 → Tess at +47
    assert c1.iloc[1]["duration_s"] == 3.0 and c1.iloc[1]["responder_name"] == "Tess"
    assert len(c1) == 2
    responses = agent_metrics(frames, LIMITS)
    assert responses.loc["tess", "responses"] == 2


# ----------------------------------------------------------------------------- Parquet
def test_parquet_round_trip_keeps_the_supervision_rows(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    frames = load_transcripts(exported[1])
    folder = export_parquet(frames, tmp_path / "chats.parquet")
    back = load_transcripts(folder)
    assert_same(frames, back)
    pd.testing.assert_frame_equal(supervision_events(frames), supervision_events(back))
    pd.testing.assert_frame_equal(supervision_metrics(frames), supervision_metrics(back))


def test_parquet_written_before_the_code_column_still_loads(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    frames = load_transcripts(exported[1])
    folder = export_parquet(frames, tmp_path / "old.parquet")
    for part in (folder / "entries").rglob("*.parquet"):  # as an older export wrote it
        pq.write_table(pq.read_table(part).drop(["code"]), part)
    back = load_transcripts(folder)
    assert back.entries["code"].isna().all()
    pd.testing.assert_frame_equal(
        back.entries.drop(columns="code"), frames.entries.drop(columns="code")
    )


# ----------------------------------------------------------------------------- bad records
def _bad_lines(tmp_path: Path, change: str) -> Path:
    doc = transcript_from_events("c1", supervised_chat(), contact={"nickname": "Carla"})
    bad = json.loads(json.dumps(doc))
    bad["id"] = "bad"
    if change == "event":
        bad["entries"][3]["event"] = "monitor_start"
    else:
        bad["entries"][6]["visibility"] = "all"
    return write_transcripts(tmp_path / "day.jsonl", [doc | {"id": "good"}, bad])


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ("event", "entries[3].event", "Input should be 'joined'"),
        ("visibility", "entries[6].visibility", "coaching entry is for agents only"),
    ],
)
def test_bad_supervision_records_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, field: str, message: str
) -> None:
    path = _bad_lines(tmp_path, change)
    with pytest.raises(TranscriptFileError) as rows_error:
        load_transcripts(path, engine="rows")
    err = rows_error.value
    assert (err.source, err.record, err.field) == (str(path), 2, field)
    assert str(err).startswith(f"{path}, record 2, field {field}: ")
    assert message in str(err)
    no_fallback(monkeypatch)  # the columns find it without the rows engine
    with pytest.raises(TranscriptFileError) as columns_error:
        load_transcripts(path)
    assert columns_error.value.problems == err.problems
    skipped = load_transcripts(path, errors="skip")
    assert skipped.conversations["conversation_id"].tolist() == ["good"]
    assert [(q.record, q.field) for q in skipped.problems] == [(2, field)]
    with pytest.raises(TranscriptFileError, match="record 1, field " + field.replace("[", r"\[")):
        validate_transcript(json.loads(path.read_text().splitlines()[1]))


# ----------------------------------------------------------------------------- synthetic
def test_synthetic_supervised_share_is_opt_in(tmp_path: Path) -> None:
    plain = list(generate(conversations=60, seed=7))
    assert plain == list(generate(conversations=60, seed=7, p_supervised=0.0))
    assert not any(e["sender"]["role"] == "supervisor" for doc in plain for e in doc["entries"])
    day = list(generate(conversations=60, seed=7, p_supervised=0.3))
    frames = frames_from_transcripts(day)
    m = supervision_metrics(frames)
    supervised = int(m["flags_raised"].gt(0).sum())
    assert 5 <= supervised <= 35
    assert m["coached"].sum() > 0 and m["barge_ins"].sum() > 0
    assert (m.loc[m["flags_raised"] > 0, "flags_answered"] > 0).all()
    by_agent = supervision_by_agent(frames)
    assert by_agent["flags_raised"].sum() == m["flags_raised"].sum()
    # the same frames with both engines
    path = write_transcripts(tmp_path / "sup.jsonl", day)
    assert_same(load_transcripts(path, engine="rows"), load_transcripts(path))


def test_session_entries_get_the_supervision_events() -> None:
    from chat_widget.formats.entry_docs import entry_from_doc, entry_to_doc
    from chat_widget.formats.notices import notice
    from chat_widget.formats.transcript import Entry, Kind, Role, Sender, Visibility

    tess = Sender(Role.SUPERVISOR, "Tess", "tess")
    said = notice("monitor_coach", name="Tess")
    entries = [
        Entry(0, T0, Kind.COACHING, tess, "Apologise first", visibility=Visibility.AGENTS),
        Entry(
            1, T0 + 1, Kind.NOTICE, tess, said.text, visibility=Visibility.AGENTS,
            code=said.code, params=dict(said.params),
        ),
        Entry(2, T0 + 2, Kind.MESSAGE, tess, "Hello, I am Tess"),
    ]  # fmt: skip
    docs = [entry_to_doc(e) for e in entries]
    assert [d.get("event") for d in docs] == ["coaching", "monitor", None]
    assert [entry_from_doc(d) for d in docs] == entries
