"""The class report (issue 15, ``docs/classroom.md``): per trainee, how a class run went.

    report = class_report("chats.sqlite", "monday-am")
    report.trainees            # one row per trainee, with the class median to compare
    report.plot("a-lena")      # their response times and reminder time vs the class
    report.to_html("monday-am.html")   # one file to hand out: tables, inline PNG plots

Every number is taken from the metric functions (``waits``, ``conversation_metrics``,
``agent_metrics``, ``summary``) run on the class's conversations only; this module
only selects, groups their output per trainee and compares it with the class median
(definitions: ``docs/metrics.md``, "Class report").
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..model.reply_timer import Thresholds
from .load import DB_SUFFIXES, TranscriptFrames, load_transcripts
from .metrics import agent_metrics, conversation_metrics, summary
from .parquet import select
from .plots import INDICATOR_COLOURS, PlotFigure
from .waits import waits

__all__ = ["COMPARED", "ClassReport", "class_frames", "class_report"]

#: trainee columns compared with the class median (``<column>_vs_class``)
COMPARED = (
    "chats",
    "first_response_median_s",
    "first_response_mean_s",
    "response_median_s",
    "response_mean_s",
    "yellow_s",
    "red_s",
    "pushed_urls",
    "transfers",
    "dispositions",
)
#: the per-chat columns kept in ``ClassReport.chats`` (from ``conversation_metrics``)
CHAT_COLUMNS = (
    "conversation_id",
    "agent_id",
    "agent_name",
    "state",
    "offered_at",
    "time_to_accept_s",
    "first_response_s",
    "responses",
    "response_mean_s",
    "response_p50_s",
    "response_max_s",
    "handle_s",
    "green_s",
    "yellow_s",
    "red_s",
    "pushed_urls",
    "transfers",
    "abandoned",
    "unanswered",
)
_LABELS = {
    "trainee_name": "trainee",
    "chats": "chats",
    "first_response_median_s": "first response median (s)",
    "first_response_mean_s": "first response mean (s)",
    "responses": "responses",
    "response_median_s": "response median (s)",
    "response_mean_s": "response mean (s)",
    "yellow_s": "time yellow (s)",
    "red_s": "time red (s)",
    "pushed_urls": "pushed URLs",
    "transfers": "transfers",
    "unanswered": "unanswered chats",
    "dispositions": "dispositions set",
    "top_disposition": "most common disposition",
}


@dataclass
class ClassReport:
    """One class run's report: ``trainees`` (index ``trainee_id``), the per-chat
    ``chats`` rows they come from, ``class_median`` (over trainees, per column),
    ``summary`` (``metrics.summary`` of the class's conversations)."""

    class_id: str
    trainees: pd.DataFrame
    chats: pd.DataFrame
    class_median: pd.Series
    summary: pd.Series
    thresholds: Thresholds
    frames: TranscriptFrames = field(repr=False)

    @property
    def date(self) -> str:
        """The UTC day(s) the class's chats were offered, e.g. ``2026-01-05``."""
        offered = self.chats["offered_at"].dropna()
        if offered.empty:
            return ""
        first, last = (t.strftime("%Y-%m-%d") for t in (offered.min(), offered.max()))
        return first if first == last else f"{first} – {last}"

    def plot(self, trainee_id: str) -> Figure:
        """The trainee's response times next to the class median (left) and the time the
        reply reminder spent yellow and red in their chats (right)."""
        if trainee_id not in self.trainees.index:
            raise KeyError(f"no trainee {trainee_id!r} in class {self.class_id!r}")
        row = self.trainees.loc[trainee_id]
        fig = PlotFigure(figsize=(9, 3.6), layout="constrained")
        times, colours = fig.subplots(1, 2, width_ratios=(2, 1))
        keys = (
            "first_response_median_s",
            "first_response_mean_s",
            "response_median_s",
            "response_mean_s",
        )
        labels = [
            "first response\nmedian",
            "first response\nmean",
            "response\nmedian",
            "response\nmean",
        ]
        _bars(times, labels, self._values(trainee_id, keys), self._medians(keys))
        for value, name in (
            (self.thresholds.yellow_after, "yellow"),
            (self.thresholds.red_after, "red"),
        ):
            times.axhline(
                value, color=INDICATOR_COLOURS[name], linestyle="--", linewidth=1.2,
                label=f"{name} after {value:g} s",
            )  # fmt: skip
        times.set_ylabel("seconds")
        times.set_title("Response times")
        times.legend(loc="best", fontsize="small")
        colour_keys = ("yellow_s", "red_s")
        _bars(
            colours,
            ["yellow", "red"],
            self._values(trainee_id, colour_keys),
            self._medians(colour_keys),
        )
        colours.set_ylabel("seconds (sum over their chats)")
        colours.set_title("Reply reminder")
        colours.legend(loc="best", fontsize="small")
        fig.suptitle(f"{row['trainee_name']} ({trainee_id}) · class {self.class_id}")
        return fig

    def _values(self, trainee_id: str, keys: tuple[str, ...]) -> np.ndarray:
        return np.asarray(self.trainees.loc[trainee_id, list(keys)].to_numpy(), dtype=float)

    def _medians(self, keys: tuple[str, ...]) -> np.ndarray:
        return np.asarray(self.class_median[list(keys)].to_numpy(), dtype=float)

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as one self-contained HTML file (inline CSS, plots as inline
        PNG; no scripts, nothing fetched from elsewhere); returns the path."""
        out = Path(path)
        out.write_text(self.html(), encoding="utf-8")
        return out

    def html(self) -> str:
        """The HTML ``to_html`` writes."""
        e = html.escape
        title = f"Class report: {self.class_id}" + (f" · {self.date}" if self.date else "")
        limit = self.thresholds
        limits = f"yellow after {limit.yellow_after:g} s, red after {limit.red_after:g} s"
        s = self.summary
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{e(title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{e(title)}</h1>",
            f"<p>{len(self.trainees)} trainees, {s['conversations']} chats "
            f"({s['abandoned']} left before an answer); reply reminder: {e(limits)}. "
            "Every figure is computed by <code>chat_widget.analysis</code> from the "
            "stored conversations of this class (definitions: docs/metrics.md).</p>",
            "<h2>Trainees</h2>",
            _table(self.overview()),
        ]
        for trainee_id in self.trainees.index:
            row = self.trainees.loc[trainee_id]
            fig = self.plot(str(trainee_id))
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
            png = base64.b64encode(buffer.getvalue()).decode("ascii")
            name = f"{row['trainee_name']} ({trainee_id})"
            chats = self.chats[self.chats["agent_id"].astype(str) == str(trainee_id)]
            parts += [
                f"<section><h2>{e(name)}</h2>",
                f'<img alt="{e(name, quote=True)}: response times and reminder time" '
                f'src="data:image/png;base64,{png}">',
                _table(self.comparison(str(trainee_id))),
                "<h3>Chats</h3>",
                _table(_chat_table(chats)),
                "</section>",
            ]
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"

    def overview(self) -> pd.DataFrame:
        """The trainee table with readable headers, and the class median as last row."""
        cols = [c for c in _LABELS if c in self.trainees.columns]
        table = self.trainees[cols].astype(object)
        median = self.class_median.reindex(cols).astype(object)
        median["trainee_name"] = "class median"
        table.loc["(class)"] = median
        table.index.name = "trainee id"
        return table.rename(columns=_LABELS)

    def comparison(self, trainee_id: str) -> pd.DataFrame:
        """One trainee's figures, the class median and the difference, per metric."""
        row = self.trainees.loc[trainee_id]
        return pd.DataFrame(
            {
                "trainee": [row[c] for c in COMPARED],
                "class median": [self.class_median[c] for c in COMPARED],
                "difference": [row[f"{c}_vs_class"] for c in COMPARED],
            },
            index=pd.Index([_LABELS[c] for c in COMPARED], name="metric"),
        )

    def text(self) -> str:
        """The trainee table as plain text (what ``chat-widget class report`` prints)."""
        title = f"Class {self.class_id}" + (f" ({self.date})" if self.date else "")
        table = self.overview().map(_fmt)
        with pd.option_context("display.width", 250, "display.max_columns", None):
            return f"{title}\n{table.to_string()}"

    def _repr_html_(self) -> str:
        return _table(self.overview())


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
    "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
    "section{page-break-inside:avoid;margin-top:2em}img{max-width:100%}"
)


