"""Standard responses (issue 16): the library, field filling, and their use in a chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_widget.backends.mock import MockBackend
from chat_widget.formats.responses import (
    SAMPLE,
    ResponseLibrary,
    ResponseLibraryError,
    load_library,
)
from chat_widget.formats.transcript import AgentProfile, ContactRecord, Entry
from chat_widget.model import commands as cmd
from chat_widget.model.clock import VirtualClock
from chat_widget.model.desk import AgentDesk
from chat_widget.model.errors import ChatError

LIBRARY = {
    "responses": [
        {
            "id": "greeting",
            "name": "Greeting",
            "category": "Opening",
            "shortcut": "hi",
            "text": {
                "en": "Hello {contact.first_name}, I am {agent.nickname}. How can I help?",
                "de": "Hallo {contact.first_name}, ich bin {agent.nickname}.",
            },
        },
        {
            "id": "hold",
            "name": "One moment",
            "category": "During",
            "shortcut": "hold",
            "text": "One moment please, I am checking invoice matters.",
        },
        {
            "id": "history",
            "name": "Earlier chat",
            "category": "During",
            "shortcut": "hist",
            "text": "Your reference is {chat.id}, {contact.name}; {agent.name} here.",
        },
        {"id": "bye", "name": "Goodbye", "category": "Closing", "text": "Goodbye!"},
    ]
}
MARIA = ContactRecord("Maria Weber", emails=("maria@example.com",))


def test_fields_are_filled_for_the_chat_first_name_is_the_first_word() -> None:
    lib = ResponseLibrary.from_data(LIBRARY)
    agent = AgentProfile("Lena Schmidt", "lena")
    desk = AgentDesk(VirtualClock(), agent=agent)
    desk.responses = lib
    session = desk.offer("chat-7", MARIA)
    assert session.insert_response("greeting") == (
        "Hello Maria, I am Lena Schmidt. How can I help?"
    )
    assert session.insert_response("greeting", "de") == "Hallo Maria, ich bin Lena Schmidt."
    assert session.insert_response("history") == (
        "Your reference is chat-7, Maria Weber; Lena Schmidt here."
    )
    # a language the response lacks falls back to English; a one-string text is for all
    assert session.insert_response("hold", "de").startswith("One moment please")
    # inserting never sends: no command, no entry
    assert session.take_commands() == [] and session.transcript == []


def test_a_library_set_later_reaches_chats_already_on_the_desk() -> None:
    desk = AgentDesk(VirtualClock())
    session = desk.offer("chat-1", MARIA)
    seen: list[str] = []
    desk.subscribe(lambda change, _payload: seen.append(change))
    with pytest.raises(ResponseLibraryError, match="no standard response 'greeting'"):
        session.insert_response("greeting")
    desk.responses = ResponseLibrary.from_data(LIBRARY)
    assert session.insert_response("greeting").startswith("Hello Maria,")
    assert "responses" in seen


def test_unknown_field_code_is_refused_naming_file_response_and_field(tmp_path: Path) -> None:
    path = tmp_path / "lib.yaml"
    path.write_text(
        "responses:\n"
        "  - id: greeting\n    name: Greeting\n    text: Hi\n"
        "  - id: bad\n    name: Bad\n    text:\n"
        "      en: 'Hello {contact.firstname}'\n      de: 'Hallo'\n",
        encoding="utf-8",
    )
    with pytest.raises(ResponseLibraryError) as err:
        load_library(path)
    msg = str(err.value)
    assert str(path) in msg and "response 'bad'" in msg and "'text.en'" in msg
    assert "{contact.firstname}" in msg and "{contact.first_name}" in msg  # what is known


def test_duplicate_shortcut_and_id_are_refused() -> None:
    dup = {
        "responses": [
            {"id": "a", "name": "A", "shortcut": "hi", "text": "x"},
            {"id": "b", "name": "B", "shortcut": "HI", "text": "y"},
        ]
    }
    with pytest.raises(ResponseLibraryError, match=r"response 'b', field 'shortcut'.*'a'"):
        ResponseLibrary.from_data(dup, "team.yaml")
    twice = {"responses": [{"id": "a", "name": "A", "text": "x"}] * 2}
    with pytest.raises(ResponseLibraryError, match=r"team\.yaml: response 'a': duplicate id"):
        ResponseLibrary.from_data(twice, "team.yaml")


def test_bad_files_and_fields_say_where(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "broken.yaml"
    bad_yaml.write_text("responses: [\n  - id: x", encoding="utf-8")
    with pytest.raises(ResponseLibraryError, match=r"broken.yaml: not valid YAML"):
        load_library(bad_yaml)
    bad_json = tmp_path / "broken.json"
    bad_json.write_text("{", encoding="utf-8")
    with pytest.raises(ResponseLibraryError, match=r"broken.json: not valid JSON"):
        load_library(bad_json)
    with pytest.raises(ResponseLibraryError, match="no such response library file"):
        load_library(tmp_path / "missing.yaml")
    missing_name = {"responses": [{"id": "greet", "text": "Hi"}]}
    with pytest.raises(ResponseLibraryError, match=r"x.yaml: response 'greet', field 'name'"):
        ResponseLibrary.from_data(missing_name, "x.yaml")
    bad_id = {"responses": [{"id": "no spaces", "name": "N", "text": "Hi"}]}
    with pytest.raises(ResponseLibraryError, match=r"response 'no spaces', field 'id'"):
        ResponseLibrary.from_data(bad_id, "x.yaml")
    with pytest.raises(ResponseLibraryError, match="must be a mapping"):
        ResponseLibrary.from_data("just text", "x.yaml")


def test_shortcut_prefix_matching_exact_first_any_case() -> None:
    lib = ResponseLibrary.from_data(LIBRARY)
    assert [r.id for r in lib.by_shortcut("h")] == ["greeting", "hold", "history"]
    assert [r.id for r in lib.by_shortcut("/HO")] == ["hold"]
    assert [r.id for r in lib.by_shortcut("hi")] == ["greeting", "history"]  # exact first
    assert lib.by_shortcut("zz") == []


def test_search_matches_every_word_in_name_category_or_text() -> None:
    lib = ResponseLibrary.from_data(LIBRARY)
    assert [r.id for r in lib.search("")] == ["greeting", "hold", "history", "bye"]
    assert [r.id for r in lib.search("invoice")] == ["hold"]
    assert [r.id for r in lib.search("closing")] == ["bye"]
    assert [r.id for r in lib.search("during reference")] == ["history"]
    assert [r.id for r in lib.search("wie kann", "de")] == []
    assert [r.id for r in lib.search("hallo", "de")] == ["greeting"]
    assert lib.categories() == ["Opening", "During", "Closing"]


def test_the_shipped_sample_library_loads() -> None:
    lib = load_library(SAMPLE)
    assert len(lib) >= 8 and len(lib.categories()) == 3
    assert all({"en", "de"} <= set(r.texts) for r in lib)


def test_sending_from_a_response_records_it_and_refuses_unknown_ids() -> None:
    backend = MockBackend("billing", clock=VirtualClock(), responses=LIBRARY)
    backend.clock.advance(3)
    session = backend.desk.sessions["chat-1"]
    session.accept()
    session.take_commands()
    text = session.insert_response("greeting") + " Any questions?"
    entry = session.send(text, response="greeting")
    assert entry.response == "greeting" and entry.text.endswith("Any questions?")
    plain = session.send("typed freely")
    assert plain.response is None
    assert "response" not in plain.to_dict()
    assert Entry.from_dict(entry.to_dict()) == entry
    with pytest.raises(ChatError, match="no standard response 'nope'"):
        session.send("text", response="nope")
    exported = session.to_dict()["entries"]
    assert [e.get("response") for e in exported if e["kind"] == "message"][-2:] == [
        "greeting",
        None,
    ]


def test_send_command_carries_the_response() -> None:
    desk = AgentDesk(VirtualClock())
    desk.responses = ResponseLibrary.from_data(LIBRARY)
    session = desk.offer("c1", MARIA)
    session.accept()
    session.send("Hello Maria!", response="greeting")
    sent = [c for c in session.take_commands() if isinstance(c, cmd.SendMessage)]
    assert sent[0].response == "greeting" and sent[0].text == "Hello Maria!"
