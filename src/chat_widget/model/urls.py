"""Pushed URLs (F15): only http and https, checked on the normalised text.

Browsers strip tabs and newlines inside a URL and ignore the scheme's case,
so ``JAVA\\tSCRIPT:`` is ``javascript:``: we refuse any control character or
whitespace anywhere, then require an http(s) scheme and a host.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\u00a0\ufeff]")


class InvalidUrlError(ValueError):
    """A URL that may not be pushed; the message says why, ``code`` for the view."""

    def __init__(self, message: str, code: str = "url_malformed") -> None:
        super().__init__(message)
        self.code = code


def validate_push_url(raw: str) -> str:
    """Return the URL to push (surrounding whitespace trimmed) or raise ``InvalidUrlError``."""
    if not isinstance(raw, str):
        raise InvalidUrlError(f"URL must be text, got {type(raw).__name__}")
    url = raw.strip()
    if not url:
        raise InvalidUrlError("URL is empty", "url_empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrlError(f"URL is longer than {MAX_URL_LENGTH} characters", "url_too_long")
    if _CONTROL_OR_SPACE.search(url):
        raise InvalidUrlError(f"URL contains whitespace or control characters: {url!r}")
    scheme, sep, _rest = url.partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise InvalidUrlError(f"URL needs a scheme (http:// or https://): {url!r}")
    if scheme.lower() not in ("http", "https"):
        raise InvalidUrlError(
            f"only http and https URLs may be pushed, not {scheme.lower()}:", "url_scheme"
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidUrlError(f"URL cannot be parsed: {exc}") from None
    if not url[len(scheme) + 1 :].startswith("//") or not parts.hostname:
        raise InvalidUrlError(f"URL has no host: {url!r}")
    return url
