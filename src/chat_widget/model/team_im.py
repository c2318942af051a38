"""Team instant messaging (F14): threads with colleagues outside any customer chat.

Sans-I/O like the session: ``send`` appends and emits ``SendIm``;
``receive`` is the backend's report (duplicates by ``client_id`` are
dropped, so resends are safe). Unread counts are per thread; ``mark_read``
(the view showed the thread) emits ``MarkImRead`` so a server can keep them
across devices. IM never touches a chat's reply timer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..formats.transcript import AgentProfile
from . import commands as cmd
from .clock import Clock
from .errors import ChatError

MAX_IM_LENGTH = 2000
THREAD_LIMIT = 500  # messages kept per thread in memory


@dataclass(frozen=True, slots=True)
class ImMessage:
    index: int
    time: float
    sender_id: str
    sender_name: str
    text: str
    client_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "i": self.index,
            "t": self.time * 1000.0,
            "from": self.sender_id,
            "n": self.sender_name,
            "x": self.text,
        }


@dataclass(slots=True)
class ImThread:
    colleague_id: str
    colleague_name: str
    messages: list[ImMessage] = field(default_factory=list)
    read_up_to: int = 0  # index one past the last read message
    next_index: int = 0

    @property
    def unread(self) -> int:
        return sum(1 for m in self.messages if m.index >= self.read_up_to)


class TeamIm:
    """This agent's IM threads; listeners get the colleague id of a changed thread."""

    def __init__(
        self, clock: Clock, agent: AgentProfile, emit: Callable[[cmd.Command], None]
    ) -> None:
        self.clock = clock
        self.agent = agent
        self._emit = emit
        self.threads: dict[str, ImThread] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._client_ids = itertools.count(1)

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def thread(self, colleague_id: str, name: str | None = None) -> ImThread:
        t = self.threads.get(colleague_id)
        if t is None:
            t = self.threads[colleague_id] = ImThread(colleague_id, name or colleague_id)
        elif name:
            t.colleague_name = name
        return t

    @property
    def total_unread(self) -> int:
        return sum(t.unread for t in self.threads.values())

    # -- agent acts ----------------------------------------------------------
    def send(self, colleague_id: str, text: str, *, name: str | None = None) -> ImMessage:
        text = _check(text)
        thread = self.thread(colleague_id, name)
        client_id = f"im:{self.agent.id}:{next(self._client_ids)}"
        msg = self._append(thread, self.agent.id, self.agent.name, text, client_id)
        thread.read_up_to = thread.next_index  # own message: everything before is read
        self._emit(cmd.SendIm("", colleague_id, client_id, text))
        self._notify(colleague_id)
        return msg

    def mark_read(self, colleague_id: str) -> None:
        thread = self.threads.get(colleague_id)
        if thread is None or thread.read_up_to == thread.next_index:
            return
        thread.read_up_to = thread.next_index
        self._emit(cmd.MarkImRead("", colleague_id, thread.read_up_to))
        self._notify(colleague_id)

    # -- backend reports -----------------------------------------------------
    def receive(
        self, colleague_id: str, name: str, text: str, *, client_id: str | None = None
    ) -> ImMessage | None:
        thread = self.thread(colleague_id, name)
        if client_id is not None and any(m.client_id == client_id for m in thread.messages):
            return None
        msg = self._append(thread, colleague_id, name, str(text), client_id)
        self._notify(colleague_id)
        return msg

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_unread": self.total_unread,
            "threads": {
                cid: {
                    "name": t.colleague_name,
                    "unread": t.unread,
                    "messages": [m.to_dict() for m in t.messages[-100:]],
                }
                for cid, t in self.threads.items()
            },
        }

    # -- internal ------------------------------------------------------------
    def _append(
        self, thread: ImThread, sender_id: str, name: str, text: str, client_id: str | None
    ) -> ImMessage:
        msg = ImMessage(thread.next_index, self.clock.now(), sender_id, name, text, client_id)
        thread.next_index += 1
        thread.messages.append(msg)
        if len(thread.messages) > THREAD_LIMIT:
            del thread.messages[: len(thread.messages) - THREAD_LIMIT]
        return msg

    def _notify(self, colleague_id: str) -> None:
        for listener in list(self._listeners):
            listener(colleague_id)


def _check(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"message text must be str, got {type(text).__name__}")
    text = text.strip()
    if not text:
        raise ChatError("message is empty")
    if len(text) > MAX_IM_LENGTH:
        raise ChatError(f"message has {len(text)} characters; the limit is {MAX_IM_LENGTH}")
    return text
