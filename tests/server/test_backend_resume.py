"""A new ``WebSocketBackend`` with the same token (a kernel restart) takes back the
agent's open chats: accepted, the whole transcript once, and they keep working."""

from __future__ import annotations

import sqlite3

from chat_widget import ChatWidget, WebSocketBackend, WorkspaceWidget
from chat_widget.formats.transcript import Entry, Kind
from chat_widget.model.clock import VirtualClock
from chat_widget.model.reply_timer import TimerColour
from chat_widget.model.session import ChatSession, Connection, SessionState
from chat_widget.server import ChatServer

from .helpers import Frame, customer
from .test_websocket_backend import until


def shape(transcript: list[Entry]) -> list[tuple[object, ...]]:
    """What a transcript shows, without the times (the new desk reads it later)."""
    return [(e.kind, e.sender, e.text, e.url, e.visibility, e.client_id) for e in transcript]


def texts(frames: list[Frame], conv: str, text: str) -> int:
    return sum(
        1
        for f in frames
        if f.get("type") == "Message" and f.get("conversation") == conv and f.get("text") == text
    )


async def test_new_backend_after_restart_takes_back_open_chats(
    server: ChatServer, origin: str, clock: VirtualClock
) -> None:
    _, token = server.store.add_agent("Alice Agent")
    carla, conv = await customer(server.url, origin, "carla-r")

    # kernel 1: accept, exchange messages, push a link; Carla's last message is unanswered
    clock1 = VirtualClock(start=clock.now())  # kernel and server read the same wall clock
    backend1 = WebSocketBackend(server.url, token=token, clock=clock1)
    try:
        first: ChatSession = await backend1.next_offer()
        assert first.id == conv
        first.accept()
        await carla.expect("ParticipantJoined", conversation=conv, seq=2)
        await carla.send("SendMessage", conversation=conv, text="Hi, my order is late")
        await until(lambda: any(e.text == "Hi, my order is late" for e in first.transcript))
        first.send("Sorry! Let me look.")
        first.push_url("https://example.com/orders")
        await carla.expect("PushUrl", conversation=conv)
        await carla.send("SendMessage", conversation=conv, text="Order 42, thanks")
        await until(lambda: any(e.text == "Order 42, thanks" for e in first.transcript))
        await until(lambda: backend1.pending == 0)
        before = shape(first.transcript)
        assert first.timer.pending_since is not None  # Carla waits for an answer
    finally:
        await backend1.aclose()  # the kernel restarts: this desk is gone

    # kernel 2: a new backend with the same token, a fresh clock and desk
    restart = clock.now() + 5.0  # the kernel is back 5 s later
    clock2 = VirtualClock(start=restart)
    backend2 = WebSocketBackend(server.url, token=token, clock=clock2)
    widget = ChatWidget(backend2)
    workspace = WorkspaceWidget(backend2)
    try:
        await backend2.wait_connected()
        await until(lambda: conv in backend2.desk.sessions)
        session = backend2.desk.sessions[conv]
        assert session.state is SessionState.ACCEPTED and session.accepted_at == restart
        assert session.contact.name == "Carla"
        assert session.contact.emails == ("carla@example.com",)
        assert widget.session is session
        assert workspace.order == [conv] and workspace.chats[conv]["state"] == "accepted"
        await until(lambda: len(session.transcript) >= len(before))
        assert shape(session.transcript) == before  # nothing lost, nothing twice
        assert backend2.duplicates == 0 and backend2.errors == []
        assert session.connection is Connection.CONNECTED

        # entries keep the times the server stored (not when this kernel read them)
        assert [e.time for e in session.transcript] == [e.time for e in first.transcript]
        assert all(e.time < restart for e in session.transcript)
        # the reply timer follows the rule on the transcript: Carla's message waits, from
        # the restart on (the new desk took the chat back then)
        assert session.timer.pending_since == restart
        assert session.timer_colour() is TimerColour.GREEN
        clock2.advance(31.0)
        assert session.timer_colour() is TimerColour.YELLOW

        # the chat keeps working: the reply reaches Carla exactly once
        session.send("Order 42 ships today.")
        assert session.timer.pending_since is None
        await carla.expect("Message", conversation=conv, text="Order 42 ships today.")
        await until(lambda: backend2.pending == 0)
        await carla.send("SendMessage", conversation=conv, text="Great, bye")
        await carla.expect("Message", conversation=conv, text="Great, bye")  # Carla's own echo
        await until(lambda: any(e.text == "Great, bye" for e in session.transcript))
        assert texts(carla.frames, conv, "Order 42 ships today.") == 1
        replies = [e for e in session.transcript if e.text == "Order 42 ships today."]
        assert len(replies) == 1 and replies[0].kind is Kind.MESSAGE

        session.end()
        await carla.expect("ChatEnded", conversation=conv)
        session.set_disposition("Resolved")
        session.mark_done()
        await until(lambda: backend2.pending == 0)
        assert backend2.errors == [] and backend2.duplicates == 0
        db = sqlite3.connect(server.config.db)
        stored = [
            r[0]
            for r in db.execute(
                "SELECT type FROM events WHERE conversation = ? ORDER BY seq", (conv,)
            )
        ]
        assert stored.count("Message") == 5 and stored.count("PushUrl") == 1
        assert stored.count("ParticipantJoined") == 2  # Carla and Alice, once each
        assert stored[-1] == "ChatDone"
        db.close()
        await carla.close()
    finally:
        workspace.close()
        widget.close()
        await backend2.aclose()


async def test_new_backend_takes_back_a_chat_it_ended(server: ChatServer, origin: str) -> None:
    """A chat the agent ended but did not mark done comes back ended, ready for wrap-up."""
    _, token = server.store.add_agent("Alice Agent")
    carla, conv = await customer(server.url, origin, "carla-e")
    backend1 = WebSocketBackend(server.url, token=token, clock=VirtualClock())
    try:
        first = await backend1.next_offer()
        first.accept()
        await carla.send("SendMessage", conversation=conv, text="Thanks, that's all")
        await until(lambda: any(e.text == "Thanks, that's all" for e in first.transcript))
        first.end()
        await carla.expect("ChatEnded", conversation=conv)
        await until(lambda: backend1.pending == 0)
        before = shape(first.transcript)
    finally:
        await backend1.aclose()

    backend2 = WebSocketBackend(server.url, token=token, clock=VirtualClock())
    try:
        await until(lambda: conv in backend2.desk.sessions)
        session = backend2.desk.sessions[conv]
        await until(lambda: session.state is SessionState.ENDED)
        await until(lambda: backend2.pending == 0)
        assert shape(session.transcript) == before
        assert session.timer.pending_since is None
        session.mark_done()
        await until(lambda: backend2.pending == 0)
        assert backend2.errors == [] and backend2.duplicates == 0
        db = sqlite3.connect(server.config.db)
        state = db.execute("SELECT state FROM conversations WHERE id = ?", (conv,)).fetchone()
        db.close()
        assert state[0] == "done"
        await carla.close()
    finally:
        await backend2.aclose()
