"""Transcript files: one conversation per ``.json``, many per ``.jsonl`` (JSON Lines).

Reading validates every record (``transcript_schema``); a bad one raises
``TranscriptFileError`` naming the file, the record (line) and the field, or is
listed in ``ReadResult.problems`` when ``errors="skip"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .transcript_schema import Problem, TranscriptDoc, TranscriptFileError, validate_transcript


@dataclass
class ReadResult:
    """What a lenient read found: the valid transcripts and the problems of the rest."""

    transcripts: list[TranscriptDoc] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def iter_records(path: str | Path) -> Iterator[tuple[int, str]]:
    """(1-based line, text) of each non-blank record; a ``.json`` file is one record."""
    p = Path(path)
    if p.suffix == ".json":
        yield 1, p.read_text(encoding="utf-8")
        return
    with p.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield number, line


def read_transcripts(path: str | Path, *, errors: Literal["raise", "skip"] = "raise") -> ReadResult:
    """Every transcript of a ``.json`` or ``.jsonl`` file.

    ``errors="raise"``: the first bad record raises ``TranscriptFileError``.
    ``errors="skip"``: valid records load; bad ones are listed in ``problems``.
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    result = ReadResult()
    seen: dict[str, int] = {}
    for number, text in iter_records(path):
        try:
            doc = validate_transcript(text, str(path), number)
            if doc["id"] in seen:
                raise TranscriptFileError(
                    [
                        Problem(
                            str(path),
                            number,
                            "id",
                            f"conversation {doc['id']!r} already appeared in record "
                            f"{seen[doc['id']]}",
                        )
                    ]
                )
        except TranscriptFileError as exc:
            if errors == "raise":
                raise
            result.problems.extend(exc.problems)
            continue
        seen[doc["id"]] = number
        result.transcripts.append(doc)
    return result


def read_transcript(path: str | Path, conversation: str | int | None = None) -> TranscriptDoc:
    """One transcript: the ``.json`` file's, or from a ``.jsonl`` by id or position."""
    docs = read_transcripts(path).transcripts
    if not docs:
        raise TranscriptFileError([Problem(str(path), 0, "", "the file holds no transcript")])
    if conversation is None:
        if len(docs) > 1:
            raise ValueError(f"{path} holds {len(docs)} transcripts; say which (id or position)")
        return docs[0]
    if isinstance(conversation, int):
        return docs[conversation]
    for doc in docs:
        if doc["id"] == conversation:
            return doc
    raise KeyError(f"no conversation {conversation!r} in {path}")


def dumps_transcript(doc: TranscriptDoc, *, indent: int | None = None) -> str:
    """JSON text of one transcript (compact for JSON Lines)."""
    separators = (",", ":") if indent is None else None
    return json.dumps(doc, ensure_ascii=False, indent=indent, separators=separators)


def write_transcript(path: str | Path, doc: TranscriptDoc) -> Path:
    """Write one transcript as a ``.json`` file."""
    p = Path(path)
    p.write_text(dumps_transcript(doc, indent=2) + "\n", encoding="utf-8")
    return p


def write_transcripts(path: str | Path, docs: Iterable[Mapping[str, Any]]) -> Path:
    """Write many transcripts as JSON Lines (one per line)."""
    p = Path(path)
    with p.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")
    return p
