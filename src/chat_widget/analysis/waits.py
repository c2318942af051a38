"""The reply-reminder rule on whole columns: every wait of every conversation at once.

Which entry starts a wait and which ends it is decided by the model's own
``is_reply_kind`` / ``starts_wait_kind`` (``model.reply_timer``), called once
per (role, kind, visibility) combination and then looked up for all rows: one
rule for the widget, the server and analysis. The state machine is the
``ReplyTimer``'s: a wait starts at accept and at a contact message when none is
running, the first reply after it ends it, and ending the chat (or the contact
leaving) stops it. Only entries between accept and that stop count, as in the
session. Times are integer nanoseconds, so a reply exactly at a threshold is
exactly at it.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from ..formats.transcript import Kind, Role, Visibility
from ..model.reply_timer import (
    Thresholds,
    TimerColour,
    colour_for_elapsed,
    is_reply_kind,
    starts_wait_kind,
)
from .groups import ByGroup
from .load import TranscriptFrames
from .timer_events import CHUNK, TimedEntries, by_sorting, in_order
from .timer_events import NAT as NAT  # re-exported: analysis code names one source
from .timer_events import NEVER as NEVER

NS = 1_000_000_000
ENDED_BY = pd.CategoricalDtype(["reply", "end", "open"])
COLOURS = [str(c) for c in TimerColour]


@cache
def rule_tables() -> tuple[np.ndarray, np.ndarray]:
    """(reply, starts_wait) as boolean arrays indexed [role, kind, visibility] codes."""
    shape = (len(Role), len(Kind), len(Visibility))  # the categories' order (formats)
    reply, start = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    for i, role in enumerate(Role):
        for j, kind in enumerate(Kind):
            for k, vis in enumerate(Visibility):
                fields = (role, kind, vis)
                reply[i, j, k] = is_reply_kind(*fields)
                start[i, j, k] = starts_wait_kind(*fields)
    return reply, start


RULE_COLUMNS = ("sender_role", "kind", "visibility")  # the axes of ``rule_tables``


@cache
def _flat_rule_table() -> np.ndarray:
    """``rule_tables`` flattened into one (bit 0: reply, bit 1: starts a wait), each
    axis with one more slot in front for code -1 (a missing value, which indexing the
    tables takes as the last category)."""
    reply, start = rule_tables()
    both = reply.astype(np.uint8) | start.astype(np.uint8) << 1
    axes = [np.r_[size - 1, np.arange(size)] for size in both.shape]
    return np.ascontiguousarray(both[np.ix_(*axes)]).ravel()


def entry_flags(entries: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per entry: does it end a wait (reply), does it start one (contact message)?"""
    reply, start = rule_tables()
    columns = [entries[name] for name in RULE_COLUMNS]
    codes = tuple(column.cat.codes.to_numpy() for column in columns)
    if any(len(c.cat.categories) > size for c, size in zip(columns, reply.shape, strict=True)):
        return reply[codes], start[codes]  # codes past the tables: IndexError as ever
    # one flat index (small integers) instead of indexing three axes, one lookup for both
    # flags, in steps (small temporaries)
    slots = int(np.prod([size + 1 for size in reply.shape]))
    table = _flat_rule_table()
    both = np.empty(len(entries), dtype=np.uint8)
    for lo in range(0, len(entries), CHUNK):
        flat: np.ndarray = np.zeros(
            min(CHUNK, len(entries) - lo), dtype=np.int8 if slots <= 127 else np.int32
        )
        for code, size in zip(codes, reply.shape, strict=True):
            flat *= size + 1
            flat += code[lo : lo + CHUNK]
            flat += 1
        np.take(table, flat, out=both[lo : lo + CHUNK])
    return (both & 1).view(bool), (both >> 1).view(bool)


def ns(values: pd.Series) -> np.ndarray:
    """datetime64 column → int64 nanoseconds (NaT → ``NAT``)."""
    return values.to_numpy(dtype="datetime64[ns]").view("int64")


