"""WebSocketBackend + ChatSession end to end against the real server."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from chat_widget import ChatWidget, WebSocketBackend
from chat_widget.model.clock import VirtualClock
from chat_widget.model.session import ChatSession, Connection, SessionState
from chat_widget.server import ChatServer

from .helpers import TIMEOUT, customer


async def until(cond: Callable[[], bool]) -> None:
    """Wait (bounded) until ``cond`` holds: model changes arrive with protocol frames.

    This polls for I/O to happen, not for time to pass: nothing here depends on a timer."""

    async def run() -> None:
        while not cond():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(run(), TIMEOUT)


async def test_backend_with_session_end_to_end(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    _, token = server.store.add_agent("Alice Agent")
    backend = WebSocketBackend(server.url, token=token, clock=VirtualClock())
    widget = ChatWidget(backend)
    try:
        await backend.wait_connected()
        assert backend.desk.agent.name == "Alice Agent"
        carla, conv = await customer(server.url, origin, "carla-b")
        session: ChatSession = await backend.next_offer()
        assert session.id == conv and session.contact.name == "Carla"
        assert session.contact.emails == ("carla@example.com",)
        assert widget.session is session
        session.accept()
        await carla.expect("ParticipantJoined", seq=2)

        await carla.send("StartTyping", conversation=conv)
        await until(lambda: session.contact_typing())
        await carla.send("SendMessage", conversation=conv, text="Hi, is anyone there?")
        await until(lambda: any(e.text == "Hi, is anyone there?" for e in session.transcript))
        assert not session.contact_typing()

        session.set_agent_typing(True)
        await carla.expect("TypingStarted", conversation=conv)
        session.send("Yes, Alice here. How can I help?")
        got = await carla.expect(
            "Message", conversation=conv, text="Yes, Alice here. How can I help?"
        )
        assert got["from"]["nickname"] == "Alice Agent"
        session.push_url("https://example.com/help")
        pushed = await carla.expect("PushUrl", conversation=conv)
        assert pushed["url"] == "https://example.com/help"

        # drop the agent's socket mid-chat: status follows, messages queue, resume fills in
        backend.drop_connection()
        await until(lambda: session.connection is not Connection.CONNECTED)
        offline = session.send("Sent while offline")
        # issue 12: shown as sending until the server acknowledges it
        assert offline.client_id in session.pending
        widget.flush()
        assert offline.index in widget.state["pending"]
        await carla.send("SendMessage", conversation=conv, text="Also sent while you were away")
        await until(lambda: session.connection is Connection.CONNECTED)
        await carla.expect("Message", conversation=conv, text="Sent while offline")
        await until(
            lambda: any(e.text == "Also sent while you were away" for e in session.transcript)
        )
        await until(lambda: backend.pending == 0)
        assert session.pending == {}  # every message acknowledged: none shows as sending
        widget.flush()
        assert widget.state["pending"] == []

        await carla.send("EndChat", conversation=conv)
        await until(lambda: session.state is SessionState.CONTACT_LEFT)
        session.set_disposition("Resolved")
        session.add_note("friendly customer")
        session.mark_done()
        await until(lambda: backend.pending == 0)
        widget.flush()
        assert widget.state["contact_left"] is True  # "Contact left" stays after Done

        texts = [e.text for e in session.transcript if e.kind == "message"]
        assert texts == [
            "Hi, is anyone there?",
            "Yes, Alice here. How can I help?",
            "Sent while offline",
            "Also sent while you were away",
        ]
        db = sqlite3.connect(server.config.db)
        stored = [
            r[0]
            for r in db.execute(
                "SELECT type FROM events WHERE conversation = ? ORDER BY seq", (conv,)
            )
        ]
        assert stored.count("Message") == 4 and stored[-1] == "ChatDone"
        assert (
            db.execute("SELECT state FROM conversations WHERE id = ?", (conv,)).fetchone()[0]
            == "done"
        )
        await carla.close()
    finally:
        widget.close()
        await backend.aclose()
    assert session.connection is Connection.DISCONNECTED


async def test_backend_bad_token_gives_up(server: ChatServer) -> None:
    backend = WebSocketBackend(server.url, token="not-a-token", clock=VirtualClock())
    try:
        await until(lambda: backend._task is not None and backend._task.done())
        assert backend.status is Connection.DISCONNECTED
        assert backend.connects == 0
    finally:
        await backend.aclose()
