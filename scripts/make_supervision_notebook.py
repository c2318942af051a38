"""Write notebooks/06_supervision.ipynb: a trainer supervises a team (issue 14).

Run: .venv/bin/python scripts/make_supervision_notebook.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from make_notebooks import METADATA, cell_id  # same directory: run as a script
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

# the notebooks live in notebooks/ (the trainee's file browser); their generators here
HERE = Path(__file__).resolve().parent.parent / "notebooks"
NAME = "06_supervision.ipynb"

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """# Supervising a team: dashboard, silent monitoring, coaching, barge-in

A trainer (the **supervisor**) watches agents chat live and steps in, as the Team Lead
functions of contact-center desktops do:

- the **team dashboard**: every open chat of the team as a row with its agent and its
  reply-reminder colour (green, yellow, red), the agents, the queue and the help requests;
- **silent monitoring**: read a chat live; nobody is told (unless the server announces it);
- **coaching**: whisper to the agent; the customer never sees it, and the agent can answer;
- **barge-in**: join the chat and write to the customer yourself;
- the agent's **help flag**: an agent asks for help on a chat, and it shows on the dashboard.

This notebook starts the package's chat server inside the kernel (a temporary SQLite
database), connects two agents and a supervisor, and plays the customers from Python, so
it runs unattended. Where the markdown says you may click in a widget, the cell after it
checks what you did and does the rest.

Outside a notebook: `chat-widget agents add "Tess Trainer" --supervisor` creates the
supervisor's token, and `chat-widget serve --announce-monitoring` makes silent monitoring
visible to the agents (off by default; coaching and barge-in are always visible).""",
    ),
    (
        "code",
        """import asyncio
import itertools
import json
import pathlib
import tempfile

from ipywidgets import HTML, VBox
from websockets.asyncio.client import connect

from chat_widget import ChatWidget, SupervisorWidget, WebSocketBackend, WebSocketSupervisor
from chat_widget.server import ChatServer, ServerConfig

tmp = pathlib.Path(tempfile.mkdtemp(prefix="supervision-"))
server = ChatServer(ServerConfig(host="127.0.0.1", port=0, db=str(tmp / "chats.sqlite")))
await server.start()
alice_record, alice_token = server.store.add_agent("Alice Agent")
bob_record, bob_token = server.store.add_agent("Bob Agent")
# what `chat-widget agents add "Tess Trainer" --supervisor` does
tess_record, tess_token = server.store.add_agent("Tess Trainer", supervisor=True)

async def until(condition, timeout=5.0):
    \"\"\"Wait (bounded) until `condition()` holds.\"\"\"
    async def poll():
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)

print("agent endpoint:", server.url)""",
    ),
    (
        "md",
        """## Two agents: Alice and Bob

Each agent has the same `ChatWidget` as with the mock, on the real server. Bob starts
*not ready*, so the first customer goes to Alice.""",
    ),
    (
        "code",
        """alice = WebSocketBackend(server.url, token=alice_token)
bob = WebSocketBackend(server.url, token=bob_token, ready=False)
await alice.wait_connected()
await bob.wait_connected()
alice_widget = ChatWidget(alice)
bob_widget = ChatWidget(bob)
VBox([HTML("<b>Alice Agent</b>"), alice_widget, HTML("<b>Bob Agent</b>"), bob_widget])""",
    ),
    (
        "md",
        """## The supervisor: Tess's team dashboard

`SupervisorWidget(WebSocketSupervisor(url, token))`: the rows are the team's chats; the
side lists are the help requests, the queue and the agents. Click a row to read its chat.""",
    ),
    (
        "code",
        """tess = WebSocketSupervisor(server.url, tess_token)
board = SupervisorWidget(tess)
desk = tess.desk  # the dashboard's model: what the buttons call
await tess.wait_connected()
await until(lambda: {alice_record.id, bob_record.id} <= set(desk.agents))
assert tess_record.id not in desk.agents  # a supervisor is nobody's colleague
board""",
    ),
    (
        "md",
        """## A customer, Carla, chats with Alice

