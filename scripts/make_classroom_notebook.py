"""Write notebooks/07_classroom.ipynb: a trainer runs a class of scripted customers (issue 15).

Run: .venv/bin/python scripts/make_classroom_notebook.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from make_notebooks import METADATA, cell_id  # same directory: run as a script
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

# the notebooks live in notebooks/ (the trainee's file browser); their generators here
HERE = Path(__file__).resolve().parent.parent / "notebooks"
NAME = "07_classroom.ipynb"

# (kind, source) or (kind, source, tags): a cell tagged "plot" must show an image under nbval
CELLS: list[tuple[str, str] | tuple[str, str, list[str]]] = [
    (
        "md",
        """# A classroom run: scripted customers, a class of trainees, a report per trainee

A trainer runs a **class**: the scenario files they already write for practice with the
mock drive *scripted customers* that connect to the real chat server, exactly as the
customer page does. The class's trainees get the chats through the normal routing and
handle them at the same time, while the trainer watches on the team dashboard. At the
end, a **report per trainee**: chats handled, first-response and response times, the time
the reply reminder spent yellow and red, pushed URLs, dispositions, each compared with the
class median; as tables, plots and one HTML file to hand out.

This notebook starts the package's chat server inside the kernel (a temporary SQLite
database) and runs a class of three trainees: **Alice** and **Bob** are played by code,
and the third trainee is **you**, in a chat widget. Where the markdown asks you to click,
the cell after it checks what you did and does the rest, so the notebook also runs
unattended. The whole class takes about 15 seconds.""",
    ),
    (
        "code",
        """import asyncio
import pathlib
import tempfile

from ipywidgets import HTML, VBox

from chat_widget import ChatWidget, SupervisorWidget, WebSocketBackend, WebSocketSupervisor
from chat_widget.analysis.classroom import class_report
from chat_widget.classroom import Classroom
from chat_widget.model.reply_timer import Thresholds
from chat_widget.model.session_config import SessionConfig
from chat_widget.server import ChatServer, ServerConfig

tmp = pathlib.Path(tempfile.mkdtemp(prefix="classroom-"))
server = ChatServer(ServerConfig(
    host="127.0.0.1", port=0, db=str(tmp / "chats.sqlite"),
    # every scripted customer comes from this machine (127.0.0.1): lift the limit on new
    # chats per client address (default 5 a minute, bursts of 10), made for the public
    address_chats_per_minute=600, address_chat_burst=100,
))
await server.start()
alice_record, alice_token = server.store.add_agent("Alice Agent")
bob_record, bob_token = server.store.add_agent("Bob Agent")
you_record, you_token = server.store.add_agent("You")
tess_record, tess_token = server.store.add_agent("Tess Trainer", supervisor=True)

async def until(condition, timeout=10.0):
    \"\"\"Wait (bounded) until `condition()` holds.\"\"\"
    async def poll():
        while not condition():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)

print("agent endpoint:", server.url)""",
    ),
    (
        "md",
        """Why the two limits in `ServerConfig`: the server accepts at most 5 new chats a minute
(in bursts of up to 10) from one client address, against a single visitor flooding the
queue. A class's scripted customers all connect from the trainer's machine, here
`127.0.0.1`, so a class of more than a few customers needs them raised. With
`chat-widget serve`, run the class from a machine whose limits you may raise, or keep
the class small.

## The scenarios

