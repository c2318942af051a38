"""``FrameQueue``: the outbox both sans-I/O protocol clients (agent, supervisor) keep.

Every durable frame waits in the outbox until the server acknowledges it; a
dropped connection loses nothing: ``connection_made`` hands back everything
unacknowledged, in order and with the same ids, so the server stores each once.
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict

from ..formats import protocol as p

AUTH_REFUSED = (p.ErrorCode.AUTH_FAILED, p.ErrorCode.AUTH_TIMEOUT)


def token_refusal(frame: p.ServerFrame, role: str) -> str | None:
    """Why the server refused the ``role``'s token (reconnecting will not help), or None."""
    if isinstance(frame, p.Error) and frame.code in AUTH_REFUSED:
        return f"server refused the {role} token: {frame.message}"
    return None


class FrameQueue:
    """Frame ids, the outbox until acknowledged, and what to write now.

    ``prefix``: what makes this client's frame ids unique (default: random)."""

    def __init__(self, prefix: str | None = None) -> None:
        self.connected = False
        self.outbox: OrderedDict[str, str] = OrderedDict()  # client id -> frame, until acked
        self.frame_conv: dict[str, str] = {}  # client id -> its conversation
        self._ids = itertools.count(1)
        self._prefix = prefix or secrets.token_hex(4)
        self._to_send: list[str] = []

    def next_id(self, what: str) -> str:
        return f"{self._prefix}:{what}:{next(self._ids)}"

    def send(self, frame: p._ClientFrame, *, durable: bool = True) -> None:
        """Keep ``frame`` until acknowledged (``durable``); send it now if connected."""
        text = frame.to_json()
        if durable:
            self.outbox[frame.id] = text
            conversation = getattr(frame, "conversation", None)
            if conversation is not None:
                self.frame_conv[frame.id] = conversation
        if self.connected:
            self._to_send.append(text)

    def settle(self, frame_id: str) -> str | None:
        """The frame is done (acknowledged, or refused for good): its conversation."""
        self.outbox.pop(frame_id, None)
        return self.frame_conv.pop(frame_id, None)

    def data_to_send(self) -> list[str]:
        """The frames to write now, in order (each returned once)."""
        out, self._to_send = self._to_send, []
        return out

    def connection_made(self) -> list[str]:
        """The socket is authenticated: every unacknowledged frame, to resend in order
        (same ids, so the server stores each once). Later frames go to ``data_to_send``."""
        self.connected = True
        self._to_send.clear()
        return list(self.outbox.values())

    def connection_lost(self) -> None:
        """Frames wait in the outbox until the next ``connection_made``."""
        self.connected = False
        self._to_send.clear()

    @property
    def pending(self) -> int:
        """Frames sent or queued but not yet acknowledged by the server."""
        return len(self.outbox)
