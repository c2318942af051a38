"""Plots an analyst wants at a glance; each returns a matplotlib ``Figure``.

Figures are built without pyplot's global state (no figure piles up in a
long session). Such a figure has no display hook of its own: Jupyter would
print ``<Figure size 800x400 with 1 Axes>`` unless ``%matplotlib inline`` ran.
So each plot is a ``PlotFigure``, which renders itself as PNG when it is a
cell's value, in any kernel; ``fig.savefig`` writes it to a file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..model.reply_timer import Thresholds
from .load import TranscriptFrames
from .waits import entry_flags, timeline, waits


class PlotFigure(Figure):
    """A matplotlib ``Figure`` that shows itself as an image in Jupyter."""

    def _repr_png_(self) -> bytes:
        import io

        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


INDICATOR_COLOURS = {"idle": "#d9d9d9", "green": "#2e9e44", "yellow": "#f2c200", "red": "#d62728"}


def _threshold_lines(ax: object, thresholds: Thresholds, *, vertical: bool) -> None:
    for value, name in ((thresholds.yellow_after, "yellow"), (thresholds.red_after, "red")):
        line = ax.axvline if vertical else ax.axhline  # type: ignore[attr-defined]
        line(
            value,
            color=INDICATOR_COLOURS[name],
            linestyle="--",
            linewidth=1.2,
            label=f"{name} after {value:g} s",
        )


def response_time_distribution(
    responses: pd.DataFrame,
    thresholds: Thresholds | None = None,
    *,
    bins: int = 60,
    column: str = "response_s",
) -> Figure:
    """Histogram of agent response times with the yellow/red thresholds marked."""
    limits = thresholds or Thresholds()
    values = responses[column].dropna().to_numpy()
    fig = PlotFigure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    upper = float(np.quantile(values, 0.99)) if len(values) else limits.red_after * 2
    ax.hist(values, bins=bins, range=(0, max(upper, limits.red_after * 1.1)), color="#4c72b0")
    _threshold_lines(ax, limits, vertical=True)
    ax.set_xlabel("response time (s)")
    ax.set_ylabel("responses")
    ax.set_title(f"Agent response times (n = {len(values):,})")
    ax.legend(loc="upper right")
    return fig


def agent_comparison(
    responses: pd.DataFrame, thresholds: Thresholds | None = None, *, column: str = "response_s"
) -> Figure:
    """Per agent: box plot of response times (sorted by median), thresholds marked."""
    limits = thresholds or Thresholds()
    names = responses["responder_name"].astype(str)
    groups = {name: grp[column].dropna().to_numpy() for name, grp in responses.groupby(names)}
    order = sorted(groups, key=lambda n: float(np.median(groups[n])) if len(groups[n]) else 0.0)
    fig = PlotFigure(figsize=(8, 0.6 * max(len(order), 2) + 1.5), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(order))
    q = np.array(
        [
            np.quantile(groups[n], [0.1, 0.25, 0.5, 0.75, 0.9]) if len(groups[n]) else [np.nan] * 5
            for n in order
        ]
    ).reshape(len(order), 5)
    ax.hlines(y, q[:, 0], q[:, 4], color="#4c72b0", linewidth=1.5)
    ax.barh(y, q[:, 3] - q[:, 1], left=q[:, 1], height=0.5, color="#a6bddb", edgecolor="#4c72b0")
    ax.plot(q[:, 2], y, "k|", markersize=18, label="median")
    ax.set_yticks(y, order)
    _threshold_lines(ax, limits, vertical=True)
    ax.set_xlabel("response time (s)")
    ax.set_title("Response times per agent (box: quartiles, line: 10th-90th percentile)")
    ax.legend(loc="lower right")
    return fig


def conversation_timeline(
    frames: TranscriptFrames, conversation_id: str, thresholds: Thresholds | None = None
) -> Figure:
    """One conversation: the reply indicator's colour over time, with the messages as ticks
    (contact above, agent below) and lifecycle moments marked."""
    segments = timeline(frames, conversation_id, thresholds)
    conv = frames.conversations
    row = conv[conv["conversation_id"].astype(str) == conversation_id].iloc[0]
    origin = row["offered_at"]

    def secs(values: pd.Series) -> np.ndarray:
        return np.asarray((values - origin).dt.total_seconds())

    fig = PlotFigure(figsize=(10, 2.8), layout="constrained")
    ax = fig.subplots()
    starts, ends = secs(segments["start"]), secs(segments["end"])
    for s, e, colour in zip(starts, ends, segments["colour"].astype(str), strict=True):
        ax.axvspan(s, e, ymin=0.4, ymax=0.6, color=INDICATOR_COLOURS[colour], linewidth=0)
    entries = frames.conversation(conversation_id)
    t = secs(entries["time"])
    agent, contact = entry_flags(entries)  # the reply rule: agents and barged-in supervisors
    ax.vlines(t[contact], 0.65, 0.9, color="#333333", linewidth=1.5, label="contact message")
    ax.vlines(t[agent], 0.1, 0.35, color="#4c72b0", linewidth=1.5, label="agent reply")
    for key, label in (
        ("accepted_at", "accepted"),
        ("left_at", "contact left"),
        ("ended_at", "ended"),
        ("done_at", "done"),
    ):
        if pd.notna(row[key]):
            x = (row[key] - origin).total_seconds()
            ax.axvline(x, color="#777777", linestyle=":", linewidth=1)
            ax.text(x, 0.97, label, rotation=90, va="top", ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel(f"seconds since offer ({origin:%Y-%m-%d %H:%M:%S} UTC)")
    ax.set_title(f"Conversation {conversation_id}: reply indicator over time")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def red_by_agent_hour(
    frames: TranscriptFrames, wait_table: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Seconds the reply indicator showed red, per agent (rows, ``agent_id``) and hour of
    the day (columns 0-23, UTC), each second in the hour it happened: a wait is red for
    its last ``red_s`` seconds, split at the hour boundaries. The agent is the
    conversation's (who accepted it)."""
    w = waits(frames) if wait_table is None else wait_table
    red = w[w["red_s"] > 0]
    agents = frames.conversations["agent_id"].astype(str)
    ids = sorted(set(agents) - {""})
    out = np.zeros((len(ids), 24))
    if len(red):
        end = red["start"] + pd.to_timedelta(red["duration_s"], unit="s")
        stop = end.to_numpy(dtype="datetime64[ns]").view("int64") / 1e9
        begin = stop - red["red_s"].to_numpy()
        row = pd.Index(ids).get_indexer(pd.Index(red["agent_id"].astype(str)))
        keep = row >= 0
        begin, stop, row = begin[keep], stop[keep], row[keep]
        while len(begin):
            hour_end = (np.floor(begin / 3600) + 1) * 3600
            part = np.minimum(stop, hour_end) - begin
            np.add.at(out, (row, (np.floor(begin / 3600) % 24).astype(int)), part)
            more = stop > hour_end
            begin, stop, row = hour_end[more], stop[more], row[more]
    return pd.DataFrame(out, index=pd.Index(ids, name="agent_id"), columns=range(24))


def red_time_heatmap(frames: TranscriptFrames, *, wait_table: pd.DataFrame | None = None) -> Figure:
    """Heatmap of time in red (minutes) per agent and hour of the day (UTC): where and
    when customers waited past the red threshold."""
    table = red_by_agent_hour(frames, wait_table)
    conv = frames.conversations
    names = dict(zip(conv["agent_id"].astype(str), conv["agent_name"].astype(str), strict=True))
    labels = [names.get(a, a) for a in table.index]
    minutes = table.to_numpy() / 60
    fig = PlotFigure(figsize=(10, 0.45 * max(len(labels), 2) + 1.6), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(minutes, aspect="auto", cmap="Reds", vmin=0, interpolation="nearest")
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_xticks(np.arange(24), [f"{h:02d}" for h in range(24)], fontsize=8)
    ax.set_xlabel("hour of the day (UTC)")
    ax.set_title("Time in red per agent and hour (minutes)")
    fig.colorbar(image, ax=ax, label="minutes in red")
    return fig
