"""The columnar engine (pyarrow) against the rows engine (pydantic per record): the same
frames, column for column, and the same problems, for every kind of input and bad record."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_widget.analysis import columnar as col
from chat_widget.analysis import export_store, generate_day, load_store, load_transcripts
from chat_widget.analysis.load import TranscriptFrames
from chat_widget.formats.transcript_file import (
    TranscriptFileError,
    import_gms,
    write_transcripts,
)
from tests.analysis.test_analysis_format import GMS, GOOD, bad
from tests.analysis.test_store_load import play_day


def assert_same(a: TranscriptFrames, b: TranscriptFrames) -> None:
    for name in ("conversations", "entries", "typing"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.problems == b.problems


def both(path: Path, **kw: Any) -> tuple[TranscriptFrames, TranscriptFrames]:
    return load_transcripts(path, engine="rows", **kw), load_transcripts(path, **kw)


def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a fallback to the rows engine fail the test (the columns did the work)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fell back to the rows engine")

    monkeypatch.setattr("chat_widget.analysis.load.load_records", refuse)


def test_synthetic_day_same_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = generate_day(tmp_path / "day.jsonl", conversations=150, seed=3)
    rows = load_transcripts(path, engine="rows")
    no_fallback(monkeypatch)
    assert_same(rows, load_transcripts(path))
    assert len(rows.entries) > 1000 and len(rows.typing) > 0


def test_gms_import_same_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_transcripts(tmp_path / "gms.jsonl", [import_gms(GMS), GOOD])
    rows = load_transcripts(path, engine="rows")
    no_fallback(monkeypatch)
    assert_same(rows, load_transcripts(path))


async def test_live_server_store_same_frames(tmp_path: Path) -> None:
    db, _, _ = await play_day(tmp_path)
    stored = load_store(db)
    path = tmp_path / "store.jsonl"
    assert export_store(db, path) == 2
    rows, columns = both(path)
    assert_same(rows, columns)
    # the export names its file; the store its database: the rest is the same
    for name in ("conversations", "entries", "typing"):
        a, b = getattr(stored, name), getattr(columns, name)
        keep = [c for c in a.columns if c != "source"]
        pd.testing.assert_frame_equal(a[keep], b[keep], check_exact=True)


def test_directory_of_files(tmp_path: Path) -> None:
    generate_day(tmp_path / "a.jsonl", conversations=20, seed=1)
    generate_day(tmp_path / "b.jsonl", conversations=20, seed=2)  # the same ids: refused
    rows, columns = both(tmp_path, errors="skip")
    assert_same(rows, columns)
    assert len(columns.problems) == 20 and columns.problems[0].field == "id"


BAD_RECORDS: list[tuple[str, Any, bool]] = [
    # (what, the record (dict or raw line), found by the columns without the rows engine)
    ("vocabulary", bad(kind="shout"), True),
    ("role", bad(sender={"role": "bot", "name": "B", "id": "b"}), True),
    ("time pattern", bad(time="yesterday"), True),
    ("no zone", bad(time="2026-01-05T09:00:00"), True),
    ("no such date", bad(time="2026-02-30T09:00:00Z"), True),
    ("two times in one", bad(time="2026-01-05T09:00:00Z\n2026-01-05T09:00:00Z"), True),
    ("space for T", bad(time="2026-01-05 09:00:00Z"), True),
    ("no seconds", bad(time="2026-01-05T09:00Z"), True),
    ("zone without minutes", bad(time="2026-01-05T09:00:00+01"), True),
    ("lifecycle time shape", bad({"ended_at": "2026-01-05T09:00:09+0100"}), True),
    ("state vocabulary", bad({"state": "lost"}), True),
    ("visibility vocabulary", bad(visibility="everyone"), True),
    (
        "typing role",
        bad({"typing": [{"time": "2026-01-05T09:00:00Z", "role": "bot", "typing": True}]}),
        True,
    ),
    ("index gap", bad(index=3), True),
    ("negative index", bad(index=-1), True),
    ("missing field", bad({"agent": {"id": "a"}}), True),
    ("missing entries", {k: v for k, v in GOOD.items() if k != "entries"}, True),
    ("name too long", bad({"agent": {"id": "a", "name": "x" * 501}}), True),
    ("empty id", bad({"id": ""}), True),
    ("version", bad({"version": 2}), True),
    ("format", bad({"format": "other"}), True),
    ("lifecycle order", bad({"accepted_at": "2025-01-01T00:00:00Z"}), True),
    ("thresholds order", bad({"thresholds": {"yellow_after": 60, "red_after": 30}}), True),
    ("threshold range", bad({"thresholds": {"yellow_after": 0, "red_after": 30}}), True),
    ("push_url without url", bad(kind="push_url"), True),
    ("coaching for all", bad(kind="coaching", visibility="all"), True),
    ("unknown event", bad(kind="notice", event="monitor_start"), True),
    ("explicit null state", bad({"state": None}), True),
    ("explicit null visibility", bad(visibility=None), True),
    ("explicit null sender id", bad(sender={"role": "contact", "name": "C", "id": None}), True),
    ("null in params", bad(code="joined", params={"name": None}), True),
    ("params not text", bad(code="joined", params={"name": 3}), True),
    ("null note", bad({"notes": [None]}), True),
    (
        "typing time",
        bad({"typing": [{"time": "2026-13-01T00:00:00Z", "role": "contact", "typing": True}]}),
        True,
    ),
    ("attributes nested", bad({"attributes": {"a": {"b": 1}}}), True),
    ("unknown field", bad({"colour": "red"}), False),
    ("unknown entry field", bad(colour="red"), False),
    ("index as text", bad(index="0"), False),
    ("not json", "{not json", False),
]


@pytest.mark.parametrize(
    ("what", "record", "columnar"), BAD_RECORDS, ids=[b[0] for b in BAD_RECORDS]
)
def test_bad_records_same_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str, record: Any, columnar: bool
) -> None:
    path = tmp_path / "day.jsonl"
    line = record if isinstance(record, str) else json.dumps(record | {"id": record.get("id", "x")})
    lines = [json.dumps(GOOD), "", line, json.dumps(GOOD | {"id": "after"})]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TranscriptFileError) as rows_error:
        load_transcripts(path, engine="rows")
    rows = load_transcripts(path, engine="rows", errors="skip")
    assert rows.problems and {p.record for p in rows.problems} == {3}
    if columnar:
        no_fallback(monkeypatch)
    with pytest.raises(TranscriptFileError) as columns_error:
        load_transcripts(path)
    assert str(columns_error.value) == str(rows_error.value)
    assert columns_error.value.problems == rows_error.value.problems
    assert_same(rows, load_transcripts(path, errors="skip"))


def test_blank_and_indented_lines_numbered_as_by_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "day.jsonl"
    lines = [
        json.dumps(GOOD),
        "  \t",
        "",
        "\t " + json.dumps(bad(time="2026-02-30T09:00:00Z") | {"id": "b"}),
    ]
    path.write_text("\n".join([*lines, json.dumps(GOOD | {"id": "after"}), " "]) + "\n")
    rows = load_transcripts(path, engine="rows", errors="skip")
    assert [p.record for p in rows.problems] == [4]
    no_fallback(monkeypatch)
    assert_same(rows, load_transcripts(path, errors="skip"))


EXPLICIT_NULLS: list[tuple[str, Any]] = [
    ("state", lambda d: d.update(state=None)),
    ("visibility", lambda d: d["entries"][1].update(visibility=None)),
    ("sender id", lambda d: d["entries"][0]["sender"].update(id=None)),
    ("contact id", lambda d: d["contact"].update(id=None)),
    ("phones", lambda d: d["contact"].update(phones=None)),
    ("params value", lambda d: d["entries"][0].update(code="joined", params={"name": None})),
    ("params value, spaced", lambda d: d["entries"][0].update(params={"a": "b", "c": None})),
]


@pytest.mark.parametrize(("what", "change"), EXPLICIT_NULLS, ids=[e[0] for e in EXPLICIT_NULLS])
def test_explicit_null_in_a_day_of_full_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str, change: Any
) -> None:
    # every other record has the field: only this record's columns leave it open
    from chat_widget.analysis import generate

    docs = [json.loads(json.dumps(d)) for d in generate(conversations=30, seed=4)]
    change(docs[17])
    path = tmp_path / "day.jsonl"
    sep = (", ", ": ") if "spaced" in what else (",", ":")
    path.write_text("".join(json.dumps(d, separators=sep) + "\n" for d in docs))
    rows = load_transcripts(path, engine="rows", errors="skip")
    assert [p.record for p in rows.problems] == [18]
    no_fallback(monkeypatch)
    assert_same(rows, load_transcripts(path, errors="skip"))


def test_a_found_null_outranks_what_the_first_build_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # record 1 breaks a cross-field rule (raised while the text search still runs),
    # record 2 holds a null in params: the rows engine stops at record 2's shape
    path = tmp_path / "day.jsonl"
    lines = [
        json.dumps(bad({"id": "a", "thresholds": {"yellow_after": 60, "red_after": 30}})),
        json.dumps(bad(code="joined", params={"name": None}) | {"id": "b"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TranscriptFileError) as rows_error:
        load_transcripts(path, engine="rows")
    rows = load_transcripts(path, engine="rows", errors="skip")
    no_fallback(monkeypatch)
    with pytest.raises(TranscriptFileError) as columns_error:
        load_transcripts(path)
    assert columns_error.value.problems == rows_error.value.problems
    assert [p.record for p in columns_error.value.problems] == [2]
    assert_same(rows, load_transcripts(path, errors="skip"))


@pytest.mark.parametrize("chunk", [7, 1 << 16])
def test_cross_field_problems_in_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Times going back, index gaps and bad typing times deep inside a day, the checks
    taken in steps of ``chunk`` rows: the rows engine's problems."""
    from chat_widget.analysis import column_checks, generate

    monkeypatch.setattr(column_checks, "CHUNK", chunk)
    docs = [json.loads(json.dumps(d)) for d in generate(conversations=20, seed=5)]
    docs[5]["entries"][3]["time"] = docs[5]["entries"][1]["time"].replace("Z", "0Z")[:-2] + "Z"
    docs[6]["entries"][2]["time"] = "2020-01-01T00:00:00Z"
    docs[9]["entries"][1]["index"] = 5
    typing = docs[12].setdefault("typing", [])
    typing[:] = [{"time": docs[12]["offered_at"], "role": "contact", "typing": True}] * 3
    typing[1] = {"time": "2026-02-30T09:00:00Z", "role": "contact", "typing": False}
    path = tmp_path / "day.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    rows = load_transcripts(path, engine="rows", errors="skip")
    assert [(p.record, p.field) for p in rows.problems] == [
        (6, "entries[3].time"),  # goes back in time
        (7, "entries[2].time"),
        (10, "entries[1].index"),
        (13, "typing[1].time"),  # no such date
    ]
    no_fallback(monkeypatch)
    assert_same(rows, load_transcripts(path, errors="skip"))


