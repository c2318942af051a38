"""Benchmark: load a day of transcripts into pandas and compute every metric.

Generates N entries of synthetic conversations in the transcript format (JSON
Lines), then times

  (a) a bare read: ``json.loads`` of every line, rows flattened into a
      DataFrame of the raw values (no validation, no dtypes), and
  (b) the full path: ``load_transcripts`` (pydantic validation, cross-field
      checks, tz-aware times, categoricals) + waits + per-conversation and
      per-agent metrics + summary,

and prints both and the ratio b/a (target <= 1.5). Both run with the cyclic
GC paused during parsing (``bulk_objects``), so the baseline is not slowed by
what the full path avoids.

    python bench/analysis_load.py            # 1,000,000 entries (by hand)
    python bench/analysis_load.py --smoke    # a few thousand, seconds (CI)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from chat_widget.analysis import (
    SyntheticConfig,
    agent_metrics,
    conversation_metrics,
    generate_day,
    load_transcripts,
    summary,
    waits,
)
from chat_widget.analysis.columns import ENTRY_COLUMNS, bulk_objects
from chat_widget.analysis.synthetic import conversations_for_entries


def bare_read(path: Path) -> pd.DataFrame:
    """The floor: parse every record and put the raw entry rows into pandas."""
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
        return pd.DataFrame(cols)


def full_load(path: Path) -> tuple[int, int]:
    frames = load_transcripts(path, progress=False)
    w = waits(frames)
    cm = conversation_metrics(frames, wait_table=w)
    agent_metrics(frames, wait_table=w, conversation_table=cm)
    summary(frames, wait_table=w, conversation_table=cm)
    return len(frames.entries), len(cm)


def best_of(repeat: int, fn: Any, *args: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI (seconds)")
    parser.add_argument("--entries", type=int, default=None, help="entries to generate")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement (best)")
    args = parser.parse_args()
    entries = args.entries or (5_000 if args.smoke else 1_000_000)
    repeat = args.repeat or (1 if args.smoke else 3)
    config = SyntheticConfig(seed=7)
    conversations = conversations_for_entries(entries, config)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.jsonl"
        t0 = time.perf_counter()
        generate_day(path, config, conversations=conversations)
        gen = time.perf_counter() - t0
        size = path.stat().st_size / 1e6
        print(f"generated {conversations:,} conversations, {size:.0f} MB in {gen:.1f} s")
        a, raw = best_of(repeat, bare_read, path)
        print(f"(a) bare read into pandas:        {a:7.2f} s  ({len(raw):,} rows)")
        del raw
        b, (n_entries, n_conv) = best_of(repeat, full_load, path)
        print(
            f"(b) full load + all metrics:      {b:7.2f} s  ({n_entries:,} entries, "
            f"{n_conv:,} conversations)"
        )
        print(f"ratio b/a: {b / a:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
