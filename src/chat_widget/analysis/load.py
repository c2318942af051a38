"""Transcripts → tidy pandas frames: one row per conversation, one per entry.

Each record is validated by pydantic's Rust core (``TRANSCRIPT_ADAPTER``),
flattened into column lists in one pass (``columns``), and the cross-field rules
of ``check_transcript`` are then applied to whole columns at once
(``column_checks``). This module finds the records: files, directories, dicts,
a server database.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from ..formats.transcript_io import iter_records
from ..formats.transcript_schema import (
    TRANSCRIPT_ADAPTER,
    Problem,
    TranscriptFileError,
    problems_from_validation,
)
from .column_checks import check_columns
from .columns import Aux, Columns, TranscriptFrames, build_frames, bulk_objects

__all__ = ["TranscriptFrames", "bulk_objects", "frames_from_transcripts", "load_transcripts"]

Errors = Literal["raise", "skip"]
Engine = Literal["columnar", "rows"]
Source = str | os.PathLike[str] | Mapping[str, Any]

PROGRESS_BYTES = 20_000_000  # show a progress bar from this input size on (progress=None)
DB_SUFFIXES = (".sqlite", ".sqlite3", ".db")  # a server database (``load_store``)


def load_transcripts(
    source: Source | Iterable[Source],
    *,
    errors: Errors = "raise",
    progress: bool | None = None,
    engine: Engine = "columnar",
    start: Any = None,
    end: Any = None,
    agents: Iterable[str] | None = None,
    conversations: Iterable[str] | None = None,
) -> TranscriptFrames:
    """Load ``.json``/``.jsonl`` files, directories of them, transcript dicts, or a
    server database (``.sqlite``/``.sqlite3``/``.db`` or a ``postgresql://`` store's
    URL, read-only: see ``load_store``).

    ``errors="raise"`` raises ``TranscriptFileError`` (file, record, field) at the
    first bad record; ``errors="skip"`` loads the valid records and lists the
    others in ``.problems``. ``progress``: a tqdm bar (default: for inputs over 20 MB).

    ``engine="columnar"`` (default) reads JSON Lines files with pyarrow and checks
    whole columns (``analysis.columnar``); dicts, ``.json`` files and databases, and
    any input it cannot take, go record by record through pydantic as with
    ``engine="rows"``. Both give the same frames and the same problems.

    A folder ``export_parquet`` wrote loads as a Parquet dataset; ``start``/``end``
    (offered at or after ``start``, before ``end``), ``agents`` (``agent_id``) and
    ``conversations`` (ids) are then pushed down: a month out of a year reads only
    that month's files. With other sources they filter the loaded frames.
    """
    filters = {"start": start, "end": end, "agents": agents, "conversations": conversations}
    from .store import is_store_url

    if is_store_url(source):  # a --store server's PostgreSQL database
        from .parquet import select
        from .store import load_store

        return select(load_store(str(source), errors=errors, progress=progress), **filters)
    if isinstance(source, str | os.PathLike):
        from .parquet import is_dataset, load_parquet

        if is_dataset(source):
            return load_parquet(source, **filters)
    if any(v is not None for v in filters.values()):
        from .parquet import select

        loaded = load_transcripts(source, errors=errors, progress=progress, engine=engine)
        return select(loaded, **filters)
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    if engine not in ("columnar", "rows"):
        raise ValueError(f"engine must be 'columnar' or 'rows', got {engine!r}")
    items = _expand(source)
    total = sum(os.path.getsize(p) for p in items if isinstance(p, Path))
    show = progress if progress is not None else total >= PROGRESS_BYTES
    problems: list[Problem] = []
    if engine == "columnar" and items and all(_is_jsonl(p) for p in items):
        from .columnar_shapes import Fallback

        bar = _progress_bar(total, show)
        try:
            return _load_columnar([p for p in items if isinstance(p, Path)], errors, bar)
        except Fallback:
            pass
        finally:
            if bar is not None:
                bar.close()
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
    cols = Columns()
    found_all: list[Problem] = [] if problems is None else problems
    with bulk_objects():
        for data, source, number in records:
            _add_record(cols, found_all, data, source, number, errors)
        built, aux = build_frames(cols)
    return _checked(built, aux, found_all, errors)


def _is_jsonl(item: Path | Mapping[str, Any]) -> bool:
    return isinstance(item, Path) and item.suffix == ".jsonl"


def _load_columnar(paths: list[Path], errors: Errors, bar: Any) -> TranscriptFrames:
    from .columnar import read_columnar

    def finish(built: TranscriptFrames, aux: Aux, found_all: list[Problem]) -> TranscriptFrames:
        return _checked(built, aux, found_all, errors)

    with bulk_objects():  # as the rows engine: no collector passes over the library's objects
        return read_columnar(paths, errors, bar, finish)


def _checked(
    built: TranscriptFrames, aux: Aux, found_all: list[Problem], errors: Errors
) -> TranscriptFrames:
    """Both engines end here: the cross-field rules on whole columns, then every
    problem in file and record order (raised, or kept in ``.problems``)."""
    frames, found = check_columns(built, aux)
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
    cols: Columns,
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
