"""Write the walkthrough notebooks from plain Python lists (keeps them reviewable in diffs).

Run: .venv/bin/python scripts/make_notebooks.py
"""

from __future__ import annotations

import platform
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

# the notebooks live in notebooks/ (the trainee's file browser); their generators here
HERE = Path(__file__).resolve().parent.parent / "notebooks"

# What JupyterLab writes into the notebook once the kernel has started: with the same
# metadata (and an id on every cell) a notebook opens without the "modified" mark.
# The version is this interpreter's: run the script with the venv's python.
METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
    "language_info": {
        "name": "python",
        "version": platform.python_version(),
        "mimetype": "text/x-python",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "pygments_lexer": "ipython3",
        "nbconvert_exporter": "python",
        "file_extension": ".py",
    },
}


def cell_id(name: str, index: int) -> str:
    """A stable cell id from the notebook's name and the cell's place: "01-07"."""
    return f"{name[:2]}-{index:02d}"


def write(name: str, cells: list[tuple[str, str]]) -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell(src, id=cell_id(name, i))
            if kind == "md"
            else new_code_cell(src, id=cell_id(name, i))
            for i, (kind, src) in enumerate(cells)
        ],
        metadata=METADATA,
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
how trainers demonstrate each moment, and how these cells check what happens.
So leave the **Training clock** strip of this second widget alone: the cells move
its clock. Where a step says you may click in the widget instead, the cell after it
checks what you already did.""",
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
        """if session.timer_colour() is not TimerColour.IDLE:  # no reply from the widget yet
    session.send("Sorry for the wait! Let me check your invoice.")
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
        """waiting = session.timer_colour() is not TimerColour.IDLE  # not answered in the widget
if session.state is SessionState.ACCEPTED and waiting:
    session.send("Yes, the confirmation is on its way.")
backend.clock.advance(10)
if session.state is not SessionState.DONE:  # not marked done in the widget yet
    assert session.state in (SessionState.CONTACT_LEFT, SessionState.ENDED)
    if session.disposition is None:
        session.set_disposition("Resolved")
    if not session.notes:
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
        """if session.state != "done":  # not marked done in the widget yet
    if session.disposition is None:
        session.set_disposition("Billing")
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
    (
        "md",
        """## Auto-answer, nickname, capacity

- **Auto-answer** (`auto_answer=True` on the backend, or `SessionConfig(auto_answer=True)`):
  the desk accepts each offer itself as it arrives. The chat still arrives as offered,
  then it is accepted, with a notice saying so.
- **Nickname** (`AgentProfile(nickname=...)`; on the server `chat-widget agents add NAME
  --nickname NICK`): the name customers see. The agent's own view and the colleagues'
  directory keep the real name.
- **Capacity** (`capacity=N`; on the server `agents add --capacity N`): at most N chats at
  a time; offers beyond it wait until a chat is done (or declined).""",
    ),
    (
        "code",
        """agent = AgentProfile(name="Alice Agent", nickname="Ally")
scenario = {"name": "Auto", "contact": {"name": "Maria Weber"}, "offer_after": 1,
            "steps": [{"say": "Hello, anyone there?", "typing": 2}]}
backend = MockBackend(scenario, clock=VirtualClock(), agent=agent, auto_answer=True)
backend.clock.advance(1)  # the offer arrives, and is accepted at once
session = backend.first_session()
assert session.state == "accepted"
print([e.text for e in session.transcript])  # auto-answer; the customer reads "Ally joined"
widget = ChatWidget(backend)
widget""",
    ),
    (
        "code",
        """def customer(n):
    return {"name": f"Chat {n}", "contact": {"name": f"Customer {n}"}, "offer_after": n,
            "steps": [{"say": f"Hello from customer {n}"}]}


backend = MockBackend([customer(1), customer(2), customer(3)], clock=VirtualClock(),
                      auto_answer=True, capacity=2)
backend.clock.advance(5)
assert len(backend.desk.sessions) == 2  # the third customer waits
first = backend.desk.sessions["chat-1"]
first.end()
first.mark_done()  # one chat done: the third one arrives
assert len(backend.desk.sessions) == 3
widget = ChatWidget(backend)
widget""",
    ),
    (
        "md",
        """## Standard responses

A library of ready answers (name, category, shortcut, text in English and German) with
field codes filled for the chat: `{contact.first_name}`, `{contact.name}`,
`{agent.nickname}`, `{chat.id}`. `responses="sample"` loads the shipped library
(`src/chat_widget/data/responses.yaml`); pass your own YAML/JSON file instead, or
`serve --responses FILE` on the server. An unknown field code is refused when the file
is loaded, naming the file, the response and the field.

**Try it in the widget:** type `/hi` in the composer (or open the list with the
responses button next to it, search, pick one with the arrow keys and Enter). The
filled text lands in the composer: change it, then send. Choosing never sends by
itself. The next cell does the same from Python if you did not.""",
    ),
    (
        "code",
        """scenario = {"name": "Responses", "contact": {"name": "Maria Weber"}, "offer_after": 1,
            "steps": [{"say": "Hi, my invoice is wrong", "typing": 1},
                      {"wait_for_reply": True}, {"say": "Thank you!"}]}
backend = MockBackend(scenario, clock=VirtualClock(), responses="sample",
                      agent=AgentProfile(name="Lena Hoffmann", nickname="Lena"))
backend.clock.advance(1)
session = backend.first_session()
session.accept()
backend.clock.advance(3)
print([(r.shortcut, r.name) for r in backend.desk.responses])
widget = ChatWidget(backend)
widget""",
    ),
    (
        "code",
        """text = session.insert_response("greeting")  # the filled text, to edit
print(text)
if not any(e.response for e in session.transcript):  # you did not send one in the widget
    session.send(text + " I will look at your invoice now.", response="greeting")
backend.clock.advance(5)
[(e.sender.name, e.text, e.response) for e in session.transcript if e.kind == "message"]""",
    ),
    (
        "md",
        """## Contact history and idle customers

With the offer, the agent sees the contact's earlier chats (date, agent, disposition,
note; **open one** in the history panel above the transcript to read it). On the mock
they come from the scenario's `history:`; on the server from the stored chats with the
same e-mail or phone.

The customer idle timers: when the customer stays silent while the agent waits for
them, an alert after `idle_alert_after` seconds, and the chat closes `idle_close_after`
seconds later (`serve --idle-alert S --idle-close S` on the server). A customer message
resets them; nothing runs while the customer waits for the agent.""",
    ),
    (
        "code",
        """scenario = {
    "name": "Returning customer", "contact": {"name": "Jonas Becker"}, "offer_after": 1,
    "idle_alert_after": 30, "idle_close_after": 15,
    "history": [{"date": "2026-11-20T10:15:00Z", "agent": "Lena", "disposition": "Resolved",
                 "notes": ["Router replaced"],
                 "transcript": [{"from": "contact", "text": "My router blinks red."},
                                {"from": "agent", "text": "I will send you a new one."}]}],
    "steps": [{"say": "Hello again, the new router blinks too.", "typing": 1},
              {"wait_for_reply": True}, {"pause": 600}],
}
backend = MockBackend(scenario, clock=VirtualClock())
backend.clock.advance(1)
session = backend.first_session()
print([(h.agent, h.disposition, h.notes) for h in session.history])
session.accept()
backend.clock.advance(3)
session.send("Let me check that for you.")  # now the agent waits for the customer
widget = ChatWidget(backend)
widget""",
    ),
    (
        "code",
        """backend.clock.advance(30)  # 30 s of silence: the idle alert
backend.clock.advance(15)  # 15 s more: the chat closes
print(session.state)
[e.text for e in session.transcript if e.kind == "notice"][-2:]""",
    ),
]


