"""The transcript format's cross-field rules (``check_transcript``) on whole columns:
one vectorised pass over a million entries instead of a Python loop per record.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..formats.transcript_schema import (
    AGENTS_ONLY_KINDS,
    AGENTS_ONLY_MESSAGE,
    LIFECYCLE,
    LIFECYCLE_ORDER,
    Problem,
)
from .columns import Aux, TranscriptFrames, present


def check_columns(frames: TranscriptFrames, aux: Aux) -> tuple[TranscriptFrames, list[Problem]]:
    """``check_transcript``'s rules on whole columns; drops the conversations that break them."""
    conv, entries, typing = frames.conversations, frames.entries, frames.typing
    n_conv = len(conv)
    source = conv["source"]
    records = conv["record"].to_numpy()
    found: list[tuple[int, str, str]] = []  # (conversation position, field, message)

    # lifecycle: valid dates, in order
    raw = aux.raw_lifecycle
    ns: dict[str, np.ndarray] = {}
    for key in LIFECYCLE:
        col = conv[key]
        bad = col.isna().to_numpy() & present(raw[key])
        for pos in np.flatnonzero(bad):
            found.append((int(pos), key, f"no such date or time: {raw[key][int(pos)]!r}"))
        ns[key] = col.to_numpy(dtype="datetime64[ns]").view("int64")
    nat = np.iinfo(np.int64).min
    for earlier, later in LIFECYCLE_ORDER:
        a, b = ns[earlier], ns[later]
        for pos in np.flatnonzero((a != nat) & (b != nat) & (b < a)):
            found.append((int(pos), later, f"is before {earlier}"))
    limits_bad = (conv["yellow_after"] >= conv["red_after"]).to_numpy()
    for pos in np.flatnonzero(limits_bad):
        found.append((int(pos), "thresholds", "needs yellow_after < red_after"))
    # duplicates found on the column itself (a categorical's codes), strings built only
    # for messages
    duplicated = np.flatnonzero(conv["conversation_id"].duplicated().to_numpy())
    ids = conv["conversation_id"].astype(str) if len(duplicated) else None
    sources = source.astype(str).to_numpy() if len(duplicated) else None
    for pos in duplicated:
        assert ids is not None and sources is not None
        first = int(np.flatnonzero((ids == ids.iloc[pos]).to_numpy())[0])
        where = f"{sources[first]}, record" if sources[first] != sources[pos] else "record"
        found.append(
            (
                int(pos),
                "id",
                f"conversation {ids.iloc[pos]!r} already appeared in {where} {records[first]}",
            )
        )

    # entries: indices 0, 1, 2, ...; valid times that never go back; push_url has a URL;
    # coaching is for agents only
    conv_pos, raw_time = aux.entry_conv, aux.raw_time
    if len(entries):
        starts = np.zeros(n_conv, dtype=np.int64)
        counts = conv["n_entries"].to_numpy(dtype=np.int64)
        starts[1:] = np.cumsum(counts)[:-1]

        def position(row: np.integer) -> np.integer:
            """The row's place in its conversation (0, 1, ...)."""
            out: np.integer = row - starts[conv_pos[row]]
            return out

        index = entries["index"].to_numpy()
        for row in _rows_where(
            len(entries), lambda lo, hi: index[lo:hi] != np.arange(lo, hi) - starts[conv_pos[lo:hi]]
        ):
            found.append(
                (
                    int(conv_pos[row]),
                    f"entries[{position(row)}].index",
                    f"expected {position(row)} (indices count from 0 without gaps), "
                    f"got {index[row]}",
                )
            )
        t = entries["time"].to_numpy(dtype="datetime64[ns]").view("int64")
        bad_time = t == nat
        for row in np.flatnonzero(bad_time):
            found.append(
                (
                    int(conv_pos[row]),
                    f"entries[{position(row)}].time",
                    f"no such date or time: {raw_time[int(row)]!r}",
                )
            )
        # compare with the last valid time before, within the conversation (as floats)
        if bad_time.any():
            t_float = t.astype(float)
            valid_t = pd.Series(np.where(bad_time, np.nan, t_float))
            prev = valid_t.groupby(conv_pos).ffill().shift(1).to_numpy()
            same_conv = np.r_[False, conv_pos[1:] == conv_pos[:-1]]
            back = np.flatnonzero(same_conv & ~bad_time & (t_float < prev))
        else:  # the last valid time before is the one just before

            def goes_back(lo: int, hi: int) -> np.ndarray:
                at = max(lo, 1)  # rows at..hi against the row before each
                before = slice(at - 1, hi - 1)
                later = t[at:hi].astype(float) < t[before].astype(float)
                out = np.zeros(hi - lo, dtype=bool)
                out[at - lo :] = later & (conv_pos[at:hi] == conv_pos[before])
                return out

            back = _rows_where(len(entries), goes_back)
        for row in back:
            found.append(
                (
                    int(conv_pos[row]),
                    f"entries[{position(row)}].time",
                    f"goes back in time (before entries[{position(row) - 1}].time)",
                )
            )
        pushes = np.flatnonzero((entries["kind"] == "push_url").to_numpy())
        # the URLs looked at only where they are needed
        has_url = (entries["url"].iloc[pushes].fillna("").str.len() > 0).to_numpy()
        for row in pushes[~has_url]:
            found.append(
                (
                    int(conv_pos[row]),
                    f"entries[{position(row)}].url",
                    "a push_url entry needs the URL",
                )
            )
        shown = (entries["visibility"] != "agents").to_numpy()
        for kind in AGENTS_ONLY_KINDS:
            for row in np.flatnonzero((entries["kind"] == kind).to_numpy() & shown):
                found.append(
                    (
                        int(conv_pos[row]),
                        f"entries[{position(row)}].visibility",
                        AGENTS_ONLY_MESSAGE.format(kind=kind),
                    )
                )
    typ_pos, typ_raw = aux.typing_conv, aux.raw_typing_time
    if len(typing):
        missing = np.flatnonzero(typing["time"].isna().to_numpy())
        if len(missing):  # each row's place in its conversation's typing list
            tstarts = np.r_[0, np.flatnonzero(typ_pos[1:] != typ_pos[:-1]) + 1]
            run = missing - tstarts[np.searchsorted(tstarts, missing, side="right") - 1]
        for k, row in enumerate(missing):
            found.append(
                (
                    int(typ_pos[row]),
                    f"typing[{run[k]}].time",
                    f"no such date or time: {typ_raw[int(row)]!r}",
                )
            )

    problems = [
        Problem(str(source.iloc[pos]), int(records[pos]), where, message)
        for pos, where, message in found
    ]
    if found:
        bad = np.zeros(n_conv, dtype=bool)
        bad[[pos for pos, _, _ in found]] = True
        keep_ids = conv.loc[~bad, "conversation_id"].astype(str)
        conv = conv.loc[~bad].reset_index(drop=True)
        conv["conversation_id"] = conv["conversation_id"].cat.set_categories(keep_ids.tolist())
        entries = entries.loc[~bad[conv_pos]].reset_index(drop=True)
        entries["conversation_id"] = entries["conversation_id"].cat.set_categories(
            keep_ids.tolist()
        )
        typing = typing.loc[~bad[typ_pos]].reset_index(drop=True)
        typing["conversation_id"] = typing["conversation_id"].cat.set_categories(keep_ids.tolist())
    return TranscriptFrames(conv, entries, typing), problems


CHUNK = 1 << 16  # rows per step: temporaries that stay small (no fresh pages to fault in)


def _rows_where(n: int, test: Callable[[int, int], np.ndarray]) -> np.ndarray:
    """Rows 0..n-1 for which ``test(lo, hi)`` (a mask of rows lo..hi-1) holds, in steps."""
    found = [np.flatnonzero(test(lo, min(lo + CHUNK, n))) + lo for lo in range(0, n, CHUNK)]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.intp)
