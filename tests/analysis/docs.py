"""Small hand-written transcripts for the analysis tests (times in seconds after T0)."""

from __future__ import annotations

from typing import Any

from chat_widget.formats.transcript_file import format_utc

T0 = 1_767_600_000.0
AGENT = ("a1", "Anna Agent")
CONTACT = ("c1", "Carl Contact")


def at(seconds: float | None) -> str | None:
    return None if seconds is None else format_utc(T0 + seconds)


def entry(t: float, role: str, kind: str = "message", **extra: Any) -> tuple[Any, ...]:
    return (t, role, kind, extra)


def make_doc(
    cid: str = "conv-1",
    *,
    entries: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
    offered: float = 0.0,
    accepted: float | None = None,
    left: float | None = None,
    ended: float | None = None,
    done: float | None = None,
    thresholds: tuple[float, float] | None = (30.0, 60.0),
    agent: tuple[str, str] = AGENT,
    typing: list[tuple[float, str, bool]] = (),  # type: ignore[assignment]
    state: str | None = None,
) -> dict[str, Any]:
    """A transcript dict; ``entries`` are ``entry(t, role, kind, ...)`` tuples."""
    names = {
        "contact": CONTACT,
        "agent": agent,
        "system": ("system", "System"),
        "external": ("x1", "Expert"),
    }
    out_entries = []
    for i, (t, role, kind, extra) in enumerate(entries):
        sid, name = extra.pop("sender", names[role])
        e: dict[str, Any] = {
            "index": i,
            "time": at(t),
            "kind": kind,
            "sender": {"role": role, "name": name, "id": sid},
            "text": extra.pop("text", f"{kind} at {t}"),
            "url": None,
            "visibility": "all",
            "client_id": None,
        }
        if kind == "push_url":
            e["url"] = "https://example.com/help"
        e.update(extra)
        out_entries.append(e)
    doc: dict[str, Any] = {
        "format": "chat_widget.transcript",
        "version": 1,
        "id": cid,
        "agent": {"id": agent[0], "name": agent[1]},
        "contact": {"id": CONTACT[0], "name": CONTACT[1], "phones": [], "emails": []},
        "offered_at": at(offered),
        "accepted_at": at(accepted),
        "left_at": at(left),
        "ended_at": at(ended),
        "done_at": at(done),
        "disposition": None,
        "notes": [],
        "thresholds": None
        if thresholds is None
        else {"yellow_after": thresholds[0], "red_after": thresholds[1]},
        "entries": out_entries,
        "typing": [{"time": at(t), "role": role, "typing": on} for t, role, on in typing],
    }
    if state is not None:
        doc["state"] = state
    return doc
