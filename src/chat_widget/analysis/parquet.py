"""Transcript frames as a Parquet dataset, partitioned by day (hive style).

    export_parquet("day.jsonl", "chats.parquet")        # or a directory, a database, frames
    load_transcripts("chats.parquet", start="2026-03-01", end="2026-04-01", agents=["a-lena"])

Layout (``docs/transcript-format.md``, "Parquet datasets")::

    chats.parquet/
      chat_widget_dataset.json                    what this is (format, version)
      conversations/day=2026-01-05/part-0.parquet one row per conversation
      entries/day=2026-01-05/part-0.parquet       one row per entry
      typing/day=2026-01-05/part-0.parquet        one row per typing change

``day`` is the UTC date the conversation was offered; its entries and typing
changes live in the same day's partition, so a date range reads only those
days' files. The columns are the frames' columns (plus ``position``, the
conversation's place in the load, which keeps the order), so a load of the
dataset gives the frames back exactly. Plain Parquet: DuckDB, Spark, polars
read it as they are.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ..formats.transcript_schema import LIFECYCLE
from .columnar_frames import categorical_column, string_column
from .columns import (
    EVENT_DTYPE,
    KIND_DTYPE,
    ROLE_DTYPE,
    STATE_DTYPE,
    VISIBILITY_DTYPE,
    TranscriptFrames,
)

FIXED = (STATE_DTYPE, KIND_DTYPE, ROLE_DTYPE, VISIBILITY_DTYPE, EVENT_DTYPE)  # vocabularies
MARKER = "chat_widget_dataset.json"
DATASET_FORMAT = {"format": "chat_widget.parquet", "version": 1}
TABLES = ("conversations", "entries", "typing")
#: columns added since version 1, per table: null where a file (an older export) lacks them
ADDED: dict[str, dict[str, pa.DataType]] = {
    "entries": {"code": pa.string(), "response": pa.string()},  # response: issue 16
    "conversations": {"class_id": pa.string()},  # issue 15
}
DayLike = str | date | datetime | pd.Timestamp

__all__ = ["export_parquet", "is_dataset", "load_parquet", "parquet_files"]


def is_dataset(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder ``export_parquet`` wrote."""
    return (Path(path) / MARKER).is_file()


def export_parquet(source: Any, folder: str | os.PathLike[str], *, errors: str = "raise") -> Path:
    """Write conversations, entries and typing changes as a day-partitioned Parquet dataset.

    ``source``: anything ``load_transcripts`` reads (JSON Lines file, directory, a
    server database, dicts) or loaded ``TranscriptFrames``. Days already in
    ``folder`` that the source also has are replaced; other days stay, and a load
    gives their conversations first, then this export's (``position``)."""
    if isinstance(source, TranscriptFrames):
        frames = source
    else:
        from .load import load_transcripts

        frames = load_transcripts(source, errors=errors)  # type: ignore[arg-type]
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    conv = frames.conversations
    day_of_conv = conv["offered_at"].dt.strftime("%Y-%m-%d").astype(object).to_numpy()
    position = {cid: i for i, cid in enumerate(conv["conversation_id"].astype(str))}
    # after what the folder keeps: a later export's conversations come after it
    new_days = set(day_of_conv)
    kept = [f for f in parquet_files(root, "conversations") if f.parent.name[4:] not in new_days]
    first = 0
    if kept:
        before = ds.dataset([str(f) for f in kept], format="parquet").to_table(columns=["position"])
        first = int(pc.max(before.column("position")).as_py()) + 1 if before.num_rows else 0
    tables = {
        "conversations": conv.assign(position=np.arange(first, first + len(conv), dtype=np.int64)),
        "entries": frames.entries,
        "typing": frames.typing,
    }
    for name, df in tables.items():
        if name == "conversations":
            days = day_of_conv
        else:
            pos = df["conversation_id"].astype(str).map(position).to_numpy(dtype=np.int64)
            days = day_of_conv[pos] if len(pos) else np.array([], dtype=object)
        table = pa.Table.from_pandas(df, preserve_index=False)
        # categoricals as plain text columns (Parquet dictionary-encodes them on its own;
        # Arrow dictionaries of different files may not combine, other engines want text)
        table = table.cast(
            pa.schema(
                [
                    f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                    for f in table.schema
                ]
            )
        )
        table = table.append_column("day", pa.array(days, pa.string()))
        ds.write_dataset(
            table,
            root / name,
            format="parquet",
            partitioning=ds.partitioning(pa.schema([("day", pa.string())]), flavor="hive"),
            basename_template="part-{i}.parquet",
            existing_data_behavior="delete_matching",
            preserve_order=True,
        )
    (root / MARKER).write_text(json.dumps(DATASET_FORMAT) + "\n", encoding="utf-8")
    return root


