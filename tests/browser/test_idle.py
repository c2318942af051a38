"""The customer idle alert and auto-close on the customer page (issue 16), real clock:
the customer answers nothing after the agent's question, the page shows the alert, then
that the chat was closed, in English and in German."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from websockets.sync.client import connect

from .lab import new_page, screenshot
from .live_server import ServerThread
from .test_customer_page import Agent

ALERT_S, CLOSE_S = 1.5, 2.0


@pytest.fixture
def idle_server(tmp_path: Path) -> Iterator[ServerThread]:
    srv = ServerThread(tmp_path / "idle.sqlite", idle_alert_after=ALERT_S, idle_close_after=CLOSE_S)
    srv.start()
    yield srv
    srv.stop()


@pytest.mark.parametrize(
    ("lang", "alert", "closed"),
    [
        (
            "en",
            "No message for a while: this chat closes in 2 s unless you write.",
            "The chat was closed because there was no message for a while.",
        ),
        (
            "de",
            "Länger keine Nachricht: Dieser Chat wird in 2 s geschlossen, wenn Sie nicht "
            "schreiben.",
            "Der Chat wurde geschlossen, weil länger keine Nachricht kam.",
        ),
    ],
)
def test_silent_customer_sees_the_idle_alert_then_the_close(
    browser: Browser, idle_server: ServerThread, lang: str, alert: str, closed: str
) -> None:
    with connect(idle_server.server.url, open_timeout=10) as ws:
        agent = Agent(idle_server, ws, "Alice")
        page = new_page(browser)
        try:
            page.goto(f"{idle_server.server.http_url}?lang={lang}")
            page.locator("#nickname").fill("Jonas")
            page.get_by_test_id("start-chat").click()
            conv = agent.take_next_chat()
            page.get_by_test_id("customer-input").fill("My parcel is late.")
            page.get_by_test_id("customer-send").click()
            agent.expect("Message", conversation=conv)
            agent.send("SendMessage", conversation=conv, text="Which order number is it?")
            transcript = page.get_by_test_id("customer-transcript")
            expect(transcript).to_contain_text("Which order number is it?")

            # the customer answers nothing: the alert, then the close
            shown = transcript.locator("[data-event=idle_alert]")
            expect(shown).to_have_text(alert, timeout=10_000)
            expect(page.get_by_test_id("customer-input")).to_be_enabled()
            screenshot(page, f"idle-{lang}-01-alert")
            closing = transcript.locator("[data-event=idle_close]")
            expect(closing).to_have_text(closed, timeout=10_000)
            expect(page.get_by_test_id("customer-status")).to_have_attribute("data-status", "ended")
            expect(page.get_by_test_id("chat-over")).to_be_visible()
            expect(page.get_by_test_id("customer-input")).to_be_disabled()
            ended = agent.expect("ChatEnded", conversation=conv)
            assert ended["reason"] == "idle" and ended["from"]["type"] == "System"
            screenshot(page, f"idle-{lang}-02-closed")
        finally:
            page.context.close()
