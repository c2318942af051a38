"""Find phone numbers and e-mail addresses in what a contact wrote (F8)."""

from __future__ import annotations

import re

# numbers as people write them: international (+49 ...) or national with a trunk 0
# (040 ...), at least 7 digits; separators space, -, /, (). Invoice numbers like
# 2026-0315 do not match. Keep in sync with js/parts/linkify.ts.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d|0)[\d /()-]{4,}\d(?!\w)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def find_phone_numbers(text: str) -> list[str]:
    return [m.group(0) for m in _PHONE.finditer(text) if sum(c.isdigit() for c in m.group(0)) >= 7]


def find_emails(text: str) -> list[str]:
    return [m.group(0) for m in _EMAIL.finditer(text)]
