"""The project as a newcomer meets it: a clean terminal and a clean file browser."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
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


def test_notebook_generators_live_in_scripts_and_write_the_notebooks_as_committed(
    tmp_path: Path,
) -> None:
    """The trainee's file browser (notebooks/) holds notebooks, not their generators."""
    assert not list((ROOT / "notebooks").glob("make_*.py"))
    (tmp_path / "scripts").mkdir()
    (tmp_path / "notebooks").mkdir()
    generators = (
        "make_notebooks.py",
        "make_team_notebook.py",
        "make_supervision_notebook.py",
        "make_classroom_notebook.py",
    )
    for name in generators:
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
        subprocess.run([sys.executable, str(tmp_path / "scripts" / name)], check=True, timeout=120)
    written = sorted(p.name for p in (tmp_path / "notebooks").glob("*.ipynb"))
    assert written == ["01_walkthrough.ipynb", "02_prototyping.ipynb", "03_team.ipynb",
                       "04_live_chat.ipynb", "06_supervision.ipynb",
                       "07_classroom.ipynb"]  # fmt: skip

    def content(path: Path) -> dict[str, object]:
        nb = json.loads(path.read_text())
        nb["metadata"]["language_info"].pop("version", None)  # the interpreter's version
        return nb  # type: ignore[no-any-return]

    for name in written:
        assert content(tmp_path / "notebooks" / name) == content(ROOT / "notebooks" / name), name
