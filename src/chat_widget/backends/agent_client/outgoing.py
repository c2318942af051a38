"""The desk's commands → protocol frames: one builder per command type.

Each builder returns the frames to send for one command (none, one or two) and
may note what the command means for the client's bookkeeping (a message shows as
sending until acked, a conference we leave is no longer ours). ``Ignore`` and
``HangUp`` have no builder: nothing goes to the server (it re-offers after its
timeout; calls are simulated).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ...formats import protocol as p
from ...model import commands as cmd
from ...model.session import CallState

if TYPE_CHECKING:
    from .core import AgentClient

CALL_CONNECT_SECONDS = 3.0

C = TypeVar("C", bound=cmd.Command)
Frames = list[p._ClientFrame]
Builder = Callable[["AgentClient", C], Frames]
Consulting = (
    cmd.StartConsultation | cmd.AnswerConsultation | cmd.SendConsultMessage | cmd.EndConsultation
)
BUILDERS: dict[type[cmd.Command], Builder[Any]] = {}
NOT_DURABLE: tuple[type[p._ClientFrame], ...] = (p.StartTyping, p.StopTyping)  # not resent


def builds(kind: type[C]) -> Callable[[Builder[C]], Builder[C]]:
    """Register the builder of one command type."""

    def register(builder: Builder[C]) -> Builder[C]:
        BUILDERS[kind] = builder
        return builder

    return register


def frames_for(client: AgentClient, command: cmd.Command) -> Frames:
    """The frames ``command`` sends (empty: nothing for the server)."""
    builder = BUILDERS.get(type(command))
    return [] if builder is None else builder(client, command)


def _simple(kind: type[cmd.Command], frame: type[Any], what: str) -> None:
    """Commands that carry nothing but their chat."""
    builds(kind)(lambda c, command: [frame(id=c.next_id(what), conversation=command.session_id)])


_simple(cmd.Accept, p.Accept, "accept")
_simple(cmd.Reject, p.Reject, "reject")
_simple(cmd.End, p.EndChat, "end")
_simple(cmd.MarkDone, p.MarkDone, "done")
_simple(cmd.CancelTransfer, p.CancelTransfer, "cancel")


@builds(cmd.SendMessage)
def _message(c: AgentClient, command: cmd.SendMessage) -> Frames:
    c.mark_pending(command.session_id, command.client_id)
    conv, text = command.session_id, command.text
    return [
        p.SendMessage(id=command.client_id, conversation=conv, text=text, response=command.response)
    ]


@builds(cmd.PushUrl)
def _push_url(c: AgentClient, command: cmd.PushUrl) -> Frames:
    c.mark_pending(command.session_id, command.client_id)
    conv = command.session_id
    return [
        p.SendPushUrl(id=command.client_id, conversation=conv, url=command.url, text=command.text)
    ]


@builds(cmd.SetTyping)
def _typing(c: AgentClient, command: cmd.SetTyping) -> Frames:
    kind: Any = p.StartTyping if command.typing else p.StopTyping
    return [kind(id=c.next_id("typing"), conversation=command.session_id)]


@builds(cmd.SetDisposition)
def _disposition(c: AgentClient, command: cmd.SetDisposition) -> Frames:
    conv = command.session_id
    return [p.SetDisposition(id=c.next_id("disposition"), conversation=conv, code=command.code)]


@builds(cmd.AddNote)
def _note(c: AgentClient, command: cmd.AddNote) -> Frames:
    return [p.AddNote(id=c.next_id("note"), conversation=command.session_id, text=command.text)]


@builds(cmd.StartCall)
def _call(c: AgentClient, command: cmd.StartCall) -> Frames:
    """Calls are simulated (no telephony), as in the mock: connected after a few seconds."""
    session = c.desk.sessions.get(command.session_id)
    if session is not None:

        def connect_call() -> None:
            if session.call_state is CallState.DIALING:
                session.set_call_state(CallState.CONNECTED)

        clock = c.desk.clock
        clock.call_at(clock.now() + CALL_CONNECT_SECONDS, connect_call)
    return []


@builds(cmd.RequestTransfer)
def _transfer(c: AgentClient, command: cmd.RequestTransfer) -> Frames:
    return [
        p.RequestTransfer(
            id=c.next_id("transfer"),
            conversation=command.session_id,
            target_kind=command.target_kind,  # type: ignore[arg-type]
            target_id=command.target_id,
            note=command.note,
        )
    ]


@builds(cmd.InviteToConference)
def _invite(c: AgentClient, command: cmd.InviteToConference) -> Frames:
    conv = command.session_id
    return [
        p.InviteToConference(id=c.next_id("invite"), conversation=conv, target_id=command.target_id)
    ]


@builds(cmd.LeaveConference)
def _leave(c: AgentClient, command: cmd.LeaveConference) -> Frames:
    c.lost.add(command.session_id)  # its later commands are no longer ours to send
    return [p.LeaveConference(id=c.next_id("leave"), conversation=command.session_id)]


def _about(frame_id: str, command: Consulting) -> dict[str, Any]:
    """The id, chat and consultation every consultation frame names."""
    return {
        "id": frame_id,
        "conversation": command.session_id,
        "consultation": command.consultation_id,
    }


@builds(cmd.StartConsultation)
def _consult(c: AgentClient, command: cmd.StartConsultation) -> Frames:
    target_kind: Any = command.target_kind
    medium: Any = command.medium
    about = _about(c.next_id("consult"), command)
    target_id = command.target_id
    return [
        p.StartConsultation(**about, target_kind=target_kind, target_id=target_id, medium=medium)
    ]


@builds(cmd.AnswerConsultation)
def _answer(c: AgentClient, command: cmd.AnswerConsultation) -> Frames:
    return [p.AnswerConsultation(**_about(c.next_id("answer"), command), accept=command.accept)]


@builds(cmd.SendConsultMessage)
def _consult_message(c: AgentClient, command: cmd.SendConsultMessage) -> Frames:
    return [p.SendConsultMessage(**_about(command.client_id, command), text=command.text)]


@builds(cmd.EndConsultation)
def _end_consult(c: AgentClient, command: cmd.EndConsultation) -> Frames:
    return [p.EndConsultation(**_about(c.next_id("endconsult"), command))]


@builds(cmd.ConvertConsultation)
def _convert(c: AgentClient, command: cmd.ConvertConsultation) -> Frames:
    """End the consultation, then transfer to (or invite) the colleague consulted."""
    conv = command.session_id
    consultation = c.desk.collab.team(conv).consultation
    if consultation is None:
        return []
    end = p.EndConsultation(
        id=c.next_id("endconsult"), conversation=conv, consultation=consultation.id
    )
    then: p._ClientFrame
    if command.into == "transfer":
        then = p.RequestTransfer(
            id=c.next_id("transfer"),
            conversation=conv,
            target_kind="agent",
            target_id=consultation.target_id,
            note=command.note,
        )
    else:
        then = p.InviteToConference(
            id=c.next_id("invite"), conversation=conv, target_id=consultation.target_id
        )
    return [end, then]


@builds(cmd.SendIm)
def _im(c: AgentClient, command: cmd.SendIm) -> Frames:
    return [p.SendIm(id=command.client_id, to=command.colleague_id, text=command.text)]


@builds(cmd.MarkImRead)
def _im_read(c: AgentClient, command: cmd.MarkImRead) -> Frames:
    return [p.MarkImRead(id=c.next_id("imread"), colleague=command.colleague_id)]


@builds(cmd.SetPresence)
def _presence(c: AgentClient, command: cmd.SetPresence) -> Frames:
    presence: Any = command.presence
    return [p.SetPresence(id=c.next_id("presence"), presence=presence)]


# -- supervision, the agent's side (issue 14) ----------------------------------------
@builds(cmd.RaiseFlag)
def _raise_flag(c: AgentClient, command: cmd.RaiseFlag) -> Frames:
    conv = command.session_id
    return [p.RaiseFlag(id=c.next_id("flag"), conversation=conv, text=command.text)]


_simple(cmd.LowerFlag, p.LowerFlag, "unflag")


@builds(cmd.AnswerCoach)
def _answer_coach(c: AgentClient, command: cmd.AnswerCoach) -> Frames:
    """The answer shows as sending until acked (the server refuses it without a coach)."""
    c.mark_pending(command.session_id, command.client_id)
    conv = command.session_id
    return [p.SendCoaching(id=command.client_id, conversation=conv, text=command.text)]


@builds(cmd.GetHistoryTranscript)
def _history_transcript(c: AgentClient, command: cmd.GetHistoryTranscript) -> Frames:
    """Kept until answered (``HistoryTranscript`` settles it), so a reconnect asks again."""
    frame_id = c.next_id("history")
    c.history_requests[frame_id] = (command.session_id, command.conversation)
    conv = command.session_id
    return [p.GetHistoryTranscript(id=frame_id, conversation=conv, of=command.conversation)]


#: commands only a supervisor's client sends (``backends.supervisor_client``): an
#: agent's desk never makes them, so this client has no builder for them
SUPERVISOR_COMMANDS: tuple[type[cmd.Command], ...] = (
    cmd.Monitor,
    cmd.StopMonitoring,
    cmd.MonitorNext,
    cmd.Coach,
    cmd.BargeInMessage,
    cmd.SupervisorLowerFlag,
)