def _bars(ax: Any, labels: list[str], mine: np.ndarray, median: np.ndarray) -> None:
    x = np.arange(len(labels))
    ax.bar(x - 0.2, np.nan_to_num(mine), 0.4, label="trainee", color="#4c72b0")
    ax.bar(x + 0.2, np.nan_to_num(median), 0.4, label="class median", color="#b0b0b0")
    ax.set_xticks(x, labels, fontsize="small")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, float | np.floating):
        return f"{value:.1f}"
    return str(value)


def _table(df: pd.DataFrame) -> str:
    """An HTML table of ``df`` with every header and cell escaped."""
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in [df.index.name or "", *df.columns])
    rows = [
        "<tr>"
        + f"<td>{e(str(idx))}</td>"
        + "".join(f"<td>{e(_fmt(v))}</td>" for v in row)
        + "</tr>"
        for idx, row in zip(df.index, df.itertuples(index=False), strict=True)
    ]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _chat_table(chats: pd.DataFrame) -> pd.DataFrame:
    cols = {
        "offered_at": "offered (UTC)",
        "state": "state",
        "first_response_s": "first response (s)",
        "response_mean_s": "response mean (s)",
        "yellow_s": "yellow (s)",
        "red_s": "red (s)",
        "pushed_urls": "pushed URLs",
        "transfers": "transfers",
        "disposition": "disposition",
    }
    table = chats.set_index(chats["conversation_id"].astype(str))[list(cols)].rename(columns=cols)
    table["offered (UTC)"] = chats["offered_at"].dt.strftime("%H:%M:%S").to_numpy()
    table.index.name = "chat"
    return table.astype(object)


