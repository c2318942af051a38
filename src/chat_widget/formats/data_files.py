"""Reading the files trainers write (scenarios, response libraries): YAML or JSON.

One reader, so both say the same thing about a missing file or a syntax error,
naming the file; the caller's error type carries it (``ScenarioError``,
``ResponseLibraryError``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def read_data_file(path: Path, error: Callable[[str], Exception], what: str, hint: str = "") -> Any:
    """The parsed content of a ``.json`` file, or of YAML (any other suffix); a missing
    file or bad syntax raises ``error(message)`` naming the file."""
    if not path.is_file():
        raise error(f"{path}: no such {what} file{hint}")
    raw = path.read_text(encoding="utf-8")
    try:
        return json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = path.suffix.lstrip(".").upper() if path.suffix == ".json" else "YAML"
        raise error(f"{path}: not valid {kind}: {exc}") from None


def read_packaged_yaml(package: str, name: str) -> Any:
    """A YAML file shipped inside the package (built-in scenarios, the sample library)."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)
