"""Drive a real JupyterLab (or Notebook 7) page with playwright: open notebooks, run code.

What is known to work here (see BROWSER-TESTING.md): wait for the kernel to be
idle, then set the active cell and run ``notebook:run-cell`` through
``window.jupyterapp`` (exposed with ``--LabApp.expose_app_in_browser``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("CHAT_WIDGET_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError("Debian's chromium is not installed: apt-get install -y chromium")
    return path


@dataclass
class Lab:
    """A running Jupyter server with JupyterLab and Notebook 7."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def write_notebook(self, name: str, cells: list[str]) -> str:
        nb = {
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": {},
                    "source": src,
                    "outputs": [],
                    "execution_count": None,
                }
                for src in cells
            ],
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (self.root / name).write_text(json.dumps(nb), encoding="utf-8")
        return name

    def lab_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"

    def notebook7_url(self, name: str) -> str:
        return f"{self.url}/notebooks/{name}?token={self.token}"


def start_lab(tmp: Path) -> Lab:
    port = free_port()
    token = "chat-widget-test-token"
    root = tmp / "root"
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["JUPYTER_CONFIG_DIR"] = str(tmp / "config")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp / "workspaces")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp / "runtime")
    # no "get notified about Jupyter news?" toast over the widgets in screenshots
    settings = tmp / "settings"
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text('{"fetchNews": "false"}', encoding="utf-8")
    env.pop("ANYWIDGET_HMR", None)
    log = tmp / "jupyter.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=",
            "--LabApp.expose_app_in_browser=True",
            "--JupyterNotebookApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        ],
        cwd=root,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:  # bounded: wait for the server process to answer
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"jupyter lab did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    return Lab(url, token, root, process, log)


def stop_lab(lab: Lab) -> None:
    lab.process.terminate()
    try:
        lab.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        lab.process.kill()


_KERNEL_IDLE_JS = """
() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  const ctx = w && w.sessionContext;
  const k = ctx && ctx.session && ctx.session.kernel;
  return !!(ctx && ctx.isReady && k && k.connectionStatus === 'connected' && k.status === 'idle');
}
"""


def open_notebook(page: Page, lab: Lab, name: str) -> None:
    """Open a notebook in JupyterLab and wait until its kernel is idle."""
    page.goto(lab.lab_url(name))
    wait_kernel_idle(page)


def wait_kernel_idle(page: Page) -> None:
    """Wait until the page's notebook kernel is connected and idle (after ``goto``)."""
    page.wait_for_function(_KERNEL_IDLE_JS, timeout=90_000)


def open_notebooks(lab: Lab, notebooks: list[tuple[Page, str]]) -> None:
    """Open several notebooks, one per page, their kernels starting side by side."""
    for page, name in notebooks:
        page.goto(lab.lab_url(name))
    for page, _ in notebooks:
        wait_kernel_idle(page)


def run_cell(page: Page, index: int) -> None:
    """Run one cell through JupyterLab's command and wait for the kernel to finish."""
    page.evaluate(
        """async (i) => {
          const nb = window.jupyterapp.shell.currentWidget.content;
          nb.activeCellIndex = i;
          const late = new Promise((_, fail) => setTimeout(
            () => fail(new Error('the cell did not finish within 90 s')), 90000));
          await Promise.race([window.jupyterapp.commands.execute('notebook:run-cell'), late]);
        }""",
        index,
    )
    page.wait_for_function(_KERNEL_IDLE_JS, timeout=60_000)


