"""JSON Lines transcripts → frames through pyarrow's multi-threaded JSON reader.

The rows engine (``load.load_records``) validates each record with pydantic and
flattens it in Python. This engine parses whole files into Arrow columns and
applies the same rules to the columns at once:

1. the shapes of ``formats.transcript_schema`` (required fields, types, the
   vocabularies, string lengths, the time pattern, threshold ranges, unknown
   fields) as vectorised checks over the nested columns (``SPEC``);
2. explicit ``null`` where a field may only be absent, which Arrow cannot tell
   from absence: only where the columns leave it open (such a field is null in
   Arrow, ``bad_rows``' unsure rows) are those records' lines searched
   (``EXPLICIT_NULL``); a ``null`` inside ``params`` by one RE2 search over the
   file text (``PARAMS_NULL``), and if it finds one, every line is searched;
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

from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
from pydantic import ValidationError

from ..formats.transcript_schema import (
    TRANSCRIPT_ADAPTER,
    Problem,
    problems_from_validation,
)
from .columnar_frames import build_columnar, flatten_files
from .columnar_shapes import (
    EXPLICIT_NULL,
    PARAMS_NULL,
    SCHEMA,
    SPEC,
    VERIFIED,
    Fallback,
    bad_rows,
    mask_array,
)
from .columns import (
    Aux,
    TranscriptFrames,
)

BLOCK_SIZE = 8 << 20  # bytes per parse block (one task of the reader's thread pool)
SLICE = 1 << 22  # bytes per step of the newline search (no temporary the size of the file)
WHITESPACE = np.frombuffer(b" \t\r\n", dtype=np.uint8)  # what a blank line holds


# ----------------------------------------------------------------------------- reading
@dataclass
class _Scan:
    """What the text search found: lines in the file, and whether a ``null`` inside
    ``params`` (``PARAMS_NULL``) may be in it."""

    lines: int
    nulls: bool


@dataclass
class _Check:
    """What the shape checks found: records that break a shape (``bad``), records whose
    columns cannot tell an explicit ``null`` from an absent field (``unsure``)."""

    bad: np.ndarray
    unsure: np.ndarray


@dataclass
class _File:
    path: Path
    data: pa.Buffer  # the file, memory-mapped
    table: pa.Table
    scan: Future[_Scan] | None = None  # ``_scan`` of the file
    check: Future[_Check] | None = None  # ``_table_check`` of the table
    lines: np.ndarray | None = None  # 1-based line of each record (None: record i is line i+1)
    bounds: tuple[np.ndarray, np.ndarray] | None = None  # every line's start and end

    def raw(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype=np.uint8)

    def scanned(self) -> _Scan:
        """What the text search found in the whole file."""
        assert self.scan is not None
        return self.scan.result()

    def line_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self.bounds is None:
            self.bounds = _line_bounds(self.raw())
        return self.bounds

    def record_lines(self) -> np.ndarray:
        if self.lines is None:
            return np.arange(1, self.table.num_rows + 1, dtype=np.int64)
        return self.lines

    def number_records(self, scan: _Scan) -> None:
        """Records are lines 1, 2, ...; unless blank lines sit between them."""
        if scan.lines == self.table.num_rows:
            return
        starts, ends = self.line_bounds()
        raw = self.raw()
        # a line is a record if it holds a byte that is not whitespace; most start with one
        filled = ends > starts
        ink = filled.copy()
        ink[filled] = ~np.isin(raw[starts[filled]], WHITESPACE)
        for line in np.flatnonzero(filled & ~ink):  # lines that start with whitespace
            ink[line] = bool(bytes(raw[starts[line] : ends[line]]).strip(b" \t\r\n"))
        numbered = np.flatnonzero(ink) + 1  # 1-based
        if len(numbered) != self.table.num_rows:
            raise Fallback("records and lines do not match")
        self.lines = numbered.astype(np.int64)


def _line_bounds(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, without the newline) of every line."""
    newlines = np.concatenate(
        [np.flatnonzero(raw[i : i + SLICE] == 10) + i for i in range(0, len(raw), SLICE)]
        or [np.zeros(0, dtype=np.int64)]
    )
    starts = np.r_[0, newlines + 1]
    ends = np.r_[newlines, len(raw)]
    if len(raw) and raw[-1] == 10:
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def _scan(data: pa.Buffer) -> _Scan:
    """Lines (the last one without its newline counted too), and whether a ``null``
    inside ``params`` may be in the file."""
    text = pa.LargeStringArray.from_buffers(
        1, pa.py_buffer(np.array([0, data.size], dtype=np.int64)), data
    )
    # RE2 finds a lone byte with memchr: faster than a comparison over every byte
    lines = int(pc.count_substring_regex(text, "\n")[0].as_py())
    lines += 1 if data.size and data[data.size - 1] != 10 else 0
    nulls = bool(pc.any(pc.match_substring_regex(text, PARAMS_NULL)).as_py())
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


