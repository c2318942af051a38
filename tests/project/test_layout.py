"""The project as a newcomer meets it: a clean terminal and a clean file browser."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_plain_node_scripts_inside_the_project_are_commonjs() -> None:
    """JupyterLab's own CommonJS scripts live in ``.venv`` inside the project; a
    ``"type": "module"`` in our package.json made node load them as ES modules
    ("require is not defined in ES module scope") when ``scripts/start.sh`` ran."""
    assert json.loads((ROOT / "package.json").read_text()).get("type", "commonjs") == "commonjs"
    probe_dir = ROOT / f".probe-{uuid.uuid4().hex}"
    probe_dir.mkdir()
    try:
        probe = probe_dir / "probe.js"
        probe.write_text("console.log(typeof require('util').format);\n")
        out = subprocess.run(
            ["node", str(probe)], capture_output=True, text=True, timeout=30, check=False
        )
    finally:
        shutil.rmtree(probe_dir)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "function"