def run_code(page: Page, code: str, *, wait: bool = True) -> None:
    """Append a cell with ``code`` at the end of the notebook and run it; ``wait``: until
    the kernel is idle again (bounded: a run that never ends fails after 90 s instead of
    hanging, e.g. when Jupyter drops the kernel's messages over its IOPub rate limit)."""
    page.evaluate(
        """async ([code, wait]) => {
          const app = window.jupyterapp;
          const nb = app.shell.currentWidget.content;
          nb.activeCellIndex = nb.widgets.length - 1;
          await app.commands.execute('notebook:insert-cell-below');
          const cell = nb.widgets[nb.widgets.length - 1];
          cell.model.sharedModel.setSource(code);
          // a widget that takes focus meanwhile (focus moves to the composer after
          // Accept) makes its own cell the active one: select ours again, in the same
          // task as run-cell, and read the outputs of this cell, not the active one
          window.__chatWidgetLastCell = cell;
          nb.activeCellIndex = nb.widgets.indexOf(cell);
          const run = app.commands.execute('notebook:run-cell');
          if (!wait) return;
          const late = new Promise((_, fail) => setTimeout(
            () => fail(new Error('the cell did not finish within 90 s')), 90000));
          await Promise.race([run, late]);
        }""",
        [code, wait],
    )
    if wait:
        page.wait_for_function(_KERNEL_IDLE_JS, timeout=60_000)


def run_all(page: Page) -> None:
    count = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
    for i in range(count):
        run_cell(page, i)


def widget_root(page: Page, nth: int = 0) -> Any:
    root = page.locator(".chat-widget").nth(nth)
    expect(root).to_be_visible(timeout=30_000)
    return root


def screenshot(page: Page, name: str, locator: Any | None = None) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    (locator or page).screenshot(path=str(path))
    return path


def new_page(browser: Browser, **kwargs: Any) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **kwargs)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


_SENTINEL = "<<chat-widget-cell-done>>"

_OUTPUT_JS = """
() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const cell = window.__chatWidgetLastCell ?? nb.activeCell;
  const outs = cell.model.outputs.toJSON();
  const text = (v) => (Array.isArray(v) ? v.join('') : (v || ''));
  return outs.map((o) => {
    if (o.output_type === 'error') return '__ERROR__' + o.ename + ': ' + o.evalue;
    if (o.output_type === 'stream') return text(o.text);
    return text(o.data && o.data['text/plain']);
  }).join('');
}
"""


def run_py(page: Page, code: str) -> str:
    """Run ``code`` in a new cell like ``run_code``; return what it printed.

    Raises ``AssertionError`` with the kernel's error when the cell fails (``run_code``
    alone would not notice), and waits until every output has arrived."""
    run_code(page, f"{code}\nprint({_SENTINEL!r})")
    page.wait_for_function(
        f"() => {{ const t = ({_OUTPUT_JS})(); "
        f"return t.includes({_SENTINEL!r}) || t.includes('__ERROR__'); }}",
        timeout=30_000,
    )
    out = str(page.evaluate(_OUTPUT_JS))
    if "__ERROR__" in out:
        raise AssertionError(f"cell failed: {out.split('__ERROR__', 1)[1]}\n--- code:\n{code}")
    return out.replace(_SENTINEL, "").strip()


def set_theme(page: Page, dark: bool) -> None:
    """Switch JupyterLab's theme (saved in this test session's settings: switch back after)."""
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate(
        "async (t) => { await window.jupyterapp.commands.execute("
        "'apputils:change-theme', {theme: t}); }",
        theme,
    )
    page.wait_for_function(
        "(dark) => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')",
        arg=dark,
        timeout=30_000,
    )


class PageWatch:
    """Records dialogs, console errors and requests of a page (hostile-input checks)."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))


_CELL_ERROR_JS = r"""
(i) => {
  const model = window.jupyterapp.shell.currentWidget.content.widgets[i].model;
  if (model.type !== 'code') return null;
  const err = model.outputs.toJSON().find((o) => o.output_type === 'error');
  if (!err) return null;
  // the notebook's own frames ("Cell In[n], line m") say which line failed
  const tb = (err.traceback || [])
    .map((f) => f.replace(/\u001b\[[0-9;]*m/g, ''))
    .filter((f) => f.startsWith('Cell In'))
    .join('\n');
  return err.ename + ': ' + err.evalue + '\n' + tb;
}
"""


def run_cell_error(page: Page, index: int) -> str | None:
    """Run cell ``index`` like ``run_cell``; return its error (``"Name: value"``) or None.

    The kernel's idle status comes after the cell's outputs on the same channel, so
    once ``run_cell`` saw it idle every output of the cell is in the model."""
    run_cell(page, index)
    error = page.evaluate(_CELL_ERROR_JS, index)
    return None if error is None else str(error)
