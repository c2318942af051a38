"""Benchmark: the class report (issue 15) over 1,000 conversations of a server database.

Writes a database through the real ``SQLiteStore`` (the server's write path): a class
of N conversations handled by T trainees (synthetic: accept after 1-20 s, 2-6
exchanges with lognormal reply times, some pushed URLs, dispositions), plus a fifth as
many conversations of another class. Then times, best of 3:

  (a) ``load_store(db)``: every conversation of the database into frames;
  (b) ``class_report(db, CLASS)``: the class's conversations read (the others' events
      are skipped) + waits + conversation and agent metrics + the trainee table;
  (c) ``class_report(frames, CLASS)``: the same from frames already loaded;
  (d) ``report.to_html(...)``: one plot per trainee as inline PNG,

and prints the ratio b/a. Goal (issue 15): (b) under 2 s for 1,000 conversations.

    python bench/class_report.py               # 1,000 conversations, 20 trainees
    python bench/class_report.py --smoke       # 60 conversations, seconds (CI)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the store-writing helper of the tests

from tests.analysis.class_store import CUSTOMER, Chat, handled, who, write_store  # noqa: E402

from chat_widget.analysis import class_report, load_store  # noqa: E402
from chat_widget.formats import protocol as p  # noqa: E402

T0 = 1_767_600_000.0
CLASS = "bench"
DISPOSITIONS = ("resolved", "callback", "escalated", None)


def chats(n: int, trainees: int, class_id: str, seed: int, first: int = 0) -> list[Chat]:
    rng = np.random.default_rng(seed)
    agents = [who(f"Trainee {i:02d}", f"t{i:02d}") for i in range(trainees)]
    out = []
    for i in range(n):
        agent = agents[i % trainees]
        t = accept = float(rng.uniform(1, 20))
        said: list[tuple[float, p.Participant, str]] = []
        urls: list[float] = []
        for turn in range(int(rng.integers(2, 7))):
            t += float(rng.uniform(2, 15))
            said.append((t, CUSTOMER, f"question {turn}"))
            t += float(rng.lognormal(np.log(20), 0.7))
            said.append((t, agent, f"answer {turn}"))
            if rng.random() < 0.15:
                t += 2
                urls.append(t)
        steps = handled(
            agent,
            accept=accept,
            said=said,
            urls=urls,
            end=t + 5,
            disposition=DISPOSITIONS[int(rng.integers(len(DISPOSITIONS)))],
        )
        out.append(Chat(f"c{first + i:05d}", class_id, T0 + 60 * (first + i), steps))
    return out


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--trainees", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="small and quick (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.conversations, args.trainees, args.repeat = 60, 4, 1
    n, others = args.conversations, max(1, args.conversations // 5)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "chats.sqlite"
        start = time.perf_counter()
        write_store(
            db,
            chats(n, args.trainees, CLASS, seed=1) + chats(others, 5, "other", seed=2, first=n),
        )
        written = time.perf_counter() - start
        t_load, frames = best(lambda: load_store(db), args.repeat)
        t_report, report = best(lambda: class_report(db, CLASS), args.repeat)
        t_frames, _ = best(lambda: class_report(frames, CLASS), args.repeat)
        t_html, _ = best(lambda: report.to_html(Path(tmp) / "report.html"), args.repeat)
        size = (Path(tmp) / "report.html").stat().st_size
    entries = len(frames.entries)
    print(
        f"database: {n} conversations of class {CLASS!r} + {others} of another class, "
        f"{entries} entries, {args.trainees} trainees (written in {written:.2f} s)"
    )
    rows = [
        ("(a) load_store, whole database", t_load, ""),
        (f"(b) class_report(db, {CLASS!r})", t_report, f"b/a = {t_report / t_load:.2f}"),
        (f"(c) class_report(frames, {CLASS!r})", t_frames, ""),
        (f"(d) to_html ({len(report.trainees)} plots, {size / 1e6:.2f} MB)", t_html, ""),
    ]
    for label, seconds, note in rows:
        print(f"{label:42} {seconds:7.3f} s   {note}")
    goal = "met" if t_report < 2.0 else "MISSED"
    print(f"goal: report over {n} conversations under 2 s: {goal}")
    assert len(report.chats) == n and len(report.trainees) == args.trainees


if __name__ == "__main__":
    main()
