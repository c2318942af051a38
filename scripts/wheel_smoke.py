"""Smoke test of the installed wheel, run by scripts/wheel_smoke.sh from a fresh venv.

An editable install hides package files the wheel forgets (issue 11: the customer page
was missing, GET / answered 500). This checks what a user who ran ``pip install`` gets:
the public names import, the widget's bundle is inside the package, and
``chat-widget serve`` serves the customer page, its script and stylesheet, then stops
cleanly on SIGTERM. Only 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def main() -> None:
    import chat_widget
    from chat_widget import (
        ChatSession,
        ChatWidget,
        MockBackend,
        MockTeam,
        SupervisorWidget,
        WebSocketBackend,
        WebSocketSupervisor,
    )
    from chat_widget.classroom import Classroom

    assert all((ChatSession, ChatWidget, MockBackend, WebSocketBackend))
    assert all((MockTeam, SupervisorWidget, WebSocketSupervisor, Classroom))
    package = Path(chat_widget.__file__).parent
    assert "site-packages" in str(package), f"not the installed wheel: {package}"
    for name in ("widget.js", "workspace.js", "supervisor.js", "widget.css"):
        size = (package / "static" / name).stat().st_size
        assert size > 1000, f"static/{name} is only {size} bytes"
    print(f"installed package at {package}: widget bundle present")

    exe = shutil.which("chat-widget", path=str(Path(sys.executable).parent))
    assert exe is not None, "the chat-widget command is not installed"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "smoke.sqlite"
        server = subprocess.Popen(
            [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db)],
            cwd=tmp,
            env={**os.environ, "PYTHONWARNINGS": "error::ResourceWarning"},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:  # bounded: until the server answers
                try:
                    status, kind, body = get(base + "/")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            assert status == 200 and kind.startswith("text/html"), (status, kind)
            page = body.decode()
            assert 'data-testid="start-chat"' in page or "start-chat" in page
            for path, want in (("/customer.js", "javascript"), ("/customer.css", "text/css")):
                assert path in page, f"the page does not load {path}"
                status, kind, body = get(base + path)
                assert status == 200 and want in kind and len(body) > 100, (path, status, kind)
            print(f"chat-widget serve: customer page, script and stylesheet served on {base}")
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                message = "chat-widget serve did not stop within 15 s of SIGTERM"
                raise AssertionError(message) from None
        assert code == 0, f"chat-widget serve exited with {code} on SIGTERM"
        print("chat-widget serve: clean exit on SIGTERM")


if __name__ == "__main__":
    main()