def _day(value: DayLike) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _utc(value: DayLike) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def parquet_files(
    folder: str | os.PathLike[str],
    table: str = "conversations",
    *,
    start: DayLike | None = None,
    end: DayLike | None = None,
) -> list[Path]:
    """The files of one table a load with this date range reads (partition pruning):
    days from ``start``'s to the day before ``end`` (``end`` exclusive)."""
    base = Path(folder) / table
    first = _day(start) if start is not None else None
    last = _day(_utc(end) - pd.Timedelta(1, "ns")) if end is not None else None
    out: list[Path] = []
    for part in sorted(base.glob("day=*")):
        day = part.name[len("day=") :]
        if (first is None or day >= first) and (last is None or day <= last):
            out.extend(sorted(part.glob("*.parquet")))
    return out


def _read_table(files: list[Path], filter: Any = None) -> pa.Table | None:
    """Read these files (and only these), with a row filter pushed into the scan; columns
    added since (``ADDED``) are null in files that lack them."""
    if not files:
        return None
    names = [str(f) for f in files]
    dataset = ds.dataset(names, format="parquet")
    schema = dataset.schema
    table = files[0].parent.parent.name  # <folder>/<table>/day=.../part-0.parquet
    for name, typ in ADDED.get(table, {}).items():
        if name not in schema.names:
            schema = schema.append(pa.field(name, typ))
    if schema is not dataset.schema:
        dataset = ds.dataset(names, format="parquet", schema=schema)
    return dataset.to_table(filter=filter)


def load_parquet(
    folder: str | os.PathLike[str],
    *,
    start: DayLike | None = None,
    end: DayLike | None = None,
    agents: Iterable[str] | None = None,
    conversations: Iterable[str] | None = None,
) -> TranscriptFrames:
    """Frames from a dataset ``export_parquet`` wrote; filters are pushed down: the date
    range picks the day partitions, agents and conversation ids filter the scan.

    ``start``/``end``: conversations offered at or after ``start`` and before ``end``;
    ``agents``: their ``agent_id`` (who accepted); ``conversations``: ids."""
    root = Path(folder)
    if not is_dataset(root):
        raise FileNotFoundError(f"{root} is not a chat_widget Parquet dataset (no {MARKER})")
    cond: Any = None

    def both(e: Any) -> None:
        nonlocal cond
        cond = e if cond is None else cond & e

    if start is not None:
        both(ds.field("offered_at") >= pa.scalar(_utc(start).value, pa.timestamp("ns", "UTC")))
    if end is not None:
        both(ds.field("offered_at") < pa.scalar(_utc(end).value, pa.timestamp("ns", "UTC")))
    if agents is not None:
        both(ds.field("agent_id").isin(list(agents)))
    if conversations is not None:
        both(ds.field("conversation_id").isin(list(conversations)))
    conv_t = _read_table(parquet_files(root, "conversations", start=start, end=end), cond)
    ids: list[str] = [] if conv_t is None else conv_t.column("conversation_id").to_pylist()
    keep = None if cond is None else ds.field("conversation_id").isin(ids)
    ent_t = _read_table(parquet_files(root, "entries", start=start, end=end), keep)
    typ_t = _read_table(parquet_files(root, "typing", start=start, end=end), keep)
    return _frames(conv_t, ent_t, typ_t)


def _col(t: pa.Table | None, name: str, typ: pa.DataType) -> pa.ChunkedArray:
    if t is None:
        return pa.chunked_array([], typ)
    col = t.column(name)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return col


def _times(t: pa.Table | None, name: str) -> pd.Series:
    col = _col(t, name, pa.timestamp("ns", "UTC"))
    return pd.Series(col.to_pandas(), copy=False).dt.as_unit("ns").reset_index(drop=True)


def _np(t: pa.Table | None, name: str, typ: pa.DataType, dtype: Any) -> np.ndarray:
    col = _col(t, name, typ)
    if pa.types.is_floating(col.type):
        col = pc.fill_null(col, np.nan)
    return np.asarray(col.to_numpy(), dtype=dtype)


