"""The class report (issue 15): a server database with two class runs and a chat of no
class, written through the real ``SQLiteStore``; the report's numbers are checked by hand
and against the metric functions run on the same class's conversations."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chat_widget.analysis import (
    agent_metrics,
    conversation_metrics,
    export_parquet,
    export_store,
    load_store,
    load_transcripts,
    summary,
    waits,
)
from chat_widget.analysis.classroom import COMPARED, ClassReport, class_frames, class_report
from chat_widget.analysis.parquet import select
from chat_widget.cli import main
from chat_widget.formats import protocol as p
from chat_widget.formats.transcript_file import (
    TranscriptFileError,
    read_transcripts,
    validate_transcript,
)
from chat_widget.model.reply_timer import Thresholds
from chat_widget.server.sqlite_reader import SQLiteReader

from .class_store import CUSTOMER, Chat, handled, who, write_pg_store, write_store
from .test_columnar import assert_same, no_fallback

T0 = 1_767_600_000.0  # 2026-01-05 08:00 UTC
DAY = 86_400.0
LIMITS = Thresholds(30.0, 60.0)
ALICE = who("Alice", "alice")
BOB = who("Bob", "bob")
CORA = who("Cora", "cora")
MALLORY = who("<script>alert(1)</script>", "mallory")


def chats() -> list[Chat]:
    """Class ``mon-am``: Alice (2 chats), Bob, Mallory, one customer who left unanswered;
    class ``tue-pm`` the next day (Cora, Alice); one chat of Alice's with no class."""
    c = CUSTOMER
    return [
        # Alice: first response 12 s; then a 90 s wait (30 s yellow, 30 s red); a URL
        Chat("a1", "mon-am", T0, handled(
            ALICE, accept=3, end=120, disposition="resolved", urls=[112],
            said=[(5, c, "My bill is wrong"), (15, ALICE, "Let me check"),
                  (20, c, "Hello?"), (110, ALICE, "Fixed it")])),
        # Alice: first response 8 s
        Chat("a2", "mon-am", T0 + 300, handled(
            ALICE, accept=2, end=30, disposition="resolved",
            said=[(4, c, "Hi"), (10, ALICE, "Hello")])),
        # Bob: 20 s, then 40 s (10 s yellow)
        Chat("a3", "mon-am", T0 + 600, handled(
            BOB, accept=5, end=80, disposition="callback",
            said=[(6, c, "Hi"), (25, BOB, "Hi"), (30, c, "?"), (70, BOB, "Sorry")])),
        # Mallory: exactly 30 s (the colour turns at the threshold: 0 s yellow)
        Chat("a4", "mon-am", T0 + 900, handled(
            MALLORY, accept=1, end=40, said=[(2, c, "Hi"), (31, MALLORY, "Hi")])),
        # the customer left before anyone accepted
        Chat("a5", "mon-am", T0 + 1200, [
            (0, p.ParticipantJoined, c, {}), (50, p.ParticipantLeft, c, {})]),
        Chat("b1", "tue-pm", T0 + DAY, handled(
            CORA, accept=1, end=300, said=[(200, CORA, "Hi")])),
        Chat("b2", "tue-pm", T0 + DAY + 500, handled(
            ALICE, accept=1, end=120, said=[(100, ALICE, "Hi")])),
        Chat("n1", None, T0 + 2000, handled(ALICE, accept=1, end=10, said=[(4, ALICE, "Hi")])),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_store(tmp_path_factory.mktemp("class") / "chats.sqlite", chats())


@pytest.fixture(scope="module")
def report(db: Path) -> ClassReport:
    return class_report(db, "mon-am", thresholds=LIMITS)


# ----------------------------------------------------------------------------- numbers
def test_hand_made_class_numbers(report: ClassReport) -> None:
    t = report.trainees
    assert t.index.tolist() == ["alice", "bob", "mallory"]
    assert t["trainee_name"].tolist() == ["Alice", "Bob", "<script>alert(1)</script>"]
    assert t["chats"].tolist() == [2, 1, 1]
    assert t["first_response_median_s"].tolist() == [10.0, 20.0, 30.0]
    assert t["first_response_mean_s"].tolist() == [10.0, 20.0, 30.0]
    assert t["responses"].tolist() == [3, 2, 1]
    assert t["response_median_s"].tolist() == [12.0, 30.0, 30.0]
    assert t.loc["alice", "response_mean_s"] == pytest.approx((12 + 90 + 8) / 3)
    assert t["yellow_s"].tolist() == [30.0, 10.0, 0.0]
    assert t["red_s"].tolist() == [30.0, 0.0, 0.0]
    assert t["pushed_urls"].tolist() == [1, 0, 0]
    assert t["transfers"].tolist() == [0, 0, 0]
    assert t["dispositions"].tolist() == [2, 1, 0]
    assert t["top_disposition"].tolist()[:2] == ["resolved", "callback"]
    assert pd.isna(t.loc["mallory", "top_disposition"])  # none set
    median = report.class_median
    assert (median["chats"], median["first_response_median_s"]) == (1.0, 20.0)
    assert (median["yellow_s"], median["red_s"], median["dispositions"]) == (10.0, 0.0, 1.0)
    assert t["first_response_median_s_vs_class"].tolist() == [-10.0, 0.0, 10.0]
    assert t["red_s_vs_class"].tolist() == [30.0, 0.0, 0.0]
    assert {f"{c}_vs_class" for c in COMPARED} <= set(t.columns)
    # every chat of the class (the abandoned one too), none of another class or of none
    assert report.chats["conversation_id"].astype(str).tolist() == ["a1", "a2", "a3", "a4", "a5"]
    assert set(report.chats["class_id"]) == {"mon-am"}
    assert report.chats["abandoned"].tolist() == [False, False, False, False, True]
    assert report.summary["conversations"] == 5 and report.summary["abandoned"] == 1
    assert report.date == "2026-01-05"


def test_report_equals_the_metric_functions_on_the_class(db: Path, report: ClassReport) -> None:
    frames = load_store(db)
    mine = frames.conversations["class_id"].astype(object) == "mon-am"
    ids = frames.conversations.loc[mine, "conversation_id"].astype(str).tolist()
    cls = select(frames, conversations=ids)
    w = waits(cls, LIMITS)
    cm = conversation_metrics(cls, LIMITS)
    am = agent_metrics(cls, LIMITS).loc[report.trainees.index]
    t = report.trainees
    np.testing.assert_array_equal(t["chats"], am["conversations"])
    for mine_col, theirs in (
        ("first_response_mean_s", "first_response_mean_s"),
        ("response_mean_s", "response_mean_s"),
        ("response_median_s", "response_p50_s"),
        ("yellow_s", "yellow_s"),
        ("red_s", "red_s"),
        ("pushed_urls", "pushed_urls"),
        ("transfers", "transfers"),
        ("unanswered", "unanswered"),
    ):
        np.testing.assert_allclose(t[mine_col].to_numpy(float), am[theirs].to_numpy(float))
    medians = cm.groupby(cm["agent_id"].astype(str))["first_response_s"].median()
    np.testing.assert_array_equal(t["first_response_median_s"], medians.loc[t.index])
    np.testing.assert_allclose(report.chats["red_s"], cm["red_s"])
    np.testing.assert_allclose(report.chats["first_response_s"], cm["first_response_s"])
    responded = w[w["ended_by"] == "reply"].groupby("responder_id", observed=True)
    assert responded["duration_s"].median().loc[t.index].tolist() == t["response_median_s"].tolist()
    expected = summary(cls, LIMITS)
    pd.testing.assert_series_equal(report.summary, expected)
    assert report.class_median["red_s"] == t["red_s"].median()


def test_every_source_gives_the_same_report(db: Path, report: ClassReport, tmp_path: Path) -> None:
    jsonl = tmp_path / "chats.jsonl"
    export_store(db, jsonl)
    reader = SQLiteReader.open_readonly(db)
    for source in (load_store(db), jsonl, reader, str(db)):
        other = class_report(source, "mon-am", thresholds=LIMITS)
        pd.testing.assert_frame_equal(other.trainees, report.trainees)
        keep = [c for c in report.chats.columns]
        pd.testing.assert_frame_equal(
            other.chats[keep].reset_index(drop=True),
            report.chats[keep].reset_index(drop=True),
            check_categorical=False,
        )
    tue = class_report(db, "tue-pm")  # default thresholds 30/60
    assert tue.trainees.index.tolist() == ["alice", "cora"]
    assert tue.trainees["red_s"].tolist() == [39.0, 139.0]
    assert tue.thresholds == Thresholds()
    with pytest.raises(LookupError, match="no conversations of class 'nope'"):
        class_report(db, "nope")


def test_the_store_reads_only_the_class_conversations(db: Path) -> None:
    frames = class_frames(db, "tue-pm")
    assert frames.conversations["conversation_id"].astype(str).tolist() == ["b1", "b2"]
    # the record stays the conversation's place in the whole database
    assert frames.conversations["record"].tolist() == [7, 8]
    assert set(frames.entries["conversation_id"].astype(str)) == {"b1", "b2"}


# ----------------------------------------------------------------------------- the format
def test_class_id_survives_export_json_and_load(db: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "chats.jsonl"
    export_store(db, jsonl)
    docs = read_transcripts(jsonl).transcripts
    assert [d.get("class_id") for d in docs] == [
        "mon-am",
        "mon-am",
        "mon-am",
        "mon-am",
        "mon-am",
        None,
        "tue-pm",
        "tue-pm",
    ]  # fmt: skip (oldest first: n1 came before the next day's class)
    assert "class_id" not in docs[5]  # absent when none
    stored = load_store(db)
    rows = load_transcripts(jsonl, engine="rows")
    classes = stored.conversations["class_id"]
    assert classes.astype(object).where(classes.notna(), "-").tolist() == (
        ["mon-am"] * 5 + ["-"] + ["tue-pm"] * 2
    )
    assert isinstance(stored.conversations["class_id"].dtype, pd.CategoricalDtype)
    for name in ("conversations", "entries", "typing"):
        a, b = getattr(stored, name), getattr(rows, name)
        keep = [c for c in a.columns if c != "source"]
        pd.testing.assert_frame_equal(a[keep], b[keep], check_exact=True)


def test_both_engines_agree_on_class_id(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jsonl = tmp_path / "chats.jsonl"
    export_store(db, jsonl)
    rows = load_transcripts(jsonl, engine="rows")
    no_fallback(monkeypatch)
    assert_same(rows, load_transcripts(jsonl))


def test_no_class_at_all_loads_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = write_store(tmp_path / "none.sqlite", [c for c in chats() if c.class_id is None])
    jsonl = tmp_path / "none.jsonl"
    export_store(db, jsonl)
    rows = load_transcripts(jsonl, engine="rows")
    assert rows.conversations["class_id"].isna().all()
    no_fallback(monkeypatch)
    assert_same(rows, load_transcripts(jsonl))


def test_parquet_round_trip_keeps_class_id(db: Path, tmp_path: Path) -> None:
    frames = load_store(db)
    folder = export_parquet(frames, tmp_path / "chats.parquet")
    back = load_transcripts(folder)
    for name in ("conversations", "entries", "typing"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(frames, name))
    report = class_report(folder, "tue-pm")
    assert report.trainees.index.tolist() == ["alice", "cora"]


def test_parquet_written_before_class_id_still_loads(db: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    folder = export_parquet(load_store(db), tmp_path / "old.parquet")
    for f in (folder / "conversations").rglob("*.parquet"):
        table = pq.read_table(f)
        pq.write_table(table.drop(["class_id"]), f)
    back = load_transcripts(folder)
    assert back.conversations["class_id"].isna().all()


@pytest.mark.parametrize(
    ("value", "ok"),
    [("mon-am", True), (None, True), ("A_1-b", True), ("has space", False), ("", False),
     ("x" * 65, False), ("é", False), ("ok\n", False)],
)  # fmt: skip
def test_class_id_is_validated_alike_by_both_engines(
    value: str | None, ok: bool, tmp_path: Path
) -> None:
    doc = {
        "format": "chat_widget.transcript",
        "version": 1,
        "id": "c1",
        "agent": {"id": "a", "name": "A"},
        "contact": {"name": "C"},
        "offered_at": "2026-01-05T08:00:00Z",
        "entries": [],
        "class_id": value,
    }
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    if ok:
        assert validate_transcript(doc).get("class_id") == value
        assert_same(load_transcripts(path, engine="rows"), load_transcripts(path))
        return
    with pytest.raises(TranscriptFileError) as caught:
        validate_transcript(doc)
    assert caught.value.field == "class_id"
    assert "class id" in str(caught.value)
    rows = load_transcripts(path, engine="rows", errors="skip")
    cols = load_transcripts(path, errors="skip")
    assert rows.problems == cols.problems and rows.problems[0].field == "class_id"


# ----------------------------------------------------------------------------- plots, HTML
def test_plot_shows_the_trainee_against_the_class(report: ClassReport) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    fig = report.plot("alice")
    times, colours = fig.axes
    mine = [b.get_height() for b in times.containers[0]]
    class_median = [b.get_height() for b in times.containers[1]]
    assert mine == [10.0, 10.0, 12.0, report.trainees.loc["alice", "response_mean_s"]]
    assert class_median[0] == 20.0
    assert [b.get_height() for b in colours.containers[0]] == [30.0, 30.0]
    shell = InteractiveShell.instance()
    try:
        data, _ = shell.display_formatter.format(fig)
        assert data["image/png"].startswith(b"\x89PNG")
    finally:
        InteractiveShell.clear_instance()
    with pytest.raises(KeyError):
        report.plot("cora")


def test_html_is_one_self_contained_file(report: ClassReport, tmp_path: Path) -> None:
    path = report.to_html(tmp_path / "report.html")
    assert path == tmp_path / "report.html"
    text = path.read_text(encoding="utf-8")
    assert "<title>Class report: mon-am · 2026-01-05</title>" in text
    for name in ("Alice", "Bob", "&lt;script&gt;alert(1)&lt;/script&gt;"):
        assert f"<h2>{name} (" in text
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "http" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 3
    import base64

    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert text.count("<section>") == 3
    assert ">class median<" in text


# ----------------------------------------------------------------------------- the CLI
def test_cli_prints_the_table_and_writes_html(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mon.html"
    assert main(["class", "report", "mon-am", "--db", str(db), "--html", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "alice" in printed and "bob" in printed and "mallory" in printed
    assert "class median" in printed
    assert out.read_text(encoding="utf-8").count("<section>") == 3
    assert main(["class", "report", "nope", "--db", str(db)]) == 1
    assert "no conversations of class 'nope'" in capsys.readouterr().err


def test_cli_reads_a_postgresql_store(
    pg_url: str, report: ClassReport, capsys: pytest.CaptureFixture[str]
) -> None:
    """``class report --store URL``: a class run served by ``serve --store`` gives the
    same table as the same chats on SQLite."""
    write_pg_store(pg_url, chats())
    assert main(["class", "report", "mon-am", "--store", pg_url, "--yellow-after", "30",
                 "--red-after", "60"]) == 0  # fmt: skip
    assert capsys.readouterr().out.strip() == report.text().strip()
    assert main(["class", "report", "nope", "--store", pg_url]) == 1
    assert "no conversations of class 'nope'" in capsys.readouterr().err


def test_cli_refuses_a_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["class", "report", "mon-am", "--db", str(tmp_path / "no.sqlite")]) == 1
    assert "no such database" in capsys.readouterr().err


def test_store_rows_carry_the_class_in_the_contact(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        contact = conn.execute("SELECT contact FROM conversations WHERE id = 'a1'").fetchone()[0]
    assert json.loads(contact) == {"nickname": "Carla", "class": "mon-am"}
