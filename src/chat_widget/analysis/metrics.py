"""Contact-center chat metrics, vectorised (definitions in ``docs/metrics.md``).

All durations are float seconds (``*_s``); NaN where a metric does not apply
(no accept, no reply, not ended, not done). Response times are the waits the
reply-reminder rule ends with an agent reply (``waits.waits``), so the metric
and the indicator the agent saw can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..model.reply_timer import Thresholds
from .groups import ByGroup
from .load import TranscriptFrames
from .supervision import supervision_by_agent, supervision_metrics
from .waits import (
    NAT,
    NS,
    entry_flags,
    ns,
    row_positions,
    stop_times,
    waits,
)

DEFAULT_PERCENTILES = (0.5, 0.9)

__all__ = [
    "agent_metrics",
    "conversation_metrics",
    "responses",
    "summary",
    "supervision_by_agent",  # supervision metrics live in ``supervision`` (one job)
    "supervision_metrics",
]


def _seconds(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    ok = (later != NAT) & (earlier != NAT)
    return np.where(ok, (later - earlier) / NS, np.nan)


def _is(column: pd.Series, value: str) -> np.ndarray:
    """``column == value`` for a categorical column, on its codes (no strings built)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if value not in categories:
            return np.zeros(len(column), dtype=bool)
        return np.asarray(column.cat.codes.to_numpy() == categories.get_loc(value))
    return np.asarray((column == value).to_numpy(), dtype=bool)


def _pct_name(q: float) -> str:
    return f"p{round(q * 100):d}"


