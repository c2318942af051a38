"""Which store a server or an admin command uses: ``--store URL`` or ``--db FILE``.

PostgreSQL's driver is an optional extra (``pip install chat_widget[postgres]``),
so it is imported only when a ``postgresql://`` store is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import ServerConfig
from .sqlite_store import SQLiteStore

if TYPE_CHECKING:
    from .pg_store import PostgresStore


def postgres_store(url: str) -> PostgresStore:
    """The PostgreSQL store at ``url``; a clear error when the driver is missing."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError(
            f"--store takes a postgresql://USER@HOST:PORT/DB URL, got {url!r} "
            "(for a SQLite file use --db FILE)"
        )
    try:
        from .pg_store import PostgresStore
    except ImportError as exc:  # pragma: no cover - the test extra installs psycopg
        raise RuntimeError(
            f"the PostgreSQL store needs psycopg: pip install 'chat_widget[postgres]' ({exc})"
        ) from None
    return PostgresStore(url)


def store_errors() -> tuple[type[BaseException], ...]:
    """What a store that cannot be reached raises (the CLI reports these in one line)."""
    import sqlite3

    errors: tuple[type[BaseException], ...] = (OSError, sqlite3.Error)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the test extra installs psycopg
        return errors
    return (*errors, psycopg.Error)


def server_store(config: ServerConfig) -> SQLiteStore | PostgresStore:
    """The server's ``EventStore``: ``config.store`` (PostgreSQL) if set, else SQLite."""
    if config.store is not None:
        return postgres_store(config.store)
    return SQLiteStore(
        config.db, synchronous=config.synchronous, busy_timeout=config.store_busy_timeout
    )


def admin_store(db: str, store: str | None) -> SQLiteStore | PostgresStore:
    """The store an admin command writes to (``StoreAdmin``)."""
    return postgres_store(store) if store is not None else SQLiteStore(db)