# ----------------------------------------------------------------------------- building
def class_frames(source: Any, class_id: str) -> TranscriptFrames:
    """The class's conversations as frames. ``source``: a server database path or a
    PostgreSQL store's URL (only the class's conversations are read), an open
    ``StoreReader``, loaded ``TranscriptFrames``, or anything ``load_transcripts`` reads."""
    from .store import is_store_url, load_store

    if isinstance(source, TranscriptFrames):
        frames = source
    elif is_store_url(source):
        frames = load_store(source, class_id=class_id)
    elif isinstance(source, str | os.PathLike):
        if Path(source).suffix in DB_SUFFIXES:
            frames = load_store(Path(source), class_id=class_id)
        else:
            frames = load_transcripts(source)
    elif isinstance(source, Mapping) or not hasattr(source, "read_events"):
        frames = load_transcripts(source)
    else:  # a StoreReader
        frames = load_store(source, class_id=class_id)
    conv = frames.conversations
    mine = (conv["class_id"].astype(object) == class_id).to_numpy(dtype=bool)
    if mine.all():
        return frames
    return select(frames, conversations=conv.loc[mine, "conversation_id"].astype(str).tolist())


def class_report(
    source: Any, class_id: str, *, thresholds: Thresholds | None = None
) -> ClassReport:
    """Per trainee (the agents who accepted the class's chats): chats handled, first-response
    and response times (median, mean), time the reminder spent yellow and red, pushed
    URLs, transfers, dispositions set; each compared with the class median.

    ``source``: see ``class_frames``. ``thresholds``: the class's reply thresholds (the
    server does not store them): default each transcript's recorded ones, else the
    package defaults (30/60 s). Raises ``LookupError`` when the class has no chat."""
    frames = class_frames(source, class_id)
    if len(frames.conversations) == 0:
        raise LookupError(f"no conversations of class {class_id!r}")
    w = waits(frames, thresholds)
    cm = conversation_metrics(frames, thresholds, percentiles=(0.5,), wait_table=w)
    am = agent_metrics(frames, thresholds, percentiles=(0.5,), conversation_table=cm, wait_table=w)
    overall = summary(frames, thresholds, wait_table=w, conversation_table=cm)
    conv = frames.conversations
    chats = cm[list(CHAT_COLUMNS)].copy()
    chats["disposition"] = conv["disposition"].to_numpy()
    chats["class_id"] = class_id
    handled = chats[conv["accepted_at"].notna().to_numpy()]
    ids = sorted(handled["agent_id"].astype(str).unique())
    by = handled.groupby(handled["agent_id"].astype(str))
    mine = am.reindex(ids)
    trainees = pd.DataFrame(
        {
            "trainee_name": mine["agent_name"].astype(str),
            "chats": mine["conversations"].astype(np.int64),
            "first_response_median_s": by["first_response_s"].median(),
            "first_response_mean_s": mine["first_response_mean_s"],
            "responses": mine["responses"].astype(np.int64),
            "response_median_s": mine["response_p50_s"],
            "response_mean_s": mine["response_mean_s"],
            "yellow_s": mine["yellow_s"],
            "red_s": mine["red_s"],
            "pushed_urls": mine["pushed_urls"].astype(np.int64),
            "transfers": mine["transfers"].astype(np.int64),
            "unanswered": mine["unanswered"].astype(np.int64),
            "dispositions": by["disposition"].count().astype(np.int64),
            "top_disposition": by["disposition"].agg(_most_common),
        },
        index=pd.Index(ids, name="trainee_id"),
    )
    numeric = [c for c in trainees.columns if c not in ("trainee_name", "top_disposition")]
    class_median = trainees[numeric].median().astype(float)
    for col in COMPARED:
        trainees[f"{col}_vs_class"] = trainees[col] - class_median[col]
    return ClassReport(
        class_id,
        trainees,
        chats.reset_index(drop=True),
        class_median,
        overall,
        thresholds or Thresholds(),
        frames,
    )


def _most_common(values: pd.Series) -> Any:
    """The disposition code set most often (ties: the first in alphabetical order)."""
    counts = values.dropna().astype(str).value_counts()
    if counts.empty:
        return None
    top = counts[counts == counts.max()]
    return sorted(top.index)[0]
