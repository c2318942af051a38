"""``SessionSupervision``: the agent's side of supervision on one chat (issue 14).

What the agent may know of supervisors (``monitored``, ``monitored_by``), its own
help flag (``help_flag``), and the whisper channel to a coach: ``answer_coach``
and the ``coaching`` entries a supervisor sends. Everything here is agents-only:
coaching is kind ``coaching`` with visibility ``agents``, so it never resets the
reply timer (``reply_timer.is_reply_kind``), and notices about monitoring and the
flag are agents-only too. The raise/lower actions change state at once (the view
shows the flag raised); the transcript's notice comes with the backend's report
(``HelpFlagSeen``), which the server (or the mock) echoes.
"""

from __future__ import annotations

from typing import Any

from ..formats.notices import notice, with_detail
from ..formats.protocol import MAX_FLAG_LENGTH
from ..formats.transcript import SYSTEM_SENDER, Entry, Kind, Visibility
from . import commands as cmd
from . import events as ev
from .errors import ChatError
from .help_flag import COACH_MODES, MONITOR_MODES, HelpFlag
from .session_config import SessionState
from .session_input import SessionInput

# a flag is raised on a chat the agent is working in
_FLAG_STATES = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT)
# the coach may be answered while the chat is on the agent's desk (wrap-up included)
_COACH_STATES = (SessionState.ACCEPTED, SessionState.CONTACT_LEFT, SessionState.ENDED)


class SessionSupervision(SessionInput):
    """Monitoring, coaching and the help flag, as the agent of the chat sees them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.monitored: str | None = None  # "silent", "coach", "barge_in" or None
        self.monitored_by: str | None = None  # the supervisor's name
        self.help_flag: HelpFlag | None = None

    # ------------------------------------------------------------ queries
    @property
    def coached(self) -> bool:
        """A supervisor is there to talk to (coach or barge-in mode)."""
        return self.monitored in COACH_MODES

    # ------------------------------------------------------------ agent acts
    def raise_flag(self, text: str | None = None) -> HelpFlag:
        """Ask a supervisor for help on this chat, with an optional line."""
        self._require("raise the help flag on", *_FLAG_STATES)
        if self.help_flag is not None:
            raise ChatError(f"the help flag of chat {self.id!r} is raised already", code="not_now")
        line = None if text is None else str(text).strip() or None
        if line is not None and len(line) > MAX_FLAG_LENGTH:
            raise ChatError(
                f"the help line has {len(line)} characters; the limit is {MAX_FLAG_LENGTH}",
                code="message_too_long",
            )
        self.help_flag = HelpFlag(line, self._now())
        self._emit(cmd.RaiseFlag(self.id, line))
        self._changed()
        return self.help_flag

    def lower_flag(self) -> None:
        """Take the help flag down (help came, or it is not needed any more)."""
        if self.help_flag is None:
            raise ChatError(f"no help flag is raised on chat {self.id!r}", code="not_now")
        self.help_flag = None
        self._emit(cmd.LowerFlag(self.id))
        self._changed()

    def answer_coach(self, text: str) -> Entry:
        """Whisper back to the coach: a ``coaching`` entry only agents see. Only while a
        supervisor coaches or barged in (``monitored`` is "coach" or "barge_in")."""
        self._require("answer the coach in", *_COACH_STATES)
        if not self.coached:
            raise ChatError(
                f"nobody coaches chat {self.id!r}: answer the coach while a supervisor "
                "coaches you or has joined",
                code="not_now",
            )
        text = self._check_text(text)
        client_id = self._next_client_id()
        entry = self._append(
            Kind.COACHING,
            self._agent_sender(),
            text,
            client_id=client_id,
            visibility=Visibility.AGENTS,
        )
        self._emit(cmd.AnswerCoach(self.id, client_id, text))
        self._changed()
        return entry

    # ------------------------------------------------------------ export
    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        flag = self.help_flag
        data["monitored"] = self.monitored
        data["monitored_by"] = self.monitored_by
        data["help_flag"] = None if flag is None else {"text": flag.text, "at": flag.raised_at}
        return data

    # ------------------------------------------------------------ backend reports
    def _apply(self, event: ev.SessionEvent) -> Entry | None:
        match event:
            case ev.CoachingReceived():
                return self._on_coaching(event)
            case ev.MonitoringSeen():
                return self._on_monitoring(event)
            case ev.HelpFlagSeen():
                return self._on_help_flag(event)
        return super()._apply(event)

    def _on_coaching(self, event: ev.CoachingReceived) -> Entry | None:
        if self.has_client_id(event.client_id):
            return None
        entry = self._append(
            Kind.COACHING,
            event.sender,
            str(event.text),
            client_id=event.client_id,
            visibility=Visibility.AGENTS,
        )
        self._changed()
        return entry

    def _on_monitoring(self, event: ev.MonitoringSeen) -> Entry:
        mode = event.mode
        if mode is not None and mode not in MONITOR_MODES:
            raise ValueError(f"monitoring mode must be one of {MONITOR_MODES} or None: {mode!r}")
        self.monitored = mode
        self.monitored_by = None if mode is None else event.supervisor
        if mode is None:
            code = "monitor_coach_ended" if event.coach_left else "monitor_stopped"
        else:
            code = f"monitor_{mode}"
        said = notice(code, name=event.supervisor)
        entry = self._append(Kind.NOTICE, SYSTEM_SENDER, said, visibility=Visibility.AGENTS)
        self._changed()
        return entry

    def _on_help_flag(self, event: ev.HelpFlagSeen) -> Entry:
        if event.raised:
            self.help_flag = HelpFlag(event.text, self._now())
            said = with_detail("flag_raised", event.text, "note", name=event.by)
        else:
            self.help_flag = None
            said = notice("flag_lowered", name=event.by)
        entry = self._append(Kind.NOTICE, SYSTEM_SENDER, said, visibility=Visibility.AGENTS)
        self._changed()
        return entry
