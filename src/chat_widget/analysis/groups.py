"""Per-conversation reductions over entry rows, fast for the loaders' layout.

The loaders leave each conversation's entries together, in row order of the
conversations, so a reduction per conversation is one ``reduceat`` over runs
instead of a scatter (``np.ufunc.at``, ``bincount`` of gathered labels). Any other
layout (filtered, shuffled, rows of unknown conversations) takes the general path,
with the same results.
"""

from __future__ import annotations

import numpy as np


class ByGroup:
    """Rows labelled with their group 0..n-1 (-1: none, left out of every reduction)."""

    def __init__(self, n: int, labels: np.ndarray) -> None:
        self.n, self.labels = n, labels
        ok = labels >= 0
        self.ok: np.ndarray | None = None if ok.all() else ok
        self.runs: tuple[np.ndarray, np.ndarray] | None = None
        if self.ok is None and len(labels) and np.all(labels[1:] >= labels[:-1]):
            run = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
            self.runs = (run, labels[run])

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Per group the rows where ``mask`` holds (int64)."""
        if self.runs is not None and np.count_nonzero(mask) > len(mask) // 8:
            run, ids = self.runs
            out = np.zeros(self.n, dtype=np.int64)
            out[ids] = np.add.reduceat(mask, run, dtype=np.int64)  # many rows: one pass
            return out
        chosen = mask if self.ok is None else mask & self.ok
        counts: np.ndarray = np.bincount(self.labels[chosen], minlength=self.n)
        return counts

    def extreme(self, ufunc: np.ufunc, values: np.ndarray, empty: int) -> np.ndarray:
        """Per group ``ufunc`` (``np.minimum``/``np.maximum``) over int64 ``values``,
        starting from ``empty`` (the answer for a group without rows)."""
        out = np.full(self.n, empty, dtype=np.int64)
        if self.runs is not None:
            run, ids = self.runs
            out[ids] = ufunc(ufunc.reduceat(values, run), empty)
        elif self.ok is None:
            ufunc.at(out, self.labels, values)
        else:
            ufunc.at(out, self.labels[self.ok], values[self.ok])
        return out