The customer is played from Python over a websocket, as the customer page would do.
Her chat appears on the dashboard as a row with Alice as its agent; while her message
waits for an answer, the row shows the reply-reminder colour (green, then yellow after
30 s, red after 60 s).""",
    ),
    (
        "code",
        """class Customer:
    \"\"\"A customer on a websocket; keeps every frame received (bounded waits).\"\"\"

    frame_ids = itertools.count()  # shared: a frame id is never reused (a reused one is a retry)

    def __init__(self, ws):
        self.ws, self.frames, self.taken = ws, [], set()

    @classmethod
    async def open(cls):
        return cls(await connect(server.url, origin=server.origins[0]))

    async def send(self, type_, **fields):
        frame_id = f"customer-{next(Customer.frame_ids)}-{type_}"
        await self.ws.send(json.dumps({"v": 1, "type": type_, "id": frame_id, **fields}))

    async def gets(self, type_, by=None, timeout=5.0, **match):
        \"\"\"The first frame of this type (sent by a participant of type `by`: "Agent",
        "Supervisor", ...; with these fields) not taken yet.\"\"\"
        def found():
            for i, frame in enumerate(self.frames):
                if i not in self.taken and frame["type"] == type_ and (
                        by is None or frame.get("from", {}).get("type") == by) and all(
                        frame.get(k) == v for k, v in match.items()):
                    self.taken.add(i)
                    return frame
        async def read():
            while (frame := found()) is None:
                self.frames.append(json.loads(await self.ws.recv()))
            return frame
        return await asyncio.wait_for(read(), timeout)

async def offer_of(agent, conversation, timeout=10.0):
    \"\"\"The agent's chat `conversation` once offered (accepted if you clicked Accept).\"\"\"
    await until(lambda: conversation in agent.desk.sessions, timeout)
    return agent.desk.sessions[conversation]

carla = await Customer.open()
await carla.send("RequestChat", nickname="Carla", email="carla@example.com")
conversation = (await carla.gets("ChatStarted"))["conversation"]
session = await offer_of(alice, conversation)
if session.state == "offered":  # not accepted in Alice's widget yet
    session.accept()
await carla.gets("ParticipantJoined", by="Agent")
await carla.send("SendMessage", conversation=conversation, text="I was charged twice!")
await until(lambda: conversation in desk.chats
            and desk.chats[conversation].pending_since is not None)
row = next(r for r in board.team["chats"] if r["id"] == conversation)
assert (row["contact"], row["agent_name"]) == ("Carla", "Alice Agent")
# waiting for Alice's answer (the dashboard's clock ticks: wait for it to pass the message)
await until(lambda: desk.colour(conversation) == "green")
row""",
    ),
    (
        "md",
        """## Silent monitoring

**Click Carla's row on the dashboard, then Monitor** — or run the next cell, which
starts silent monitoring if you did not. Alice is not told: this server does not
announce silent monitoring (`serve --announce-monitoring` would).""",
    ),
    (
        "code",
        """if desk.chats[conversation].my_mode != "silent":  # you did not click Monitor
    desk.monitor(conversation, "silent")
await until(lambda: desk.chats[conversation].monitors.get(tess_record.id) == "silent")
await carla.send("SendMessage", conversation=conversation, text="Hello? Anyone there?")
await until(lambda: any(e.text == "Hello? Anyone there?" for e in desk.chats[conversation].entries))
assert session.monitored is None  # Alice does not know
[(e.sender.name, e.text) for e in desk.chats[conversation].entries if e.kind == "message"]""",
    ),
    (
        "md",
        """## Coaching: a whisper to the agent

**Click Coach** on the open chat and write a line in its box, or run the next cell. Alice
sees the coaching line in her transcript (and that Tess is coaching); Carla never does.""",
    ),
    (
        "code",
        """tip = "Apologise first, then offer the refund link."
desk.coach(conversation, tip)
await until(lambda: any(e.kind == "coaching" and e.text == tip for e in session.transcript))
assert (session.monitored, session.monitored_by) == ("coach", "Tess Trainer")
# Alice answers; Carla reads the answer, and never the coaching before it
session.send("I am so sorry, Carla. Let me check your invoice.")
await carla.gets("Message", text="I am so sorry, Carla. Let me check your invoice.")
assert tip not in [f.get("text") for f in carla.frames]
assert not {"MonitoringChanged", "CoachMessage"} & {f["type"] for f in carla.frames}
[(e.sender.name, e.kind, e.text) for e in session.transcript if e.kind == "coaching"]""",
    ),
    (
        "md",
        """## Alice answers the coach, then raises the help flag

