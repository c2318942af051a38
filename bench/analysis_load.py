"""Benchmark: load a day of transcripts into pandas and compute every metric.

Generates N entries of synthetic conversations in the transcript format (JSON
Lines), then times, each in a fresh process (so each has its own peak memory):

  (a) the columnar floor: pyarrow's multi-threaded JSON reader turns the file
      into a flat table of entries (``read_json`` + ``list_flatten``): no
      validation, no pandas, no metrics;
  (a') the old baseline: ``json.loads`` of every line, rows flattened into a
      DataFrame of the raw values (no validation, no dtypes);
  (b) the full path: ``load_transcripts`` (columnar engine: every rule of the
      format checked, tz-aware times, categoricals) + waits + per-conversation
      and per-agent metrics + summary;
  (c) with ``--rows``: the same with ``engine="rows"`` (pydantic per record),

and prints the ratio b/a (target <= 1.5) and b/a'. Peak memory is the
process's maximum resident set (``ru_maxrss``), interpreter and imports included.

``--parquet ENTRIES`` (by hand, not in CI) adds the scale run: a year of
conversations (one generated day replicated over 365 days, ids and times
shifted) written as a Parquet dataset with ``export_parquet``, then loaded
whole and for one month (``start``/``end`` pushed down to the day partitions),
each + all metrics, with time and peak memory.

    python bench/analysis_load.py                     # 1,000,000 entries (by hand)
    python bench/analysis_load.py --rows              # also the rows engine
    python bench/analysis_load.py --parquet 10000000  # + 10M entries from Parquet
    python bench/analysis_load.py --smoke             # a few thousand, seconds (CI)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from chat_widget.analysis import (
    SyntheticConfig,
    agent_metrics,
    conversation_metrics,
    export_parquet,
    generate_day,
    load_transcripts,
    summary,
    waits,
)
from chat_widget.analysis.columns import ENTRY_COLUMNS, TranscriptFrames, bulk_objects
from chat_widget.analysis.synthetic import conversations_for_entries

DAY = pd.Timedelta(days=1)


def columnar_floor(path: Path) -> int:
    """The floor: pyarrow's reader, nested records flattened to a table of entries."""
    import pyarrow.compute as pc
    import pyarrow.json as pj

    table = pj.read_json(path)
    return len(pc.list_flatten(table.column("entries")))


