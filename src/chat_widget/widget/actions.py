"""View actions → model calls, shared by the workspace (and ready for ChatWidget).

One table per target: a chat (``session_actions``), the chat's collaboration
(``collab_actions``: F5, F6, F7), colleagues' consultations of this agent
(``incoming_consultation_actions``: F7, consulted side) and the agent's team IM
(``im_actions``: F14).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ..model.clock import VirtualClock
from ..model.desk import AgentDesk
from ..model.errors import ChatError, error_code_of
from ..model.session import ChatSession

Action = Callable[[], object]


class ShowsErrors(Protocol):
    """A widget with the error traits its view shows (``error_code`` + ``error``)."""

    error: str
    error_code: str

    def hold_sync(self) -> AbstractContextManager[object]: ...


def run_reporting(widget: ShowsErrors, action: Action) -> None:
    """Run a view action; a refusal shows in the view (code and text together, nothing
    is lost), success clears the last one."""
    try:
        action()
    except (ChatError, ValueError, TypeError, LookupError) as exc:
        code, text = error_code_of(exc), str(exc)
    else:
        code = text = ""
    with widget.hold_sync():
        widget.error_code = code
        widget.error = text


class Realtime(Protocol):
    """A backend whose clock can run with the wall clock (agents', supervisor's)."""

    def start_realtime(self) -> bool: ...


def session_actions(session: ChatSession, args: dict[str, Any]) -> dict[str, Action]:
    return {
        "accept": session.accept,
        "reject": session.reject,
        "ignore": session.ignore,
        "send": lambda: session.send(str(args["text"]), response=args.get("response") or None),
        "push_url": lambda: session.push_url(str(args["url"])),
        "typing": lambda: session.set_agent_typing(bool(args["typing"])),
        "disposition": lambda: session.set_disposition(args.get("code") or None),
        "note": lambda: session.add_note(str(args["text"])),
        "end": session.end,
        "done": session.mark_done,
        "call": lambda: session.call(str(args["number"])),
        "hang_up": session.hang_up,
        "email": lambda: session.email(str(args["address"])),
        # supervision (issue 14)
        "raise_flag": lambda: session.raise_flag(str(args.get("text") or "") or None),
        "lower_flag": session.lower_flag,
        "answer_coach": lambda: session.answer_coach(str(args["text"])),
        # the contact's history (issue 16): fetch an earlier chat's transcript
        "history_open": lambda: session.load_history_transcript(str(args["conversation"])),
    }


def collab_actions(desk: AgentDesk, session_id: str, args: dict[str, Any]) -> dict[str, Action]:
    c = desk.collab

    def note() -> str | None:
        return str(args.get("note") or "").strip() or None

    return {
        "transfer": lambda: c.transfer(
            session_id, str(args["target_kind"]), str(args["target_id"]), note()
        ),
        "cancel_transfer": lambda: c.cancel_transfer(session_id),
        "invite": lambda: c.invite(session_id, str(args["target_id"])),
        "leave_conference": lambda: c.leave_conference(session_id),
        "consult": lambda: c.consult(
            session_id,
            str(args["target_kind"]),
            str(args["target_id"]),
            str(args.get("medium", "chat")),
        ),
        "consult_send": lambda: c.consult_send(session_id, str(args["text"])),
        "consult_end": lambda: c.end_consultation(session_id),
        "consult_to_conference": lambda: c.consultation_to_conference(session_id),
        "consult_to_transfer": lambda: c.consultation_to_transfer(session_id, note()),
    }


def im_actions(desk: AgentDesk, args: dict[str, Any]) -> dict[str, Action]:
    im = desk.team_im

    def send() -> None:
        colleague_id = str(args["colleague_id"])
        name = desk.directory.agents.get(colleague_id)
        im.send(colleague_id, str(args["text"]), name=name.name if name else None)

    return {
        "im_send": send,
        "im_read": lambda: im.mark_read(str(args["colleague_id"])),
    }


def incoming_consultation_actions(desk: AgentDesk, args: dict[str, Any]) -> dict[str, Action]:
    """The consulted side of F7: a colleague's consultation of this agent."""
    c = desk.collab

    def cid() -> str:
        return str(args["consultation_id"])

    return {
        "incoming_answer": lambda: c.answer(cid()),
        "incoming_decline": lambda: c.decline(cid()),
        "incoming_reply": lambda: c.reply(cid(), str(args["text"])),
        "incoming_hang_up": lambda: c.hang_up(cid()),
        "incoming_dismiss": lambda: c.dismiss(cid()),
    }


def clock_actions(
    backend: Realtime | None, clock: VirtualClock, args: dict[str, Any]
) -> dict[str, Action]:
    """The trainer's clock strip (virtual clocks only). Play also starts the backend's
    real-time driver, so a hand-driven clock starts running with the wall clock."""

    def resume() -> None:
        clock.resume()
        if backend is not None and not clock.driven:
            backend.start_realtime()

    return {
        "clock_pause": clock.pause,
        "clock_resume": resume,
        "clock_rate": lambda: clock.set_rate(float(args["rate"])),
        "clock_step": lambda: clock.advance(float(args.get("seconds", 10))),
    }