def _frames(
    conv_t: pa.Table | None, ent_t: pa.Table | None, typ_t: pa.Table | None
) -> TranscriptFrames:
    s = pa.string()
    # the order of the load that was exported
    if conv_t is not None:
        position = conv_t.column("position").to_numpy()
        if np.any(position[1:] < position[:-1]):
            conv_t = conv_t.take(pa.array(np.argsort(position, kind="stable")))
    ids: list[str] = [] if conv_t is None else conv_t.column("conversation_id").to_pylist()
    categories = pd.Index(ids, dtype=object)

    def ordered(t: pa.Table | None) -> tuple[pa.Table | None, np.ndarray]:
        if t is None:
            return None, np.zeros(0, np.int64)
        found = pc.index_in(_col(t, "conversation_id", s), value_set=pa.array(ids, s))
        where = np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)
        if not np.any(where[1:] < where[:-1]):  # read in order already (one export)
            return t, where
        order = np.argsort(where, kind="stable")
        return t.take(pa.array(order)), where[order]

    ent_t, entry_conv = ordered(ent_t)
    typ_t, typing_conv = ordered(typ_t)
    conv = pd.DataFrame(
        {
            "conversation_id": pd.Series(ids, dtype=object).astype("category"),
            "state": categorical_column(_col(conv_t, "state", s), STATE_DTYPE),
            "agent_id": categorical_column(_col(conv_t, "agent_id", s)),
            "agent_name": categorical_column(_col(conv_t, "agent_name", s)),
            "contact_id": string_column(_col(conv_t, "contact_id", s)),
            "contact_name": string_column(_col(conv_t, "contact_name", s)),
            **{key: _times(conv_t, key) for key in LIFECYCLE},
            "disposition": categorical_column(_col(conv_t, "disposition", s)),
            "notes": string_column(_col(conv_t, "notes", s)),
            "n_notes": _np(conv_t, "n_notes", pa.int32(), np.int32),
            "yellow_after": _np(conv_t, "yellow_after", pa.float64(), float),
            "red_after": _np(conv_t, "red_after", pa.float64(), float),
            "n_entries": _np(conv_t, "n_entries", pa.int32(), np.int32),
            "class_id": categorical_column(_col(conv_t, "class_id", s)),
            "source": categorical_column(_col(conv_t, "source", s)),
            "record": _np(conv_t, "record", pa.int64(), np.int64),
        }
    )
    entries = pd.DataFrame(
        {
            "conversation_id": pd.Categorical.from_codes(entry_conv, categories=categories),
            "index": _np(ent_t, "index", pa.int64(), np.int64),
            "time": _times(ent_t, "time"),
            "kind": categorical_column(_col(ent_t, "kind", s), KIND_DTYPE),
            "sender_role": categorical_column(_col(ent_t, "sender_role", s), ROLE_DTYPE),
            "sender_name": categorical_column(_col(ent_t, "sender_name", s)),
            "sender_id": categorical_column(_col(ent_t, "sender_id", s)),
            "text": string_column(_col(ent_t, "text", s)),
            "url": string_column(_col(ent_t, "url", s)),
            "visibility": categorical_column(_col(ent_t, "visibility", s), VISIBILITY_DTYPE),
            "event": categorical_column(_col(ent_t, "event", s), EVENT_DTYPE),
            "code": categorical_column(_col(ent_t, "code", s)),
            "response": categorical_column(_col(ent_t, "response", s)),
        }
    )
    typing = pd.DataFrame(
        {
            "conversation_id": pd.Categorical.from_codes(typing_conv, categories=categories),
            "time": _times(typ_t, "time"),
            "role": categorical_column(_col(typ_t, "role", s), ROLE_DTYPE),
            "typing": _np(typ_t, "typing", pa.bool_(), bool),
            "sender_id": string_column(_col(typ_t, "sender_id", s)),
        }
    )
    return TranscriptFrames(conv, entries, typing)


def select(
    frames: TranscriptFrames,
    *,
    start: DayLike | None = None,
    end: DayLike | None = None,
    agents: Iterable[str] | None = None,
    conversations: Iterable[str] | None = None,
) -> TranscriptFrames:
    """The filters of ``load_parquet`` applied to loaded frames (same meaning)."""
    conv = frames.conversations
    keep = np.ones(len(conv), dtype=bool)
    if start is not None:
        keep &= (conv["offered_at"] >= _utc(start)).to_numpy()
    if end is not None:
        keep &= (conv["offered_at"] < _utc(end)).to_numpy()
    if agents is not None:
        keep &= conv["agent_id"].astype(str).isin(list(agents)).to_numpy()
    if conversations is not None:
        keep &= conv["conversation_id"].astype(str).isin(list(conversations)).to_numpy()
    ids = conv.loc[keep, "conversation_id"].astype(str).tolist()
    out = []
    for df in (conv, frames.entries, frames.typing):
        part = df[df["conversation_id"].astype(str).isin(ids)].reset_index(drop=True)
        for name in part.columns:  # categories of what is left, as a load of it gives
            dtype = part[name].dtype
            if isinstance(dtype, pd.CategoricalDtype) and dtype not in FIXED:
                part[name] = part[name].cat.remove_unused_categories()
        out.append(part)
    return TranscriptFrames(out[0], out[1], out[2], list(frames.problems))
