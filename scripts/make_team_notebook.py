"""Write notebooks/03_team.ipynb: working with colleagues in the agent workspace.

Run: .venv/bin/python scripts/make_team_notebook.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from make_notebooks import METADATA, cell_id  # same directory: run as a script
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

# the notebooks live in notebooks/ (the trainee's file browser); their generators here
HERE = Path(__file__).resolve().parent.parent / "notebooks"
NAME = "03_team.ipynb"

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """# Working with colleagues: the agent workspace

A real shift has several chats at once and colleagues to hand a chat to, ask,
or bring in. `WorkspaceWidget` shows all of an agent's chats in an
**interaction bar** (each tab in its own timer colour; hover a tab for its
elapsed time and last lines), a **directory** of mock colleagues, queues and
external contacts, **transfer**, **conference** and **consultation** (by chat
or voice) for each chat, and **team messages** with unread counts. While a
reply is pending and you look at another browser tab, this tab's title and
icon flash in the timer colour.

The clock below only moves when a cell says so, so every step is exact.""",
    ),
    (
        "code",
        """from chat_widget import MockBackend, VirtualClock, WorkspaceWidget

router = {
    "name": "Router down",
    "contact": {"name": "Jonas Becker"},
    "offer_after": 20,  # a second chat is offered 20 s into the shift
    "steps": [{"say": "My internet is down since this morning.", "typing": 2, "delay": 0},
              {"wait_for_reply": True}],
}
backend = MockBackend(["billing", router], clock=VirtualClock())
backend.clock.advance(1)
workspace = WorkspaceWidget(backend)
workspace""",
    ),
    (
        "md",
        """## The team

The mock colleagues are a small editable set: pass your own
`MockColleague(...)` list as `MockBackend(colleagues=...)`.""",
    ),
    (
        "code",
        """import pandas as pd

team = pd.DataFrame(a.to_dict() for a in backend.desk.directory.agents.values())
assert list(team["presence"]).count("available") == 2
team""",
    ),
    (
        "md",
        """## Two chats at once

Accept the first chat, let 20 seconds pass: the second one is offered
without reloading anything.""",
    ),
    (
        "code",
        """desk = backend.desk
first = desk.sessions["chat-1"]
if first.state == "offered":  # not accepted in the workspace yet
    first.accept()
backend.clock.advance(20)
second = desk.sessions["chat-2"]
if second.state == "offered":
    second.accept()
backend.clock.advance(12)
assert [s.id for s in desk.active_sessions()] == ["chat-1", "chat-2"]
assert str(first.timer_colour()) == "yellow" and str(second.timer_colour()) == "green"
workspace.order""",
    ),
    (
        "md",
        """## Consult a colleague by chat, then bring her in

The consultation is a side conversation: the contact never sees it, and it
does not reset the reply timer. Then it becomes a conference.""",
    ),
    (
        "code",
        """collab = desk.collab
collab.consult("chat-1", "agent", "c-lena", medium="chat")
backend.clock.advance(2)
collab.consult_send("chat-1", "May I refund a double payment of 40 EUR?")
backend.clock.advance(4)
consult = [e for e in first.transcript if e.kind == "consult"]
assert [e.sender.name for e in consult][-1] == "Lena Hoffmann"
seen_by_contact = backend.team.contact_received["chat-1"]
assert not any(e.kind == "consult" for e in seen_by_contact)
collab.consultation_to_conference("chat-1")
backend.clock.advance(5)
[p["name"] + " (" + p["role"] + ")" for p in collab.view("chat-1")["participants"]]""",
    ),
    (
        "md",
        """## Voice consultation with an external contact

Calls are simulated: dialing → ringing → connected → ended.""",
    ),
    (
        "code",
        """states = []
collab.consult("chat-2", "external", "x-brandt", medium="voice")
states.append(collab.view("chat-2")["consultation"]["state"])
for _ in range(5):
    backend.clock.advance(1)
    states.append(collab.view("chat-2")["consultation"]["state"])
collab.end_consultation("chat-2")
states.append(collab.view("chat-2")["consultation"]["state"])
assert states[0] == "requested" and "ringing" in states and states[-1] == "ended"
states""",
    ),
    (
        "md",
        """## Transfer, with a note for the receiver

The chat leaves this workspace when the colleague accepts; the contact sees a
notice.""",
    ),
    (
        "code",
        """collab.transfer("chat-2", "queue", "q-technical", note="Router down since morning")
backend.clock.advance(3)
assert str(second.state) == "transferred" and backend.team.owner_of["chat-2"] == "c-tobias"
assert "transferred to Tobias Klein" in backend.team.contact_received["chat-2"][-1].text
workspace.order""",
    ),
    (
        "md",
        """## Team messages

Messages with colleagues outside any customer chat, with unread counts.""",
    ),
    (
        "code",
        """desk.team_im.send("c-tobias", "Thanks for taking the router case!")
backend.clock.advance(3)
backend.team.send_im("c-lena", "Ping me when the refund is done.")
assert desk.team_im.total_unread == 2
desk.team_im.mark_read("c-lena")
assert desk.team_im.total_unread == 1
{cid: t["unread"] for cid, t in workspace.im["threads"].items()}""",
    ),
]


def main() -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell(src, id=cell_id(NAME, i))
            if k == "md"
            else new_code_cell(src, id=cell_id(NAME, i))
            for i, (k, src) in enumerate(CELLS)
        ],
        metadata=METADATA,
    )
    nbformat.write(nb, HERE / NAME)


if __name__ == "__main__":
    main()
