"""``HelpFlag``: an agent's raised hand on one chat (issue 14)."""

from __future__ import annotations

from dataclasses import dataclass

MONITOR_MODES = ("silent", "coach", "barge_in")
#: modes in which a supervisor is present for the agent: coaching may be answered
COACH_MODES = ("coach", "barge_in")


@dataclass(frozen=True, slots=True)
class HelpFlag:
    """The agent asked a supervisor for help at clock time ``raised_at``, with an
    optional line ``text``."""

    text: str | None
    raised_at: float