**Answer the coach in Alice's widget and click Ask for help** there, or run the next
cell. Her answer goes to Tess only; the help flag puts the chat on the dashboard's help
list at once.""",
    ),
    (
        "code",
        """session.answer_coach("Will do. The refund is over my limit, though.")  # one more
await until(lambda: any(e.text.startswith("Will do.") for e in desk.chats[conversation].entries))
if session.help_flag is None:  # not raised in Alice's widget yet
    session.raise_flag("Refund over my limit")
await until(lambda: [c.id for c in desk.flags] == [conversation])
assert session.help_flag is not None
desk.chats[conversation].flag""",
    ),
    (
        "md",
        """## Barge-in: Tess writes to the customer

**Click Barge in** (on the chat, or next to the help request), or run the next cell.
Carla reads "Tess Trainer joined the chat" and Tess's message. Then Tess lowers the
flag and leaves the chat.""",
    ),
    (
        "code",
        """if desk.chats[conversation].my_mode != "barge_in":  # you did not click Barge in
    desk.barge_in(conversation)
joined = await carla.gets("ParticipantJoined", by="Supervisor")
assert joined["from"]["nickname"] == "Tess Trainer"
await until(lambda: desk.chats[conversation].monitors.get(tess_record.id) == "barge_in")
desk.say(conversation, "Hello Carla, I am Alice's team lead: your refund is approved.")
await carla.gets("Message", by="Supervisor",
                 text="Hello Carla, I am Alice's team lead: your refund is approved.")
if desk.chats[conversation].flag is not None:
    desk.lower_flag(conversation)
await until(lambda: session.help_flag is None and desk.flags == [])
desk.leave(conversation)  # back to silent monitoring: Carla reads that Tess left
await carla.gets("ParticipantLeft", by="Supervisor")
desk.stop(conversation)  # and stop monitoring
await until(lambda: desk.chats[conversation].monitors == {} and session.monitored is None)
[(f["from"]["nickname"], f["type"], f.get("text")) for f in carla.frames if "from" in f]""",
    ),
    (
        "md",
        """Alice wraps up: the chat is done and its row leaves the dashboard.""",
    ),
    (
        "code",
        """session.end()