def utc_ns(values: np.ndarray) -> pd.DatetimeIndex:
    """int64 nanoseconds (``NAT`` → NaT) → a UTC ``DatetimeIndex`` (no parsing)."""
    return pd.DatetimeIndex(np.asarray(values, dtype=np.int64).view("datetime64[ns]")).tz_localize(
        "UTC"
    )


def conversation_ids(conversations: pd.DataFrame) -> pd.Index:
    """The conversations' ids as strings, in row order: ``Index(column.astype(str))``,
    for a categorical column by taking its categories (no string built per row)."""
    column = conversations["conversation_id"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        if not (codes < 0).any():
            ids: pd.Index = column.cat.categories.astype(str)
            if len(codes) == len(ids) and np.array_equal(codes, np.arange(len(codes))):
                # rows in the categories' order (ids sorted in the file): the categories
                # themselves, which keep what pandas knows of them (their uniqueness)
                return ids.rename(column.name)
            out: pd.Index = pd.Index(ids.take(codes), name=column.name)
            return out
    return pd.Index(column.astype(str))


def conversation_positions(frames: TranscriptFrames, column: pd.Series) -> np.ndarray:
    """Row of ``frames.conversations`` for each value of a ``conversation_id`` column
    (-1 where the conversation is not in the frame, e.g. after filtering)."""
    return np.asarray(row_positions(frames, column), dtype=np.int64)


def row_positions(frames: TranscriptFrames, column: pd.Series) -> np.ndarray:
    """``conversation_positions`` as int32 or int64: in the loaders' layout the column's
    own codes, not copied (the timer reads them; nothing writes them)."""
    ids = conversation_ids(frames.conversations)
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if len(categories) == len(ids) and pd.Index(categories.astype(str)).equals(ids):
            # the loaders' layout: categories are the conversations, in order
            codes: np.ndarray = column.cat.codes.to_numpy()
            return codes if codes.dtype.itemsize >= 4 else codes.astype(np.int32)
        lookup = ids.get_indexer(column.cat.categories.astype(str))
        codes = column.cat.codes.to_numpy()
        return np.where(codes >= 0, lookup[codes], -1).astype(np.int64)
    return np.asarray(ids.get_indexer(pd.Index(column.astype(str))), dtype=np.int64)


def threshold_ns(
    frames: TranscriptFrames, thresholds: Thresholds | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per conversation (yellow, red) in ns: the given thresholds, else each transcript's
    recorded ones, else the defaults."""
    n = len(frames.conversations)
    if thresholds is not None:
        return (
            np.full(n, round(thresholds.yellow_after * NS), dtype=np.int64),
            np.full(n, round(thresholds.red_after * NS), dtype=np.int64),
        )
    default = Thresholds()
    conv = frames.conversations
    yellow = conv["yellow_after"].fillna(default.yellow_after).to_numpy(dtype=float)
    red = conv["red_after"].fillna(default.red_after).to_numpy(dtype=float)
    return np.round(yellow * NS).astype(np.int64), np.round(red * NS).astype(np.int64)


def stop_times(frames: TranscriptFrames) -> np.ndarray:
    """When the timer stopped for good: the earlier of end and the contact leaving."""
    conv = frames.conversations
    ended, left = ns(conv["ended_at"]), ns(conv["left_at"])
    ended = np.where(ended == NAT, NEVER, ended)
    left = np.where(left == NAT, NEVER, left)
    return np.asarray(np.minimum(ended, left), dtype=np.int64)


def timed_entries(frames: TranscriptFrames) -> TimedEntries:
    """Per entry and conversation what the reply-reminder timer reads."""
    conv, ent = frames.conversations, frames.entries
    cpos = row_positions(frames, ent["conversation_id"])
    t = ns(ent["time"])
    acc = ns(conv["accepted_at"])
    stop = stop_times(frames)
    reply, start = entry_flags(ent)
    ok = cpos >= 0
    everywhere = bool(ok.all())
    safe = cpos if everywhere else np.where(ok, cpos, 0)
    timed = np.empty(len(t), dtype=bool)
    for lo in range(0, len(t), CHUNK):  # small temporaries: no fresh pages to fault in
        at, when = safe[lo : lo + CHUNK], t[lo : lo + CHUNK]
        acc_at = acc[at]
        timed[lo : lo + CHUNK] = (acc_at != NAT) & (when >= acc_at) & (when <= stop[at])
    if not everywhere:
        timed &= ok
    return TimedEntries(cpos, t, reply, start, timed, acc, stop)


def last_times(frames: TranscriptFrames, cpos: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Latest known time of each conversation (entries and lifecycle): where open waits
    are cut off for colour durations."""
    conv = frames.conversations
    last = ByGroup(len(conv), cpos).extreme(np.maximum, t, NAT)
    for key in ("offered_at", "accepted_at", "left_at", "ended_at", "done_at"):
        last = np.maximum(last, ns(conv[key]))
    return last


def colour_split(
    duration: np.ndarray, yellow: np.ndarray, red: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nanoseconds green, yellow and red within waits of ``duration`` ns
    (``colour_for_elapsed``: exactly at a threshold the colour has turned)."""
    green = np.minimum(duration, yellow)
    yellow_part = np.clip(duration - yellow, 0, red - yellow)
    red_part = np.maximum(duration - red, 0)
    return green, yellow_part, red_part


def waits(frames: TranscriptFrames, thresholds: Thresholds | None = None) -> pd.DataFrame:
    """One row per wait: ``conversation_id, agent_id, wait_no, first, start, end,
    duration_s, ended_by`` (reply | end | open), ``responder_id, responder_name,
    green_s, yellow_s, red_s``. Open waits (no reply, no end in the data) are cut at
    the conversation's last known time for the colour columns and ``duration_s``."""
    conv, ent = frames.conversations, frames.entries
    te = timed_entries(frames)
    index = ent["index"].to_numpy(dtype=np.int64)
    found = in_order(te, index) or by_sorting(te, index)
    w_conv, w_start, has_end, w_end, w_row = (
        found.conv,
        found.start,
        found.has_end,
        found.end,
        found.row,
    )
    last, yellow_ns, red_ns, conv_dtype, agent_dtype = _per_conversation(frames, te, thresholds)
    ended_by = np.where(~has_end, 2, np.where(w_row >= 0, 0, 1))
    until = np.where(has_end, w_end, np.maximum(last[w_conv], w_start))
    duration = until - w_start
    green, yellow, red = colour_split(duration, yellow_ns[w_conv], red_ns[w_conv])
    wait_no = found.number()
    has_responder = w_row >= 0
    sender_id = ent["sender_id"]
    sender_name = ent["sender_name"]
    id_codes = np.full(len(w_conv), -1, dtype=np.int64)
    name_codes = np.full(len(w_conv), -1, dtype=np.int64)
    id_codes[has_responder] = sender_id.cat.codes.to_numpy()[w_row[has_responder]]
    name_codes[has_responder] = sender_name.cat.codes.to_numpy()[w_row[has_responder]]
    return pd.DataFrame(
        {
            "conversation_id": pd.Categorical.from_codes(w_conv, dtype=conv_dtype),
            "agent_id": pd.Categorical.from_codes(
                conv["agent_id"].cat.codes.to_numpy()[w_conv], dtype=agent_dtype
            ),
            "wait_no": wait_no.astype(np.int32),
            "first": found.first,
            "start": utc_ns(w_start),
            "end": utc_ns(np.where(has_end, w_end, NAT)),
            "duration_s": duration / NS,
            "ended_by": pd.Categorical.from_codes(ended_by, dtype=ENDED_BY),
            "responder_id": pd.Categorical.from_codes(
                id_codes, categories=sender_id.cat.categories
            ),
            "responder_name": pd.Categorical.from_codes(
                name_codes, categories=sender_name.cat.categories
            ),
            "green_s": green / NS,
            "yellow_s": yellow / NS,
            "red_s": red / NS,
        },
        copy=False,  # every column made here for this table alone
    )


def _per_conversation(
    frames: TranscriptFrames, te: TimedEntries, thresholds: Thresholds | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.CategoricalDtype, pd.CategoricalDtype]:
    """What ``waits`` reads per conversation: the last known time, the thresholds (ns),
    and the categories of the ``conversation_id`` and ``agent_id`` columns (as
    ``from_codes(categories=...)`` makes them)."""
    conv = frames.conversations
    yellow_ns, red_ns = threshold_ns(frames, thresholds)
    return (
        last_times(frames, te.cpos, te.t),
        yellow_ns,
        red_ns,
        pd.CategoricalDtype(conversation_ids(conv)),
        pd.CategoricalDtype(pd.Index(conv["agent_id"].cat.categories)),
    )


def timeline(
    frames: TranscriptFrames, conversation_id: str, thresholds: Thresholds | None = None
) -> pd.DataFrame:
    """The indicator colour of one conversation over time, as segments
    ``start, end, colour`` from the offer to its last known time (idle between waits)."""
    conv = frames.conversations
    pos = np.flatnonzero((conv["conversation_id"].astype(str) == conversation_id).to_numpy())
    if len(pos) == 0:
        raise KeyError(f"no conversation {conversation_id!r}")
    one = TranscriptFrames(
        conv.iloc[pos].reset_index(drop=True), frames.conversation(conversation_id), frames.typing
    )
    w = waits(one, thresholds)
    yellow_ns, red_ns = threshold_ns(one, thresholds)
    begin = ns(one.conversations["offered_at"])[0]
    t_all = ns(one.entries["time"])
    finish = last_times(one, np.zeros(len(t_all), dtype=np.int64), t_all)[0]
    points: list[tuple[int, str]] = [(begin, "idle")]
    for w_start, w_dur in zip(
        ns(w["start"]), np.round(w["duration_s"].to_numpy() * NS).astype(np.int64), strict=True
    ):
        w_end = w_start + int(w_dur)
        if w_end <= w_start:
            continue
        points.append((int(w_start), "green"))
        if w_dur > yellow_ns[0]:
            points.append((int(w_start + yellow_ns[0]), "yellow"))
        if w_dur > red_ns[0]:
            points.append((int(w_start + red_ns[0]), "red"))
        points.append((int(w_end), "idle"))
    finish = max(finish, points[-1][0])
    starts = np.array([p[0] for p in points], dtype=np.int64)
    colours = [p[1] for p in points]
    ends = np.r_[starts[1:], finish]
    seg = pd.DataFrame(
        {
            "start": pd.to_datetime(starts, utc=True).as_unit("ns"),
            "end": pd.to_datetime(ends, utc=True).as_unit("ns"),
            "colour": pd.Categorical(colours, categories=COLOURS),
        }
    )
    return seg[seg["end"] > seg["start"]].reset_index(drop=True)


def colour_at(
    segments: pd.DataFrame, times: pd.Series | pd.DatetimeIndex | np.ndarray
) -> np.ndarray:
    """The colour of a ``timeline`` at each of ``times`` (idle outside it)."""
    t_ns = pd.DatetimeIndex(pd.to_datetime(times, utc=True)).as_unit("ns").asi8
    if len(segments) == 0:
        return np.full(len(t_ns), "idle", dtype=object)
    starts = ns(segments["start"])
    ends = ns(segments["end"])
    i = np.searchsorted(starts, t_ns, side="right") - 1
    inside = (i >= 0) & (t_ns < ends[np.maximum(i, 0)])
    colours = segments["colour"].astype(str).to_numpy()
    return np.where(inside, colours[np.maximum(i, 0)], "idle")


def colour_for_wait(elapsed_s: float, thresholds: Thresholds) -> str:
    """The model's colour rule (re-exported so analysis code names one source)."""
    return str(colour_for_elapsed(elapsed_s, thresholds))