Three short scenario files, as a trainer writes them for the mock: a billing question,
an impatient customer who complains when the reply reminder turns red (`when_red`),
and a customer who leaves before the chat is through. `arrive_after` schedules each
customer (seconds after the class starts; `count` and `every` would send several of one
scenario). Each script starts when a trainee accepts the chat.""",
    ),
    (
        "code",
        """SCENARIOS = {
    "billing.yaml": \"\"\"\\
name: Billing question
contact: {name: Maria Weber, emails: [maria.weber@example.com]}
arrive_after: 0
steps:
  - say: "Hello, I was charged twice for my March invoice."
    typing: 1
    delay: 0.5
  - wait_for_reply: true
  - say: "The invoice number is 2026-0315. Can you refund the second payment?"
    typing: 1
    delay: 0.5
  - wait_for_reply: true
  - leave: "Thanks, bye!"
\"\"\",
    "impatient.yaml": \"\"\"\\
name: Impatient customer
contact: {name: Jonas Becker}
arrive_after: 1
when_red: "Hello?? Is anybody there?"
steps:
  - say: "My internet is down. Fix it NOW."
    typing: 1
    delay: 0
  - wait_for_reply: true
  - say: "I already restarted the router three times."
    typing: 1
    delay: 0.5
  - wait_for_reply: true
  - leave: "Fine. Bye."
\"\"\",
    "leaver.yaml": \"\"\"\\
name: Leaver
contact: {name: Aylin Demir}
arrive_after: 2
steps:
  - say: "Hi, please call me back about my contract."
    typing: 1
    delay: 0
  - wait_for_reply: 5
  - say: "My number is +49 40 9876543."
    typing: 1
  - leave: "Have to go now, bye."
\"\"\",
}
files = []
for name, text in SCENARIOS.items():
    (tmp / name).write_text(text)
    files.append(tmp / name)
# short reply thresholds, so the class takes seconds: yellow after 3 s, red after 6 s
limits = Thresholds(yellow_after=3, red_after=6)
[f.name for f in files]""",
    ),
    (
        "md",
        """## Alice and Bob: two trainees played by code