def responses(
    frames: TranscriptFrames,
    thresholds: Thresholds | None = None,
    *,
    wait_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each agent response: a wait ended by an agent reply (``response_s`` = its length)."""
    w = waits(frames, thresholds) if wait_table is None else wait_table
    out = w[w["ended_by"] == "reply"].reset_index(drop=True)
    return out.rename(columns={"duration_s": "response_s"})


def conversation_metrics(
    frames: TranscriptFrames,
    thresholds: Thresholds | None = None,
    *,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    wait_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per conversation.

    Columns: ``conversation_id, agent_id, agent_name, state, time_to_accept_s,
    first_response_s`` (accept → first agent reply), ``first_response_from_offer_s``,
    ``responses, response_mean_s, response_p50_s, response_p90_s, response_max_s,
    handle_s`` (accept → end), ``wrap_up_s`` (end → done), ``green_s, yellow_s, red_s``
    (time the indicator showed each colour), ``waits, pushed_urls, transfers,
    conferences, contact_messages, agent_messages, abandoned`` (left before accept),
    ``unanswered`` (accepted, never a reply), ``idle_alerts`` (customer idle alerts) and
    ``closed_idle`` (the chat was closed because the customer stayed silent; issue 16).
    """
    conv, ent = frames.conversations, frames.entries
    n = len(conv)
    w = waits(frames, thresholds) if wait_table is None else wait_table
    offered, accepted = ns(conv["offered_at"]), ns(conv["accepted_at"])
    ended, done, left = ns(conv["ended_at"]), ns(conv["done_at"]), ns(conv["left_at"])
    cpos = row_positions(frames, ent["conversation_id"])
    reply, start = entry_flags(ent)
    by_conv = ByGroup(n, cpos)

    # first reply inside the timed window (accept .. end/leave), like the session counts it:
    # the window looked at for the replies only
    replies = np.flatnonzero(reply & (cpos >= 0))
    at, when = cpos[replies], ns(ent["time"])[replies]
    acc_at = accepted[at]
    timed = (acc_at != NAT) & (when >= acc_at) & (when <= stop_times(frames)[at])
    never = np.iinfo(np.int64).max
    first_reply = ByGroup(n, at[timed]).extreme(np.minimum, when[timed], never)
    first_reply = np.where(first_reply == never, NAT, first_reply)

    def count(mask: np.ndarray) -> np.ndarray:
        return by_conv.count(mask).astype(np.int32)

    columns: dict[str, Any] = {
        # the columns' own arrays: no object arrays of strings or Timestamps
        "conversation_id": conv["conversation_id"].array,
        "agent_id": conv["agent_id"].array,
        "agent_name": conv["agent_name"].array,
        "state": conv["state"].array,
        "offered_at": conv["offered_at"].array,
        "time_to_accept_s": _seconds(accepted, offered),
        "first_response_s": _seconds(first_reply, accepted),
        "first_response_from_offer_s": _seconds(first_reply, offered),
    }
    columns.update(_response_columns(w, n, percentiles))
    columns["handle_s"] = _seconds(ended, accepted)
    columns["wrap_up_s"] = _seconds(done, ended)
    wpos = w["conversation_id"].cat.codes.to_numpy()
    for colour in ("green", "yellow", "red"):
        columns[f"{colour}_s"] = np.bincount(wpos, weights=w[f"{colour}_s"].to_numpy(), minlength=n)
    columns["waits"] = np.bincount(wpos, minlength=n).astype(np.int32)
    kind, event = ent["kind"], ent["event"]
    columns["pushed_urls"] = count(_is(kind, "push_url"))
    columns["transfers"] = count(_is(event, "transfer"))
    columns["conferences"] = count(_is(event, "conference"))
    columns["contact_messages"] = count(start)
    columns["agent_messages"] = count(reply)
    columns["abandoned"] = (left != NAT) & (accepted == NAT)
    columns["unanswered"] = (accepted != NAT) & (first_reply == NAT)
    columns["idle_alerts"] = count(_is(event, "idle_alert"))
    columns["closed_idle"] = count(_is(event, "idle_close")) > 0
    out = pd.DataFrame(columns)
    return out.astype(
        {
            "conversation_id": conv["conversation_id"].dtype,
            "agent_id": conv["agent_id"].dtype,
            "agent_name": conv["agent_name"].dtype,
            "state": conv["state"].dtype,
        }
    )


def _response_columns(
    w: pd.DataFrame, n: int, percentiles: Sequence[float]
) -> dict[str, np.ndarray]:
    """Per conversation: count, mean, percentiles and longest of its responses."""
    columns: dict[str, np.ndarray] = {}
    replied = _is(w["ended_by"], "reply")
    rpos = w["conversation_id"].cat.codes.to_numpy()[replied]
    dur = w["duration_s"].to_numpy()[replied]
    responses = np.bincount(rpos, minlength=n).astype(np.int32)
    columns["responses"] = responses
    sums = np.bincount(rpos, weights=dur, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns["response_mean_s"] = np.where(responses > 0, sums / responses, np.nan)
    if len(percentiles):
        grouped = pd.Series(dur).groupby(rpos)
        qs = grouped.quantile(np.asarray(percentiles, dtype=float)).unstack()
        for q in percentiles:
            col = np.full(n, np.nan)
            if len(dur):  # no response at all (e.g. a filter that matched nothing)
                col[qs.index.to_numpy()] = qs[q].to_numpy()
            columns[f"response_{_pct_name(q)}_s"] = col
    maxes = np.full(n, -np.inf)
    np.maximum.at(maxes, rpos, dur)
    columns["response_max_s"] = np.where(np.isfinite(maxes), maxes, np.nan)
    return columns


def agent_metrics(
    frames: TranscriptFrames,
    thresholds: Thresholds | None = None,
    *,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    conversation_table: pd.DataFrame | None = None,
    wait_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per agent: conversations they accepted (means of their per-conversation
    metrics, sums of indicator time) and the responses they sent (count, mean, percentiles,
    share at or over the yellow / red threshold). Indexed by ``agent_id``."""
    w = waits(frames, thresholds) if wait_table is None else wait_table
    cm = (
        conversation_metrics(frames, thresholds, percentiles=(), wait_table=w)
        if conversation_table is None
        else conversation_table
    )
    by_agent = cm.groupby("agent_id", observed=True)
    # one aggregation per kind, each column as alone (the same kernels, column by column)
    summed = ["abandoned", "unanswered", "yellow_s", "red_s", "pushed_urls", "transfers"]
    sums = by_agent[summed].sum()
    means = by_agent[["time_to_accept_s", "first_response_s", "handle_s", "wrap_up_s"]].mean()
    table = pd.DataFrame(
        {
            "agent_name": by_agent["agent_name"].first().astype(str),
            "conversations": by_agent.size(),
            "abandoned": sums["abandoned"],
            "unanswered": sums["unanswered"],
            "time_to_accept_mean_s": means["time_to_accept_s"],
            "first_response_mean_s": means["first_response_s"],
            "handle_mean_s": means["handle_s"],
            "wrap_up_mean_s": means["wrap_up_s"],
            "yellow_s": sums["yellow_s"],
            "red_s": sums["red_s"],
            "pushed_urls": sums["pushed_urls"],
            "transfers": sums["transfers"],
        }
    )
    stats, names = _responder_stats(frames, w, thresholds, percentiles)
    table.index = table.index.astype(str)
    stats.index = stats.index.astype(str)
    result = table.join(stats, how="outer")
    result.index.name = "agent_id"
    result["agent_name"] = result["agent_name"].fillna(names)
    result["responses"] = result["responses"].fillna(0).astype(np.int64)
    result["conversations"] = result["conversations"].fillna(0).astype(np.int64)
    return result.sort_index()


def _responder_stats(
    frames: TranscriptFrames,
    w: pd.DataFrame,
    thresholds: Thresholds | None,
    percentiles: Sequence[float],
) -> tuple[pd.DataFrame, pd.Series]:
    """Per responder: responses, their mean and percentiles, the share at or over each
    threshold; and each responder's name."""
    rows = np.flatnonzero(_is(w["ended_by"], "reply"))  # the responses' rows, no table copied
    # share of responses that came when the indicator had already turned (at or over)
    conversation = w["conversation_id"].cat.codes.to_numpy()[rows]
    limits = _limits_per_wait(frames, conversation, thresholds)
    duration = w["duration_s"].to_numpy()[rows]
    per_response = pd.DataFrame(
        {
            "duration_s": duration,
            "over_yellow_share": duration >= limits[0],
            "over_red_share": duration >= limits[1],
            "responder_name": w["responder_name"].iloc[rows].array,
        },
        copy=False,
    )
    responder = _used_categories(w["responder_id"].iloc[rows])  # a few agents of many senders
    by_responder = per_response.groupby(responder, observed=True)  # one grouping
    stats = pd.DataFrame(
        {
            "responses": by_responder.size(),
            "response_mean_s": by_responder["duration_s"].mean(),
        }
    )
    if len(percentiles):  # all at once (each as alone: the same kernel, per quantile)
        qs = by_responder["duration_s"].quantile(np.asarray(percentiles, dtype=float)).unstack()
        for q in percentiles:
            found = qs[q] if q in qs.columns else by_responder["duration_s"].quantile(q)
            stats[f"response_{_pct_name(q)}_s"] = found
    shares = by_responder[["over_yellow_share", "over_red_share"]].mean()
    stats["over_yellow_share"] = shares["over_yellow_share"]
    stats["over_red_share"] = shares["over_red_share"]
    names = by_responder["responder_name"].first().astype(str)
    names.index = names.index.astype(str)
    return stats, names


def _used_categories(column: pd.Series) -> pd.Series:
    """A categorical with only the categories it uses, in their order (what
    ``observed=True`` groups by anyway): comparing its groups' indexes does not hash
    every sender id of the day."""
    column = column.reset_index(drop=True)  # rows 0, 1, ... as the table grouped
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column
    codes = column.cat.codes.to_numpy()
    categories = column.cat.categories
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(categories)))
    if len(used) == len(categories):
        return column
    remap = np.full(len(categories) + 1, -1, dtype=np.int64)  # [-1]: missing stays missing
    remap[used] = np.arange(len(used))
    dtype = pd.CategoricalDtype(categories.take(used), ordered=column.cat.ordered)
    small = pd.Categorical.from_codes(remap[codes], dtype=dtype)
    return pd.Series(small, name=column.name)


def _limits_per_wait(
    frames: TranscriptFrames, pos: np.ndarray, thresholds: Thresholds | None
) -> tuple[np.ndarray, np.ndarray]:
    """Yellow and red thresholds (seconds) of the conversations at rows ``pos``."""
    from .waits import threshold_ns

    yellow, red = threshold_ns(frames, thresholds)
    return yellow[pos] / NS, red[pos] / NS


def summary(
    frames: TranscriptFrames,
    thresholds: Thresholds | None = None,
    *,
    wait_table: pd.DataFrame | None = None,
    conversation_table: pd.DataFrame | None = None,
) -> pd.Series:
    """A day at a glance: counts, means and percentiles over all conversations.

    Counts stay integers (the Series has dtype object, so ``.round(1)`` shows
    ``4``, not ``4.0``); times are floats in seconds."""
    w = waits(frames, thresholds) if wait_table is None else wait_table
    cm = (
        conversation_metrics(frames, thresholds, wait_table=w)
        if conversation_table is None
        else conversation_table
    )
    resp = w.loc[w["ended_by"] == "reply", "duration_s"]
    p50, p90 = resp.quantile(np.array([0.5, 0.9])).to_numpy()  # each as alone
    return pd.Series(
        {
            "conversations": len(cm),
            "entries": len(frames.entries),
            "agents": int(cm["agent_id"].nunique()),
            "abandoned": int(cm["abandoned"].sum()),
            "unanswered": int(cm["unanswered"].sum()),
            "time_to_accept_mean_s": cm["time_to_accept_s"].mean(),
            "first_response_mean_s": cm["first_response_s"].mean(),
            "response_mean_s": resp.mean(),
            "response_p50_s": p50,
            "response_p90_s": p90,
            "handle_mean_s": cm["handle_s"].mean(),
            "wrap_up_mean_s": cm["wrap_up_s"].mean(),
            "yellow_s": cm["yellow_s"].sum(),
            "red_s": cm["red_s"].sum(),
            "pushed_urls": int(cm["pushed_urls"].sum()),
            "transfers": int(cm["transfers"].sum()),
            "conferences": int(cm["conferences"].sum()),
        },
        dtype=object,
    )
