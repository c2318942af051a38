"""Parquet datasets: lossless round trip, filters pushed down to the files, and DuckDB
querying the dataset directly with the numbers ``agent_metrics`` gives."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_widget.analysis import (
    SyntheticConfig,
    agent_metrics,
    conversation_metrics,
    export_parquet,
    frames_from_transcripts,
    generate,
    load_store,
    load_transcripts,
    parquet_files,
)
from chat_widget.analysis import parquet as pq_mod
from chat_widget.analysis.load import TranscriptFrames
from chat_widget.analysis.parquet import select
from chat_widget.formats.transcript_file import write_transcripts
from chat_widget.model.export import transcript_from_session
from chat_widget.model.reply_timer import Thresholds
from tests.analysis.test_analysis_timer_rule import STEPS, run_session
from tests.analysis.test_store_load import play_day

DAY = 86_400.0


def assert_same(a: TranscriptFrames, b: TranscriptFrames) -> None:
    for name in ("conversations", "entries", "typing"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def days(offsets: list[int], per_day: int = 3, seed: int = 0) -> list[dict[str, Any]]:
    """A few generated conversations on each of these days (after 2026-01-05)."""
    base = SyntheticConfig(conversations=per_day, seed=seed, typing=True)
    docs: list[dict[str, Any]] = []
    for k, offset in enumerate(offsets):
        cfg = replace(base, start=base.start + offset * DAY, seed=seed + k)
        for doc in generate(cfg):
            docs.append(doc | {"id": f"d{k}-{doc['id']}"})
    return docs


@settings(max_examples=25, deadline=None)
@given(
    STEPS,
    st.integers(min_value=-1, max_value=100),
    st.lists(st.integers(min_value=0, max_value=400), max_size=4),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=1000),
)
def test_round_trip_is_lossless(steps, accept_after, offsets, per_day, seed) -> None:  # type: ignore[no-untyped-def]
    session = run_session(steps, accept_after, Thresholds(20.0, 45.0))
    docs = [dict(transcript_from_session(session)), *days(offsets, per_day, seed)]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_transcripts(Path(tmp) / "in.jsonl", docs)
        frames = load_transcripts(path)
        export_parquet(path, Path(tmp) / "ds")
        assert_same(frames, load_transcripts(Path(tmp) / "ds"))
        # from frames, too (dicts keep no file: source and record as the load gave them)
        from_dicts = frames_from_transcripts(docs)
        export_parquet(from_dicts, Path(tmp) / "ds2")
        assert_same(from_dicts, load_transcripts(Path(tmp) / "ds2"))


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TranscriptFrames]:
    """Two days in each month of 2026 (the 5th and the 20th)."""
    tmp = tmp_path_factory.mktemp("year")
    start = pd.Timestamp("2026-01-05", tz="UTC")
    offsets = []
    for month in range(1, 13):
        for day in (5, 20):
            offsets.append((pd.Timestamp(2026, month, day, tz="UTC") - start).days)
    path = write_transcripts(tmp / "year.jsonl", days(offsets, per_day=4, seed=5))
    frames = load_transcripts(path)
    export_parquet(path, tmp / "ds")
    return tmp / "ds", frames


def spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    original = pq_mod._read_table

    def reading(files: list[Path], filter: Any = None) -> Any:
        read.extend(str(f) for f in files)
        return original(files, filter)

    monkeypatch.setattr(pq_mod, "_read_table", reading)
    return read


def test_a_month_reads_only_that_month(
    year: tuple[Path, TranscriptFrames], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, frames = year
    assert len(parquet_files(folder)) == 24
    read = spy(monkeypatch)
    march = load_transcripts(folder, start="2026-03-01", end="2026-04-01")
    assert len(read) == 6  # 2 days x (conversations, entries, typing)
    assert all("day=2026-03-" in f for f in read)
    assert_same(march, select(frames, start="2026-03-01", end="2026-04-01"))
    assert len(march.conversations) == 8


def test_agent_and_conversation_filters(
    year: tuple[Path, TranscriptFrames], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, frames = year
    agent = str(frames.conversations["agent_id"].iloc[0])
    read = spy(monkeypatch)
    mine = load_transcripts(folder, agents=[agent], start="2026-06-01")
    assert len(read) == 3 * 14 and all(f.split("day=")[1][:7] >= "2026-06" for f in read)
    assert_same(mine, select(frames, agents=[agent], start="2026-06-01"))
    assert set(mine.conversations["agent_id"].astype(str)) == {agent}
    ids = frames.conversations["conversation_id"].astype(str).iloc[[3, 40]].tolist()
    two = load_transcripts(folder, conversations=ids)
    assert_same(two, select(frames, conversations=ids))
    assert len(two.conversations) == 2


def test_filters_on_a_file_mean_the_same(year: tuple[Path, TranscriptFrames]) -> None:
    folder = year[0]
    path = folder.parent / "year.jsonl"
    assert_same(
        load_transcripts(path, start="2026-03-01", end="2026-04-01"),
        load_transcripts(folder, start="2026-03-01", end="2026-04-01"),
    )


async def test_live_server_store_to_parquet(tmp_path: Path) -> None:
    db, _, _ = await play_day(tmp_path)
    export_parquet(db, tmp_path / "ds")
    assert_same(load_store(db), load_transcripts(tmp_path / "ds"))


FIRST_RESPONSE_SQL = """
with c as (select * from read_parquet('{root}/conversations/*/*.parquet', hive_partitioning=true)),
     e as (select * from read_parquet('{root}/entries/*/*.parquet', hive_partitioning=true)),
