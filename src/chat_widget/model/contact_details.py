"""Find phone numbers and e-mail addresses in what a contact wrote (F8)."""

from __future__ import annotations

import re

# international or national numbers with at least 6 digits; separators space, -, /, ()
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d /()-]{4,}\d(?!\w)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def find_phone_numbers(text: str) -> list[str]:
    return [m.group(0) for m in _PHONE.finditer(text) if sum(c.isdigit() for c in m.group(0)) >= 6]


def find_emails(text: str) -> list[str]:
    return [m.group(0) for m in _EMAIL.finditer(text)]
