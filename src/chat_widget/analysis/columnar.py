"""JSON Lines transcripts → frames through pyarrow's multi-threaded JSON reader.

The rows engine (``load.load_records``) validates each record with pydantic and
flattens it in Python. This engine parses whole files into Arrow columns and
applies the same rules to the columns at once:

1. the shapes of ``formats.transcript_schema`` (required fields, types, the
   vocabularies, string lengths, the time pattern, threshold ranges, unknown
   fields) as vectorised checks over the nested columns (``SPEC``);
2. explicit ``null`` where a field may only be absent, which Arrow cannot tell
   from absence, by one RE2 search over the file text (``EXPLICIT_NULL``);
3. the cross-field rules by ``column_checks.check_columns``, the very function
   the rows engine uses.

Every record a check in 1 or 2 flags is validated again by pydantic, so its
problems carry the rows engine's exact messages. The checks only ever flag too
much, never too little: when a flagged record turns out valid, or the file is
something Arrow does not read (not JSON, a type Arrow cannot hold, an unknown
field), the whole load goes to the rows engine instead (``Fallback``). Bad
files load slower; they never load differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
from pydantic import ValidationError

from ..formats.time_codec import ISO_UTC_PATTERN
from ..formats.transcript import KINDS, ROLES, VISIBILITIES
from ..formats.transcript_schema import (
    EVENTS,
    FORMAT_NAME,
    FORMAT_VERSION,
    LIFECYCLE,
    STATES,
    TRANSCRIPT_ADAPTER,
    Problem,
    problems_from_validation,
)
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
BLOCK_SIZE = 8 << 20  # bytes per parse block (one task of the reader's thread pool)


class Fallback(Exception):
    """This input needs the rows engine (its checks flagged a valid record, or Arrow
    cannot read it as the format's columns)."""


# ----------------------------------------------------------------------------- the shapes
@dataclass(frozen=True)
class Node:
    """One field of the format as Arrow holds it, and the rules pydantic applies to it."""

    kind: str  # str, int, float, bool, const, struct, list, strmap, scalarmap
    required: bool = True
    nullable: bool = False
    fields: dict[str, Node] = field(default_factory=dict)
    item: Node | None = None
    choices: tuple[Any, ...] = ()
    min_len: int | None = None
    max_len: int | None = None
    pattern: str | None = None
    gt: float | None = None
    ge: float | None = None
    le: float | None = None


def _s(**kw: Any) -> Node:
    return Node("str", **kw)


NAME = _s(max_len=500)
TIME = _s(pattern=ISO_UTC_PATTERN)
OPT_TIME = _s(pattern=ISO_UTC_PATTERN, required=False, nullable=True)
SENDER = Node("struct", fields={"role": _s(choices=ROLES), "name": NAME, "id": _s(required=False)})
ENTRY = Node(
    "struct",
    fields={
        "index": Node("int", ge=0),
        "time": TIME,
        "kind": _s(choices=KINDS),
        "sender": SENDER,
        "text": _s(),
        "url": _s(required=False, nullable=True),
        "visibility": _s(required=False, choices=VISIBILITIES),
        "client_id": _s(required=False, nullable=True),
        "event": _s(required=False, nullable=True, choices=EVENTS),
        "code": _s(required=False, nullable=True),
        "params": Node("strmap", required=False, nullable=True),
    },
)
TYPING = Node(
    "struct",
    fields={
        "time": TIME,
        "role": _s(choices=ROLES),
        "typing": Node("bool"),
        "id": _s(required=False),
    },
)
SECONDS = Node("float", gt=0, le=86_400)
SPEC = Node(
    "struct",
    fields={
        "format": Node("const", choices=(FORMAT_NAME,)),
        "version": Node("const", choices=(FORMAT_VERSION,)),
        "id": _s(min_len=1, max_len=200),
        "state": _s(required=False, choices=STATES),
        "agent": Node("struct", fields={"id": _s(), "name": NAME}),
        "contact": Node(
            "struct",
            fields={
                "name": NAME,
                "phones": Node("list", required=False, item=_s()),
                "emails": Node("list", required=False, item=_s()),
                "id": _s(required=False),
            },
        ),
        "parties": Node(
            "list",
            required=False,
            item=Node("struct", fields={"role": _s(choices=ROLES), "id": _s(), "name": NAME}),
        ),
        "offered_at": TIME,
        "accepted_at": OPT_TIME,
        "left_at": OPT_TIME,
        "ended_at": OPT_TIME,
        "done_at": OPT_TIME,
        "disposition": _s(required=False, nullable=True),
        "notes": Node("list", required=False, item=_s()),
        "thresholds": Node(
            "struct",
            required=False,
            nullable=True,
            fields={"yellow_after": SECONDS, "red_after": SECONDS},
        ),
        "entries": Node("list", item=ENTRY),
        "typing": Node("list", required=False, item=TYPING),
        "attributes": Node("scalarmap", required=False),
    },
)

_NON_NULL_KEYS: set[str] = set()


def _collect(node: Node) -> None:
    for name, sub in node.fields.items():
        if not sub.nullable:
            _NON_NULL_KEYS.add(name)
        _collect(sub)
    if node.item is not None:
        _collect(node.item)


_collect(SPEC)
#: an explicit ``null`` where the format allows the field only to be absent (Arrow reads
#: both as null), or a ``null`` value inside ``params`` (string → string)
EXPLICIT_NULL = (
    '"(?:' + "|".join(sorted(_NON_NULL_KEYS)) + r')"\s*:\s*null'
    r'|"params"\s*:\s*\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*?:\s*null'
)


def _arrow_type(node: Node) -> pa.DataType | None:
    """The explicit schema for the reader (free maps are left to its inference)."""
    if node.kind == "str":
        return pa.string()
    if node.kind == "int":
        return pa.int64()
    if node.kind == "float":
        return pa.float64()
    if node.kind == "bool":
        return pa.bool_()
    if node.kind == "const":
        return pa.string() if isinstance(node.choices[0], str) else pa.int64()
    if node.kind == "list":
        assert node.item is not None
        item = _arrow_type(node.item)
        assert item is not None
        return pa.list_(item)
    if node.kind == "struct":
        return pa.struct(
            [(k, t) for k, sub in node.fields.items() if (t := _arrow_type(sub)) is not None]
        )
    return None


SCHEMA = pa.schema(list(_arrow_type(SPEC)))  # type: ignore[arg-type]

_SCALARS = (pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.null())


def _np(mask: Any) -> np.ndarray:
    """A (chunked) boolean Arrow array → numpy, nulls as False."""
    out: np.ndarray = np.asarray(
        pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool
    )
    return out


def _fails(arr: Any, ok: Any) -> np.ndarray:
    """Non-null values for which ``ok`` is not true."""
    out: np.ndarray = _np(arr.is_valid()) & ~_np(ok)
    return out


def _bad(arr: Any, node: Node) -> np.ndarray:
    """Rows of ``arr`` (non-null ones) whose value breaks ``node``'s rules."""
    n = len(arr)
    bad = np.zeros(n, dtype=bool)
    typ = arr.type
    if pa.types.is_null(typ) or n == 0:
        return bad
    kind = node.kind
    if (kind == "str" or (kind == "const" and isinstance(node.choices[0], str))) and not (
        pa.types.is_string(typ)
    ):
        raise Fallback(f"{typ} where text belongs")
    if kind == "str":
        if node.choices:
            bad |= _fails(arr, pc.is_in(arr, value_set=pa.array(node.choices)))
        if node.min_len is not None or node.max_len is not None:
            length = pc.utf8_length(arr)
            if node.min_len is not None:
                bad |= _np(pc.less(length, node.min_len))
            if node.max_len is not None:
                bad |= _np(pc.greater(length, node.max_len))
        if node.pattern is not None:
            bad |= _fails(arr, pc.match_substring_regex(arr, node.pattern))
    elif kind == "const":
        if not node.choices or isinstance(node.choices[0], str):
            bad |= _np(pc.not_equal(arr, node.choices[0]))
        elif not pa.types.is_integer(typ):
            raise Fallback(f"{typ} where an integer belongs")
        else:
            bad |= _np(pc.not_equal(arr, node.choices[0]))
    elif kind in ("int", "float", "bool"):
        want = {"int": pa.types.is_integer, "float": pa.types.is_floating}.get(
            kind, pa.types.is_boolean
        )
        if not want(typ):
            raise Fallback(f"{typ} where {kind} belongs")
        if node.ge is not None:
            bad |= _np(pc.less(arr, node.ge))
        if node.gt is not None:
            bad |= _np(pc.less_equal(arr, node.gt))
        if node.le is not None:
            bad |= _np(pc.greater(arr, node.le))
    elif kind == "list":
        if not pa.types.is_list(typ):
            raise Fallback(f"{typ} where a list belongs")
        assert node.item is not None
        values = pc.list_flatten(arr)
        lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
        parents = np.repeat(np.arange(n), lengths)
        item_bad = _np(values.is_null()) | _bad(values, node.item)
        bad[parents[item_bad]] = True
    elif kind == "struct":
        if not pa.types.is_struct(typ):
            raise Fallback(f"{typ} where an object belongs")
        present = {typ.field(i).name: i for i in range(typ.num_fields)}
        unknown = set(present) - set(node.fields)
        if unknown:
            raise Fallback(f"unknown fields {sorted(unknown)}")
        valid = _np(arr.is_valid())
        for name, sub in node.fields.items():
            if name not in present:
                if sub.required:
                    bad |= valid
                continue
            child = pc.struct_field(arr, [present[name]])
            if sub.required and not sub.nullable:
                bad |= valid & _np(child.is_null())
            bad |= _bad(child, sub)
    elif kind in ("strmap", "scalarmap"):
        if not pa.types.is_struct(typ):
            raise Fallback(f"{typ} where an object belongs")
        allowed = (pa.string(), pa.null()) if kind == "strmap" else _SCALARS
        for i in range(typ.num_fields):
            if typ.field(i).type not in allowed:
                bad |= _np(pc.struct_field(arr, [i]).is_valid())
    return bad


# ----------------------------------------------------------------------------- reading
@dataclass
class _Scan:
    """What the text search found: lines in the file, and whether any explicit null
    (``EXPLICIT_NULL``) is in it."""

    lines: int
    nulls: bool


@dataclass
class _File:
    path: Path
    data: pa.Buffer  # the file, memory-mapped
    table: pa.Table
    scan: Future[_Scan] | None = None
    check: Future[np.ndarray] | None = None  # ``_table_check`` of the table
    lines: np.ndarray | None = None  # 1-based line of each record (None: record i is line i+1)
    bounds: tuple[np.ndarray, np.ndarray] | None = None  # every line's start and end

    def raw(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype=np.uint8)

    def line_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self.bounds is None:
            self.bounds = _line_bounds(self.raw())
        return self.bounds

    def record_lines(self) -> np.ndarray:
        if self.lines is None:
            return np.arange(1, self.table.num_rows + 1, dtype=np.int64)
        return self.lines

    def text(self) -> pa.LargeStringArray:
        """The whole file as one string (no copy)."""
        return pa.LargeStringArray.from_buffers(
            1, pa.py_buffer(np.array([0, self.data.size], dtype=np.int64)), self.data
        )

    def number_records(self, scan: _Scan) -> None:
        """Records are lines 1, 2, ...; unless blank lines sit between them."""
        if scan.lines == self.table.num_rows:
            return
        starts, _ = self.line_bounds()
        raw = self.raw()
        ink = np.flatnonzero(~np.isin(raw, np.frombuffer(b" \t\r\n", dtype=np.uint8)))
        numbered = np.unique(np.searchsorted(starts, ink, side="right"))  # 1-based
        if len(numbered) != self.table.num_rows:
            raise Fallback("records and lines do not match")
        self.lines = numbered.astype(np.int64)


def _line_bounds(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, without the newline) of every line."""
    newlines = np.flatnonzero(raw == 10)
    starts = np.r_[0, newlines + 1]
    ends = np.r_[newlines, len(raw)]
    if len(raw) and raw[-1] == 10:
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def _scan(f: _File) -> _Scan:
    raw = f.raw()
    step = 1 << 22  # in slices: no temporary the size of the file
    lines = sum(int(np.count_nonzero(raw[i : i + step] == 10)) for i in range(0, len(raw), step))
    lines += 1 if len(raw) and raw[-1] != 10 else 0
    nulls = bool(pc.any(pc.match_substring_regex(f.text(), EXPLICIT_NULL)).as_py())
    return _Scan(lines, nulls)


def _read(path: Path) -> _File:
    data = pa.memory_map(str(path)).read_buffer()
    if data.size >= 3 and data[0] == 0xEF and data[1] == 0xBB and data[2] == 0xBF:
        raise Fallback("a byte order mark (the rows engine refuses it as JSON)")
    try:
        table = pj.read_json(
            pa.BufferReader(data),
            read_options=pj.ReadOptions(block_size=BLOCK_SIZE),
            parse_options=pj.ParseOptions(
                explicit_schema=SCHEMA, unexpected_field_behavior="infer"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise Fallback(str(exc)) from None
    return _File(path, data, table)


def _explicit_nulls(f: _File) -> np.ndarray:
    """Records with an explicit ``null`` where the format allows only absence."""
    out = np.zeros(f.table.num_rows, dtype=bool)
    starts, ends = f.line_bounds()
    offsets = np.r_[starts, ends[-1] if len(ends) else 0].astype(np.int64)
    lines = pa.LargeStringArray.from_buffers(
        len(starts), pa.py_buffer(np.ascontiguousarray(offsets)), f.data
    )
    hit_lines = np.flatnonzero(_np(pc.match_substring_regex(lines, EXPLICIT_NULL))) + 1
    record_lines = f.record_lines()
    where = np.searchsorted(record_lines, hit_lines)
    found = where < len(record_lines)
    found[found] = record_lines[where[found]] == hit_lines[found]
    out[where[found]] = True
    return out


def _record_text(f: _File, record: int) -> str:
    starts, ends = f.line_bounds()
    line = int(f.record_lines()[record]) - 1
    return bytes(memoryview(f.data)[starts[line] : ends[line]]).decode("utf-8")


def _table_check(table: pa.Table) -> np.ndarray:
    bad = np.zeros(table.num_rows, dtype=bool)
    present = set(table.column_names)
    unknown = present - set(SPEC.fields)
    if unknown:
        raise Fallback(f"unknown fields {sorted(unknown)}")
    for name, sub in SPEC.fields.items():
        if name not in present:
            if sub.required:
                bad[:] = True
            continue
        col = table.column(name)
        if sub.required and not sub.nullable:
            bad |= _np(col.is_null())
        bad |= _bad(col, sub)
    return bad


# ----------------------------------------------------------------------------- frames
class RawStrings(Sequence[Any]):
    """An Arrow string column as the checks read it: item by item (for messages only)."""

    def __init__(self, arr: Any) -> None:
        self.arr = arr

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, i: Any) -> Any:
        return self.arr[int(i)].as_py()

    def valid(self) -> np.ndarray:
        return _np(self.arr.is_valid())


def _times(arr: Any) -> pd.Series:
    """ISO strings → ``datetime64[ns, UTC]`` by Arrow's parser; any string it refuses
    sends the column to pandas' parser (as the rows engine), which makes it NaT."""
    try:
        ts = pc.cast(arr, pa.timestamp("ns", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return utc_times(pd.Series(arr.to_pandas(types_mapper=_str_mapper), dtype=object))
    return pd.Series(ts.to_pandas(), copy=False).dt.as_unit("ns").reset_index(drop=True)


def _str_mapper(t: pa.DataType) -> Any:
    return STR_DTYPE if pa.types.is_string(t) or pa.types.is_large_string(t) else None


def _strings(arr: Any) -> pd.Series:
    return pd.Series(arr.to_pandas(types_mapper=_str_mapper), copy=False).reset_index(drop=True)


def _categorical(arr: Any, dtype: pd.CategoricalDtype | None = None) -> Any:
    """Dictionary-encode in Arrow; categories sorted (as ``pd.Categorical(values)``) or
    the given dtype's."""
    if dtype is not None:  # a vocabulary (values checked against it before)
        found = pc.index_in(arr, value_set=pa.array(list(dtype.categories), pa.string()))
        codes = np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), np.int64)
        return pd.Categorical.from_codes(codes, dtype=dtype)
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.unify_dictionaries()
        chunks = enc.chunks
    else:
        chunks = [enc]
    if not chunks:
        return pd.Categorical([], dtype=dtype)
    dictionary = chunks[0].dictionary
    indices = np.concatenate(
        [np.asarray(c.indices.fill_null(-1).to_numpy(zero_copy_only=False)) for c in chunks]
    ).astype(np.int64)
    if len(dictionary) == 0:  # all null: as ``pd.Categorical([None, ...])`` makes it
        return pd.Categorical([None] * len(indices))
    # sorted as pandas sorts them (UTF-8 byte order is code point order)
    order = np.asarray(pc.sort_indices(dictionary).to_numpy(), dtype=np.int64)
    remap = np.empty(len(dictionary) + 1, dtype=np.int64)
    remap[order] = np.arange(len(dictionary))
    remap[-1] = -1
    cats = pd.Index(np.asarray(dictionary.take(pa.array(order)).to_pylist(), dtype=object))
    return pd.Categorical.from_codes(remap[indices], dtype=pd.CategoricalDtype(cats))


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


def _flat(files: list[tuple[str, pa.Table, np.ndarray]]) -> Columnar:
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
            "source": pa.array([source] * n, pa.string()),
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


def _ints(arr: Any, dtype: Any) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=dtype)