first_reply as (
  select c.conversation_id, c.agent_id,
         (epoch_ns(min(e.time)) - epoch_ns(c.accepted_at)) / 1e9 as first_response_s
  from c join e on e.conversation_id = c.conversation_id
  where e.sender_role in ('agent', 'supervisor') and e.kind in ('message', 'push_url')
    and e.visibility = 'all' and e.time >= c.accepted_at
    and (c.ended_at is null or e.time <= c.ended_at)
    and (c.left_at is null or e.time <= c.left_at)
  group by c.conversation_id, c.agent_id, c.accepted_at
)
select c.agent_id,
       avg(f.first_response_s) as mean_s,
       quantile_cont(f.first_response_s, 0.5) as p50_s,
       quantile_cont(f.first_response_s, 0.9) as p90_s
from c left join first_reply f on f.conversation_id = c.conversation_id
group by c.agent_id order by c.agent_id
"""


def test_duckdb_gives_the_same_first_response_numbers(
    year: tuple[Path, TranscriptFrames],
) -> None:
    folder, frames = year
    sql = duckdb.sql(FIRST_RESPONSE_SQL.format(root=folder)).df().set_index("agent_id")
    cm = conversation_metrics(frames)
    am = agent_metrics(frames, conversation_table=cm)
    by_agent = cm.groupby("agent_id", observed=True)["first_response_s"]
    agents = [a for a in sql.index if a in am.index]
    assert len(agents) >= 3
    np.testing.assert_allclose(
        sql.loc[agents, "mean_s"], am.loc[agents, "first_response_mean_s"], rtol=1e-12
    )
    np.testing.assert_allclose(
        sql.loc[agents, "p50_s"], by_agent.quantile(0.5).loc[agents], rtol=1e-12
    )
    np.testing.assert_allclose(
        sql.loc[agents, "p90_s"], by_agent.quantile(0.9).loc[agents], rtol=1e-12
    )
    counts = duckdb.sql(
        f"select count(*) from read_parquet('{folder}/entries/*/*.parquet', hive_partitioning=true)"
        " where day between '2026-03-01' and '2026-03-31'"
    ).fetchall()
    assert counts[0][0] == len(select(frames, start="2026-03-01", end="2026-04-01").entries)


def test_exports_add_days_in_order(tmp_path: Path) -> None:
    jan, feb = days([0], per_day=3, seed=1), days([31], per_day=3, seed=2)
    feb = [d | {"id": "feb-" + d["id"]} for d in feb]
    folder = tmp_path / "ds"
    export_parquet(frames_from_transcripts(jan), folder)
    export_parquet(frames_from_transcripts(feb), folder)
    ids = lambda f: f.conversations["conversation_id"].astype(str).tolist()  # noqa: E731
    both_days = load_transcripts(folder)
    assert ids(both_days) == [d["id"] for d in jan + feb]
    whole = frames_from_transcripts(jan + feb)  # records count per load: 1-3 twice
    for name in ("entries", "typing"):
        pd.testing.assert_frame_equal(getattr(both_days, name), getattr(whole, name))
    export_parquet(frames_from_transcripts(jan), folder)  # replaced: now after February
    assert ids(load_transcripts(folder)) == [d["id"] for d in feb + jan]
    assert len(parquet_files(folder)) == 2
