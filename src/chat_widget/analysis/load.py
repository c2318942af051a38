"""Transcripts → tidy pandas frames: one row per conversation, one per entry.

Each record is validated by pydantic's Rust core (``TRANSCRIPT_ADAPTER``),
flattened into column lists in one pass, and the cross-field rules of
``check_transcript`` are then applied to whole columns at once. Times become
``datetime64[ns, UTC]``; roles, kinds, ids and names become categoricals.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..formats.transcript_file import (
    LIFECYCLE,
    TRANSCRIPT_ADAPTER,
    Problem,
    TranscriptDoc,
    TranscriptFileError,
    iter_records,
    problems_from_validation,
)

Errors = Literal["raise", "skip"]
Source = str | os.PathLike[str] | Mapping[str, Any]

ROLES = ["contact", "agent", "system", "external"]
KINDS = ["message", "notice", "push_url", "consult"]
VISIBILITIES = ["all", "agents"]
EVENTS = ["joined", "left", "transfer", "conference"]
STATES = [
    "offered",
    "accepted",
    "contact_left",
    "ended",
    "done",
    "declined",
    "ignored",
    "transferred",
]

ROLE_DTYPE = pd.CategoricalDtype(ROLES)
KIND_DTYPE = pd.CategoricalDtype(KINDS)
VISIBILITY_DTYPE = pd.CategoricalDtype(VISIBILITIES)
EVENT_DTYPE = pd.CategoricalDtype(EVENTS)
STATE_DTYPE = pd.CategoricalDtype(STATES)
PROGRESS_BYTES = 20_000_000  # show a progress bar from this input size on (progress=None)

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


class _Columns:
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
        c["state"].append(doc.get("state") or _derive_state(doc))
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
        c["source"].append(source)
        c["record"].append(record)
        e = self.ent
        index, time, kind, role, name, sid, text, url, vis, event = (
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
        self.entry_conv.extend([pos] * len(entries))
        for typing in doc.get("typing", ()):
            self.typ["conv"].append(pos)
            self.typ["time"].append(typing["time"])
            self.typ["role"].append(typing["role"])
            self.typ["typing"].append(typing["typing"])
            self.typ["id"].append(typing.get("id", ""))


def _derive_state(doc: TranscriptDoc) -> str:
    for key, state in (
        ("done_at", "done"),
        ("ended_at", "ended"),
        ("left_at", "contact_left"),
        ("accepted_at", "accepted"),
    ):
        if doc.get(key):
            return state
    return "offered"


# ----------------------------------------------------------------------------- public
DB_SUFFIXES = (".sqlite", ".sqlite3", ".db")  # a server database (``load_store``)


def load_transcripts(
    source: Source | Iterable[Source],
    *,
    errors: Errors = "raise",
    progress: bool | None = None,
) -> TranscriptFrames:
    """Load ``.json``/``.jsonl`` files, directories of them, transcript dicts, or a
    server database (``.sqlite``/``.sqlite3``/``.db``, read-only: see ``load_store``).

    ``errors="raise"`` raises ``TranscriptFileError`` (file, record, field) at the
    first bad record; ``errors="skip"`` loads the valid records and lists the
    others in ``.problems``. ``progress``: a tqdm bar (default: for inputs over 20 MB).
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    items = _expand(source)
    total = sum(os.path.getsize(p) for p in items if isinstance(p, Path))
    show = progress if progress is not None else total >= PROGRESS_BYTES
    problems: list[Problem] = []
    bar = _progress_bar(total, show)
    try:
        return load_records(
            _records(items, bar, errors, problems), errors=errors, problems=problems
        )
    finally:
        if bar is not None:
            bar.close()


def load_records(
    records: Iterable[tuple[str | Mapping[str, Any], str, int]],
    *,
    errors: Errors = "raise",
    problems: list[Problem] | None = None,
) -> TranscriptFrames:
    """Frames from ``(record, source, number)`` triples: JSON text or a transcript dict,
    the file (or database) it came from and its record number there. ``problems``:
    found elsewhere already (``errors="skip"``); they are reported with the rest."""
    cols = _Columns()
    found_all: list[Problem] = [] if problems is None else problems
    with bulk_objects():
        for data, source, number in records:
            _add_record(cols, found_all, data, source, number, errors)
        built, aux = _build(cols)
    frames, found = _check_columns(built, aux)
    found_all.extend(found)
    found_all.sort(key=lambda p: (p.source, p.record))
    if found_all and errors == "raise":
        raise TranscriptFileError(found_all)
    frames.problems = found_all
    return frames


