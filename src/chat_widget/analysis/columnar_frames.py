"""Arrow columns of checked transcript files → the pandas frames of ``columns``
(the columnar engine's last step, see ``columnar``)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..formats.transcript_schema import (
    LIFECYCLE,
)
from .columnar_shapes import mask_array
from .columns import (
    EVENT_DTYPE,
    KIND_DTYPE,
    ROLE_DTYPE,
    STATE_DTYPE,
    VISIBILITY_DTYPE,
    Aux,
    TranscriptFrames,
    utc_times,
)

STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' "str"


# ----------------------------------------------------------------------------- frames
class Unverified(ValueError):
    """A value breaks a rule the frames check while they are built (the shape checks
    that ran meanwhile left it to them: ``columnar_shapes.VERIFIED``)."""


class RawStrings(Sequence[Any]):
    """An Arrow string column as the checks read it: item by item (for messages only)."""

    def __init__(self, arr: Any) -> None:
        self.arr = arr

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, i: Any) -> Any:
        return self.arr[int(i)].as_py()

    def valid(self) -> np.ndarray:
        return mask_array(self.arr.is_valid())


def _times(arr: Any, verify: bool = False) -> pd.Series:
    """ISO strings → ``datetime64[ns, UTC]`` by Arrow's parser; any string it refuses
    sends the column to pandas' parser (as the rows engine), which makes it NaT.

    ``verify``: raise ``Unverified`` unless every string matches ``ISO_UTC_PATTERN``,
    known here without a regex: Arrow's parser read it (``YYYY-MM-DD``, ``T`` or a
    space, ``hh``, ``hh:mm`` or ``hh:mm:ss`` with 1-9 fraction digits, a zone ``Z`` or
    ``±hh``, ``±hhmm``, ``±hh:mm``; real dates and clock times only) and it has the
    pattern's shape where the parser allows more (``T``, seconds, ``Z`` or ``±hh:mm``)."""
    try:
        ts = pc.cast(arr, pa.timestamp("ns", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if verify:
            raise Unverified("a time Arrow's parser refuses") from None
        return utc_times(pd.Series(arr.to_pandas(types_mapper=_str_mapper), dtype=object))
    if verify and not _iso_shaped(arr):
        raise Unverified("a time outside the format's pattern")
    return pd.Series(ts.to_pandas(), copy=False).dt.as_unit("ns").reset_index(drop=True)


def _iso_shaped(arr: Any) -> bool:
    """Every non-null string has ``T`` at 10, ``:`` at 13 and 16, and ends in ``Z`` or
    ``±hh:mm`` (at least 20 characters, the pattern's shortest). Chunk by chunk of the
    reader's (small temporaries, no fresh pages to fault in)."""
    values = arr.drop_null()
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    return all(_iso_shaped_chunk(chunk) for chunk in chunks if len(chunk))


def _iso_shaped_chunk(values: pa.Array) -> bool:
    bounds = np.frombuffer(values.buffers()[1], dtype=np.int32)
    bounds = bounds[values.offset : values.offset + len(values) + 1].astype(np.int64)
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    start, end = bounds[:-1], bounds[1:]
    if np.any(end - start < 20):
        return False
    at = data[start + 10] == ord("T")
    at &= data[start + 13] == ord(":")
    at &= data[start + 16] == ord(":")
    sign = data[end - 6]
    zone = (data[end - 1] == ord("Z")) | (
        ((sign == ord("+")) | (sign == ord("-"))) & (data[end - 3] == ord(":"))
    )
    return bool(np.all(at & zone))


def _str_mapper(t: pa.DataType) -> Any:
    return STR_DTYPE if pa.types.is_string(t) or pa.types.is_large_string(t) else None


def string_column(arr: Any) -> pd.Series:
    return pd.Series(arr.to_pandas(types_mapper=_str_mapper), copy=False).reset_index(drop=True)


def _codes(indices: Any) -> np.ndarray:
    """Dictionary indices (nulls: -1) as numpy, without a float detour."""
    return np.asarray(pc.fill_null(indices, -1).to_numpy(zero_copy_only=False))


def categorical_column(
    arr: Any, dtype: pd.CategoricalDtype | None = None, *, verify: bool = False
) -> Any:
    """Dictionary-encode in Arrow; categories sorted (as ``pd.Categorical(values)``) or
    the given dtype's (``verify``: a value outside them raises ``Unverified``, else it
    is missing)."""
    if dtype is not None:
        found = pc.index_in(arr, value_set=pa.array(list(dtype.categories), pa.string()))
        if verify and found.null_count != arr.null_count:
            raise Unverified(f"a value outside {list(dtype.categories)}")
        return pd.Categorical.from_codes(_codes(found), dtype=dtype)
    if isinstance(arr, pa.ChunkedArray):  # one dictionary for all (no unification)
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    if len(arr) == 0:
        return pd.Categorical([])
    if pa.types.is_null(arr.type) or arr.null_count == len(arr):
        # all null: as ``pd.Categorical([None, ...])`` makes it
        return pd.Categorical.from_codes(
            np.full(len(arr), -1, dtype=np.int8), categories=pd.Index([], dtype=float)
        )
    enc = pc.dictionary_encode(arr)
    dictionary = enc.dictionary
    # sorted as pandas sorts them (UTF-8 byte order is code point order)
    order = np.asarray(pc.array_sort_indices(dictionary).to_numpy(), dtype=np.int64)
    rank = np.empty(len(dictionary), dtype=np.int32)
    rank[order] = np.arange(len(dictionary), dtype=np.int32)
    cats = pd.Index(dictionary.take(pa.array(order)).to_pandas(types_mapper=_str_mapper))
    # recoded in Arrow (its memory pool; no index temporaries), then a writable copy
    codes = np.array(_codes(pc.take(pa.array(rank), enc.indices)))
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(cats))


def _state(table: pa.Table) -> Any:
    state = table.column("state")
    derived = pa.scalar("offered")
    for key, name in (
        ("accepted_at", "accepted"),
        ("left_at", "contact_left"),
        ("ended_at", "ended"),
        ("done_at", "done"),
    ):
        derived = pc.if_else(table.column(key).is_valid(), name, derived)
    # the rows engine derives from the first lifecycle time that is truthy
    return pc.coalesce(state, derived)


@dataclass
class Columnar:
    conv: dict[str, Any]
    ent: dict[str, Any]
    typ: dict[str, Any]
    entry_conv: np.ndarray
    typing_conv: np.ndarray


def flatten_files(files: list[tuple[str, pa.Table, np.ndarray]]) -> Columnar:
    convs: dict[str, list[Any]] = {}
    ents: dict[str, list[Any]] = {}
    typs: dict[str, list[Any]] = {}
    entry_conv: list[np.ndarray] = []
    typing_conv: list[np.ndarray] = []
    base = 0
    for source, t, lines in files:
        n = t.num_rows
        agent, contact = t.column("agent"), t.column("contact")
        notes = t.column("notes")
        limits = t.column("thresholds")
        entries = t.column("entries")
        n_entries = pc.fill_null(pc.list_value_length(entries), 0)
        typing = t.column("typing")
        n_typing = pc.fill_null(pc.list_value_length(typing), 0)
        parts = {
            "conversation_id": t.column("id"),
            "state": _state(t),
            "agent_id": pc.struct_field(agent, ["id"]),
            "agent_name": pc.struct_field(agent, ["name"]),
            "contact_id": pc.fill_null(pc.struct_field(contact, ["id"]), "contact"),
            "contact_name": pc.struct_field(contact, ["name"]),
            **{key: t.column(key) for key in LIFECYCLE},
            "disposition": t.column("disposition"),
            "notes": pc.fill_null(pc.binary_join(notes, "\n"), ""),
            "n_notes": pc.fill_null(pc.list_value_length(notes), 0),
            "yellow_after": pc.struct_field(limits, ["yellow_after"]),
            "red_after": pc.struct_field(limits, ["red_after"]),
            "n_entries": n_entries,
            "class_id": t.column("class_id"),
            "source": pa.repeat(pa.scalar(source, pa.string()), n),
            "record": pa.array(lines, pa.int64()),
        }
        for k, v in parts.items():
            convs.setdefault(k, []).append(v)
        e = pc.list_flatten(entries)
        sender = pc.struct_field(e, ["sender"])
        eparts = {
            "index": pc.struct_field(e, ["index"]),
            "time": pc.struct_field(e, ["time"]),
            "kind": pc.struct_field(e, ["kind"]),
            "sender_role": pc.struct_field(sender, ["role"]),
            "sender_name": pc.struct_field(sender, ["name"]),
            "sender_id": pc.fill_null(pc.struct_field(sender, ["id"]), ""),
            "text": pc.struct_field(e, ["text"]),
            "url": pc.struct_field(e, ["url"]),
            "visibility": pc.fill_null(pc.struct_field(e, ["visibility"]), "all"),
            "event": pc.struct_field(e, ["event"]),
            "code": pc.struct_field(e, ["code"]),
            "response": pc.struct_field(e, ["response"]),
        }
        for k, v in eparts.items():
            ents.setdefault(k, []).append(v)
        counts = n_entries.to_numpy(zero_copy_only=False)
        entry_conv.append(np.repeat(np.arange(base, base + n), counts))
        ty = pc.list_flatten(typing)
        tparts = {
            "time": pc.struct_field(ty, ["time"]),
            "role": pc.struct_field(ty, ["role"]),
            "typing": pc.struct_field(ty, ["typing"]),
            "id": pc.fill_null(pc.struct_field(ty, ["id"]), ""),
        }
        for k, v in tparts.items():
            typs.setdefault(k, []).append(v)
        typing_conv.append(
            np.repeat(np.arange(base, base + n), n_typing.to_numpy(zero_copy_only=False))
        )
        base += n

    def chunked(parts: list[Any]) -> pa.ChunkedArray:
        chunks: list[pa.Array] = []
        for p in parts:
            chunks.extend(p.chunks if isinstance(p, pa.ChunkedArray) else [p])
        chunks = [c.cast(pa.string()) if pa.types.is_null(c.type) else c for c in chunks]
        return pa.chunked_array(chunks) if chunks else pa.chunked_array([], pa.string())

    return Columnar(
        {k: chunked(v) for k, v in convs.items()},
        {k: chunked(v) for k, v in ents.items()},
        {k: chunked(v) for k, v in typs.items()},
        np.concatenate(entry_conv) if entry_conv else np.zeros(0, np.int64),
        np.concatenate(typing_conv) if typing_conv else np.zeros(0, np.int64),
    )


class _Tasks:
    """Named column computations, run by the calling thread and ``helpers`` threads of
    a pool together: each takes the next one left, so no thread idles while work is
    left (Arrow's kernels let go of the GIL). The first failure is raised after all."""

    def __init__(self) -> None:
        self.todo: deque[tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]]]
        self.todo = deque()
        self.done: dict[str, Any] = {}
        self.failed: list[BaseException] = []

    def add(self, name: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
        self.todo.append((name, fn, args, kw))

    def _work(self) -> None:
        while True:
            try:
                name, fn, args, kw = self.todo.popleft()  # atomic: one taker per task
            except IndexError:
                return
            try:
                self.done[name] = fn(*args, **kw)
            except BaseException as exc:  # raised by ``run``, in the calling thread
                self.failed.append(exc)

    def run(self, pool: Executor | None, helpers: int) -> dict[str, Any]:
        joined = [pool.submit(self._work) for _ in range(helpers)] if pool is not None else []
        self._work()
        for future in joined:
            future.result()
        if self.failed:
            raise self.failed[0]
        return self.done


def _ints(arr: Any, dtype: Any) -> np.ndarray:
    """A fresh writable array (Arrow may hand out a read-only view of its buffer)."""
    return np.array(arr.to_numpy(zero_copy_only=False), dtype=dtype)


def _floats(arr: Any) -> np.ndarray:
    """A fresh writable array, missing as NaN."""
    return np.array(pc.fill_null(arr.cast(pa.float64()), np.nan).to_numpy(), dtype=float)


def _conversation_codes(ids_column: Any, cols: Columnar) -> tuple[Any, Any]:
    """The ``conversation_id`` columns of entries and typing: categories the ids in row
    order (each once), as ``columns.build_frames`` makes them."""
    ids = ids_column.to_pylist()
    categories = pd.Index(ids, dtype=object)
    entry_conv, typ_conv = cols.entry_conv, cols.typing_conv
    if categories.is_unique:
        return (
            pd.Categorical.from_codes(entry_conv, categories=categories),
            pd.Categorical.from_codes(typ_conv, categories=categories),
        )
    categories = categories.drop_duplicates()
    by_row = np.asarray(ids, dtype=object)
    return (
        pd.Categorical(by_row[entry_conv], categories=categories),
        pd.Categorical(by_row[typ_conv] if len(typ_conv) else [], categories=categories),
    )


def build_columnar(
    cols: Columnar, verify: bool = False, pool: Executor | None = None
) -> tuple[TranscriptFrames, Aux]:
    """The frames ``columns.build_frames`` makes, from Arrow columns. ``verify``: check
    the rules the shape checks left to the frames (``Unverified`` if one is broken).
    ``pool``: threads for the costly columns (Arrow's kernels let go of the GIL), built
    meanwhile here."""
    c, e, t = cols.conv, cols.ent, cols.typ

    cat, times = categorical_column, _times
    work = _Tasks()  # the costliest first: the threads end about together
    work.add("e.sender_id", cat, e["sender_id"])
    work.add("e.time", times, e["time"], verify)
    work.add("e.sender_name", cat, e["sender_name"])
    work.add("e.code", cat, e["code"])
    work.add("t.time", times, t["time"], verify)
    for name, dtype in (
        ("kind", KIND_DTYPE),
        ("sender_role", ROLE_DTYPE),
        ("visibility", VISIBILITY_DTYPE),
        ("event", EVENT_DTYPE),
    ):
        work.add(f"e.{name}", cat, e[name], dtype, verify=verify)
    for key in LIFECYCLE:
        work.add(f"c.{key}", times, c[key], verify)
    work.add("c.conversation_id", cat, c["conversation_id"])
    work.add("t.role", cat, t["role"], ROLE_DTYPE, verify=verify)
    work.add("c.state", cat, c["state"], STATE_DTYPE, verify=verify)
    for name in ("agent_id", "agent_name", "disposition", "class_id", "source"):
        work.add(f"c.{name}", cat, c[name])
    work.add("e.response", cat, e["response"])
    work.add("conversations", _conversation_codes, c["conversation_id"], cols)
    got = work.run(pool, helpers=2)
    conv_col, typing_conv_col = got["conversations"]
    # arrays, not Series: the frames need no index alignment (every column 0..n-1); all
    # made here for these frames alone, so the frames take them as they are (no copy)
    conv = pd.DataFrame(
        {
            "conversation_id": got["c.conversation_id"],
            "state": got["c.state"],
            "agent_id": got["c.agent_id"],
            "agent_name": got["c.agent_name"],
            "contact_id": string_column(c["contact_id"]).array,
            "contact_name": string_column(c["contact_name"]).array,
            **{key: got[f"c.{key}"].array for key in LIFECYCLE},
            "disposition": got["c.disposition"],
            "notes": string_column(c["notes"]).array,
            "n_notes": _ints(c["n_notes"], np.int32),
            "yellow_after": _floats(c["yellow_after"]),
            "red_after": _floats(c["red_after"]),
            "n_entries": _ints(c["n_entries"], np.int32),
            "class_id": got["c.class_id"],
            "source": got["c.source"],
            "record": _ints(c["record"], np.int64),
        },
        copy=False,
    )
    entries = pd.DataFrame(
        {
            "conversation_id": conv_col,
            "index": _ints(e["index"], np.int64),
            "time": got["e.time"].array,
            "kind": got["e.kind"],
            "sender_role": got["e.sender_role"],
            "sender_name": got["e.sender_name"],
            "sender_id": got["e.sender_id"],
            "text": string_column(e["text"]).array,
            "url": string_column(e["url"]).array,
            "visibility": got["e.visibility"],
            "event": got["e.event"],
            "code": got["e.code"],
            "response": got["e.response"],
        },
        copy=False,
    )
    typing = pd.DataFrame(
        {
            "conversation_id": typing_conv_col,
            "time": got["t.time"].array,
            "role": got["t.role"],
            "typing": np.asarray(
                t["typing"].cast(pa.bool_()).to_numpy(zero_copy_only=False), dtype=bool
            ),
            "sender_id": string_column(t["id"]).array,
        },
        copy=False,
    )
    aux = Aux(
        {key: RawStrings(c[key]) for key in LIFECYCLE},
        cols.entry_conv,
        RawStrings(e["time"]),
        cols.typing_conv,
        RawStrings(t["time"]),
    )
    return TranscriptFrames(conv, entries, typing), aux
