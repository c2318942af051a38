"""Validated transcripts → column lists → the three tidy frames (one pass, no per-entry
objects kept). Times become ``datetime64[ns, UTC]``; roles, kinds, ids and names
become categoricals over the format's own vocabularies.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..formats.transcript import KINDS, ROLES, VISIBILITIES
from ..formats.transcript_schema import EVENTS, LIFECYCLE, STATES, Problem, TranscriptDoc

ROLE_DTYPE = pd.CategoricalDtype(list(ROLES))
KIND_DTYPE = pd.CategoricalDtype(list(KINDS))
VISIBILITY_DTYPE = pd.CategoricalDtype(list(VISIBILITIES))
EVENT_DTYPE = pd.CategoricalDtype(list(EVENTS))
STATE_DTYPE = pd.CategoricalDtype(list(STATES))

ENTRY_COLUMNS = [
    "conversation_id",
    "index",
    "time",
    "kind",
    "sender_role",
    "sender_name",
    "sender_id",
    "text",
    "url",
    "visibility",
    "event",
    "code",
    "response",  # the standard response an agent's message started from (issue 16)
]


@dataclass
class TranscriptFrames:
    """The loaded data: ``conversations``, ``entries``, ``typing`` and the ``problems``
    of records left out (``errors="skip"``)."""

    conversations: pd.DataFrame
    entries: pd.DataFrame
    typing: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    def conversation(self, conversation_id: str) -> pd.DataFrame:
        """The entries of one conversation, in order."""
        return self.entries[self.entries["conversation_id"] == conversation_id]


@contextmanager
def bulk_objects() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small objects are built:
    they hold no cycles, and collections triggered by allocation counts alone cost
    more than the parsing itself. Restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Columns:
    """Column lists filled record by record (one pass, no per-entry objects kept)."""

    def __init__(self) -> None:
        self.conv: dict[str, list[Any]] = {
            k: []
            for k in (
                "conversation_id",
                "state",
                "agent_id",
                "agent_name",
                "contact_id",
                "contact_name",
                *LIFECYCLE,
                "disposition",
                "notes",
                "n_notes",
                "yellow_after",
                "red_after",
                "n_entries",
                "class_id",
                "source",
                "record",
            )
        }
        self.ent: dict[str, list[Any]] = {k: [] for k in ENTRY_COLUMNS[1:]}
        self.entry_conv: list[int] = []
        self.typ: dict[str, list[Any]] = {k: [] for k in ("conv", "time", "role", "typing", "id")}

    def add(self, doc: TranscriptDoc, source: str, record: int) -> None:
        c = self.conv
        pos = len(c["conversation_id"])
        c["conversation_id"].append(doc["id"])
        c["state"].append(doc.get("state") or derive_state(doc))
        c["agent_id"].append(doc["agent"]["id"])
        c["agent_name"].append(doc["agent"]["name"])
        contact = doc["contact"]
        c["contact_id"].append(contact.get("id", "contact"))
        c["contact_name"].append(contact["name"])
        for key in LIFECYCLE:
            c[key].append(doc.get(key))
        c["disposition"].append(doc.get("disposition"))
        notes = doc.get("notes") or []
        c["notes"].append("\n".join(notes))
        c["n_notes"].append(len(notes))
        limits = doc.get("thresholds")
        c["yellow_after"].append(limits["yellow_after"] if limits else np.nan)
        c["red_after"].append(limits["red_after"] if limits else np.nan)
        entries = doc["entries"]
        c["n_entries"].append(len(entries))
        c["class_id"].append(doc.get("class_id"))
        c["source"].append(source)
        c["record"].append(record)
        e = self.ent
        index, time, kind, role, name, sid, text, url, vis, event, code, resp = (
            e["index"].append,
            e["time"].append,
            e["kind"].append,
            e["sender_role"].append,
            e["sender_name"].append,
            e["sender_id"].append,
            e["text"].append,
            e["url"].append,
            e["visibility"].append,
            e["event"].append,
            e["code"].append,
            e["response"].append,
        )
        for entry in entries:
            sender = entry["sender"]
            index(entry["index"])
            time(entry["time"])
            kind(entry["kind"])
            role(sender["role"])
            name(sender["name"])
            sid(sender.get("id", ""))
            text(entry["text"])
            url(entry.get("url"))
            vis(entry.get("visibility", "all"))
            event(entry.get("event"))
            code(entry.get("code"))
            resp(entry.get("response"))
        self.entry_conv.extend([pos] * len(entries))
        for typing in doc.get("typing", ()):
            self.typ["conv"].append(pos)
            self.typ["time"].append(typing["time"])
            self.typ["role"].append(typing["role"])
            self.typ["typing"].append(typing["typing"])
            self.typ["id"].append(typing.get("id", ""))


def derive_state(doc: TranscriptDoc) -> str:
    """The state a record without ``state`` is in, from its lifecycle times."""
    for key, state in (
        ("done_at", "done"),
        ("ended_at", "ended"),
        ("left_at", "contact_left"),
        ("accepted_at", "accepted"),
    ):
        if doc.get(key):
            return state
    return "offered"


def utc_times(values: list[Any] | pd.Series) -> pd.Series:
    """ISO-8601 strings → ``datetime64[ns, UTC]``; a bad one becomes NaT (the checks name it)."""
    parsed = pd.to_datetime(
        pd.Series(values, dtype=object), format="ISO8601", utc=True, errors="coerce"
    )
    return parsed.dt.as_unit("ns")


@dataclass
class Aux:
    """Raw strings and positions kept aside for the checks (bad dates are NaT after parsing)."""

    raw_lifecycle: dict[str, Sequence[Any]]
    entry_conv: np.ndarray
    raw_time: Sequence[Any]
    typing_conv: np.ndarray
    raw_typing_time: Sequence[Any]


def present(raw: Sequence[Any]) -> np.ndarray:
    """Which raw values are given (not None): a list's, or an Arrow column's (``valid``)."""
    valid = getattr(raw, "valid", None)
    if valid is not None:
        return np.asarray(valid(), dtype=bool)
    return pd.notna(pd.Series(raw, dtype=object)).to_numpy()


def build_frames(cols: Columns) -> tuple[TranscriptFrames, Aux]:
    c = cols.conv
    ids = c["conversation_id"]
    conv = pd.DataFrame(
        {
            "conversation_id": pd.Series(ids, dtype=object).astype("category"),
            "state": pd.Categorical(c["state"], dtype=STATE_DTYPE),
            "agent_id": pd.Categorical(c["agent_id"]),
            "agent_name": pd.Categorical(c["agent_name"]),
            "contact_id": pd.Series(c["contact_id"], dtype="str"),
            "contact_name": pd.Series(c["contact_name"], dtype="str"),
            **{key: utc_times(c[key]) for key in LIFECYCLE},
            "disposition": pd.Categorical(c["disposition"]),
            "notes": pd.Series(c["notes"], dtype="str"),
            "n_notes": np.asarray(c["n_notes"], dtype=np.int32),
            "yellow_after": np.asarray(c["yellow_after"], dtype=float),
            "red_after": np.asarray(c["red_after"], dtype=float),
            "n_entries": np.asarray(c["n_entries"], dtype=np.int32),
            "class_id": pd.Categorical(c["class_id"]),
            "source": pd.Categorical(c["source"]),
            "record": np.asarray(c["record"], dtype=np.int64),
        }
    )
    categories = pd.Index(ids, dtype=object)
    unique_ids = categories.is_unique
    if not unique_ids:
        categories = categories.drop_duplicates()
    e = cols.ent
    entry_conv = np.asarray(cols.entry_conv, dtype=np.int64)
    if unique_ids:
        conv_col = pd.Categorical.from_codes(entry_conv, categories=categories)
    else:
        conv_col = pd.Categorical(np.asarray(ids, dtype=object)[entry_conv], categories=categories)
    entries = pd.DataFrame(
        {
            "conversation_id": conv_col,
            "index": np.asarray(e["index"], dtype=np.int64),
            "time": utc_times(e["time"]),
            "kind": pd.Categorical(e["kind"], dtype=KIND_DTYPE),
            "sender_role": pd.Categorical(e["sender_role"], dtype=ROLE_DTYPE),
            "sender_name": pd.Categorical(e["sender_name"]),
            "sender_id": pd.Categorical(e["sender_id"]),
            "text": pd.Series(e["text"], dtype="str"),
            "url": pd.Series(e["url"], dtype="str"),
            "visibility": pd.Categorical(e["visibility"], dtype=VISIBILITY_DTYPE),
            "event": pd.Categorical(e["event"], dtype=EVENT_DTYPE),
            "code": pd.Categorical(e["code"]),
            "response": pd.Categorical(e["response"]),
        }
    )
    t = cols.typ
    typing = pd.DataFrame(
        {
            "conversation_id": pd.Categorical(
                np.asarray(ids, dtype=object)[np.asarray(t["conv"], dtype=np.int64)]
                if t["conv"]
                else [],
                categories=categories,
            ),
            "time": utc_times(t["time"]),
            "role": pd.Categorical(t["role"], dtype=ROLE_DTYPE),
            "typing": np.asarray(t["typing"], dtype=bool),
            "sender_id": pd.Series(t["id"], dtype="str"),
        }
    )
    # raw strings and positions kept aside for the checks (bad dates are NaT after parsing)
    aux = Aux(
        {key: c[key] for key in LIFECYCLE},
        entry_conv,
        e["time"],
        np.asarray(t["conv"], dtype=np.int64),
        t["time"],
    )
    return TranscriptFrames(conv, entries, typing), aux
