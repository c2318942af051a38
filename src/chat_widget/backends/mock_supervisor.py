"""``ScriptedSupervisor``: the mock's team lead, who coaches as the scenario says.

A scenario's coaching lines (a ``coach:`` step, ``when_yellow``/``when_red``
hooks with ``coach``, ``on_flag``) are spoken by the ``MockBackend``'s
supervisor; coaching puts the chat in coach mode first (``MonitoringSeen``), as
the server's ``MonitoringChanged`` does before a supervisor's first line. The
agent's help flag is echoed as the server would (``HelpFlagSeen``), and the
agent's answers to the coach are kept in ``answers`` (the scripted supervisor
reads them but says nothing back).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..formats.transcript import Role, Sender
from ..model import commands as cmd
from ..model import events as ev
from ..model.clock import ScheduledCall
from ..model.help_flag import COACH_MODES
from ..model.session import ChatSession, SessionState

if TYPE_CHECKING:
    from .scenario import Scenario

SUPERVISION_COMMANDS = (cmd.RaiseFlag, cmd.LowerFlag, cmd.AnswerCoach)
_LIVE = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT, SessionState.ENDED)


class ScriptedSupervisor:
    """A supervisor named ``name`` who coaches the mock's chats.

    >>> MockBackend("billing", supervisor=ScriptedSupervisor("Tess Trainer"))  # doctest: +SKIP
    """

    def __init__(self, name: str = "Tess", *, supervisor_id: str | None = None) -> None:
        if not name.strip():
            raise ValueError("a supervisor needs a name")
        self.name = name
        self.id = supervisor_id or "supervisor-" + "-".join(name.lower().split())
        self.answers: list[tuple[str, str]] = []  # (chat id, text) the agent whispered back
        self._ids = itertools.count(1)
        self._flag_answers: dict[str, ScheduledCall] = {}

    @property
    def sender(self) -> Sender:
        return Sender(Role.SUPERVISOR, self.name, self.id)

    # -- what the script makes the supervisor do -------------------------------------
    def coach(self, session: ChatSession, text: str) -> None:
        """Coach the agent of ``session`` (joining in coach mode first if need be)."""
        if session.state not in _LIVE:
            return
        if session.monitored not in COACH_MODES or session.monitored_by != self.name:
            session.receive(ev.MonitoringSeen(mode="coach", supervisor=self.name))
        client_id = f"{session.id}:{self.id}:{next(self._ids)}"
        session.receive(ev.CoachingReceived(text=text, sender=self.sender, client_id=client_id))

    def lower_flag(self, session: ChatSession) -> None:
        if session.help_flag is not None:
            session.receive(ev.HelpFlagSeen(raised=False, by=self.name))

    # -- the agent's supervision commands ------------------------------------------
    def flag_raised(
        self,
        session: ChatSession,
        scenario: Scenario,
        call_later: Callable[[float, Callable[[], None]], ScheduledCall],
    ) -> None:
        """The scenario's ``on_flag``: after its delay, lower the flag and coach."""
        answer = scenario.on_flag
        if answer is None:
            return

        def respond() -> None:
            self._flag_answers.pop(session.id, None)
            if session.help_flag is None:
                return
            self.coach(session, answer.coach)
            self.lower_flag(session)

        self.flag_lowered(session)
        self._flag_answers[session.id] = call_later(answer.after, respond)

    def flag_lowered(self, session: ChatSession) -> None:
        pending = self._flag_answers.pop(session.id, None)
        if pending is not None:
            pending.cancel()


def handle_supervision(
    command: cmd.Command,
    session: ChatSession,
    scenario: Scenario,
    supervisor: ScriptedSupervisor | None,
    call_later: Callable[[float, Callable[[], None]], ScheduledCall],
) -> bool:
    """Answer the agent's supervision commands as the server and a supervisor would;
    False if ``command`` is none of them."""
    agent = session.agent.name
    if isinstance(command, cmd.RaiseFlag):
        session.receive(ev.HelpFlagSeen(raised=True, text=command.text, by=agent))
        if supervisor is not None:
            supervisor.flag_raised(session, scenario, call_later)
    elif isinstance(command, cmd.LowerFlag):
        session.receive(ev.HelpFlagSeen(raised=False, by=agent))
        if supervisor is not None:
            supervisor.flag_lowered(session)
    elif isinstance(command, cmd.AnswerCoach):
        if supervisor is not None:
            supervisor.answers.append((session.id, command.text))
    else:
        return False
    return True
