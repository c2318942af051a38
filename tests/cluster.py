"""Several real ``chat-widget serve`` processes on one store and one bus (issue 18).

The multi-process tests and ``bench/relay.py`` start their servers through
``ServerCluster``: N subprocesses of the venv's own ``chat-widget`` (the one
next to ``sys.executable``, never whatever is on the PATH), each on a free port
of 127.0.0.1, all with the same ``--store`` (PostgreSQL URL or a SQLite
``--db`` file) and ``--bus``. A reader thread per process follows its stdout:
the startup line (``chat-widget: customer page http://H:P/  agents
ws://H:P/ws``) and the role lines (``chat-widget: role router|gateway``,
printed again on every change), and keeps its stderr for failure messages.

Every wait is bounded; ``stop`` terminates, then kills after a bound.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 60.0  # wall seconds a process may take to print its startup line
STOP_TIMEOUT = 5.0  # wall seconds between SIGTERM and SIGKILL (a clean stop takes < 1 s)
STDERR_TAIL = 4000  # characters of each process's stderr in a failure message

#: the load generators deliberately exceed a human's typing rate, from one address
LOAD_LIMITS = (
    "--rate",
    "100000",
    "--rate-burst",
    "100000",
    "--chat-rate",
    "100000",
    "--chat-rate-burst",
    "100000",
    "--address-chats",
    "1000000",
    "--address-chat-burst",
    "100000",
)
#: every process allows this customer page origin, so a customer may move between them
PAGE_ORIGIN = "http://shop.test"

STARTED = re.compile(r"chat-widget: customer page (\S+)\s+agents (ws://\S+)")
ROLE = re.compile(r"chat-widget: role (router|gateway)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chat_widget_command() -> str:
    """The venv's own console script (a PATH lookup could find another install)."""
    script = Path(sys.executable).parent / "chat-widget"
    if not script.exists():
        raise RuntimeError(f"{script} is missing: pip install -e . in this venv")
    return str(script)