def test_valid_but_flagged_record_falls_back(tmp_path: Path) -> None:
    # an attribute may be null; GOOD has no "state", so its line is searched, and the
    # search flags the "state": null inside the attributes anyway
    doc = GOOD | {"attributes": {"state": None, "n": 3}}
    path = write_transcripts(tmp_path / "day.jsonl", [doc, GOOD | {"id": "two"}])
    with pytest.raises(col.Fallback):
        col.read_columnar([path], "skip")
    rows, columns = both(path)
    assert_same(rows, columns)
    assert not columns.problems


def test_byte_order_mark_refused_as_by_rows(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_text("\ufeff" + json.dumps(GOOD) + "\n" + json.dumps(GOOD | {"id": "b"}) + "\n")
    rows, columns = both(path, errors="skip")
    assert_same(rows, columns)
    assert [p.record for p in columns.problems] == [1]


# -------------------------------------------------------------------------- differential
VALUES = st.sampled_from(
    [
        None, "", "x", "y" * 501, 0, -1, 3, 1.5, 0.0, 90_000.0, True, [], [None], ["a"], {},
        {"a": None}, {"a": "b"}, {"a": {"b": 1}}, "2026-02-30T09:00:00Z", "2026-01-05T09:00:00",
        "2026-01-05T07:00:00Z", "2027-01-05T09:00:00+01:00", "agent", "contact", "message",
        "push_url", "notice", "all", "agents", "joined", "transfer", "done", "coaching",
        "supervisor", "monitor", "flag_raised",
        "chat_widget.transcript",
    ]
)  # fmt: skip
TOP = st.sampled_from(
    [
        "format", "version", "id", "state", "agent", "contact", "parties", "offered_at",
        "accepted_at", "left_at", "ended_at", "done_at", "disposition", "notes", "thresholds",
        "entries", "typing", "attributes", "colour",
    ]
)  # fmt: skip
ENTRY_KEYS = st.sampled_from(
    [
        "index", "time", "kind", "sender", "text", "url", "visibility", "client_id", "event",
        "code", "params", "colour",
    ]
)  # fmt: skip
INNER = st.sampled_from(["role", "name", "id", "phones", "emails", "yellow_after", "red_after"])
MUTATION = st.one_of(
    st.tuples(st.just("top"), TOP, VALUES),
    st.tuples(st.just("drop"), TOP, st.none()),
    st.tuples(st.just("entry"), ENTRY_KEYS, VALUES),
    st.tuples(st.just("drop_entry"), ENTRY_KEYS, st.none()),
    st.tuples(st.just("sender"), INNER, VALUES),
    st.tuples(st.just("contact"), INNER, VALUES),
    st.tuples(st.just("agent"), INNER, VALUES),
    st.tuples(st.just("thresholds"), INNER, VALUES),
    st.tuples(st.just("typing"), st.sampled_from(["time", "role", "typing", "id", "x"]), VALUES),
)


def mutate(doc: dict[str, Any], where: str, key: str, value: Any, at: int) -> None:
    """Change one field (a change that no longer fits the shape is left out)."""
    if where == "top":
        doc[key] = value
        return
    if where == "drop":
        doc.pop(key, None)
        return
    if where == "typing":
        typing = doc.get("typing")
        if not typing:
            typing = [{"time": doc.get("offered_at"), "role": "contact", "typing": True}]
        if isinstance(typing, list) and isinstance(typing[at % len(typing)], dict):
            typing[at % len(typing)][key] = value
            doc["typing"] = typing
        return
    if where in ("entry", "drop_entry", "sender"):
        entries = doc.get("entries")
        if not isinstance(entries, list) or not entries:
            return
        item = entries[at % len(entries)]
        if not isinstance(item, dict):
            return
        if where == "entry":
            item[key] = value
        elif where == "drop_entry":
            item.pop(key, None)
        elif isinstance(item.get("sender"), dict):
            item["sender"][key] = value
        return
    target = doc.get(where)
    if isinstance(target, dict):
        target[key] = value
    else:
        doc[where] = {key: value}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(MUTATION, st.integers(min_value=0, max_value=40), st.integers(0, 5)),
        max_size=4,
    )
)
def test_engines_agree_on_any_mutation(changes: list[Any]) -> None:  # type: ignore[no-untyped-def]
    """Random breakage of a generated day: both engines load the same frames and name the
    same problems (the columnar checks never flag too little)."""
    from chat_widget.analysis import generate

    docs = [json.loads(json.dumps(d)) for d in generate(conversations=6, seed=9)]
    for (where, key, value), at, record in changes:
        mutate(docs[record], where, key, value, at)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.jsonl"
        path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        try:
            rows = load_transcripts(path, engine="rows", errors="skip")
        except (OverflowError, ValueError) as exc:  # not the format's concern: same in both
            with pytest.raises(type(exc)):
                load_transcripts(path, errors="skip")
            return
        assert_same(rows, load_transcripts(path, errors="skip"))
        if rows.problems:
            with pytest.raises(TranscriptFileError) as a:
                load_transcripts(path, engine="rows")
            with pytest.raises(TranscriptFileError) as b:
                load_transcripts(path)
            assert a.value.problems == b.value.problems
