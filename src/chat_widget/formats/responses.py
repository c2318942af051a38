"""Standard responses (issue 16): a library of prepared texts the agent starts from.

YAML, JSON or plain data, validated with pydantic; a bad library raises
``ResponseLibraryError`` naming the file, the response and the field (like
``ScenarioError``). Schema (see ``docs/everyday-tools.md``)::

    responses:
      - id: greeting            # [A-Za-z0-9_./:-]+, unique
        name: Greeting
        category: Opening
        shortcut: hi            # typed as /hi in the composer; unique
        text:                   # one string, or per language
          en: "Hello {contact.first_name}, I am {agent.nickname}. How can I help?"
          de: "Hallo {contact.first_name}, ich bin {agent.nickname}. Wie kann ich helfen?"

Pure: no model, no clock; reading a file is the one I/O (``load_library``).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .data_files import read_data_file, read_packaged_yaml
from .errors import ChatError
from .transcript import AgentProfile, ContactRecord

__all__ = [
    "FIELD_CODES",
    "SAMPLE",
    "Response",
    "ResponseLibrary",
    "ResponseLibraryError",
    "fill",
    "load_library",
]

#: the field codes a response text may use, each ``{code}``
FIELD_CODES = ("contact.first_name", "contact.name", "agent.nickname", "agent.name", "chat.id")
#: the library shipped with the package (``load_library(SAMPLE)``)
SAMPLE = "sample"
DEFAULT_LANGUAGE = "en"

_ID = r"^[A-Za-z0-9_./:-]+$"
_SHORTCUT = r"^[A-Za-z0-9_-]*$"
_FORMATTER = string.Formatter()


class ResponseLibraryError(ChatError, ValueError):
    """A library that cannot be used; the message names file, response and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Language = Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$")]
ResponseText = Annotated[str, Field(min_length=1, max_length=4000)]


