"""The timer's waits without sorting (``in_order``) are the sorted walk's (``by_sorting``),
for any entries in loader order: random conversations, flags, windows and ties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_widget.analysis import timer_events
from chat_widget.analysis.timer_events import (
    NAT,
    NEVER,
    TimedEntries,
    Waits,
    by_sorting,
    in_order,
)

CONVERSATION = st.tuples(
    st.integers(min_value=-1, max_value=6),  # accept time (-1: never accepted)
    st.integers(min_value=-1, max_value=12),  # stop time (-1: never stopped)
    st.lists(  # entries: (time step, reply, start)
        st.tuples(st.integers(0, 2), st.booleans(), st.booleans()), max_size=12
    ),
)


def timed(conversations: list[tuple[int, int, list[tuple[int, bool, bool]]]]) -> TimedEntries:
    cpos, t, reply, start = [], [], [], []
    acc, stop = [], []
    for c, (accept, end, entries) in enumerate(conversations):
        acc.append(NAT if accept < 0 else accept)
        stop.append(NEVER if end < 0 else end)
        now = 0
        for step, is_reply, is_start in entries:
            now += step
            cpos.append(c)
            t.append(now)
            reply.append(is_reply)
            start.append(is_start)
    cp, tt = np.array(cpos, dtype=np.int64), np.array(t, dtype=np.int64)
    a, s = np.array(acc, dtype=np.int64), np.array(stop, dtype=np.int64)
    window = (a[cp] != NAT) & (tt >= a[cp]) & (tt <= s[cp]) if len(cp) else np.zeros(0, bool)
    return TimedEntries(
        cp, tt, np.array(reply, dtype=bool), np.array(start, dtype=bool), window, a, s
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(CONVERSATION, max_size=8))
def test_in_order_is_the_sorted_walk(conversations) -> None:  # type: ignore[no-untyped-def]
    te = timed(conversations)
    index = np.arange(len(te.cpos), dtype=np.int64)  # per conversation 0, 1, ... in files
    for c in range(len(conversations)):
        mine = te.cpos == c
        index[mine] = np.arange(mine.sum())
    sorted_walk = by_sorting(te, index)
    for chunk in (timer_events.CHUNK, 1, 3):  # row steps across conversations too
        check_in_order(te, index, sorted_walk, chunk)
    # entries outside the window out of order: the timed rows alone are checked
    t = te.t.copy()
    t[~te.timed] = -1
    shuffled = TimedEntries(te.cpos, t, te.reply, te.start, te.timed, te.acc, te.stop)
    check_in_order(shuffled, index, sorted_walk, 3)


def check_in_order(te: TimedEntries, index: np.ndarray, sorted_walk: Waits, chunk: int) -> None:
    was, timer_events.CHUNK = timer_events.CHUNK, chunk
    try:
        fast = in_order(te, index)
    finally:
        timer_events.CHUNK = was
    stopped = (te.acc != NAT) & (te.stop != NEVER)
    if np.any(te.acc[stopped] > te.stop[stopped]):
        assert fast is None  # a stop before its accept: the caller sorts
        return
    assert fast is not None
    for name in ("conv", "start", "has_end", "end", "row", "first"):
        a, b = getattr(fast, name), getattr(sorted_walk, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert np.array_equal(fast.number(), sorted_walk.number())


def test_rows_out_of_order_are_left_to_the_sort() -> None:
    te = timed([(0, -1, [(1, False, True), (0, True, False)])])  # same time, index 1 then 0
    for chunk in (timer_events.CHUNK, 1):  # the two rows in one step, or in two
        was, timer_events.CHUNK = timer_events.CHUNK, chunk
        try:
            assert in_order(te, np.array([1, 0], dtype=np.int64)) is None
        finally:
            timer_events.CHUNK = was


def test_entry_flags_are_the_rule_for_every_combination() -> None:
    """One flat lookup gives what indexing the rule's tables gives, missing codes too."""
    import itertools

    import pandas as pd

    from chat_widget.analysis.columns import KIND_DTYPE, ROLE_DTYPE, VISIBILITY_DTYPE
    from chat_widget.analysis.waits import entry_flags, rule_tables

    reply, start = rule_tables()
    sizes = [range(-1, size) for size in reply.shape]  # -1: missing
    role, kind, vis = (np.array(axis) for axis in zip(*itertools.product(*sizes), strict=True))
    entries = pd.DataFrame(
        {
            "sender_role": pd.Categorical.from_codes(role, dtype=ROLE_DTYPE),
            "kind": pd.Categorical.from_codes(kind, dtype=KIND_DTYPE),
            "visibility": pd.Categorical.from_codes(vis, dtype=VISIBILITY_DTYPE),
        }
    )
    got_reply, got_start = entry_flags(entries)
    assert np.array_equal(got_reply, reply[role, kind, vis])
    assert np.array_equal(got_start, start[role, kind, vis])