await carla.gets("ChatEnded")
session.set_disposition("Resolved")
session.mark_done()
await until(lambda: conversation not in desk.chats)
await carla.ws.close()
alice.desk.set_presence("not_ready")  # the next customer goes to Bob""",
    ),
    (
        "md",
        """## "Monitor this agent's next chat": Bob

**Click "Monitor next chat" on Bob's line** in the dashboard's agents list, or run the next
cell. Then a second customer, Dana, asks for a chat, and it is offered to Bob.""",
    ),
    (
        "code",
        """if bob_record.id not in desk.watch_next:  # you did not click Monitor next
    desk.monitor_next(bob_record.id)
bob.desk.set_presence("ready")
await until(lambda: desk.agents[bob_record.id].presence == "ready")
dana = await Customer.open()
await dana.send("RequestChat", nickname="Dana")
conversation2 = (await dana.gets("ChatStarted"))["conversation"]
bob_session = await offer_of(bob, conversation2)
bob_session.contact.name""",
    ),
    (
        "md",
        """**Accept Dana's chat in Bob's widget**, or run the next cell. Monitoring starts by
itself as soon as Bob accepts.""",
    ),
    (
        "code",
        """if bob_session.state == "offered":  # not accepted in Bob's widget yet
    bob_session.accept()
await dana.gets("ParticipantJoined", by="Agent")
await until(lambda: conversation2 in desk.chats
            and desk.chats[conversation2].my_mode == "silent")
assert bob_record.id not in desk.watch_next  # done: it was for one chat
await dana.send("SendMessage", conversation=conversation2, text="My router blinks red.")
await until(lambda: "My router blinks red." in [e.text for e in desk.chats[conversation2].entries])
assert bob_session.monitored is None  # silent: Bob does not know
desk.stop(conversation2)
await until(lambda: desk.chats[conversation2].monitors == {})
bob_session.send("Let me check the outage map, Dana.")
await dana.gets("Message", text="Let me check the outage map, Dana.")
bob_session.end()
bob_session.set_disposition("Resolved")
bob_session.mark_done()
await until(lambda: conversation2 not in desk.chats)
await dana.ws.close()""",
    ),
    (
        "md",
        """## Without a server: a simulated team

`MockTeam` is a team of scripted agents with scripted customers, for practising the
dashboard alone. Its clock only moves when a cell says so: the first agent answers
quickly (green), the second slowly (yellow) and raises a help flag, the third very
slowly (red).""",
    ),
    (
        "code",
        """from chat_widget import MockTeam, VirtualClock

team = MockTeam(clock=VirtualClock(start=0.0))
SupervisorWidget(team)""",
    ),
    (
        "code",
        """def colours():
    \"\"\"Each active chat's reply-reminder colour, by agent.\"\"\"
    return {c.owner_name: str(team.desk.colour(c.id))
            for c in team.desk.chats.values() if c.state == "active"}

team.clock.advance_to(35)  # Ben has not answered for 30 s, and asked for help
assert colours() == {"Anna Schmidt": "green", "Ben Okafor": "yellow", "Clara Jensen": "green"}
assert [c.owner_name for c in team.desk.flags] == ["Ben Okafor"]
assert len(team.desk.queue) == 3  # the next customers wait: every agent is busy
colours()""",
    ),
    (
        "code",
        """team.clock.advance_to(70)  # Clara has not answered for over 60 s: her row blinks red
assert colours()["Clara Jensen"] == "red"
colours()""",
    ),
    (
        "md",
        """## Single-agent training with a scripted coach

`MockBackend(scenario, supervisor="Tess")`: the scenario's `coach:` steps and its
`when_yellow` / `when_red` hooks are said by a scripted supervisor, at exact times on
the virtual clock.""",
    ),
    (
        "code",
        """from chat_widget import MockBackend

coached = {
    "name": "Coached refund",
    "contact": {"name": "Maria Weber"},
    "offer_after": 0,
    "when_yellow": {"coach": "She has waited 30 s: answer now"},
    "steps": [
        {"say": "I want my money back", "typing": 1, "delay": 0},
        {"coach": "Apologise first", "delay": 2},
        {"wait_for_reply": True},
    ],
}
training = MockBackend(coached, clock=VirtualClock(start=0.0), supervisor="Tess")
training.clock.advance(0)
trainee = training.first_session()
trainee.accept()
ChatWidget(training)""",
    ),
    (
        "code",
        """def coaching():
    return [(e.time, e.text) for e in trainee.transcript if e.kind == "coaching"]

training.clock.advance(2.9)
assert coaching() == []
training.clock.advance(0.1)  # typed 1 s, said it, then 2 s later: the coach
assert coaching() == [(3.0, "Apologise first")] and trainee.monitored == "coach"
training.clock.advance(27)  # 30 s without an answer: yellow, and the coach again
assert coaching()[-1] == (30.0, "She has waited 30 s: answer now")
coaching()""",
    ),
    (
        "md",
        """## Analysis: the supervision in the server's database

Every step is stored with the chats. `load_store` reads the server's SQLite
(read-only); `supervision_metrics` gives one row per chat, `supervision_by_agent`
one per agent (definitions: `docs/metrics.md`, "Supervision").""",
    ),
    (
        "code",
        """from chat_widget.analysis import load_store, supervision_by_agent, supervision_metrics

frames = load_store(server.config.db)
per_chat = supervision_metrics(frames).set_index("conversation_id")
carla_row, dana_row = per_chat.loc[conversation], per_chat.loc[conversation2]
assert carla_row["coached"] and carla_row["barge_ins"] == 1
assert carla_row["flags_raised"] == 1 and carla_row["flags_answered"] == 1
assert dana_row["monitored"] and not dana_row["coached"]
per_chat""",
    ),
    (
        "code",
        """per_agent = supervision_by_agent(frames)
assert per_agent.loc[alice_record.id, "coached_chats"] == 1
assert per_agent.loc[bob_record.id, "monitored_chats"] == 1
per_agent""",
    ),
    ("md", """## Clean up"""),
    (
        "code",
        """training.close()
team.close()
await tess.aclose()
await alice.aclose()
await bob.aclose()
await server.stop()""",
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
