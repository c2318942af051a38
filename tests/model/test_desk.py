"""AgentDesk: URL history across chats (F17) and command forwarding."""

import pytest

from chat_widget import AgentDesk, ContactRecord, VirtualClock
from chat_widget.model import commands as cmd


def test_url_history_most_recent_first_no_duplicates_bounded() -> None:
    desk = AgentDesk(VirtualClock(), url_history_limit=3)
    a = desk.offer("a", ContactRecord("A"))
    b = desk.offer("b", ContactRecord("B"))
    a.accept()
    b.accept()
    a.push_url("https://one.example")
    b.push_url("https://two.example")
    a.push_url("https://one.example")
    assert desk.url_history == ["https://one.example", "https://two.example"]
    b.push_url("https://three.example")
    b.push_url("https://four.example")
    assert desk.url_history == [
        "https://four.example",
        "https://three.example",
        "https://one.example",
    ]


def test_commands_reach_the_connected_sink_in_order() -> None:
    desk = AgentDesk(VirtualClock())
    sent: list[cmd.Command] = []
    desk.connect(sent.append)
    s = desk.offer("a", ContactRecord("A"))
    s.accept()
    s.send("hi")
    assert [type(c) for c in sent] == [cmd.Accept, cmd.SendMessage]


def test_duplicate_offer_is_refused() -> None:
    desk = AgentDesk(VirtualClock())
    desk.offer("a", ContactRecord("A"))
    with pytest.raises(ValueError, match="already"):
        desk.offer("a", ContactRecord("A"))