Each is a `WebSocketBackend` (the same connection a `ChatWidget` uses) and a small task
that does what a trainee does: accept every offer, answer each customer line after a
short delay (the first one quickly; a later one needs a look-up, long enough for the
reminder to turn yellow and then red), push a help link now and then (Alice does, with
her first answer), and when the customer has gone, choose a disposition (*Resolved* when
both of the customer's questions got an answer, else *Follow-up needed*) and mark the
chat done.""",
    ),
    (
        "code",
        """HELP_URL = "https://example.com/help/billing"

def waiting(chat):
    \"\"\"The customer's last line has no answer yet.\"\"\"
    lines = [e for e in chat.transcript if e.kind == "message"
             and e.sender.role in ("contact", "agent")]
    return bool(lines) and lines[-1].sender.role == "contact"

def answers(chat):
    return sum(e.kind == "message" and e.sender.role == "agent" for e in chat.transcript)

def answered(chat):
    return answers(chat) > 0

async def play_trainee(agent, first=1.0, later=8.5, push_url=False):
    \"\"\"A trainee played by code, until cancelled: `first` and `later` are the seconds
    the first answer of a chat and any later one take.\"\"\"
    loop = asyncio.get_running_loop()
    due = {}  # chat id -> loop time the customer's open line gets its answer
    while True:
        for chat in list(agent.desk.sessions.values()):
            if chat.state == "offered":
                chat.accept()
            elif chat.state == "accepted" and waiting(chat):
                was_answered = answered(chat)
                when = due.setdefault(chat.id, loop.time() + (later if was_answered else first))
                if loop.time() >= when:
                    del due[chat.id]
                    if push_url and not was_answered:
                        chat.push_url(HELP_URL)
                    chat.send("Sorted: you are all set now." if was_answered
                              else f"Hello {chat.contact.name}, let me look into it.")
            elif chat.state == "contact_left":  # the customer has gone: wrap up
                chat.set_disposition("Resolved" if answers(chat) >= 2 else "Follow-up needed")
                chat.mark_done()
        await asyncio.sleep(0.05)

trainee_config = SessionConfig(thresholds=limits)  # their reminders use the class's limits
alice = WebSocketBackend(server.url, token=alice_token, config=trainee_config)
bob = WebSocketBackend(server.url, token=bob_token, config=trainee_config)
await alice.wait_connected()
await bob.wait_connected()
players = [asyncio.create_task(play_trainee(alice, first=1.0, push_url=True)),
           asyncio.create_task(play_trainee(bob, first=2.0))]""",
    ),
    (
        "md",
        """## You: the third trainee

Your chat widget, on the same server. When the class starts, one of the customers is
offered to you.""",
    ),
    (
        "code",
        """you = WebSocketBackend(server.url, token=you_token, config=trainee_config)
await you.wait_connected()
you_widget = ChatWidget(you)
VBox([HTML("<b>You</b>"), you_widget])""",
    ),
    (
        "md",
        """## The trainer: Tess watches the class

The team dashboard (`SupervisorWidget`, issue 14) shows every chat of the class as a row
with its trainee and reply-reminder colour. Tess could monitor, coach or barge in, as in
`06_supervision.ipynb`; here she watches.""",
    ),
    (
        "code",
        """tess = WebSocketSupervisor(server.url, tess_token, thresholds=limits)
board = SupervisorWidget(tess)
desk = tess.desk
await tess.wait_connected()
await until(lambda: {alice_record.id, bob_record.id, you_record.id} <= set(desk.agents))
on_board = set()  # every chat the dashboard has shown

async def watch():
    while True:
        on_board.update(desk.chats)
        await asyncio.sleep(0.05)

watcher = asyncio.create_task(watch())
board""",
    ),
    (
        "md",
        """## Start the class

`Classroom(url, scenarios, trainees=N, thresholds=...)`: the customers, on the real
clock. With several scenarios and no `count`, `trainees=3` means three customers cycling
through them. The customers' patience is the class's `thresholds` (when `when_red`
fires); the class id is stored with every chat the class creates.""",
    ),
    (
        "code",
        """room = Classroom(
    server.url, files, trainees=3, thresholds=limits, class_id="notebook-class"
)
await room.start()
[(c.name, c.scenario, c.arrives_after) for c in room.customers]""",
    ),
    (
        "md",
        """**A customer is offered to you: accept the chat in your widget and answer the
customer's first line.** Or run the next cell: it accepts and answers from code if you
did not, then lets code answer the rest of your chat, so the class finishes.""",
    ),
    (
        "code",
        """await until(lambda: len(you.desk.sessions) == 1)  # the chat offered to you
mine = next(iter(you.desk.sessions.values()))
if mine.state == "offered":  # you did not click Accept
    mine.accept()
await until(lambda: waiting(mine) or answered(mine))  # the customer's first line
if not answered(mine):  # you did not answer it
    mine.send(f"Hello {mine.contact.name}, let me look into it.")
players.append(asyncio.create_task(play_trainee(you)))  # code answers the rest
(mine.contact.name, [(e.sender.name, e.text) for e in mine.transcript if e.kind == "message"])""",
    ),
    (
        "md",
        """## Pause and resume

`room.pause()` holds every customer exactly where it is: nothing is typed or said and
nobody new arrives (the trainees' answers still go through). `room.resume()` goes on
where the class was; `await room.stop()` would end every open chat of the class and
leave no queued chat behind.""",
    ),
    (
        "code",
        """def customer_lines():
    \"\"\"Every line the class's customers have said so far, across the trainees.\"\"\"
    return [e.text for agent in (alice, bob, you) for chat in agent.desk.sessions.values()
            for e in chat.transcript if e.kind == "message" and e.sender.role == "contact"]

room.pause()
await asyncio.sleep(0.2)  # lines sent just before the pause arrive
before = customer_lines()
await asyncio.sleep(1.0)  # a second of wall time: the customers say nothing
assert customer_lines() == before and room.paused
room.resume()
[(c.name, str(c.status), c.step) for c in room.customers]""",
    ),
    (
        "md",
        """## Until every customer is through

`await room.finished(timeout)` returns once every customer has left (or is done). The
trainees then wrap up, and the dashboard's rows go away. `room.timing()` is how late
the scripted customers' actions went out, compared with their scenario.""",
    ),
    (
        "code",
        """assert await room.finished(timeout=40)
assert [str(c.status) for c in room.customers] == ["left"] * 3
trainees = (alice, bob, you)
await until(lambda: all(chat.state == "done" for agent in trainees
                        for chat in agent.desk.sessions.values()))
await until(lambda: desk.chats == {})  # the server has every chat done (and stored)
assert on_board == {c.conversation for c in room.customers}  # Tess saw every chat
ids = {alice: alice_record.id, bob: bob_record.id, you: you_record.id}
jonas_trainee, jonas = next((ids[agent], chat) for agent in trainees
                            for chat in agent.desk.sessions.values()
                            if chat.contact.name == "Jonas Becker")
# the impatient customer complained once: when his second wait turned red
assert [e.text for e in jonas.transcript].count("Hello?? Is anybody there?") == 1
room.timing()""",
    ),
    (
        "md",
        """## The report

`class_report(db, class_id, thresholds=...)` reads the class's conversations from the
server's database (read-only) and computes every figure with the package's metric
functions (definitions: `docs/metrics.md`, "Class report"). `report.trainees` has one
row per trainee and a `<column>_vs_class` difference to the class median;
`report.overview()` is the table to show, with the class median as its last row.""",
    ),
    (
        "code",
        """report = class_report(server.config.db, room.class_id, thresholds=limits)
t = report.trainees
assert sorted(t["trainee_name"]) == ["Alice Agent", "Bob Agent", "You"]
assert t["chats"].tolist() == [1, 1, 1] and t["dispositions"].tolist() == [1, 1, 1]
assert t.loc[alice_record.id, "pushed_urls"] == 1 and t["pushed_urls"].sum() == 1
assert t["chats_vs_class"].tolist() == [0, 0, 0] and report.class_median["chats"] == 1
for trainee in (alice_record.id, bob_record.id):  # answered after 1 s and 2 s (and a pause)
    assert 0.5 < t.loc[trainee, "first_response_median_s"] < 6
# a later answer took 8.5 s: yellow from 3 s to 6 s, then red; Jonas's chat turned red
assert t["yellow_s"].between(0, 7).all() and t["red_s"].between(0, 6).all()
assert t.loc[jonas_trainee, "red_s"] > 0
assert len(report.chats) == 3 and report.summary["abandoned"] == 0
report.overview()""",
    ),
    (
        "md",
        """One trainee's plot: their response times next to the class median, with the
yellow and red thresholds, and the time their reminder spent yellow and red.""",
    ),
    (
        "code",
        """report.plot(alice_record.id)""",
        ["plot"],
    ),
    (
        "md",
        """The report to hand out: one self-contained HTML file (tables, plots as inline PNG
images; no scripts, nothing fetched from the internet).""",
    ),
    (
        "code",
        """html_path = report.to_html(tmp / f"{room.class_id}.html")
page = html_path.read_text()
assert page.count("<img") == 3 and "<script" not in page and 'src="http' not in page
print(html_path, f"{html_path.stat().st_size / 1024:.0f} KiB")""",
    ),
    (
        "md",
        """## The same from the command line

A server runs with `chat-widget serve`, each trainee connects with their own token
(`chat-widget agents add NAME`), and the trainer runs the class from a terminal:

```
chat-widget class run billing.yaml impatient.yaml leaver.yaml --trainees 3 \\
    --url ws://127.0.0.1:8765/ws --class-id monday-am --yellow 30 --red 60
```

Built-in scenarios work by name too (`chat-widget class run billing impatient leaver
--trainees 12`). Afterwards, the report from the server's database:

```
chat-widget class report monday-am --db chats.sqlite --html monday-am.html
```

It prints the trainee table, as below (`report.text()`), and writes the HTML file.""",
    ),
    (
        "code",
        """print(report.text())""",
    ),
    ("md", """## Clean up"""),
    (
        "code",
        """await room.stop()
for task in (*players, watcher):
    task.cancel()
await asyncio.gather(*players, watcher, return_exceptions=True)
await tess.aclose()
for agent in (alice, bob, you):
    await agent.aclose()
await server.stop()""",
    ),
]


def main() -> None:
    cells = []
    for i, (kind, src, *rest) in enumerate(CELLS):
        tags = rest[0] if rest else None
        cell = (new_markdown_cell if kind == "md" else new_code_cell)(src, id=cell_id(NAME, i))
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)
    nbformat.write(new_notebook(cells=cells, metadata=METADATA), HERE / NAME)


if __name__ == "__main__":
    main()
