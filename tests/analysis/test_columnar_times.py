"""The frames' time check (Arrow's parser read the string, and it has the pattern's
shape) says what the format's pattern says, for strings near and far from it."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_widget.analysis.columnar_frames import Unverified, _times
from chat_widget.formats.time_codec import ISO_UTC_PATTERN

PIECES = st.lists(
    st.sampled_from(
        [
            "2026", "-", "01", "05", "13", "30", "T", " ", "t", "09", "24", ":", "00", "59",
            "60", ".", "1", "123", "123456789", "1234567890", "Z", "z", "+", "-", "0100",
            "01:00", "+01", "+01:00", "-03:30", "+0100", "", "x", "\u0663",
        ]
    ),
    max_size=14,
)  # fmt: skip
NEAR = [
    "2026-01-05T09:00:00Z",
    "2026-01-05T09:00:00.5Z",
    "2026-01-05T09:00:00.123456789Z",
    "2026-01-05T09:00:00.1234567890Z",
    "2026-01-05T09:00:00+01:00",
    "2026-01-05T09:00:00.25-03:30",
    "2026-01-05 09:00:00Z",
    "2026-01-05T09:00Z",
    "2026-01-05T09Z",
    "2026-01-05T09:00:00+01",
    "2026-01-05T09:00:00+0100",
    "2026-01-05T09:00:00",
    "2026-01-05",
    "2026-01-05T09:00:00.Z",
    "2026-02-30T09:00:00Z",
    "2026-01-05T24:00:00Z",
    "2026-01-05T09:00:60Z",
]


def verdict(value: str) -> bool | None:
    """True: verified; False: refused (Unverified); None: Arrow cannot parse it."""
    arr = pa.chunked_array([pa.array([value, None])])
    try:
        pc.cast(arr, pa.timestamp("ns", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        with pytest.raises(Unverified):
            _times(arr, verify=True)
        return None
    try:
        _times(arr, verify=True)
    except Unverified:
        return False
    return True


def agrees(value: str) -> None:
    matches = re.search(ISO_UTC_PATTERN, value, flags=re.ASCII) is not None
    found = verdict(value)
    if found is not None:  # what Arrow reads: verified exactly when the pattern matches
        assert found == matches, value
    # what Arrow cannot read goes to the careful pass (the pattern itself decides)


@pytest.mark.parametrize("value", NEAR)
def test_near_misses(value: str) -> None:
    agrees(value)


@settings(max_examples=400, deadline=None)
@given(PIECES)
def test_any_string_of_pieces(pieces: list[str]) -> None:
    agrees("".join(pieces))


TWO = st.sampled_from(["09", "00", "59", "23", "09", "00", "60", "24", "5", "123"])
SHAPED = st.tuples(
    st.sampled_from(["2026-01-05", "2024-02-29", "2026-01-05", "2026-13-01", "2026-1-05"]),
    st.sampled_from(["T", "T", "T", " ", "t", ""]),
    st.one_of(st.tuples(TWO, TWO, TWO).map(list), st.lists(TWO, max_size=4)),  # hh:mm:ss
    st.sampled_from(["", "", ".5", ".123456789", ".1234567890", "."]),
    st.sampled_from(["Z", "Z", "+01:00", "-23:59", "", "z", "+01", "-0130", "+24:00", "+1:00"]),
)


@settings(max_examples=600, deadline=None)
@given(SHAPED)
def test_strings_shaped_like_times(parts: tuple[str, str, list[str], str, str]) -> None:
    date, sep, clock, fraction, zone = parts
    agrees(date + sep + ":".join(clock) + fraction + zone)
