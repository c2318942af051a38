"""The columnar engine (pyarrow) against the rows engine (pydantic per record): the same
frames, column for column, and the same problems, for every kind of input and bad record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

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


def test_valid_but_flagged_record_falls_back(tmp_path: Path) -> None:
    # an attribute may be null; the null search flags "state": null inside it anyway
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