def frames_from_transcripts(
    docs: Iterable[Mapping[str, Any]], errors: Errors = "raise"
) -> TranscriptFrames:
    """Frames from transcript dicts (``transcript_from_session`` output, generated data)."""
    return load_transcripts(list(docs), errors=errors, progress=False)


# ----------------------------------------------------------------------------- internals
def _records(
    items: list[Path | Mapping[str, Any]], bar: Any, errors: Errors, problems: list[Problem]
) -> Iterator[tuple[str | Mapping[str, Any], str, int]]:
    for position, item in enumerate(items, start=1):
        if isinstance(item, Path) and item.suffix in DB_SUFFIXES:
            from .store import store_records

            yield from store_records(item, errors=errors, problems=problems, bar=bar)
        elif isinstance(item, Path):
            for number, text in iter_records(item):
                yield text, str(item), number
                if bar is not None:
                    bar.update(len(text))
        else:
            yield item, "", position


def _expand(source: Source | Iterable[Source]) -> list[Path | Mapping[str, Any]]:
    if isinstance(source, Mapping):
        return [source]
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".json", ".jsonl"))
            if not found:
                raise FileNotFoundError(f"no .json or .jsonl transcripts under {path}")
            return list(found)
        if not path.exists():
            raise FileNotFoundError(f"no such transcript file: {path}")
        return [path]
    out: list[Path | Mapping[str, Any]] = []
    for item in source:
        out.extend(_expand(item))
    return out


def _progress_bar(total: int, show: bool) -> Any:
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(
        total=total or None, unit="B" if total else "conv", unit_scale=True, desc="transcripts"
    )


def _add_record(
    cols: _Columns,
    problems: list[Problem],
    data: str | Mapping[str, Any],
    source: str,
    record: int,
    errors: Errors,
) -> None:
    try:
        if isinstance(data, str):
            doc = TRANSCRIPT_ADAPTER.validate_json(data)
        else:
            doc = TRANSCRIPT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        found = problems_from_validation(exc, source, record)
        if errors == "raise":
            raise TranscriptFileError(found) from None
        problems.extend(found)
        return
    cols.add(doc, source, record)


def _utc(values: list[Any] | pd.Series) -> pd.Series:
    parsed = pd.to_datetime(
        pd.Series(values, dtype=object), format="ISO8601", utc=True, errors="coerce"
    )
    return parsed.dt.as_unit("ns")


@dataclass
class _Aux:
    raw_lifecycle: dict[str, list[Any]]
    entry_conv: np.ndarray
    raw_time: list[Any]
    typing_conv: np.ndarray
    raw_typing_time: list[Any]


def _build(cols: _Columns) -> tuple[TranscriptFrames, _Aux]:
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
            **{key: _utc(c[key]) for key in LIFECYCLE},
            "disposition": pd.Categorical(c["disposition"]),
            "notes": pd.Series(c["notes"], dtype="str"),
            "n_notes": np.asarray(c["n_notes"], dtype=np.int32),
            "yellow_after": np.asarray(c["yellow_after"], dtype=float),
            "red_after": np.asarray(c["red_after"], dtype=float),
            "n_entries": np.asarray(c["n_entries"], dtype=np.int32),
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
            "time": _utc(e["time"]),
            "kind": pd.Categorical(e["kind"], dtype=KIND_DTYPE),
            "sender_role": pd.Categorical(e["sender_role"], dtype=ROLE_DTYPE),
            "sender_name": pd.Categorical(e["sender_name"]),
            "sender_id": pd.Categorical(e["sender_id"]),
            "text": pd.Series(e["text"], dtype="str"),
            "url": pd.Series(e["url"], dtype="str"),
            "visibility": pd.Categorical(e["visibility"], dtype=VISIBILITY_DTYPE),
            "event": pd.Categorical(e["event"], dtype=EVENT_DTYPE),
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
            "time": _utc(t["time"]),
            "role": pd.Categorical(t["role"], dtype=ROLE_DTYPE),
            "typing": np.asarray(t["typing"], dtype=bool),
            "sender_id": pd.Series(t["id"], dtype="str"),
        }
    )
    # raw strings and positions kept aside for the checks (bad dates are NaT after parsing)
    aux = _Aux(
        {key: c[key] for key in LIFECYCLE},
        entry_conv,
        e["time"],
        np.asarray(t["conv"], dtype=np.int64),
        t["time"],
    )
    return TranscriptFrames(conv, entries, typing), aux


