"""The reply-reminder timer's waits from whole columns: which event starts each wait
and which ends it (``waits.waits`` adds durations, colours and names).

Per conversation the timer sees its accept (a wait starts), the entries inside its
window that start a wait (contact messages) or end one (replies), and the stop (end
of the chat or the contact leaving). It changes only when the kind of event changes:
a start while waiting and a reply while idle are no-ops. ``by_sorting`` puts the
events in (conversation, time, index) order with a sort; ``in_order`` gets the same
answer without building or sorting the events when the entries come as the loaders
leave them (``None`` when they do not, and the caller sorts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NAT = np.iinfo(np.int64).min
NEVER = np.iinfo(np.int64).max


@dataclass
class TimedEntries:
    """What the timer reads. Per entry: ``cpos`` (its conversation's row, -1: none),
    ``t`` (ns), ``reply``/``start`` (the rule's flags), ``timed`` (inside its
    conversation's accept .. stop); per conversation: ``acc`` (accept, ``NAT``: never)
    and ``stop`` (``NEVER``: not stopped)."""

    cpos: np.ndarray
    t: np.ndarray
    reply: np.ndarray
    start: np.ndarray
    timed: np.ndarray
    acc: np.ndarray
    stop: np.ndarray


@dataclass
class Waits:
    """One row per wait, in (conversation, start) order: its conversation, start
    (ns), whether something ended it, when (ns, ``NAT``: open), the entry row of the
    reply that ended it (-1: the stop, or open), and whether it is its conversation's
    first (the one the accept started)."""

    conv: np.ndarray
    start: np.ndarray
    has_end: np.ndarray
    end: np.ndarray
    row: np.ndarray
    first: np.ndarray

    def number(self) -> np.ndarray:
        """Each wait's number within its conversation (0: the first)."""
        n = len(self.conv)
        at = np.arange(n)
        out: np.ndarray = at - np.maximum.accumulate(np.where(self.first, at, 0))
        return out


def by_sorting(te: TimedEntries, index: np.ndarray) -> Waits:
    """The events sorted by (conversation, time, index), then walked as the timer does."""
    rows = np.flatnonzero(te.timed & (te.reply | te.start))
    accepted = te.acc != NAT
    acc_convs = np.flatnonzero(accepted)
    stop_convs = np.flatnonzero(accepted & (te.stop != NEVER))
    ev_conv = np.concatenate([acc_convs, te.cpos[rows], stop_convs])
    ev_time = np.concatenate([te.acc[acc_convs], te.t[rows], te.stop[stop_convs]])
    ev_key = np.concatenate(
        [np.full(len(acc_convs), -1), index[rows], np.full(len(stop_convs), NEVER)]
    )
    ev_start = np.concatenate(
        [np.ones(len(acc_convs), dtype=bool), te.start[rows], np.zeros(len(stop_convs), bool)]
    )
    ev_row = np.concatenate([np.full(len(acc_convs), -1), rows, np.full(len(stop_convs), -1)])
    order = np.lexsort((ev_key, ev_time, ev_conv))
    ev_conv, ev_time, ev_start, ev_row = (a[order] for a in (ev_conv, ev_time, ev_start, ev_row))
    # the timer changes only when the kind of event changes
    first_of_conv = np.r_[True, ev_conv[1:] != ev_conv[:-1]][: len(ev_conv)]
    keep = first_of_conv | np.r_[True, ev_start[1:] != ev_start[:-1]][: len(ev_conv)]
    ev_conv, ev_time, ev_start, ev_row = (a[keep] for a in (ev_conv, ev_time, ev_start, ev_row))
    first_of_conv = first_of_conv[keep]
    s = np.flatnonzero(ev_start)
    nxt = s + 1
    has_end = nxt < len(ev_conv)
    has_end[has_end] = ev_conv[nxt[has_end]] == ev_conv[s[has_end]]
    end_idx = np.where(has_end, nxt, 0)
    return Waits(
        ev_conv[s],
        ev_time[s],
        has_end,
        np.where(has_end, ev_time[end_idx], NAT),
        np.where(has_end, ev_row[end_idx], -1),
        first_of_conv[s],
    )


CHUNK = 1 << 16  # rows per step: temporaries that stay small (no fresh pages to fault in)


def _in_order(c: np.ndarray, t: np.ndarray, k: np.ndarray) -> bool:
    """Whether (conversation, time, index) never goes down from one row to the next."""
    dc, dt, dk = np.diff(c), np.diff(t), np.diff(k)
    return bool(np.all((dc > 0) | ((dc == 0) & ((dt > 0) | ((dt == 0) & (dk >= 0))))))


def _all_in_order(te: TimedEntries, index: np.ndarray) -> bool:
    """``_in_order`` over every entry (then the timed rows are too), read in slices of the
    columns, not gathered: the loaders' layout, checked cheaply."""
    n = len(te.t)
    return all(
        _in_order(
            te.cpos[lo : lo + CHUNK + 1], te.t[lo : lo + CHUNK + 1], index[lo : lo + CHUNK + 1]
        )
        for lo in range(0, max(n - 1, 0), CHUNK)
    )


def _kept_rows(te: TimedEntries, index: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
    """The ``rows`` where the timer's flag changes (the event before a conversation's
    first row is its accept, a start), or None if the rows are not in (conversation,
    time, index) order. In steps of ``CHUNK`` rows."""
    found = []
    ordered = _all_in_order(te, index)  # else each step checks its rows
    for lo in range(0, len(rows), CHUNK):
        at = rows[max(lo - 1, 0) : lo + CHUNK]  # with the row before, if any
        c, flag = te.cpos[at], te.start[at]
        if not ordered and not _in_order(c, te.t[at], index[at]):
            return None
        dc = np.diff(c)
        prev = flag[:-1].copy()  # the flag before each row after the first
        prev[dc != 0] = True  # a conversation's first row follows its accept
        if lo == 0:  # the very first row follows its accept
            changed = np.r_[not flag[0], flag[1:] != prev] if len(flag) else flag
        else:
            changed = flag[1:] != prev
        found.append(rows[lo : lo + CHUNK][changed])
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def in_order(te: TimedEntries, index: np.ndarray) -> Waits | None:
    """``by_sorting``'s answer when the timed rows are already in (conversation, time,
    index) order and no stop comes before its accept (else None).

    Then each conversation's events are its accept, its rows, its stop, and only the
    rows where the flag changes count (kept rows): replies and starts alternate, the
    first a reply. The accept's wait ends at the conversation's first kept row; a
    kept start's wait at the next kept row; a wait with none after it at the stop
    (open if there is none). Waits are numbered per conversation: the accept's, then
    the kept starts'."""
    rows = np.flatnonzero(te.timed & (te.reply | te.start))
    krow = _kept_rows(te, index, rows)  # the kept rows
    if krow is None:
        return None
    accepted = te.acc != NAT
    stopped = accepted & (te.stop != NEVER)
    if np.any(te.acc[stopped] > te.stop[stopped]):
        return None
    n = len(te.acc)
    kc, ks = te.cpos[krow], te.start[krow]
    has_next = np.zeros(len(kc), dtype=bool)  # the next kept row is the same conversation's
    np.equal(kc[1:], kc[:-1], out=has_next[:-1])
    # the accept's waits
    acc_convs = np.flatnonzero(accepted)
    n_kept = np.bincount(kc, minlength=n)
    first_kept = np.cumsum(n_kept) - n_kept
    a_has_row = n_kept[acc_convs] > 0
    a_stop = stopped[acc_convs]
    # the kept starts' waits
    starts = np.flatnonzero(ks)
    s_conv = kc[starts]
    s_has_row = has_next[starts]
    s_stop = stopped[s_conv]
    # merged per conversation: the accept's wait, then its kept starts' waits
    n_acc_upto = np.cumsum(accepted)
    n_starts = np.bincount(s_conv, minlength=n)
    a_at = (np.cumsum(n_starts) - n_starts)[acc_convs] + n_acc_upto[acc_convs] - 1
    s_at = n_acc_upto[s_conv]
    s_at += np.arange(len(starts))
    size = len(acc_convs) + len(starts)
    conv = np.empty(size, dtype=np.int64)
    begin = np.empty(size, dtype=np.int64)
    has_end = np.empty(size, dtype=bool)
    end = np.empty(size, dtype=np.int64)
    row = np.full(size, -1, dtype=np.int64)
    first = np.zeros(size, dtype=bool)
    conv[a_at], conv[s_at] = acc_convs, s_conv
    begin[a_at], begin[s_at] = te.acc[acc_convs], te.t[krow[starts]]
    has_end[a_at], has_end[s_at] = a_has_row | a_stop, s_has_row | s_stop
    # a wait ends at the next kept row, else at the stop, else not (NAT)
    end[a_at] = np.where(a_stop, te.stop[acc_convs], NAT)
    end[s_at] = np.where(s_stop, te.stop[s_conv], NAT)
    for at, nxt in (
        (a_at[a_has_row], krow[first_kept[acc_convs[a_has_row]]]),
        (s_at[s_has_row], krow[starts[s_has_row] + 1]),
    ):
        end[at] = te.t[nxt]
        row[at] = nxt
    first[a_at] = True
    return Waits(conv, begin, has_end, end, row, first)
