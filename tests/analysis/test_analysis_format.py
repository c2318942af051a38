"""Transcript file format: lossless round trips, errors that say where, GMS import."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_widget import MockBackend, VirtualClock
from chat_widget.analysis import load_transcripts
from chat_widget.formats.transcript_file import (
    TranscriptFileError,
    check_transcript,
    dumps_transcript,
    format_utc,
    import_gms,
    parse_utc,
    read_transcript,
    read_transcripts,
    transcript_from_session,
    validate_transcript,
    write_transcript,
    write_transcripts,
)
from chat_widget.model.reply_timer import Thresholds
from chat_widget.replay import ReplayBackend
from tests.analysis.docs import entry, make_doc
from tests.analysis.test_analysis_timer_rule import STEPS, run_session


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e8, max_value=4e9, allow_nan=False))
def test_times_read_back_bit_for_bit(t: float) -> None:
    assert parse_utc(format_utc(t)) == t


def test_time_strings() -> None:
    assert format_utc(1_767_603_600.0) == "2026-01-05T09:00:00Z"
    assert format_utc(1_767_603_600.5) == "2026-01-05T09:00:00.5Z"
    assert parse_utc("2026-01-05T10:00:00+01:00") == 1_767_603_600.0
    with pytest.raises(ValueError, match="no such date"):
        parse_utc("2026-02-30T10:00:00Z")


@settings(max_examples=40, deadline=None)
@given(STEPS, st.integers(min_value=-1, max_value=100))
def test_session_file_session_round_trip_is_lossless(steps, accept_after) -> None:  # type: ignore[no-untyped-def]
    s = run_session(steps, accept_after, Thresholds(10, 20))
    doc = transcript_from_session(s)
    text = dumps_transcript(doc)
    again = validate_transcript(text)
    assert again == json.loads(text)
    assert dumps_transcript(again) == text
    replayed = ReplayBackend(again).seek(1e12)
    assert replayed.to_dict() == s.to_dict()
    assert replayed.timer.waits() == s.timer.waits()
    assert dumps_transcript(transcript_from_session(replayed)) == text


def test_mock_session_round_trip_through_files(tmp_path: Path) -> None:
    backend = MockBackend("impatient", clock=VirtualClock())
    backend.clock.advance(1)
    s = backend.first_session()
    assert s is not None
    s.accept()
    backend.clock.advance(70)
    s.send("Sorry for the wait")
    backend.clock.advance(300)
    s.end()
    s.set_disposition("Resolved")
    s.add_note("technician booked")
    backend.clock.advance(12)
    s.mark_done()
    doc = transcript_from_session(s)
    path = write_transcript(tmp_path / "one.json", doc)
    assert read_transcript(path) == doc
    many = write_transcripts(tmp_path / "many.jsonl", [doc, {**doc, "id": "other"}])
    assert [d["id"] for d in read_transcripts(many).transcripts] == [s.id, "other"]
    # the directory holds the same conversation twice (once per file): the second is refused
    with pytest.raises(TranscriptFileError, match=r"already appeared in .*many\.jsonl, record 1"):
        load_transcripts(tmp_path)
    frames = load_transcripts(tmp_path, errors="skip")
    assert list(frames.conversations["conversation_id"].astype(str)) == [s.id, "other"]
    assert [(Path(p.source).name, p.field) for p in frames.problems] == [("one.json", "id")]


GOOD = make_doc("good", offered=0, accepted=1, ended=9, entries=[entry(2, "contact")])


def bad(change: dict[str, Any] | None = None, **entry_change: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(GOOD))
    doc.update(change or {})
    doc["entries"][0].update(entry_change)
    return doc


BAD_CASES = [
    (bad(kind="shout"), "entries[0].kind"),
    (bad(time="yesterday"), "entries[0].time"),
    (bad(time="2026-01-05T09:00:00"), "entries[0].time"),  # no zone: not UTC
    (bad(index="0"), "entries[0].index"),
    (bad({"agent": {"id": "a"}}), "agent.name"),
    (bad({"colour": "red"}), "colour"),
]
CROSS_CASES = [
    (bad(index=3), "entries[0].index", "expected 0"),
    (bad(time="2026-02-30T09:00:00Z"), "entries[0].time", "no such date"),
    (bad({"accepted_at": "2025-01-01T00:00:00Z"}), "accepted_at", "is before offered_at"),
    (bad(kind="push_url"), "entries[0].url", "needs the URL"),
    (bad(kind="coaching"), "entries[0].visibility", "for agents only"),
    (bad({"thresholds": {"yellow_after": 60, "red_after": 30}}), "thresholds", "yellow_after <"),
]


@pytest.mark.parametrize(("doc", "where"), BAD_CASES)
def test_schema_errors_name_file_record_and_field(
    tmp_path: Path, doc: dict[str, Any], where: str
) -> None:
    path = write_transcripts(tmp_path / "day.jsonl", [GOOD | {"id": "first"}, doc])
    with pytest.raises(TranscriptFileError) as info:
        read_transcripts(path)
    assert (info.value.source, info.value.record, info.value.field) == (str(path), 2, where)
    assert str(path) in str(info.value) and where in str(info.value)
    with pytest.raises(TranscriptFileError) as bulk:
        load_transcripts(path)
    assert (bulk.value.source, bulk.value.record, bulk.value.field) == (str(path), 2, where)


@pytest.mark.parametrize(("doc", "where", "message"), CROSS_CASES)
def test_cross_field_rules_same_in_both_paths(
    tmp_path: Path, doc: dict[str, Any], where: str, message: str
) -> None:
    doc = doc | {"id": "bad"}
    path = write_transcripts(tmp_path / "day.jsonl", [doc, GOOD])
    one = check_transcript(doc, str(path), 1)  # type: ignore[arg-type]
    assert one[0].field == where and message in one[0].message
    with pytest.raises(TranscriptFileError, match=f"record 1, field {re.escape(where)}"):
        read_transcripts(path)
    lenient = load_transcripts(path, errors="skip")
    assert [(p.record, p.field, p.message) for p in lenient.problems] == [
        (1, p.field, p.message) for p in one
    ]
    assert list(lenient.conversations["conversation_id"].astype(str)) == ["good"]
    assert set(lenient.entries["conversation_id"].astype(str)) == {"good"}


def test_skip_loads_the_valid_records_and_reports_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    lines = [
        json.dumps(GOOD),
        "{not json",
        json.dumps(bad(kind="shout")),
        json.dumps(GOOD | {"id": "second"}),
        json.dumps(GOOD),
    ]
    path.write_text("\n".join(lines) + "\n")
    result = read_transcripts(path, errors="skip")
    assert [d["id"] for d in result.transcripts] == ["good", "second"]
    assert [(p.record, p.field) for p in result.problems] == [
        (2, ""),
        (3, "entries[0].kind"),
        (5, "id"),
    ]
    frames = load_transcripts(path, errors="skip")
    assert list(frames.conversations["conversation_id"].astype(str)) == ["good", "second"]
    assert [(p.record, p.field) for p in frames.problems] == [
        (2, ""),
        (3, "entries[0].kind"),
        (5, "id"),
    ]
    with pytest.raises(TranscriptFileError, match="record 2"):
        load_transcripts(path)


def test_frames_have_proper_dtypes(tmp_path: Path) -> None:
    frames = load_transcripts(write_transcripts(tmp_path / "d.jsonl", [GOOD]))
    e, c = frames.entries, frames.conversations
    assert str(e["time"].dtype) == "datetime64[ns, UTC]"
    assert str(c["accepted_at"].dtype) == "datetime64[ns, UTC]"
    for col in ("conversation_id", "kind", "sender_role", "sender_id", "visibility", "event"):
        assert isinstance(e[col].dtype, __import__("pandas").CategoricalDtype), col
    assert list(e["kind"].cat.categories) == [
        "message",
        "notice",
        "push_url",
        "consult",
        "coaching",
    ]


GMS = {
    "chatId": "00048aAPEQJ8000U",
    "chatEnded": True,
    "messages": [
        {
            "from": {"nickname": "Carl", "participantId": 1, "type": "Client"},
            "index": 1,
            "type": "ParticipantJoined",
            "utcTime": 1432845088000,
        },
        {
            "from": {"nickname": "Carl", "participantId": 1, "type": "Client"},
            "index": 2,
            "type": "TypingStarted",
            "utcTime": 1432845089000,
        },
        {
            "from": {"nickname": "Carl", "participantId": 1, "type": "Client"},
            "index": 3,
            "type": "Message",
            "text": "Hi, my invoice is wrong",
            "utcTime": 1432845092000,
        },
        {
            "from": {"nickname": "Anna", "participantId": 2, "type": "Agent"},
            "index": 4,
            "type": "ParticipantJoined",
            "utcTime": 1432845100000,
        },
        {
            "from": {"nickname": "Anna", "participantId": 2, "type": "Agent"},
            "index": 5,
            "type": "Message",
            "text": "Let me check",
            "utcTime": 1432845140000,
        },
        {
            "from": {"nickname": "Bert", "participantId": 3, "type": "Agent"},
            "index": 6,
            "type": "ParticipantJoined",
            "utcTime": 1432845150000,
        },
        {
            "from": {"nickname": "Anna", "participantId": 2, "type": "Agent"},
            "index": 7,
            "type": "ParticipantLeft",
            "utcTime": 1432845155000,
        },
        {
            "from": {"nickname": "Bert", "participantId": 3, "type": "Agent"},
            "index": 8,
            "type": "PushUrl",
            "text": "https://example.com/invoice",
            "utcTime": 1432845160000,
        },
        {
            "from": {"nickname": "Carl", "participantId": 1, "type": "Client"},
            "index": 9,
            "type": "ParticipantLeft",
            "utcTime": 1432845170000,
        },
        {
            "from": {"nickname": "Bert", "participantId": 3, "type": "Agent"},
            "index": 10,
            "type": "ParticipantLeft",
            "utcTime": 1432845175000,
        },
    ],
}


def test_gms_import_maps_the_transcript() -> None:
    doc = import_gms(GMS)
    assert doc["id"] == "00048aAPEQJ8000U"
    assert doc["contact"]["name"] == "Carl" and doc["agent"] == {"id": "2", "name": "Anna"}
    assert doc["offered_at"] == format_utc(1432845088.0)
    assert doc["accepted_at"] == format_utc(1432845100.0)
    assert doc["left_at"] == format_utc(1432845170.0)
    assert doc["ended_at"] == format_utc(1432845175.0)
    kinds = [(e["kind"], e["sender"]["role"], e.get("event")) for e in doc["entries"]]
    assert kinds == [
        ("notice", "contact", "joined"),
        ("message", "contact", None),
        ("notice", "agent", "joined"),
        ("message", "agent", None),
        ("notice", "agent", "transfer"),
        ("notice", "agent", "left"),
        ("push_url", "agent", None),
        ("notice", "contact", "left"),
        ("notice", "agent", "left"),
    ]
    assert doc["entries"][6]["url"] == "https://example.com/invoice"
    assert doc["typing"] == [
        {"time": format_utc(1432845089.0), "role": "contact", "typing": True, "id": "1"}
    ]
    from chat_widget.analysis import conversation_metrics, frames_from_transcripts

    cm = conversation_metrics(frames_from_transcripts([doc]))
    assert cm.loc[0, "transfers"] == 1 and cm.loc[0, "first_response_s"] == 40


def test_gms_conference_when_the_first_agent_stays() -> None:
    msgs = [m for m in GMS["messages"] if m["index"] != 7]  # type: ignore[index]
    doc = import_gms({"messages": msgs})
    assert [e.get("event") for e in doc["entries"]].count("conference") == 1


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"type": "Shout"}, "messages[2].type"),
        ({"from": {"nickname": "X", "participantId": 1, "type": "Robot"}}, "messages[2].from.type"),
        ({"utcTime": "noon"}, "messages[2].utcTime"),
        ({"index": "three"}, "messages[2].index"),
    ],
)
def test_gms_errors_name_the_field(change: dict[str, Any], where: str) -> None:
    data = json.loads(json.dumps(GMS))
    data["messages"][2].update(change)
    with pytest.raises(TranscriptFileError) as info:
        import_gms(data, source="gms.json")
    assert info.value.field == where and "gms.json" in str(info.value)
