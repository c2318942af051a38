"""One serving process per SQLite file: an exclusive lock on ``<db>.lock``.

``flock`` locks belong to the open file, so a second ``serve`` on the same
database (another process, or another server in this one) is refused at once,
and the kernel drops the lock when the process dies, even by SIGKILL: a stale
lock file never keeps a restarted server out. Admin commands and analysis do not
take it (they may run beside the server).
"""

from __future__ import annotations

import os
from pathlib import Path

from .store import StoreInUse

try:
    import fcntl
except ImportError:  # Windows: no flock; a second process is not detected there
    fcntl = None  # type: ignore[assignment]


class FileLock:
    """``acquire`` or ``StoreInUse``; ``release`` (idempotent)."""

    def __init__(self, database: str | Path) -> None:
        self.path = Path(f"{database}.lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise StoreInUse(
                    f"another chat-widget server already serves {self.path.with_suffix('')}"
                    f" (it holds {self.path}); one server process per SQLite file. Stop it "
                    "first, or use --store postgresql://... for several processes later"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for people: which process serves
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the file releases the flock