def _floats(arr: Any) -> np.ndarray:
    return np.asarray(pc.fill_null(arr.cast(pa.float64()), np.nan).to_numpy(), dtype=float)


def build_columnar(cols: Columnar) -> tuple[TranscriptFrames, Aux]:
    """The frames ``columns.build_frames`` makes, from Arrow columns."""
    c, e, t = cols.conv, cols.ent, cols.typ
    ids = c["conversation_id"].to_pylist()
    categories = pd.Index(ids, dtype=object)
    unique_ids = categories.is_unique
    if not unique_ids:
        categories = categories.drop_duplicates()
    conv = pd.DataFrame(
        {
            "conversation_id": pd.Series(ids, dtype=object).astype("category"),
            "state": _categorical(c["state"], STATE_DTYPE),
            "agent_id": _categorical(c["agent_id"]),
            "agent_name": _categorical(c["agent_name"]),
            "contact_id": _strings(c["contact_id"]),
            "contact_name": _strings(c["contact_name"]),
            **{key: _times(c[key]) for key in LIFECYCLE},
            "disposition": _categorical(c["disposition"]),
            "notes": _strings(c["notes"]),
            "n_notes": _ints(c["n_notes"], np.int32),
            "yellow_after": _floats(c["yellow_after"]),
            "red_after": _floats(c["red_after"]),
            "n_entries": _ints(c["n_entries"], np.int32),
            "source": _categorical(c["source"]),
            "record": _ints(c["record"], np.int64),
        }
    )
    entry_conv = cols.entry_conv
    if unique_ids:
        conv_col = pd.Categorical.from_codes(entry_conv, categories=categories)
    else:
        conv_col = pd.Categorical(np.asarray(ids, dtype=object)[entry_conv], categories=categories)
    entries = pd.DataFrame(
        {
            "conversation_id": conv_col,
            "index": _ints(e["index"], np.int64),
            "time": _times(e["time"]),
            "kind": _categorical(e["kind"], KIND_DTYPE),
            "sender_role": _categorical(e["sender_role"], ROLE_DTYPE),
            "sender_name": _categorical(e["sender_name"]),
            "sender_id": _categorical(e["sender_id"]),
            "text": _strings(e["text"]),
            "url": _strings(e["url"]),
            "visibility": _categorical(e["visibility"], VISIBILITY_DTYPE),
            "event": _categorical(e["event"], EVENT_DTYPE),
        }
    )
    typ_conv = cols.typing_conv
    typing = pd.DataFrame(
        {
            "conversation_id": pd.Categorical.from_codes(typ_conv, categories=categories)
            if unique_ids
            else pd.Categorical(
                np.asarray(ids, dtype=object)[typ_conv] if len(typ_conv) else [],
                categories=categories,
            ),
            "time": _times(t["time"]),
            "role": _categorical(t["role"], ROLE_DTYPE),
            "typing": np.asarray(
                t["typing"].cast(pa.bool_()).to_numpy(zero_copy_only=False), dtype=bool
            ),
            "sender_id": _strings(t["id"]),
        }
    )
    aux = Aux(
        {key: RawStrings(c[key]) for key in LIFECYCLE},
        entry_conv,
        RawStrings(e["time"]),
        typ_conv,
        RawStrings(t["time"]),
    )
    return TranscriptFrames(conv, entries, typing), aux