LIVE_CHAT: list[tuple[str, str]] = [
    (
        "md",
        """# Live chat: a real server, a customer, and you as the agent

This notebook starts the package's own chat server (`chat-widget serve`) inside the kernel on
127.0.0.1 with a temporary SQLite database, plays the customer from Python over a websocket
(so the notebook runs unattended), and connects **you** as the agent with
`ChatWidget(WebSocketBackend(...))`.

**Run the cells instead of clicking**: each cell plays both sides, and the widgets show what
happens. Accepting an offer in a widget before its cell runs is fine (the cell notices), and
so is opening the customer page printed below: chats from it are offered to the agents too,
and the cells leave them to you.

Outside a notebook you would run `chat-widget serve`, create a token with
`chat-widget agents add NAME`, and let a colleague open the customer page in a browser.""",
    ),
    (
        "code",
        """import asyncio
import itertools
import json
import pathlib
import sqlite3
import tempfile

from websockets.asyncio.client import connect

from chat_widget import ChatWidget, WebSocketBackend
from chat_widget.server import ChatServer, ServerConfig

tmp = pathlib.Path(tempfile.mkdtemp(prefix="live-chat-"))
server = ChatServer(ServerConfig(host="127.0.0.1", port=0, db=str(tmp / "chats.sqlite")))
await server.start()
record, token = server.store.add_agent("Alice Agent")  # what `chat-widget agents add` does
print("customer page:", server.http_url)
print("agent endpoint:", server.url)""",
    ),
    ("md", """## The agent: the same widget as with the mock, on the real server"""),
    (
        "code",
        """backend = WebSocketBackend(server.url, token=token)
widget = ChatWidget(backend)
await backend.wait_connected()
assert backend.status == "connected"
widget""",
    ),
    (
        "md",
        """## The customer

The customer page would do exactly this: open a websocket with its Origin, send
`RequestChat`, and keep the returned conversation id and token to resume after a drop.""",
    ),
    (
        "code",
        """customer = await connect(server.url, origin=server.origins[0])
frames = []
frame_ids = itertools.count()  # a frame id is never reused: a resent id is a retry

async def customer_sends(type_, **fields):
    frame_id = f"customer-{next(frame_ids)}-{type_}"
    await customer.send(json.dumps({"v": 1, "type": type_, "id": frame_id, **fields}))
    return frame_id

async def customer_gets(type_, timeout=5.0, **match):
    \"\"\"The next frame of this type the customer receives (bounded wait).\"\"\"
    async def read():
        while True:
            frame = json.loads(await customer.recv())
            frames.append(frame)
            if frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame
    return await asyncio.wait_for(read(), timeout)

async def until(condition, timeout=5.0):
    async def poll():
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)

async def offer_of(agent, conversation, instead_of=None, timeout=10.0):
    \"\"\"The agent's chat `conversation` once it is offered (accepted if you clicked Accept).

    Not `agent.next_offer()`: that could be a chat from the customer page.\"\"\"
    def chat():
        s = agent.desk.sessions.get(conversation)
        return s if s is not None and s is not instead_of else None
    await until(lambda: chat() is not None, timeout)
    return chat()

await customer_sends("RequestChat", nickname="Carla", email="carla@example.com")
started = await customer_gets("ChatStarted")
conversation = started["conversation"]
print("conversation", conversation)""",
    ),
    ("md", """## F1: the chat is offered to the agent, who accepts"""),
    (
        "code",
        """session = await offer_of(backend, conversation)
assert session.contact.name == "Carla"
if session.state == "offered":  # not accepted in the widget yet
    session.accept()
alice = {"nickname": "Alice Agent", "participantId": record.id, "type": "Agent"}
joined = await customer_gets("ParticipantJoined", **{"from": alice})
session.state""",
    ),
    ("md", """## F3, F4: the customer types and writes; the agent sees it live"""),
    (
        "code",
        """await customer_sends("StartTyping", conversation=conversation)
await until(lambda: session.contact_typing())
hello = "Hello, my invoice shows a double charge."
await customer_sends("SendMessage", conversation=conversation, text=hello)
await until(lambda: any(e.text.startswith("Hello, my invoice") for e in session.transcript))
assert not session.contact_typing()
[(e.sender.name, e.text) for e in session.transcript]""",
    ),
    ("md", """## The agent answers and pushes a link (F15, F18)"""),
    (
        "code",
        """session.send("Sorry about that, Carla. Let me check.")
reply = await customer_gets("Message", text="Sorry about that, Carla. Let me check.")
session.push_url("https://example.com/billing/refund")
pushed = await customer_gets("PushUrl")
assert pushed["url"] == "https://example.com/billing/refund"
pushed["text"]""",
    ),
    ("md", """## A dropped connection loses nothing (F12)"""),
    (
        "code",
        """backend.drop_connection()
session.send("This was written while the connection was down.")
await until(lambda: session.connection == "connected" and backend.pending == 0)
again = await customer_gets("Message", text="This was written while the connection was down.")
backend.connects""",
    ),
    (
        "md",
        """## End, wrap-up, done (F9, F10) — and everything is in SQLite

Run this cell instead of clicking **End** and **Done** in the widget.""",
    ),
    (
        "code",
        """session.end()
await customer_gets("ChatEnded")
session.set_disposition("Resolved")
session.add_note("Refund link sent.")
session.mark_done()
await until(lambda: backend.pending == 0)
with sqlite3.connect(server.config.db) as db:
    stored = [row[0] for row in db.execute(
        "SELECT type FROM events WHERE conversation = ? ORDER BY seq", (conversation,))]
    state = db.execute(
        "SELECT state FROM conversations WHERE id = ?", (conversation,)).fetchone()[0]
assert stored.count("Message") == 3 and "PushUrl" in stored and stored[-1] == "ChatDone"
assert state == "done"
stored""",
    ),
    (
        "md",
        """## Several agents: a second agent, Bob (F5, F6, F7, F14)

Bob connects with his own token (in real life: his own notebook). Both agents see each
other's presence in the directory the server sends. Bob starts *not ready*, so the next chat
goes to Alice. Below are both agents' **workspaces**, Alice's on top and Bob's under it:
watch the offers, the consultation, the conference and the transfer arrive in them as the
cells run.""",
    ),
    (
        "code",
        """from ipywidgets import HTML, VBox

from chat_widget import WorkspaceWidget

bob_record, bob_token = server.store.add_agent("Bob Agent")
bob = WebSocketBackend(server.url, token=bob_token, ready=False)
await bob.wait_connected()
await until(lambda: "bob-agent" in backend.desk.directory.agents)
bob.desk.set_presence("ready")  # the agent's own presence command
await until(lambda: backend.desk.directory.agents["bob-agent"].presence == "available")
alice_workspace = WorkspaceWidget(backend)
bob_workspace = WorkspaceWidget(bob)
VBox([HTML("<b>Alice Agent</b>"), alice_workspace, HTML("<b>Bob Agent</b>"), bob_workspace])""",
    ),
    (
        "code",
        """backend.desk.directory.to_dict()["agents"]""",
    ),
    (
        "code",
        """# a new customer chat, offered to Alice (Bob was not ready when it arrived)
bob.desk.set_presence("not_ready")
await until(lambda: backend.desk.directory.agents["bob-agent"].presence != "available")
await customer.close()
customer = await connect(server.url, origin=server.origins[0])  # a new customer
frames.clear()
await customer_sends("RequestChat", nickname="Dana")
conversation2 = (await customer_gets("ChatStarted"))["conversation"]
chat2 = await offer_of(backend, conversation2)
if chat2.state == "offered":  # not accepted in Alice's workspace yet
    chat2.accept()
await customer_gets("ParticipantJoined", seq=2)
await customer_sends("SendMessage", conversation=conversation2, text="My router blinks red.")
await until(lambda: any(e.text == "My router blinks red." for e in chat2.transcript))
bob.desk.set_presence("ready")""",
    ),
    ("md", """### F7: Alice consults Bob by chat; the customer never receives it"""),
    (
        "code",
        """backend.desk.collab.consult(conversation2, "agent", "bob-agent", "chat")
await until(lambda: len(bob.desk.collab.incoming) == 1)
consultation = next(iter(bob.desk.collab.incoming))
bob.desk.collab.answer(consultation)
await until(lambda: backend.desk.collab.team(conversation2).consultation.state == "active")
backend.desk.collab.consult_send(conversation2, "Is the outage in Berlin known?")
await until(lambda: bob.desk.collab.incoming[consultation].messages)
bob.desk.collab.reply(consultation, "Yes, fixed within the hour.")
await until(lambda: any(e.text == "Yes, fixed within the hour." for e in chat2.transcript))
backend.desk.collab.end_consultation(conversation2)
[(e.kind, e.sender.name, e.text) for e in chat2.transcript if e.kind == "consult"]""",
    ),
    (
        "md",
        "### F6: conference: Bob joins, everyone sees it; then Alice leaves and Bob keeps the chat",
    ),
    (
        "code",
        """backend.desk.collab.invite(conversation2, "bob-agent")
bob_chat = await offer_of(bob, conversation2)
assert bob_chat.offer_kind == "conference"
if bob_chat.state == "offered":  # not accepted in Bob's workspace yet
    bob_chat.accept()
bob_joins = {"nickname": "Bob Agent", "participantId": "bob-agent", "type": "Agent"}
joined = await customer_gets("ParticipantJoined", **{"from": bob_joins})
bob_chat.send("Bob from technical support here.")
await customer_gets("Message", text="Bob from technical support here.")
await until(lambda: backend.desk.collab.team(conversation2).conference is not None)
backend.desk.collab.leave_conference(conversation2)
left = await customer_gets("ParticipantLeft")
assert left["successor"]["participantId"] == "bob-agent"
assert not any(f["type"].startswith("Consult") for f in frames)  # hidden from the customer
chat2.state, bob.desk.collab.team(conversation2).to_dict()["owner"]["name"]""",
    ),
    ("md", """### F5: Bob transfers the chat back to Alice with a note; F14: team IM"""),
    (
        "code",
        """await until(lambda: bob.desk.collab.team(conversation2).conference is None)
note = "Router replaced, please send the return label"
bob.desk.collab.transfer(conversation2, "agent", record.id, note)
back = await offer_of(backend, conversation2, instead_of=chat2)
assert back.offer_kind == "transfer" and back.offer_note.startswith("Router replaced")
if back.state == "offered":  # not accepted in Alice's workspace yet
    back.accept()
moved = await customer_gets("ChatTransferred")
await until(lambda: bob_chat.state == "transferred")
bob.desk.team_im.send(record.id, "Thanks for taking it back!")
await until(lambda: backend.desk.team_im.total_unread == 1)
backend.desk.team_im.mark_read("bob-agent")
moved["from"]["nickname"], moved["previous"]["nickname"], backend.desk.team_im.total_unread""",
    ),
    ("code", """await bob.aclose()"""),
    (
        "code",
        """await customer.close()
await backend.aclose()
await server.stop()""",
    ),
]


if __name__ == "__main__":
    write("01_walkthrough.ipynb", WALKTHROUGH)
    write("02_prototyping.ipynb", PROTOTYPING)
    write("04_live_chat.ipynb", LIVE_CHAT)
