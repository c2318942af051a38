"""The contact's history as the view draws it (issue 16): rows, and the entries of the
transcripts the agent opened (same entry shape as the live transcript)."""

from __future__ import annotations

from typing import Any

from ..model.contact_history import HistoryItem
from .sync import entry_to_view


def history_view(items: list[HistoryItem]) -> list[dict[str, Any]]:
    """Newest first; ``entries`` is None until the transcript is fetched."""
    out: list[dict[str, Any]] = []
    for item in items:
        row = item.to_view()
        row["entries"] = (
            None if item.transcript is None else [entry_to_view(e) for e in item.transcript]
        )
        out.append(row)
    return out
