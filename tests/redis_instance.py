"""Throw-away Redis servers for the tests (issue 18 item 6).

Debian's ``/usr/bin/redis-server`` (``scripts/test.sh`` installs the
``redis-server`` package when it is missing) in a temporary folder, on a free
port of 127.0.0.1, without persistence (``--save "" --appendonly no``), so a
restart comes back empty, as a real Redis that lost its memory would.
``restart`` stops it and starts it again on the same port (a Redis restart
mid-chat). Every wait is bounded.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .pg import free_port

START_TIMEOUT = 20.0  # seconds redis-server may take to accept connections
STOP_TIMEOUT = 10.0


def find_redis_server() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        raise RuntimeError(
            "redis-server is missing: scripts/test.sh installs it (apt-get install redis-server)"
        )
    return found


class RedisInstance:
    """One temporary Redis server; ``start``, ``stop``, ``restart``, ``url``."""

    def __init__(self) -> None:
        self.binary = find_redis_server()
        self.folder = Path(tempfile.mkdtemp(prefix="chat-widget-redis-"))
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - kept by the process
        self._proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder),
             "--daemonize", "no", "--protected-mode", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self._log_tail()}")
            if self._answers():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not start in {START_TIMEOUT} s: {self._log_tail()}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def _log_tail(self) -> str:
        try:
            return (self.folder / "redis.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Kill the server (its memory is gone: nothing is saved)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.kill()
        proc.wait(STOP_TIMEOUT)

    def restart(self) -> None:
        """Stop and start again on the same port: an empty Redis, as after a crash."""
        self.stop()
        self.start()

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"FLUSHALL\r\n")
            reply = s.recv(64)
        if not reply.startswith(b"+OK"):
            raise RuntimeError(f"FLUSHALL answered {reply!r}")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
