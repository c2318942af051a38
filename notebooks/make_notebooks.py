"""Write the walkthrough notebooks from plain Python lists (keeps them reviewable in diffs).

Run: python notebooks/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent


def write(name: str, cells: list[tuple[str, str]]) -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.write(nb, HERE / name)


WALKTHROUGH: list[tuple[str, str]] = [
    (
        "md",
        """# Handling a customer chat: a walkthrough

This notebook walks a new agent through one customer chat, step by step. The
customer is scripted (a *mock* customer), and time runs on a **training clock**
that you control: pause it, speed it up, or jump ahead to see what happens when
a reply takes too long.

The quick path is a single line: a widget on a scripted billing question,
running in real time. Use the **Training clock** strip on top to pause, speed up
or step the clock.""",
    ),
    (
        "code",
        """from chat_widget import ChatWidget, MockBackend

ChatWidget(MockBackend("billing"))""",
    ),
    (
        "md",
        """## Step by step, with the clock in your hand

Below we build the same chat on a clock that only moves when we say so. That is
how trainers demonstrate each moment, and how these cells check what happens.""",
    ),
    (
        "code",
        """from chat_widget import VirtualClock, SessionState, TimerColour

backend = MockBackend("billing", clock=VirtualClock())
chat = ChatWidget(backend)
chat""",
    ),
    (
        "md",
        """### 1. A chat request arrives

After a second the customer asks to chat. The widget shows the offer with
**Accept**, **Reject** and **Ignore**.""",
    ),
    (
        "code",
        """backend.clock.advance(1)
session = backend.first_session()
assert session.state is SessionState.OFFERED
session.contact.name""",
    ),
    (
        "md",
        """### 2. Accept it

Click **Accept** in the widget above — or run the next cell, which does the same.
The contact's name appears at the top and the **reply reminder** starts, green.""",
    ),
    (
        "code",
        """if session.state is SessionState.OFFERED:
    session.accept()
assert session.timer_colour() is TimerColour.GREEN""",
    ),
    (
        "md",
        """### 3. The customer types, then writes

While the customer types you see *"Maria Weber is typing…"* — but never the
draft itself. The text appears only when it is sent.""",
    ),
    (
        "code",
        """backend.clock.advance(4.5)
assert session.contact_typing()
backend.clock.advance(0.5)
assert not session.contact_typing()
session.transcript[-1].text""",
    ),
    (
        "md",
        """### 4. Don't keep the customer waiting

The reminder turns **yellow** after 30 seconds without a reply, and **red and
blinking** after 60. Watch the indicator in the widget as we jump ahead.""",
    ),
    (
        "code",
        """backend.clock.advance(30)
assert session.timer_colour() is TimerColour.YELLOW
backend.clock.advance(30)
assert session.timer_colour() is TimerColour.RED and session.timer_blinking()""",
    ),
    (
        "md",
        """### 5. Reply

Type a reply in the widget and press **Send** (or Enter), or run the next cell.
Any reply the customer can see resets the reminder.""",
    ),
    (
        "code",
        """session.send("Sorry for the wait! Let me check your invoice.")
assert session.timer_colour() is TimerColour.IDLE
backend.clock.advance(8)
session.transcript[-1].text""",
    ),
    (
        "md",
        """### 6. Push a link

Agents who may push URLs get a down arrow under **Send**: it opens the URL
editor. Only `http://` and `https://` links can be pushed; anything else is
refused with a clear message.""",
    ),
    (
        "code",
        """session.push_url("https://example.com/refunds")
try:
    session.push_url("javascript:alert(1)")
except ValueError as err:
    print("refused:", err)
backend.clock.advance(6)
print(backend.desk.url_history)
session.transcript[-1].text""",
    ),
    (
        "md",
        """### 7. Wrap up

The customer thanks you and leaves. Choose a **disposition code**, add a
**note**, and **Mark done**: the chat leaves your active list.""",
    ),
    (
        "code",
        """session.send("Yes, the confirmation is on its way.")
backend.clock.advance(10)
assert session.state is SessionState.CONTACT_LEFT
session.set_disposition("Resolved")
session.add_note("Double charge refunded")
session.mark_done()
assert session.state is SessionState.DONE
[f"{e.sender.name}: {e.text}" for e in session.transcript]""",
    ),
    (
        "md",
        """## Your turn

Try the other built-in scenarios: `MockBackend("impatient")` complains when the
reminder turns red; `MockBackend("leaver")` sends a phone number and an e-mail
address, then leaves. Or write your own scenario file (see the README).""",
    ),
]


if __name__ == "__main__":
    write("01_walkthrough.ipynb", WALKTHROUGH)
