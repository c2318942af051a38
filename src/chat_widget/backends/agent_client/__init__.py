"""The agent's side of the chat protocol without I/O (``AgentClient``); the asyncio
``WebSocketBackend`` pumps text between a socket and it."""

from .core import AgentClient

__all__ = ["AgentClient"]
