"""The transcript format's shapes as vectorised checks over Arrow columns (the
columnar engine's rule 1, see ``columnar``): what each field must be, the Arrow schema
the reader parses with, and the checks that flag records breaking a shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..formats.time_codec import ISO_UTC_PATTERN
from ..formats.transcript import KINDS, ROLES, VISIBILITIES
from ..formats.transcript_schema import (
    CLASS_ID_PATTERN,
    EVENTS,
    FORMAT_NAME,
    FORMAT_VERSION,
    STATES,
)


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
        "response": _s(required=False, nullable=True),
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
        "class_id": _s(required=False, nullable=True, pattern=CLASS_ID_PATTERN),
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
#: a ``null`` value inside ``params`` (string → string); Arrow reads it as the absence
#: of that key. Starting at a letter rather than the quote lets RE2 jump from one ``p``
#: to the next (memchr) instead of stepping through every byte, so the whole file is
#: searched in a fifth of the time; it matches wherever ``"params"…`` does (and keys
#: ending in ``params``, which only flags too much)
PARAMS_NULL = r'params"\s*:\s*\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*?:\s*null'
#: an explicit ``null`` where the format allows the field only to be absent (Arrow reads
#: both as null), or a ``null`` value inside ``params``: searched in the lines of the
#: records whose columns leave it open (``bad_rows``' unsure rows), or in every line if
#: ``PARAMS_NULL`` is found in the file
EXPLICIT_NULL = '"(?:' + "|".join(sorted(_NON_NULL_KEYS)) + r')"\s*:\s*null|"' + PARAMS_NULL


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

#: fields whose vocabulary or time pattern the frames check while they code or parse
#: them (``columnar_frames``: such a value fails the build), left out of the shape
#: checks that run meanwhile; the careful pass checks them all
VERIFIED = frozenset(
    id(node)
    for node in (
        TIME,
        OPT_TIME,
        SPEC.fields["state"],
        ENTRY.fields["kind"],
        ENTRY.fields["visibility"],
        ENTRY.fields["event"],
        SENDER.fields["role"],
        TYPING.fields["role"],
    )
)

_SCALARS = (pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.null())


def mask_array(mask: Any) -> np.ndarray:
    """A (chunked) boolean Arrow array → numpy, nulls as False."""
    out: np.ndarray = np.asarray(
        pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool
    )
    return out


def _flag(rows: np.ndarray, mask: Any) -> None:
    """Set ``rows`` where the boolean Arrow ``mask`` is true (nulls: not), turning it into
    numpy only if any is (most checks find nothing)."""
    if pc.any(mask).as_py():
        rows |= mask_array(mask)


def _fails(arr: Any, ok: Any) -> Any:
    """Non-null values for which ``ok`` is not true (an Arrow mask)."""
    return pc.and_not(arr.is_valid(), pc.fill_null(ok, False))


#: patterns no character of which matches a newline: checked on all values at once
LINE_PATTERNS = frozenset({ISO_UTC_PATTERN})


def _all_match(arr: Any, pattern: str) -> bool:
    """Whether every non-null value matches ``pattern`` (one of ``LINE_PATTERNS``): the
    values joined by newlines, one search for "every line matches" instead of one per
    value. False also when a value holds a newline (then lines are not values)."""
    values = arr.drop_null()
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) == 0:
        return True
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + len(values) + 1
    ]
    if int(offsets[-1]) - int(offsets[0]) + len(values) >= 1 << 31:
        return False  # the joined text would not fit a string
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    if (data == 10).any():
        return False
    whole_list = pa.ListArray.from_arrays(pa.array([0, len(values)], pa.int32()), values)
    joined = pc.binary_join(whole_list, "\n")
    whole = r"(?m)\A(?:" + pattern + r"\n)*" + pattern + r"\z"
    return bool(pc.match_substring_regex(joined, whole)[0].as_py())


def bad_rows(
    arr: Any, node: Node, skip: frozenset[int] = frozenset()
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``arr`` (non-null ones) whose value breaks ``node``'s rules, and the rows
    the columns cannot decide: a field that may be absent but not ``null`` is null in
    Arrow (absent, or an explicit ``null``: only the text tells, ``EXPLICIT_NULL``).
    ``skip``: nodes (``id``) whose vocabulary and pattern are checked elsewhere
    (``VERIFIED``)."""
    n = len(arr)
    bad = np.zeros(n, dtype=bool)
    unsure = np.zeros(n, dtype=bool)
    typ = arr.type
    if pa.types.is_null(typ) or n == 0:
        return bad, unsure
    kind = node.kind
    if (kind == "str" or (kind == "const" and isinstance(node.choices[0], str))) and not (
        pa.types.is_string(typ)
    ):
        raise Fallback(f"{typ} where text belongs")
    if kind == "str":
        if node.choices and id(node) not in skip:
            _flag(bad, _fails(arr, pc.is_in(arr, value_set=pa.array(node.choices))))
        if node.min_len is not None or node.max_len is not None:
            # characters never outnumber bytes: counted only if some value is long in bytes
            size = pc.binary_length(arr)
            longest = pc.max(size).as_py() or 0
            long = node.max_len is not None and longest > node.max_len
            length = pc.utf8_length(arr) if long or (node.min_len or 0) > 1 else size
            if node.min_len is not None:
                _flag(bad, pc.less(length, node.min_len))
            if long:
                _flag(bad, pc.greater(length, node.max_len))
        if (
            node.pattern is not None
            and id(node) not in skip
            and not (node.pattern in LINE_PATTERNS and _all_match(arr, node.pattern))
        ):
            _flag(bad, _fails(arr, pc.match_substring_regex(arr, node.pattern)))
    elif kind == "const":
        if not node.choices or isinstance(node.choices[0], str):
            _flag(bad, pc.not_equal(arr, node.choices[0]))
        elif not pa.types.is_integer(typ):
            raise Fallback(f"{typ} where an integer belongs")
        else:
            _flag(bad, pc.not_equal(arr, node.choices[0]))
    elif kind in ("int", "float", "bool"):
        want = {"int": pa.types.is_integer, "float": pa.types.is_floating}.get(
            kind, pa.types.is_boolean
        )
        if not want(typ):
            raise Fallback(f"{typ} where {kind} belongs")
        if node.ge is not None:
            _flag(bad, pc.less(arr, node.ge))
        if node.gt is not None:
            _flag(bad, pc.less_equal(arr, node.gt))
        if node.le is not None:
            _flag(bad, pc.greater(arr, node.le))
    elif kind == "list":
        if not pa.types.is_list(typ):
            raise Fallback(f"{typ} where a list belongs")
        assert node.item is not None
        values = pc.list_flatten(arr)
        item_bad, item_unsure = bad_rows(values, node.item, skip)
        if values.null_count:
            item_bad |= mask_array(values.is_null())
        if item_bad.any() or item_unsure.any():
            lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
            parents = np.repeat(np.arange(n), lengths)
            bad[parents[item_bad]] = True
            unsure[parents[item_unsure]] = True
    elif kind == "struct":
        if not pa.types.is_struct(typ):
            raise Fallback(f"{typ} where an object belongs")
        present = {typ.field(i).name: i for i in range(typ.num_fields)}
        unknown = set(present) - set(node.fields)
        if unknown:
            raise Fallback(f"unknown fields {sorted(unknown)}")
        for name, sub in node.fields.items():
            if name not in present:
                if sub.required:
                    _flag(bad, arr.is_valid())
                continue
            child = pc.struct_field(arr, [present[name]])
            if not sub.nullable and child.null_count:
                _flag(bad if sub.required else unsure, pc.and_(arr.is_valid(), child.is_null()))
            child_bad, child_unsure = bad_rows(child, sub, skip)
            bad |= child_bad
            unsure |= child_unsure
    elif kind in ("strmap", "scalarmap"):
        if not pa.types.is_struct(typ):
            raise Fallback(f"{typ} where an object belongs")
        allowed = (pa.string(), pa.null()) if kind == "strmap" else _SCALARS
        for i in range(typ.num_fields):
            if typ.field(i).type not in allowed:
                _flag(bad, pc.struct_field(arr, [i]).is_valid())
    return bad, unsure
