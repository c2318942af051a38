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

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

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
from .columnar_shapes import EXPLICIT_NULL, SCHEMA, SPEC, Fallback, bad_rows, mask_array
from .columns import (
    Aux,
    TranscriptFrames,
)

BLOCK_SIZE = 8 << 20  # bytes per parse block (one task of the reader's thread pool)
SCAN_PARTS = 2  # the text search, in parts on as many threads (the frames are built meanwhile)


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
    scan: list[Future[_Scan]] | None = None  # ``_scan`` of the file's parts
    check: Future[np.ndarray] | None = None  # ``_table_check`` of the table
    lines: np.ndarray | None = None  # 1-based line of each record (None: record i is line i+1)
    bounds: tuple[np.ndarray, np.ndarray] | None = None  # every line's start and end

    def raw(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype=np.uint8)

    def scanned(self) -> _Scan:
        """What the text search found in the whole file."""
        assert self.scan is not None
        parts = [future.result() for future in self.scan]
        return _Scan(sum(p.lines for p in parts), any(p.nulls for p in parts))

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


def _parts(raw: np.ndarray, n: int) -> list[tuple[int, int]]:
    """``n`` byte ranges of about equal size, cut after a newline (a record is one line)."""
    cuts = [0]
    for k in range(1, n):
        at = max(cuts[-1], len(raw) * k // n)
        newline = np.flatnonzero(raw[at : at + (1 << 20)] == 10)
        if len(newline) == 0:
            break
        cuts.append(at + int(newline[0]) + 1)
    cuts.append(len(raw))
    return [(lo, hi) for lo, hi in pairwise(cuts) if hi > lo]


def _scan(f: _File, lo: int, hi: int) -> _Scan:
    """Lines (the last one without its newline counted too) and explicit nulls in bytes
    ``lo:hi`` of the file."""
    raw = f.raw()[lo:hi]
    step = 1 << 22  # in slices: no temporary the size of the file
    lines = sum(int(np.count_nonzero(raw[i : i + step] == 10)) for i in range(0, len(raw), step))
    lines += 1 if hi == f.data.size and len(raw) and raw[-1] != 10 else 0
    text = pa.LargeStringArray.from_buffers(
        1, pa.py_buffer(np.array([0, hi - lo], dtype=np.int64)), f.data.slice(lo, hi - lo)
    )
    nulls = bool(pc.any(pc.match_substring_regex(text, EXPLICIT_NULL)).as_py())
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
    hit_lines = np.flatnonzero(mask_array(pc.match_substring_regex(lines, EXPLICIT_NULL))) + 1
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
            bad |= mask_array(col.is_null())
        bad |= bad_rows(col, sub)
    return bad


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
    with ThreadPoolExecutor(SCAN_PARTS + 1) as pool:
        files = []
        for path in paths:
            f = _read(path)
            f.scan = [pool.submit(_scan, f, lo, hi) for lo, hi in _parts(f.raw(), SCAN_PARTS)]
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
            scan = f.scanned()
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
                frames, aux = build_columnar(flatten_files(kept))
        except Exception as exc:  # whatever a bad record breaks, the careful pass sorts out
            raise _Rescan from exc
    else:
        frames, aux = build_columnar(flatten_files(kept))
    if optimistic:
        for f in files:
            assert f.scan is not None and f.check is not None
            scan = f.scanned()
            if f.check.result().any() or scan.nulls or scan.lines != f.table.num_rows:
                raise _Rescan
    return frames, aux, problems
