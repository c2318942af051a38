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
        """### 8. Calls, e-mail and a shaky connection

The **Party Action** menu next to the contact's name lists every phone number and
e-mail address of the contact record. Calls are simulated: *dialing*, then
*connected* a few seconds later, until you hang up. E-mail opens a draft in your
mail program. Trainers can also make the connection wobble, to show what the
status next to the menu looks like.""",
    ),
    (
        "code",
        """backend = MockBackend("billing", clock=VirtualClock())
backend.clock.advance(1)
session = backend.first_session()
session.accept()
chat = ChatWidget(backend)
session.call("+49 30 1234567")
backend.clock.advance(3)
print("call:", session.call_state)
backend.set_connection("reconnecting")
print("connection:", session.connection)
chat""",
    ),
    (
        "code",
        """session.hang_up()
backend.set_connection("connected")
assert (str(session.call_state), str(session.connection)) == ("ended", "connected")""",
    ),
    (
        "md",
        """## Your turn

Try the other built-in scenarios: `MockBackend("impatient")` complains when the
reminder turns red; `MockBackend("leaver")` sends a phone number and an e-mail
address, then leaves. Or write your own scenario file (see the README).""",
    ),
]


PROTOTYPING: list[tuple[str, str]] = [
    (
        "md",
        """# Prototyping the chat view

Change a setting, run the cell, and see the effect at once. Every chat here runs
on a **virtual clock** that moves only when a cell says so, so each cell shows
exactly one moment (and checks it).

Settings live in three places:

- `SessionConfig`: reply-reminder thresholds, typing timeout, disposition codes
  (and whether one is mandatory), clickable contact details, the text of a pushed link;
- `AgentProfile` / `Permissions`: may this agent push URLs, call, e-mail?
- the contact record (`ContactRecord`, or `contact:` in a scenario): phone numbers and
  e-mail addresses for the **Party Action** menu.

`session.reconfigure(...)` swaps any of them on a live chat.""",
    ),
    (
        "code",
        """from dataclasses import replace

from chat_widget import (
    AgentProfile,
    ChatError,
    ChatWidget,
    ContactRecord,
    MockBackend,
    Permissions,
    SessionConfig,
    Thresholds,
    TimerColour,
    VirtualClock,
)


def chat(config=None, agent=None, contact=None, locale="en"):
    \"\"\"A quiet customer (waits for replies) on a virtual clock, already accepted.\"\"\"
    scenario = {
        "name": "Prototype",
        "contact": contact or {"name": "Maria Weber", "phones": ["+49 30 1234567"]},
        "offer_after": 1,
        "steps": [{"say": "Hello, I have a question about my contract.", "typing": 2},
                  {"wait_for_reply": True}],
    }
    backend = MockBackend(scenario, clock=VirtualClock(), config=config, agent=agent)
    backend.clock.advance(1)
    session = backend.first_session()
    session.accept()
    return backend, session, ChatWidget(backend, locale=locale)""",
    ),
    (
        "md",
        """## Reply-reminder thresholds

Yellow after 10 s and red after 20 s instead of the default 30 s / 60 s.""",
    ),
    (
        "code",
        """strict = SessionConfig(thresholds=Thresholds(yellow_after=10, red_after=20))
backend, session, widget = chat(strict)
backend.clock.advance(12)
assert session.timer_colour() is TimerColour.YELLOW
widget""",
    ),
    (
        "code",
        """backend.clock.advance(10)
assert session.timer_colour() is TimerColour.RED
# too strict? relax the thresholds on the live chat: the indicator above turns back
session.reconfigure(replace(session.config, thresholds=Thresholds(yellow_after=45, red_after=90)))
assert session.timer_colour() is TimerColour.GREEN""",
    ),
    (
        "md",
        """## Permissions

A trainee who may not push URLs or call: the URL editor's arrow under **Send**
disappears, and the **Party Action** menu keeps only the e-mail address.""",
    ),
    (
        "code",
        """may_not = Permissions(push_urls=False, call_contact=False)
trainee = AgentProfile(name="Trainee", permissions=may_not)
contact = {"name": "Jonas Keller", "phones": ["+49 40 555123"], "emails": ["jonas@example.com"]}
backend, session, widget = chat(agent=trainee, contact=contact)
try:
    session.push_url("https://example.com")
except ChatError as err:
    print("refused:", err)
widget""",
    ),
    (
        "code",
        """# allow it again: the arrow comes back
session.reconfigure(agent=AgentProfile(name="Trainee"))
assert session.agent.permissions.push_urls""",
    ),
    (
        "md",
        """## Locale

`locale="de"` or `"en"`; switch a live widget with `widget.locale = ...`. The text of
a pushed link is what the contact reads, so it is a setting of its own.""",
    ),
    (
        "code",
        """config = SessionConfig(push_url_text="Bitte klicken Sie auf den Link: {url}")
backend, session, widget = chat(config, locale="de")
session.push_url("https://example.com/vertrag")
assert session.transcript[-1].text == "Bitte klicken Sie auf den Link: https://example.com/vertrag"
widget""",
    ),
    (
        "code",
        """widget.locale = "en"  # the labels above switch at once""",
    ),
    (
        "md",
        """## Contact record and clickable details

Several numbers and addresses: the **Party Action** menu lists each. With
`clickable_contact_details=True` (the default) a number or address the contact
writes in the chat becomes a call or e-mail action too; switch it off to compare.""",
    ),
    (
        "code",
        """contact = {
    "name": "Lena Fischer",
    "phones": ["+49 30 1111111", "+49 170 2222222"],
    "emails": ["lena@example.com", "l.fischer@work.example"],
}
backend, session, widget = chat(contact=contact)
backend.customer.say("Or call my office: 040 3333333")
print(session.numbers_in_chat())
widget""",
    ),
    (
        "code",
        """session.reconfigure(replace(session.config, clickable_contact_details=False))
# widgets draw messages once: a new widget on this chat shows them as plain text
ChatWidget(backend)""",
    ),
    (
        "code",
        """# a new contact record on the live chat: the menu lists the new numbers
session.reconfigure(contact=ContactRecord("Lena Fischer", phones=("+49 89 4444444",)))
widget.flush()  # send what is queued now, so we can read the synced state
assert widget.state["contact"]["phones"] == ["+49 89 4444444"]""",
    ),
    (
        "md",
        """## Typing timeout

Some chat channels never send "stopped typing". The indicator then expires by itself
after `typing_timeout` seconds (default 10).""",
    ),
    (
        "code",
        """backend, session, widget = chat(SessionConfig(typing_timeout=3))
backend.customer.start_typing()
assert session.contact_typing()
backend.clock.advance(2.9)
assert session.contact_typing()
widget""",
    ),
    (
        "code",
        """backend.clock.advance(0.2)
assert not session.contact_typing()  # the indicator above has gone""",
    ),
    (
        "md",
        """## Disposition codes, mandatory or not

Your own codes, and a rule that **Mark done** needs one. The view refuses Done and
says why; Python refuses it too.""",
    ),
    (
        "code",
        """codes = ("Billing", "Technical", "Complaint")
config = SessionConfig(disposition_codes=codes, disposition_required=True)
backend, session, widget = chat(config)
session.end()
try:
    session.mark_done()
except ChatError as err:
    print("refused:", err)
widget""",
    ),
    (
        "code",
        """session.set_disposition("Billing")
session.add_note("Explained the contract terms")
session.mark_done()
print(session.state)""",
    ),
    (
        "md",
        """## Connection status

`MockBackend.set_connection` simulates the agent's connection: `connected`,
`reconnecting`, `disconnected`. The status sits next to the Party Action menu.""",
    ),
    (
        "code",
        """backend, session, widget = chat()
backend.set_connection("disconnected")
assert str(session.connection) == "disconnected"
widget""",
    ),
    (
        "code",
        """backend.set_connection("connected")""",
    ),
]


if __name__ == "__main__":
    write("01_walkthrough.ipynb", WALKTHROUGH)
    write("02_prototyping.ipynb", PROTOTYPING)
