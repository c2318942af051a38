"""``WebSocketBackend.next_offer`` returns offers still waiting for an answer (issue 10).

Notebook 04 called ``next_offer()`` after someone had used the customer page: it got that
earlier chat, already answered in the widget and finished, instead of the new offer.
"""

from __future__ import annotations

from chat_widget import WebSocketBackend
from chat_widget.model.clock import VirtualClock
from chat_widget.model.session import SessionState
from chat_widget.server import ChatServer

from .helpers import customer
from .test_websocket_backend import until


async def test_next_offer_skips_chats_answered_meanwhile(server: ChatServer, origin: str) -> None:
    _, token = server.store.add_agent("Alice Agent")
    backend = WebSocketBackend(server.url, token=token, clock=VirtualClock())
    try:
        await backend.wait_connected()
        # a chat from the customer page, accepted and finished in the widget (not via next_offer)
        page, first = await customer(server.url, origin, "page-visitor")
        await until(lambda: first in backend.desk.sessions)
        earlier = backend.desk.sessions[first]
        earlier.accept()
        earlier.end()
        earlier.mark_done()
        await until(lambda: backend.pending == 0)
        # the notebook's own customer: next_offer() is this chat, still offered
        carla, second = await customer(server.url, origin, "carla")
        session = await backend.next_offer()
        assert (session.id, session.state) == (second, SessionState.OFFERED)
        assert earlier.state is SessionState.DONE
        await page.close()
        await carla.close()
    finally:
        await backend.aclose()
