"""nbval checks of our own: a cell tagged ``plot`` must show its figure as an image.

A plot that reaches the page as ``<Figure size 800x400 with 1 Axes>`` (text) is a
broken cell for the analyst, even though it raised nothing: fail it (issue 10).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    cell: Any = getattr(item, "cell", None)
    outputs: list[Any] | None = getattr(item, "test_outputs", None)
    if cell is None or outputs is None or "plot" not in cell.get("metadata", {}).get("tags", []):
        return result
    images = [o for o in outputs if "image/png" in (o.get("data") or {})]
    if not images:
        shown = [sorted(o.get("data") or {}) or o.get("output_type") for o in outputs]
        pytest.fail(f"plot cell {item.name} shows no image (outputs: {shown})")
    return result