def bare_read(path: Path) -> int:
    """The old baseline: parse every record and put the raw entry rows into pandas."""
    cols: dict[str, list[Any]] = {k: [] for k in ENTRY_COLUMNS}
    with bulk_objects(), path.open(encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            cid = doc["id"]
            for e in doc["entries"]:
                s = e["sender"]
                cols["conversation_id"].append(cid)
                cols["index"].append(e["index"])
                cols["time"].append(e["time"])
                cols["kind"].append(e["kind"])
                cols["sender_role"].append(s["role"])
                cols["sender_name"].append(s["name"])
                cols["sender_id"].append(s.get("id", ""))
                cols["text"].append(e["text"])
                cols["url"].append(e.get("url"))
                cols["visibility"].append(e.get("visibility"))
                cols["event"].append(e.get("event"))
                cols["code"].append(e.get("code"))
                cols["response"].append(e.get("response"))
        return len(pd.DataFrame(cols))


def metrics(frames: TranscriptFrames) -> tuple[int, int]:
    w = waits(frames)
    cm = conversation_metrics(frames, wait_table=w)
    agent_metrics(frames, wait_table=w, conversation_table=cm)
    summary(frames, wait_table=w, conversation_table=cm)
    return len(frames.entries), len(cm)


def full_load(path: Path, **kw: Any) -> tuple[int, int]:
    return metrics(load_transcripts(path, progress=False, **kw))


def _child(fn: Callable[..., Any], args: tuple[Any, ...], kw: dict[str, Any], repeat: int) -> Any:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args, **kw)
        best = min(best, time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return best, peak_mb, result


IN_PROCESS = False  # --smoke: no fresh processes (their start-up would be most of the run)


def measure(repeat: int, fn: Callable[..., Any], *args: Any, **kw: Any) -> tuple[float, float, Any]:
    """Best time of ``repeat`` runs in a fresh process, its peak RSS (MB), the result."""
    if IN_PROCESS:
        out_here: tuple[float, float, Any] = _child(fn, args, kw, repeat)
        return out_here
    with mp.get_context("spawn").Pool(1) as pool:
        out: tuple[float, float, Any] = pool.apply(_child, (fn, args, kw, repeat))
        return out


def year_dataset(folder: Path, entries: int, days: int, tmp: Path) -> tuple[int, int]:
    """``entries`` entries over ``days`` days: one generated day, shifted day by day."""
    config = SyntheticConfig(seed=11)
    per_day = max(1, entries // days)
    day_file = generate_day(
        tmp / "base.jsonl", config, conversations=conversations_for_entries(per_day, config)
    )
    base = load_transcripts(day_file, progress=False)
    n_entries = 0
    for k in range(days):
        conv = base.conversations.copy()
        shift = DAY * k
        rename = {c: f"y{k:03d}-{c}" for c in conv["conversation_id"].cat.categories}
        conv["conversation_id"] = conv["conversation_id"].cat.rename_categories(rename)
        for key in ("offered_at", "accepted_at", "left_at", "ended_at", "done_at"):
            conv[key] = conv[key] + shift
        parts = []
        for df in (base.entries, base.typing):
            df = df.copy()
            df["conversation_id"] = df["conversation_id"].cat.rename_categories(rename)
            df["time"] = df["time"] + shift
            parts.append(df)
        export_parquet(TranscriptFrames(conv, parts[0], parts[1]), folder)
        n_entries += len(parts[0])
    return n_entries, days


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI (seconds)")
    parser.add_argument("--entries", type=int, default=None, help="entries to generate")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement (best)")
    parser.add_argument("--rows", action="store_true", help="also time engine='rows'")
    parser.add_argument(
        "--parquet", type=int, default=None, metavar="ENTRIES", help="scale run from Parquet"
    )
    args = parser.parse_args()
    global IN_PROCESS
    IN_PROCESS = args.smoke
    entries = args.entries or (5_000 if args.smoke else 1_000_000)
    repeat = args.repeat or (1 if args.smoke else 3)
    scale = args.parquet or (3_000 if args.smoke else None)
    config = SyntheticConfig(seed=7)
    conversations = conversations_for_entries(entries, config)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.jsonl"
        t0 = time.perf_counter()
        generate_day(path, config, conversations=conversations)
        gen = time.perf_counter() - t0
        size = path.stat().st_size / 1e6
        print(f"generated {conversations:,} conversations, {size:.0f} MB in {gen:.1f} s")
        a, a_mb, n_floor = measure(repeat, columnar_floor, path)
        print(
            f"(a)  columnar floor (read_json + list_flatten): {a:7.2f} s  {a_mb:6.0f} MB peak"
            f"  ({n_floor:,} entries)"
        )
        a2, a2_mb, n_bare = measure(repeat, bare_read, path)
        print(
            f"(a') old baseline (json.loads loop → pandas):   {a2:7.2f} s  {a2_mb:6.0f} MB peak"
            f"  ({n_bare:,} rows)"
        )
        b, b_mb, (n_entries, n_conv) = measure(repeat, full_load, path)
        print(
            f"(b)  load_transcripts + all metrics:           {b:7.2f} s  {b_mb:6.0f} MB peak"
            f"  ({n_entries:,} entries, {n_conv:,} conversations)"
        )
        if args.rows:
            c, c_mb, _ = measure(1, full_load, path, engine="rows")
            print(f"(c)  the same, engine='rows':                  {c:7.2f} s  {c_mb:6.0f} MB peak")
        print(f"ratio b/a: {b / a:.2f} (target <= 1.5); b/a': {b / a2:.2f}")
        if scale:
            folder = Path(tmp) / "year.parquet"
            days = 30 if args.smoke else 365
            t0 = time.perf_counter()
            total, _ = year_dataset(folder, scale, days, Path(tmp))
            print(
                f"parquet: {total:,} entries over {days} days written in "
                f"{time.perf_counter() - t0:.1f} s"
            )
            y, y_mb, (n_y, c_y) = measure(1, full_load, folder)
            print(
                f"(p)  the whole dataset + all metrics:         {y:7.2f} s  {y_mb:6.0f} MB peak"
                f"  ({n_y:,} entries, {c_y:,} conversations)"
            )
            start = pd.Timestamp("2026-01-15" if args.smoke else "2026-03-01")
            m, m_mb, (n_m, c_m) = measure(
                1, full_load, folder, start=start, end=start + pd.DateOffset(months=1)
            )
            print(
                f"(m)  one month (filters pushed down) + metrics: {m:6.2f} s  {m_mb:6.0f} MB peak"
                f"  ({n_m:,} entries, {c_m:,} conversations)"
            )


if __name__ == "__main__":
    main()
