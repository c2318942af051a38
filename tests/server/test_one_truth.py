"""SPEC 9 "One truth for every view": two agents' desks on the real server agree
with the server on who owns the chat and who is in it, and on every entry's time."""

from __future__ import annotations

from typing import Any

import pytest

from chat_widget import ChatError, WebSocketBackend
from chat_widget.model.clock import VirtualClock
from chat_widget.model.collaboration import Collaboration
from chat_widget.model.session import ChatSession, SessionState
from chat_widget.server import ChatServer

from .helpers import customer
from .test_websocket_backend import until


def owner_and_members(collab: Collaboration, conv: str) -> tuple[str | None, set[str]]:
    view: dict[str, Any] = collab.view(conv)
    owner = view["owner"]["id"] if view["owner"] else None
    return owner, {p["id"] for p in view["participants"] if p["kind"] == "agent"}


def times_by_text(session: ChatSession) -> dict[str, float]:
    return {e.text: e.time for e in session.transcript if e.kind.value == "message"}


async def test_both_desks_show_the_servers_owner_members_and_times(
    server: ChatServer, origin: str
) -> None:
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    # each kernel on a clock of its own, far from the server's: times come from the server
    alice = WebSocketBackend(server.url, token=at, clock=VirtualClock(start=1_000.0))
    bob = WebSocketBackend(server.url, token=bt, clock=VirtualClock(start=9_000.0), ready=False)
    router = server.service.router
    try:
        await alice.wait_connected()
        await bob.wait_connected()
        carla, conv = await customer(server.url, origin, "carla")
        s_a = await alice.next_offer()
        s_a.accept()
        await carla.expect("ParticipantJoined", seq=2)
        # the agent's transcript has the notice the customer reads
        await until(lambda: any(e.text == "Alice joined the chat" for e in s_a.transcript))
        await carla.send("SendMessage", conversation=conv, text="I was charged twice")
        await until(lambda: "I was charged twice" in times_by_text(s_a))
        s_a.send("Let me ask billing")

        # conference: Bob joins Alice's chat; Alice stays the owner in every view
        bob.desk.set_presence("ready")
        await until(lambda: alice.desk.directory.agents["bob"].presence == "available")
        alice.desk.collab.invite(conv, "bob")
        s_b = await bob.next_offer()
        assert s_b.offer_kind == "conference"
        s_b.accept()
        await until(lambda: owner_and_members(alice.desk.collab, conv)[1] == {"alice", "bob"})
        await until(lambda: owner_and_members(bob.desk.collab, conv)[1] == {"alice", "bob"})
        assert router.owner(conv) == "alice"
        assert owner_and_members(alice.desk.collab, conv) == ("alice", {"alice", "bob"})
        assert owner_and_members(bob.desk.collab, conv) == ("alice", {"alice", "bob"})
        assert any(e.text == "Bob joined the chat" for e in s_b.transcript)
        s_b.send("Bob from billing here")
        await carla.expect("Message", conversation=conv, text="Bob from billing here")
        await until(lambda: "Bob from billing here" in times_by_text(s_a))

        # every entry both see has the server's time in both views and on Carla's page
        await until(lambda: alice.pending == 0 and bob.pending == 0)
        shared = times_by_text(s_a).keys() & times_by_text(s_b).keys()
        assert {"I was charged twice", "Let me ask billing", "Bob from billing here"} <= shared
        for text in shared:
            assert times_by_text(s_a)[text] == times_by_text(s_b)[text], text
        on_page = {f["text"]: f["utcTime"] / 1000 for f in carla.frames if f["type"] == "Message"}
        for text in shared:
            assert on_page[text] == times_by_text(s_a)[text], text
        assert all(t > 1_000_000_000 for t in times_by_text(s_b).values())  # not Bob's clock

        # only the owner hands over: Bob is told so before anything reaches the server
        with pytest.raises(ChatError, match=r"only the chat's owner \(Alice\)"):
            bob.desk.collab.transfer(conv, "agent", "alice")

        # the owner leaves: Bob owns the chat, in his view as on the server
        alice.desk.collab.leave_conference(conv)
        assert s_a.state is SessionState.TRANSFERRED
        await until(lambda: router.owner(conv) == "bob")
        await until(lambda: owner_and_members(bob.desk.collab, conv) == ("bob", {"bob"}))

        # Bob transfers back: Alice owns it again, and her view says so (not Bob)
        bob.desk.collab.transfer(conv, "agent", "alice", "Refund approved")
        s_a2 = await alice.next_offer()
        s_a2.accept()
        await until(lambda: router.owner(conv) == "alice")
        await until(lambda: s_b.state is SessionState.TRANSFERRED)
        assert owner_and_members(alice.desk.collab, conv) == ("alice", {"alice"})
        await until(lambda: "Bob from billing here" in times_by_text(s_a2))
        first = "I was charged twice"
        assert times_by_text(s_a2)[first] == times_by_text(s_b)[first]
        assert not alice.errors and not bob.errors, (alice.errors, bob.errors)
    finally:
        await alice.aclose()
        await bob.aclose()


async def test_invited_colleague_leaves_and_the_owner_keeps_the_chat(
    server: ChatServer, origin: str
) -> None:
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    alice = WebSocketBackend(server.url, token=at, clock=VirtualClock())
    bob = WebSocketBackend(server.url, token=bt, clock=VirtualClock(), ready=False)
    try:
        await alice.wait_connected()
        await bob.wait_connected()
        _carla, conv = await customer(server.url, origin, "carla")
        s_a = await alice.next_offer()
        s_a.accept()
        bob.desk.set_presence("ready")
        await until(lambda: alice.desk.directory.agents["bob"].presence == "available")
        alice.desk.collab.invite(conv, "bob")
        s_b = await bob.next_offer()
        s_b.accept()
        await until(lambda: owner_and_members(bob.desk.collab, conv) == ("alice", {"alice", "bob"}))
        bob.desk.collab.leave_conference(conv)
        assert s_b.state is SessionState.TRANSFERRED
        await until(lambda: owner_and_members(alice.desk.collab, conv) == ("alice", {"alice"}))
        assert server.service.router.owner(conv) == "alice"
        await until(lambda: any(e.text == "Bob left the chat" for e in s_a.transcript))
        assert s_a.state is SessionState.ACCEPTED
        assert not alice.errors and not bob.errors, (alice.errors, bob.errors)
    finally:
        await alice.aclose()
        await bob.aclose()
