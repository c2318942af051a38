"""``chat-widget serve``: the live chat server (websockets + SQLite)."""

from __future__ import annotations

from .app import ChatServer, run_server
from .config import ServerConfig
from .sqlite_store import SQLiteStore

__all__ = ["ChatServer", "SQLiteStore", "ServerConfig", "run_server"]
