"""The mock's contact history (issue 16): a scenario's ``history:`` on the offered chat.

The earlier chats are put on the session with the offer, newest first, as the
server's ``ContactHistory`` would; a transcript the agent opens is there at once
(the mock answers ``GetHistoryTranscript`` itself).
"""

from __future__ import annotations

from ..formats.transcript import Entry, Kind, Role, Sender
from ..model import commands as cmd
from ..model.contact_history import HistoryItem
from ..model.session import ChatSession
from .scenario import HistorySpec, Scenario

LINE_SECONDS = 30.0  # an earlier chat's messages, this far apart


def _id(number: int) -> str:
    return f"history-{number}"


def history_items(scenario: Scenario) -> list[HistoryItem]:
    """The scenario's earlier chats, newest first (ids ``history-1``... in file order)."""
    items = [
        HistoryItem(
            conversation=_id(n),
            created=spec.date.timestamp(),
            state=spec.state,
            agent=spec.agent,
            disposition=spec.disposition,
            notes=tuple(spec.notes),
        )
        for n, spec in enumerate(scenario.history, start=1)
    ]
    return sorted(items, key=lambda i: i.created, reverse=True)


def history_entries(spec: HistorySpec, contact: str) -> list[Entry]:
    """An earlier chat's messages as transcript entries (one every ``LINE_SECONDS``)."""
    start = spec.date.timestamp()
    them = Sender(Role.CONTACT, contact, "customer")
    agent = Sender(Role.AGENT, spec.agent or "Agent", "")
    return [
        Entry(
            index=i,
            time=start + i * LINE_SECONDS,
            kind=Kind.MESSAGE,
            sender=them if line.from_ == "contact" else agent,
            text=line.text,
        )
        for i, line in enumerate(spec.transcript)
    ]


def load_history(session: ChatSession, scenario: Scenario) -> None:
    """With the offer: the contact's earlier chats (nothing if the scenario has none)."""
    if scenario.history:
        session.set_history(history_items(scenario))


def handle_history(command: cmd.Command, session: ChatSession, scenario: Scenario) -> bool:
    """Answer ``GetHistoryTranscript`` at once; False for every other command."""
    if not isinstance(command, cmd.GetHistoryTranscript):
        return False
    specs = {_id(n): spec for n, spec in enumerate(scenario.history, start=1)}
    spec = specs.get(command.conversation)
    if spec is None:
        session.history_transcript_refused(command.conversation)
    else:
        session.set_history_transcript(
            command.conversation, history_entries(spec, session.contact.name)
        )
    return True
