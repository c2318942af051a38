"""The chat server on a thread of the test process, and the customer page, for live journeys.

The server runs on 127.0.0.1 with a temporary SQLite database and real time; the
customer page is served by it. Waits use playwright's ``expect``.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from chat_widget.server import ChatServer, ServerConfig

from .lab import Lab, new_page, open_notebook, run_cell


class ServerThread:
    """``ChatServer`` on its own event loop in a thread (real clock).

    ``overrides``: further ``ServerConfig`` fields (``announce_monitoring=True``, ...)."""

    def __init__(self, db: Path, **overrides: Any) -> None:
        config = ServerConfig(**{"host": "127.0.0.1", "port": 0, "db": str(db), **overrides})
        self.server = ChatServer(config)
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            await self.server.start()
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()
            await self.server.stop()

        self.loop.run_until_complete(main())

    def start(self) -> None:
        self.thread.start()
        assert self._ready.wait(30), "chat server did not start"

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)


def agent_notebook(
    lab: Lab, page: Page, name: str, url: str, token: str, widget: str, ready: bool = True
) -> None:
    code = (
        "from chat_widget import ChatWidget, WebSocketBackend, WorkspaceWidget\n"
        f"backend = WebSocketBackend({url!r}, token={token!r}, ready={ready!r})\n"
        f"w = {widget}(backend)\n"
        "w"
    )
    open_notebook(page, lab, lab.write_notebook(name, [code]))
    run_cell(page, 0)


def customer_page(browser: Browser, srv: ServerThread, nickname: str) -> Page:
    page = new_page(browser)
    page.goto(srv.server.http_url)
    page.get_by_test_id("start-form").locator("#nickname").fill(nickname)
    page.get_by_test_id("start-chat").click()
    expect(page.get_by_test_id("customer-status")).to_have_attribute("data-status", "connected")
    return page


def say(customer: Page, text: str) -> None:
    customer.get_by_test_id("customer-input").fill(text)
    customer.get_by_test_id("customer-send").click()
