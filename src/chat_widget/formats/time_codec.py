"""UTC times as the transcript format writes them: ISO-8601 strings with up to
nanosecond digits that read back to the exact float clock seconds they came from.

Pure integer arithmetic (no ``datetime``): fast enough for a million entries and
exact where ``datetime``'s microseconds would lose digits.
"""

from __future__ import annotations

import calendar
import math
import re

ISO_UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
_ISO_RE = re.compile(ISO_UTC_PATTERN)


def format_utc(t: float) -> str:
    """Clock seconds → ``YYYY-MM-DDTHH:MM:SS.fffffffffZ``; reads back to the same float.

    Nanosecond digits make the round trip exact for every float clock time
    after 1970-04 (where float spacing exceeds 2 ns); trailing zeros are cut.
    """
    if not math.isfinite(t):
        raise ValueError(f"time must be finite, got {t!r}")
    whole = math.floor(t)
    return format_utc_ns(int(whole) * 1_000_000_000 + round((t - whole) * 1e9))


def format_utc_ns(nanos: int) -> str:
    """Integer nanoseconds since the epoch → ISO-8601 ``Z`` string (trailing zeros cut)."""
    whole, frac = divmod(nanos, 1_000_000_000)
    stamp = _format_seconds(whole)
    if frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    return stamp + "Z"


def _format_seconds(whole: int) -> str:
    days, rem = divmod(whole, 86_400)
    y, m, d = _civil_from_days(days)
    return f"{y:04d}-{m:02d}-{d:02d}T{rem // 3600:02d}:{rem % 3600 // 60:02d}:{rem % 60:02d}"


def _civil_from_days(z: int) -> tuple[int, int, int]:
    """Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm)."""
    z += 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


def parse_utc_ns(stamp: str) -> int:
    """ISO-8601 with ``Z`` or an offset → integer nanoseconds since the epoch."""
    match = _ISO_RE.match(stamp)
    if match is None:
        raise ValueError(
            f"expected a UTC ISO-8601 time such as 2026-01-05T09:00:00Z, got {stamp!r}"
        )
    year, month, day = int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10])
    hour, minute, second = int(stamp[11:13]), int(stamp[14:16]), int(stamp[17:19])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        raise ValueError(f"no such date or time: {stamp!r}")
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"no such date or time: {stamp!r}")
    frac, zone = match.group(1), match.group(2)
    nanos = int((frac[1:] + "000000000")[:9]) if frac else 0
    offset = 0
    if zone != "Z":
        hh, mm = int(zone[1:3]), int(zone[4:6])
        if hh > 23 or mm > 59:
            raise ValueError(f"no such date or time: {stamp!r}")
        offset = (hh * 3600 + mm * 60) * (1 if zone[0] == "+" else -1)
    whole = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset
    return whole * 1_000_000_000 + nanos


def parse_utc(stamp: str) -> float:
    """ISO-8601 → clock seconds (the float ``format_utc`` was given)."""
    return parse_utc_ns(stamp) / 1_000_000_000
