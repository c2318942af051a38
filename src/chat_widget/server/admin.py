"""What every store's ``add_agent`` checks and makes, in one place."""

from __future__ import annotations

import re
import secrets
import time

from .store import AgentRecord


def new_agent(
    name: str, supervisor: bool = False, *, nickname: str | None = None, capacity: int | None = None
) -> tuple[AgentRecord, str]:
    """A checked agent record (its id from the name) and a fresh token to store hashed.

    ``ValueError`` for an empty or too long name or nickname, or a capacity below 1."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("agent name must be 1 to 100 characters")
    if nickname is not None:
        nickname = nickname.strip()
        if not nickname or len(nickname) > 100:
            raise ValueError("agent nickname must be 1 to 100 characters")
    if capacity is not None and capacity < 1:
        raise ValueError(f"agent capacity must be at least 1, got {capacity}")
    agent_id = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "agent"
    token = secrets.token_urlsafe(32)
    return AgentRecord(agent_id, name, time.time(), supervisor, nickname, capacity), token
