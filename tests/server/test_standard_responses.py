"""Standard responses on the live server (issue 16): the library in AuthOk, a bad library
stops start-up, a message sent from a response is stored with its id and exported."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_widget.analysis import load_store, response_usage
from chat_widget.cli import main
from chat_widget.formats.responses import ResponseLibraryError
from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer

from .conftest import make_config
from .helpers import agent, customer

LIBRARY = """\
responses:
  - id: greeting
    name: Greeting
    category: Opening
    shortcut: hi
    text:
      en: "Hello {contact.first_name}, I am {agent.nickname}."
      de: "Hallo {contact.first_name}, ich bin {agent.nickname}."
  - id: bye
    name: Goodbye
    category: Closing
    text: "Goodbye!"
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    path = tmp_path / "responses.yaml"
    path.write_text(LIBRARY, encoding="utf-8")
    return path


async def test_the_library_is_served_stored_with_messages_and_exported(
    tmp_path: Path, library: Path, clock: VirtualClock
) -> None:
    server = ChatServer(make_config(tmp_path, responses=str(library)), clock=clock)
    await server.start()
    try:
        _, token = server.store.add_agent("Alice")
        alice = await agent(server.url, token, "alice")
        ok = next(f for f in alice.frames if f["type"] == "AuthOk")
        assert [r["id"] for r in ok["responses"]] == ["greeting", "bye"]
        greeting = ok["responses"][0]
        assert greeting["shortcut"] == "hi" and greeting["category"] == "Opening"
        assert greeting["texts"]["de"] == "Hallo {contact.first_name}, ich bin {agent.nickname}."

        origin = f"http://127.0.0.1:{server.port}"
        carla, conv = await customer(server.url, origin, "carla")
        await alice.expect("Offer", conversation=conv)
        await alice.send("Accept", conversation=conv)
        await alice.expect("ParticipantJoined", conversation=conv, seq=2)
        mid = await alice.send(
            "SendMessage", conversation=conv, text="Hello Carla, I am Alice!", response="greeting"
        )
        assert (await alice.reply(mid))["type"] == "Ack"
        await alice.send("SendMessage", conversation=conv, text="typed freely")
        seen = await carla.expect("Message", conversation=conv, text="Hello Carla, I am Alice!")
        assert seen["text"] == "Hello Carla, I am Alice!"
        await carla.expect("Message", conversation=conv, text="typed freely")
    finally:
        await server.stop()

    frames = load_store(str(tmp_path / "chats.sqlite"))
    sent = frames.entries[frames.entries["sender_name"] == "Alice"]
    messages = sent[sent["kind"] == "message"]
    assert list(messages["response"].astype(object).where(messages["response"].notna(), None)) == [
        "greeting",
        None,
    ]
    usage = response_usage(frames)
    assert usage.to_dict("records") == [
        {
            "agent_id": usage.loc[0, "agent_id"],
            "agent_name": "Alice",
            "response": "greeting",
            "uses": 1,
        }
    ]


async def test_no_library_means_an_empty_list(server: ChatServer) -> None:
    _, token = server.store.add_agent("Bob")
    bob = await agent(server.url, token, "bob")
    ok = next(f for f in bob.frames if f["type"] == "AuthOk")
    assert ok.get("responses", []) == []


def test_a_bad_library_stops_start_up_with_the_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "responses:\n  - id: greeting\n    name: Greeting\n    text: 'Hi {contact.nick}'\n",
        encoding="utf-8",
    )
    with pytest.raises(ResponseLibraryError, match=r"bad.yaml: response 'greeting', field 'text'"):
        ChatServer(make_config(tmp_path, responses=str(bad)), clock=VirtualClock())


def test_serve_with_a_bad_library_exits_with_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "responses:\n  - id: x\n    name: X\n    text: '{agent.nick}'\n", encoding="utf-8"
    )
    argv = ["serve", "--port", "0", "--db", str(tmp_path / "c.sqlite"), "--responses", str(bad)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "bad.yaml: response 'x', field 'text': unknown field code {agent.nick}" in err
