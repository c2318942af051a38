"""What the session asks its backend to do: plain data, no I/O.

A backend pulls them, oldest first and each once, from
``AgentDesk.commands_to_send()`` (woken by ``on_commands``; ``connect`` pushes
them to a handler instead) or a lone chat's ``ChatSession.take_commands()``,
and performs them: the mock answers from a script, the websocket backend
sends protocol frames.
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
    response: str | None = None  # the standard response it started from (issue 16)


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


# --------------------------------------------------------------------------
# Working with colleagues (F5, F6, F7, F14): issue 4. Every backend performs
# these: the mock through scripted colleagues, the websocket backend as
# protocol frames. Commands that concern no chat (team IM) carry
# ``session_id=""``. Targets are named by ``target_kind`` ("agent", "queue"
# or "external") and the directory id.


@dataclass(frozen=True, slots=True)
class RequestTransfer(Command):
    """Hand the chat to an agent or a queue (F5); the receiver sees ``note``."""

    target_kind: str
    target_id: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CancelTransfer(Command):
    pass


@dataclass(frozen=True, slots=True)
class InviteToConference(Command):
    """Bring a colleague into the chat (F6): agent, contact and one more agent."""

    target_id: str


@dataclass(frozen=True, slots=True)
class LeaveConference(Command):
    """This agent leaves a conference; the colleague who stays owns the chat."""

    successor_id: str


@dataclass(frozen=True, slots=True)
class StartConsultation(Command):
    """Consult a colleague (chat or voice) or an external contact (voice only) (F7)."""

    consultation_id: str
    target_kind: str
    target_id: str
    medium: str  # "chat" | "voice"


@dataclass(frozen=True, slots=True)
class SendConsultMessage(Command):
    """A consultation message: agents only, never delivered to the contact."""

    consultation_id: str
    client_id: str
    text: str


@dataclass(frozen=True, slots=True)
class EndConsultation(Command):
    consultation_id: str


@dataclass(frozen=True, slots=True)
class ConvertConsultation(Command):
    """Turn a consultation into a transfer or a conference with the same colleague."""

    consultation_id: str
    into: str  # "transfer" | "conference"
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SendIm(Command):
    """Team instant message to a colleague (F14); ``session_id`` is ``""``."""

    colleague_id: str
    client_id: str
    text: str


@dataclass(frozen=True, slots=True)
class MarkImRead(Command):
    """This agent has read the thread with ``colleague_id`` up to ``up_to`` (exclusive)."""

    colleague_id: str
    up_to: int


# --------------------------------------------------------------------------
# Several real agents (issue 6): the agent's own presence, and answering a
# colleague's consultation. ``session_id`` is ``""`` for SetPresence and the
# chat's id for AnswerConsultation.


@dataclass(frozen=True, slots=True)
class SetPresence(Command):
    """This agent's presence: "ready" (gets offers), "not_ready" or "away"."""

    presence: str


@dataclass(frozen=True, slots=True)
class AnswerConsultation(Command):
    """This agent takes (or declines) a colleague's consultation about a chat."""

    consultation_id: str
    accept: bool = True


# --------------------------------------------------------------------------
# Supervision (issue 14). The agent's side: ``session_id`` is the chat's id.


@dataclass(frozen=True, slots=True)
class RaiseFlag(Command):
    """Ask a supervisor for help on this chat, with an optional line."""

    text: str | None = None


@dataclass(frozen=True, slots=True)
class LowerFlag(Command):
    pass


@dataclass(frozen=True, slots=True)
class AnswerCoach(Command):
    """The agent's answer to the coach: agents-only, never to the contact."""

    client_id: str
    text: str


# The contact's history (issue 16): ``session_id`` is the current chat's id.


@dataclass(frozen=True, slots=True)
class GetHistoryTranscript(Command):
    """Fetch the transcript of ``conversation``, an earlier chat of the same contact."""

    conversation: str


# The supervisor's side (``SupervisorDesk``): ``session_id`` is the chat's id, or ""
# for MonitorNext.


@dataclass(frozen=True, slots=True)
class Monitor(Command):
    """Monitor the chat in ``mode``: "silent", "coach" or "barge_in" (switches too)."""

    mode: str = "silent"


@dataclass(frozen=True, slots=True)
class StopMonitoring(Command):
    pass


@dataclass(frozen=True, slots=True)
class MonitorNext(Command):
    """Monitor the next chat ``agent_id`` accepts (silently); ``cancel`` undoes it."""

    agent_id: str
    cancel: bool = False


@dataclass(frozen=True, slots=True)
class Coach(Command):
    """A coaching line to the agents in the chat (coach or barge-in mode)."""

    client_id: str
    text: str


@dataclass(frozen=True, slots=True)
class BargeInMessage(Command):
    """A message to everyone in the chat, the contact included (barge-in mode)."""

    client_id: str
    text: str


@dataclass(frozen=True, slots=True)
class SupervisorLowerFlag(Command):
    """The supervisor lowers the chat's help flag."""