def _explicit_nulls(f: _File, records: np.ndarray | None) -> np.ndarray:
    """Records (of ``records``; None: all) with an explicit ``null`` where the format
    allows only absence."""
    out = np.zeros(f.table.num_rows, dtype=bool)
    starts, ends = f.line_bounds()
    offsets = np.r_[starts, ends[-1] if len(ends) else 0].astype(np.int64)
    lines = pa.LargeStringArray.from_buffers(
        len(starts), pa.py_buffer(np.ascontiguousarray(offsets)), f.data
    )
    record_lines = f.record_lines()
    if records is None:
        hit_lines = np.flatnonzero(mask_array(pc.match_substring_regex(lines, EXPLICIT_NULL))) + 1
    else:  # only the records' lines (copied out: the rest of the file is not searched)
        chosen = record_lines[records]
        some = lines.take(pa.array(chosen - 1))
        hit_lines = chosen[mask_array(pc.match_substring_regex(some, EXPLICIT_NULL))]
    where = np.searchsorted(record_lines, hit_lines)
    found = where < len(record_lines)
    found[found] = record_lines[where[found]] == hit_lines[found]
    out[where[found]] = True
    return out


def _record_text(f: _File, record: int) -> str:
    starts, ends = f.line_bounds()
    line = int(f.record_lines()[record]) - 1
    return bytes(memoryview(f.data)[starts[line] : ends[line]]).decode("utf-8")


def _table_check(table: pa.Table, skip: frozenset[int] = frozenset()) -> _Check:
    """The shape checks (``skip``: nodes whose vocabulary is checked elsewhere)."""
    bad = np.zeros(table.num_rows, dtype=bool)
    unsure = np.zeros(table.num_rows, dtype=bool)
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
        if not sub.nullable and col.null_count:
            (bad if sub.required else unsure)[mask_array(col.is_null())] = True
        col_bad, col_unsure = bad_rows(col, sub, skip)
        bad |= col_bad
        unsure |= col_unsure
    return _Check(bad, unsure)


class _Rescan(Exception):
    """The text search found something the optimistic pass did not wait for."""


Built = tuple[TranscriptFrames, Aux, list[Problem]]
T = TypeVar("T")


def _as_built(frames: TranscriptFrames, aux: Aux, problems: list[Problem]) -> Built:
    return frames, aux, problems


def read_columnar(
    paths: list[Path],
    errors: str,
    bar: Any = None,
    finish: Callable[[TranscriptFrames, Aux, list[Problem]], T] = _as_built,  # type: ignore[assignment]
) -> T:
    """Read and shape-check JSON Lines files, build the frames and ``finish`` them (the
    cross-field checks; by default the frames, their aux and the problems as they are).

    Raises ``TranscriptFileError`` for ``errors="raise"`` with the first flagged
    record's pydantic problems; ``Fallback`` when the rows engine must do it.

    The shape checks and the text search (line count, nulls in ``params``) run on two
    more threads while the frames are built and finished; only if they find something
    (a flagged record, blank lines, a null to look at) are the frames built and
    finished again, with their answers (what the first finish raised is then moot)."""
    with ThreadPoolExecutor(2) as pool:
        files = []
        for path in paths:
            f = _read(path)
            f.scan = pool.submit(_scan, f.data)
            f.check = pool.submit(_table_check, f.table, VERIFIED)  # the frames check the rest
            files.append(f)
            if bar is not None:
                bar.update(f.data.size)
        try:
            frames, aux, problems = _columns(files, errors, pool, optimistic=True)
            try:
                done = finish(frames, aux, problems)
            except Exception:
                _confirm(files)  # a rescan comes first
                raise
            _confirm(files)
            return done
        except _Rescan:
            return finish(*_columns(files, errors, pool, optimistic=False))


def _confirm(files: list[_File]) -> None:
    """Raise ``_Rescan`` unless the checks and the text search found nothing."""
    for f in files:
        assert f.scan is not None and f.check is not None
        scan, check = f.scanned(), f.check.result()
        if check.bad.any() or check.unsure.any() or scan.nulls:
            raise _Rescan
        if scan.lines != f.table.num_rows:
            raise _Rescan


def _columns(
    files: list[_File], errors: str, pool: Executor, *, optimistic: bool
) -> tuple[TranscriptFrames, Aux, list[Problem]]:
    from ..formats.transcript_schema import TranscriptFileError

    kept: list[tuple[str, pa.Table, np.ndarray]] = []
    problems: list[Problem] = []
    for f in files:
        assert f.scan is not None and f.check is not None
        if optimistic:  # checked meanwhile, on the other threads (looked at below)
            flagged = np.zeros(f.table.num_rows, dtype=bool)
        else:
            f.check.result()  # its exceptions (a fallback) first
            check = _table_check(f.table)  # every rule this time
            flagged = check.bad.copy()
            scan = f.scanned()
            f.number_records(scan)
            if scan.nulls:  # somewhere in the file: every line is searched
                flagged |= _explicit_nulls(f, None)
            elif check.unsure.any():
                flagged |= _explicit_nulls(f, np.flatnonzero(check.unsure))
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
                frames, aux = build_columnar(flatten_files(kept), verify=True, pool=pool)
        except Exception as exc:  # whatever a bad record breaks, the careful pass sorts out
            raise _Rescan from exc
    else:
        frames, aux = build_columnar(flatten_files(kept), pool=pool)
    return frames, aux, problems