class _Rescan(Exception):
    """The text search found something the optimistic pass did not wait for."""


def read_columnar(
    paths: list[Path], errors: str, bar: Any = None
) -> tuple[TranscriptFrames, Aux, list[Problem]]:
    """Read and shape-check JSON Lines files; the frames before the cross-field checks.

    Raises ``TranscriptFileError`` for ``errors="raise"`` with the first flagged
    record's pydantic problems; ``Fallback`` when the rows engine must do it.

    The shape checks and the text search (line count, explicit nulls) run on two
    more threads while the frames are built; only if they find something (a flagged
    record, blank lines, a null to look at) are the frames built again, with their
    answers."""
    with ThreadPoolExecutor(2) as pool:
        files = []
        for path in paths:
            f = _read(path)
            f.scan = pool.submit(_scan, f)
            f.check = pool.submit(_table_check, f.table)
            files.append(f)
            if bar is not None:
                bar.update(f.data.size)
        try:
            return _columns(files, errors, optimistic=True)
        except _Rescan:
            return _columns(files, errors, optimistic=False)


def _columns(
    files: list[_File], errors: str, *, optimistic: bool
) -> tuple[TranscriptFrames, Aux, list[Problem]]:
    from ..formats.transcript_schema import TranscriptFileError

    kept: list[tuple[str, pa.Table, np.ndarray]] = []
    problems: list[Problem] = []
    for f in files:
        assert f.scan is not None and f.check is not None
        if optimistic:  # checked meanwhile, on the other threads (looked at below)
            flagged = np.zeros(f.table.num_rows, dtype=bool)
        else:
            flagged = f.check.result()
            scan = f.scan.result()
            f.number_records(scan)
            if scan.nulls:
                flagged |= _explicit_nulls(f)
        lines = f.record_lines()
        table = f.table
        if flagged.any():
            for record in np.flatnonzero(flagged):
                try:
                    TRANSCRIPT_ADAPTER.validate_json(_record_text(f, int(record)))
                except ValidationError as exc:
                    found = problems_from_validation(exc, str(f.path), int(lines[record]))
                    if errors == "raise":
                        raise TranscriptFileError(found) from None
                    problems.extend(found)
                    continue
                raise Fallback(f"record {lines[record]} of {f.path} needs the rows engine")
            table = table.filter(pa.array(~flagged))
            lines = lines[~flagged]
        kept.append((str(f.path), table, lines))
    if optimistic:
        # the checks have not answered yet: a bad record may still be in the tables
        try:
            with np.errstate(all="ignore"):
                frames, aux = build_columnar(_flat(kept))
        except Exception as exc:  # whatever a bad record breaks, the careful pass sorts out
            raise _Rescan from exc
    else:
        frames, aux = build_columnar(_flat(kept))
    if optimistic:
        for f in files:
            assert f.scan is not None and f.check is not None
            scan = f.scan.result()
            if f.check.result().any() or scan.nulls or scan.lines != f.table.num_rows:
                raise _Rescan
    return frames, aux, problems