@dataclass
class ServerProcess:
    """One server process: its port, its output so far and its current role."""

    index: int
    port: int
    proc: subprocess.Popen[str] | None = None
    url: str = ""
    role: str | None = None  # the last role line; None before the first or when dead
    roles: list[str] = field(default_factory=list)  # every role line, over restarts
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    starts: int = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class ServerCluster:
    """N ``chat-widget serve`` processes sharing ``store``/``db`` and ``bus``."""

    def __init__(
        self,
        n: int,
        *,
        store: str | None = None,
        db: str | None = None,
        bus: str | None = None,
        extra: Sequence[str] = (),
        log_level: str = "WARNING",
        limits: Sequence[str] = LOAD_LIMITS,
        origin: str | None = PAGE_ORIGIN,
    ) -> None:
        if (store is None) == (db is None):
            raise ValueError("give exactly one of store (postgresql://...) or db (a file)")
        self.store, self.db, self.bus = store, db, bus
        self.extra = list(extra)
        self.log_level = log_level
        self.limits = list(limits)
        self.origin = origin
        self.procs = [ServerProcess(i, free_port()) for i in range(n)]
        self.forced: list[int] = []  # processes SIGTERM did not stop in time
        self._lock = threading.Lock()

    # -- addresses -----------------------------------------------------------------
    def url(self, i: int) -> str:
        return f"ws://127.0.0.1:{self.procs[i].port}/ws"

    @property
    def urls(self) -> list[str]:
        return [self.url(i) for i in range(len(self.procs))]

    def http_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.procs[i].port}"

    def page_origin(self, i: int) -> str:
        """The Origin a customer page sends to process ``i``."""
        return self.origin if self.origin is not None else self.http_url(i)

    # -- processes -----------------------------------------------------------------
    def command(self, i: int) -> list[str]:
        cmd = [chat_widget_command(), "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.procs[i].port), "--log-level", self.log_level]
        cmd += ["--store", self.store] if self.store is not None else ["--db", str(self.db)]
        if self.bus is not None:
            cmd += ["--bus", self.bus]
        if self.origin is not None:
            cmd += ["--origin", self.origin]
        return cmd + self.limits + self.extra

    def _spawn(self, i: int) -> None:
        sp = self.procs[i]
        sp.started.clear()
        sp.role = None
        sp.url = ""
        sp.starts += 1
        proc = subprocess.Popen(
            self.command(i),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        sp.proc = proc
        threading.Thread(target=self._follow_stdout, args=(sp, proc), daemon=True).start()
        threading.Thread(target=self._follow_stderr, args=(sp, proc), daemon=True).start()

    def _follow_stdout(self, sp: ServerProcess, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:  # ends at EOF: the process exited
            with self._lock:
                sp.stdout.append(line.rstrip("\n"))
                if sp.proc is not proc:
                    continue  # a killed generation's last words
                if m := STARTED.search(line):
                    sp.url = m.group(2)
                    sp.started.set()
                elif m := ROLE.search(line):
                    sp.role = m.group(1)
                    sp.roles.append(m.group(1))

    def _follow_stderr(self, sp: ServerProcess, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            with self._lock:
                sp.stderr.append(f"[{sp.index}.{sp.starts}] {line.rstrip()}")

    def _wait_started(self, i: int, timeout: float = START_TIMEOUT) -> None:
        sp = self.procs[i]
        deadline = time.monotonic() + timeout
        while not sp.started.wait(0.05):
            if sp.proc is not None and sp.proc.poll() is not None:
                time.sleep(0.2)  # let the reader threads take the last lines
                raise RuntimeError(f"server {i} exited ({sp.proc.returncode})\n{self.report()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {i} did not start in {timeout:g} s\n{self.report()}")

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start every process (together), then wait for each startup line."""
        try:
            for i in range(len(self.procs)):
                self._spawn(i)
            for i in range(len(self.procs)):
                self._wait_started(i, timeout)
        except BaseException:
            self.stop()
            raise

    def kill9(self, i: int) -> None:
        """SIGKILL: no goodbye, no flush; its PostgreSQL session and sockets just end."""
        sp = self.procs[i]
        if sp.proc is not None and sp.proc.poll() is None:
            sp.proc.send_signal(signal.SIGKILL)
            sp.proc.wait(STOP_TIMEOUT)
        with self._lock:
            sp.role = None

    def restart(self, i: int, timeout: float = START_TIMEOUT) -> None:
        """Start process ``i`` again on the same port (kill it first if it lives)."""
        self.kill9(i)
        self._spawn(i)
        self._wait_started(i, timeout)

    def stop(self) -> list[int]:
        """SIGTERM to the gateways, then to the router (so that no gateway takes over
        while it shuts down), SIGKILL to whoever is still there after STOP_TIMEOUT.
        Returns the indexes that had to be killed (a shutdown that hung)."""
        roles = self.roles()
        gateways = [sp for sp in self.procs if sp.alive and roles[sp.index] != "router"]
        routers = [sp for sp in self.procs if sp.alive and roles[sp.index] == "router"]
        return self._terminate(gateways) + self._terminate(routers)

    def _terminate(self, live: list[ServerProcess]) -> list[int]:
        for sp in live:
            assert sp.proc is not None
            sp.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        forced = []
        for sp in live:
            assert sp.proc is not None
            try:
                sp.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                forced.append(sp.index)
                sp.proc.kill()
                sp.proc.wait(STOP_TIMEOUT)
        self.forced += forced
        return forced

    def __enter__(self) -> ServerCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- roles -----------------------------------------------------------------------
    def roles(self) -> list[str | None]:
        """Each process's current role (None: dead, or no role line yet)."""
        with self._lock:
            return [sp.role if sp.alive else None for sp in self.procs]

    def _single_router(self, deadline: float, timeout: float) -> int | None:
        """The one live router's index; None: not yet (AssertionError past ``deadline``)."""
        roles = self.roles()
        if roles.count("router") == 1:
            return roles.index("router")
        if time.monotonic() > deadline:
            raise AssertionError(f"no single router after {timeout:g} s: {roles}\n{self.report()}")
        return None

    def router(self, timeout: float = 15.0) -> int:
        """The index of the one live router (waits, bounded, until there is exactly one)."""
        deadline = time.monotonic() + timeout
        while (found := self._single_router(deadline, timeout)) is None:
            time.sleep(0.05)
        return found

    async def arouter(self, timeout: float = 15.0) -> int:
        """``router`` for async tests: polls without blocking the loop."""
        deadline = time.monotonic() + timeout
        while (found := self._single_router(deadline, timeout)) is None:
            await asyncio.sleep(0.05)
        return found

    def gateways(self) -> list[int]:
        return [i for i, role in enumerate(self.roles()) if role == "gateway"]

    def alive(self) -> list[int]:
        return [sp.index for sp in self.procs if sp.alive]

    def pids(self) -> list[int]:
        return [sp.proc.pid for sp in self.procs if sp.proc is not None]

    # -- diagnostics -----------------------------------------------------------------
    def report(self) -> str:
        """Every process's state and the tail of its stderr, for a failure message."""
        lines = []
        with self._lock:
            for sp in self.procs:
                code = None if sp.proc is None else sp.proc.poll()
                lines.append(
                    f"-- server {sp.index} port {sp.port} starts {sp.starts} exit {code} "
                    f"roles {sp.roles}"
                )
                lines.append("\n".join(sp.stderr)[-STDERR_TAIL:])
        return "\n".join(lines)
