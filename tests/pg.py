"""Throw-away PostgreSQL clusters for the tests (issue 18 item 6).

Debian's server binaries (``/usr/lib/postgresql/*/bin``; ``scripts/test.sh``
installs the ``postgresql`` package when they are missing) make a cluster in a
temporary folder, on a free port of 127.0.0.1, with trust authentication for
the ``postgres`` superuser. PostgreSQL refuses to run as root, so when the
tests run as root the cluster belongs to, and runs as, the ``postgres`` system
user (``runuser``). One cluster per test session; each test gets a fresh
database (``CREATE DATABASE``), which is cheap next to ``initdb``.

Every wait is bounded: ``pg_ctl -w -t`` and ``subprocess`` timeouts.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

START_TIMEOUT = 60  # seconds pg_ctl may wait for the server to accept connections
STOP_TIMEOUT = 30


def find_bindir() -> Path:
    """The newest Debian PostgreSQL server binaries (or ``initdb`` on the PATH)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(
        "PostgreSQL's server binaries are missing: scripts/test.sh installs them "
        "(apt-get install postgresql)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One temporary PostgreSQL cluster; ``start``, ``create_database``, ``stop``."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.as_postgres = os.geteuid() == 0  # the server refuses to run as root
        self.folder = Path(tempfile.mkdtemp(prefix="chat-widget-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self._names = itertools.count(1)
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=True, cwd=self.folder
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-instructions",
            timeout=120,
        )
        # fsync off: a throw-away cluster needs no crash safety, the tests need speed
        # (the store still commits synchronously; durability is PostgreSQL's own)
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT),
            "start",
            timeout=START_TIMEOUT + 10,
        )

    def create_database(self) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            if self.data.exists():
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    str(STOP_TIMEOUT),
                    "stop",
                    timeout=STOP_TIMEOUT + 10,
                )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