def _check_columns(frames: TranscriptFrames, aux: _Aux) -> tuple[TranscriptFrames, list[Problem]]:
    """``check_transcript``'s rules on whole columns; drops the conversations that break them."""
    conv, entries, typing = frames.conversations, frames.entries, frames.typing
    n_conv = len(conv)
    sources = conv["source"].astype(str).to_numpy()
    records = conv["record"].to_numpy()
    found: list[tuple[int, str, str]] = []  # (conversation position, field, message)

    # lifecycle: valid dates, in order
    raw = aux.raw_lifecycle
    ns: dict[str, np.ndarray] = {}
    for key in LIFECYCLE:
        col = conv[key]
        bad = col.isna().to_numpy() & pd.notna(pd.Series(raw[key], dtype=object)).to_numpy()
        for pos in np.flatnonzero(bad):
            found.append((int(pos), key, f"no such date or time: {raw[key][pos]!r}"))
        ns[key] = col.to_numpy(dtype="datetime64[ns]").view("int64")
    nat = np.iinfo(np.int64).min
    for earlier, later in (
        ("offered_at", "accepted_at"),
        ("accepted_at", "ended_at"),
        ("offered_at", "left_at"),
        ("offered_at", "ended_at"),
        ("ended_at", "done_at"),
        ("offered_at", "done_at"),
    ):
        a, b = ns[earlier], ns[later]
        for pos in np.flatnonzero((a != nat) & (b != nat) & (b < a)):
            found.append((int(pos), later, f"is before {earlier}"))
    limits_bad = (conv["yellow_after"] >= conv["red_after"]).to_numpy()
    for pos in np.flatnonzero(limits_bad):
        found.append((int(pos), "thresholds", "needs yellow_after < red_after"))
    ids = conv["conversation_id"].astype(str)
    for pos in np.flatnonzero(ids.duplicated().to_numpy()):
        first = int(np.flatnonzero((ids == ids.iloc[pos]).to_numpy())[0])
        where = f"{sources[first]}, record" if sources[first] != sources[pos] else "record"
        found.append(
            (
                int(pos),
                "id",
                f"conversation {ids.iloc[pos]!r} already appeared in {where} {records[first]}",
            )
        )

    # entries: indices 0, 1, 2, ...; valid times that never go back; push_url has a URL
    conv_pos, raw_time = aux.entry_conv, aux.raw_time
    if len(entries):
        starts = np.zeros(n_conv, dtype=np.int64)
        counts = conv["n_entries"].to_numpy(dtype=np.int64)
        starts[1:] = np.cumsum(counts)[:-1]
        position = np.arange(len(entries), dtype=np.int64) - starts[conv_pos]
        index = entries["index"].to_numpy()
        for row in np.flatnonzero(index != position):
            found.append(
                (
                    int(conv_pos[row]),
                    f"entries[{position[row]}].index",
                    f"expected {position[row]} (indices count from 0 without gaps), "
                    f"got {index[row]}",
                )
            )
        t = entries["time"].to_numpy(dtype="datetime64[ns]").view("int64")
        bad_time = t == nat
        for row in np.flatnonzero(bad_time):
            found.append(
                (
                    int(conv_pos[row]),
                    f"entries[{position[row]}].time",
                    f"no such date or time: {raw_time[row]!r}",
                )
            )
        # compare with the last valid time before, within the conversation
        valid_t = pd.Series(np.where(bad_time, np.nan, t.astype(float)))
        prev = valid_t.groupby(conv_pos).ffill().shift(1).to_numpy()
        same_conv = np.r_[False, conv_pos[1:] == conv_pos[:-1]]
        back = same_conv & ~bad_time & (t.astype(float) < prev)
        for row in np.flatnonzero(back):
            found.append(
                (
                    int(conv_pos[row]),
                    f"entries[{position[row]}].time",
                    f"goes back in time (before entries[{position[row] - 1}].time)",
                )
            )
        push = (entries["kind"] == "push_url").to_numpy()
        no_url = push & ~entries["url"].fillna("").astype(bool).to_numpy()
        for row in np.flatnonzero(no_url):
            found.append(
                (
                    int(conv_pos[row]),
                    f"entries[{position[row]}].url",
                    "a push_url entry needs the URL",
                )
            )
    typ_pos, typ_raw = aux.typing_conv, aux.raw_typing_time
    if len(typing):
        tstarts = np.r_[0, np.flatnonzero(typ_pos[1:] != typ_pos[:-1]) + 1]
        run = np.arange(len(typing)) - np.repeat(tstarts, np.diff(np.r_[tstarts, len(typing)]))
        for row in np.flatnonzero(typing["time"].isna().to_numpy()):
            found.append(
                (
                    int(typ_pos[row]),
                    f"typing[{run[row]}].time",
                    f"no such date or time: {typ_raw[row]!r}",
                )
            )

    problems = [
        Problem(str(sources[pos]), int(records[pos]), where, message)
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