class _ResponseSpec(_Strict):
    id: Annotated[str, Field(pattern=_ID, max_length=200)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    category: Annotated[str, Field(max_length=200)] = ""
    shortcut: Annotated[str, Field(pattern=_SHORTCUT, max_length=50)] = ""
    text: ResponseText | Annotated[dict[Language, ResponseText], Field(min_length=1)]


class _LibrarySpec(_Strict):
    responses: list[_ResponseSpec]


@dataclass(frozen=True, slots=True)
class Response:
    """One standard response; ``texts`` per language ("en", "de", ...), unfilled."""

    id: str
    name: str
    category: str = ""
    shortcut: str = ""
    texts: Mapping[str, str] = field(default_factory=dict)

    def text(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The text in ``language``; else English; else the first one there is."""
        for lang in (language, language.split("-")[0], DEFAULT_LANGUAGE):
            if lang in self.texts:
                return self.texts[lang]
        return next(iter(self.texts.values()), "")


def fill(
    response: Response,
    language: str,
    contact: ContactRecord,
    agent: AgentProfile,
    chat_id: str,
) -> str:
    """The response's text for this chat, its field codes filled in."""
    nickname = str(getattr(agent, "nickname", "") or "") or agent.name
    values = {
        "contact.first_name": (contact.name.split() or [""])[0],
        "contact.name": contact.name,
        "agent.nickname": nickname,
        "agent.name": agent.name,
        "chat.id": chat_id,
    }
    out: list[str] = []
    for literal, code, _spec, _conv in _FORMATTER.parse(response.text(language)):
        out.append(literal)
        if code is not None:
            out.append(values.get(code, "{" + code + "}"))
    return "".join(out)


class ResponseLibrary:
    """The responses an agent may start from, in file order; ids and shortcuts unique."""

    def __init__(self, responses: Iterable[Response] = (), source: str = "<responses>") -> None:
        self.source = source
        self.items: tuple[Response, ...] = tuple(responses)
        self._by_id: dict[str, Response] = {}
        shortcuts: dict[str, str] = {}
        for r in self.items:
            if r.id in self._by_id:
                raise ResponseLibraryError(f"{source}: response {r.id!r}: duplicate id")
            self._by_id[r.id] = r
            if r.shortcut:
                key = r.shortcut.lower()
                if key in shortcuts:
                    raise ResponseLibraryError(
                        f"{source}: response {r.id!r}, field 'shortcut': {r.shortcut!r} "
                        f"is already the shortcut of {shortcuts[key]!r}"
                    )
                shortcuts[key] = r.id
            for lang, text in r.texts.items():
                _check_codes(text, source, r.id, f"text.{lang}" if len(r.texts) > 1 else "text")

    @classmethod
    def from_data(cls, data: Any, source: str = "<responses>") -> ResponseLibrary:
        """Validate plain data (``{"responses": [...]}`` or the list itself)."""
        if isinstance(data, list):
            data = {"responses": data}
        if not isinstance(data, dict):
            raise ResponseLibraryError(
                f"{source}: the library must be a mapping with 'responses', "
                f"got {type(data).__name__}"
            )
        try:
            spec = _LibrarySpec.model_validate(data)
        except ValidationError as exc:
            raise ResponseLibraryError(_describe(exc, data, source)) from None
        return cls(
            (
                Response(
                    r.id,
                    r.name,
                    r.category,
                    r.shortcut,
                    dict(r.text) if isinstance(r.text, dict) else {DEFAULT_LANGUAGE: r.text},
                )
                for r in spec.responses
            ),
            source,
        )

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)

    def __contains__(self, response_id: object) -> bool:
        return response_id in self._by_id

    def get(self, response_id: str) -> Response:
        try:
            return self._by_id[response_id]
        except KeyError:
            raise ResponseLibraryError(
                f"no standard response {response_id!r}; the library has "
                f"{sorted(self._by_id) or 'none'}"
            ) from None

    def categories(self) -> list[str]:
        """Categories in the order they first appear."""
        return list(dict.fromkeys(r.category for r in self.items))

    def search(self, query: str, language: str = DEFAULT_LANGUAGE) -> list[Response]:
        """Responses whose name, category, shortcut or text (in ``language``) contain
        every word of ``query`` (any case); all of them for an empty query."""
        words = query.lower().split()
        return [
            r
            for r in self.items
            if all(
                w in " ".join((r.name, r.category, r.shortcut, r.text(language))).lower()
                for w in words
            )
        ]

    def by_shortcut(self, prefix: str) -> list[Response]:
        """Responses whose shortcut starts with ``prefix`` (without the ``/``, any case);
        the exact match first."""
        p = prefix.lower().lstrip("/")
        found = [r for r in self.items if r.shortcut and r.shortcut.lower().startswith(p)]
        return sorted(found, key=lambda r: r.shortcut.lower() != p)


def _check_codes(text: str, source: str, response_id: str, where: str) -> None:
    try:
        parts = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ResponseLibraryError(
            f"{source}: response {response_id!r}, field {where!r}: {exc} "
            "(write {{ and }} for literal braces)"
        ) from None
    for _literal, code, _spec, _conv in parts:
        if code is not None and code not in FIELD_CODES:
            raise ResponseLibraryError(
                f"{source}: response {response_id!r}, field {where!r}: unknown field code "
                f"{{{code}}}; known: {', '.join('{' + c + '}' for c in FIELD_CODES)}"
            )


def _describe(exc: ValidationError, data: dict[str, Any], source: str) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    if len(loc) >= 2 and loc[0] == "responses" and isinstance(loc[1], int):
        item = (data.get("responses") or [None] * (loc[1] + 1))[loc[1]]
        rid = item.get("id") if isinstance(item, dict) else None
        who = f"response {rid!r}" if isinstance(rid, str) else f"response {loc[1] + 1}"
        rest = [str(p) for p in loc[2:] if not _is_union_tag(p)]
        return f"{source}: {who}, field {'.'.join(rest) or 'response'!r}: {err['msg']}"
    return f"{source}: field {'.'.join(str(p) for p in loc)!r}: {err['msg']}"


def _is_union_tag(part: object) -> bool:
    """pydantic names a union member in the error location (``str``, ``dict[...]``)."""
    return isinstance(part, str) and (part == "str" or part.startswith("dict["))


def load_library(
    source: str | Path | ResponseLibrary | Mapping[str, Any] | list[Any],
) -> ResponseLibrary:
    """A library from a .yaml/.json path, ``SAMPLE`` (the shipped one), or data."""
    if isinstance(source, ResponseLibrary):
        return source
    if isinstance(source, Mapping | list):
        return ResponseLibrary.from_data(dict(source) if isinstance(source, Mapping) else source)
    if source == SAMPLE:
        sample = read_packaged_yaml("chat_widget.data", "responses.yaml")
        return ResponseLibrary.from_data(sample, "responses.yaml")
    path = Path(source)
    data = read_data_file(path, ResponseLibraryError, "response library")
    return ResponseLibrary.from_data(data, str(path))
