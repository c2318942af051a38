"""What the session asks its backend to do: plain data, no I/O.

A backend drains ``ChatSession.take_commands()`` (or gets them through the
desk's listener) and performs them: the mock answers from a script, the
websocket backend sends protocol frames.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    session_id: str


@dataclass(frozen=True, slots=True)
class Accept(Command):
    pass


@dataclass(frozen=True, slots=True)
class Reject(Command):
    pass


@dataclass(frozen=True, slots=True)
class Ignore(Command):
    pass


@dataclass(frozen=True, slots=True)
class SendMessage(Command):
    client_id: str
    text: str


@dataclass(frozen=True, slots=True)
class PushUrl(Command):
    client_id: str
    url: str
    text: str


@dataclass(frozen=True, slots=True)
class SetTyping(Command):
    typing: bool


@dataclass(frozen=True, slots=True)
class SetDisposition(Command):
    code: str | None


@dataclass(frozen=True, slots=True)
class AddNote(Command):
    text: str


@dataclass(frozen=True, slots=True)
class End(Command):
    pass


@dataclass(frozen=True, slots=True)
class MarkDone(Command):
    pass


@dataclass(frozen=True, slots=True)
class StartCall(Command):
    number: str


@dataclass(frozen=True, slots=True)
class HangUp(Command):
    pass
