"""The customer page with several server addresses (issue 18): when the process it chats
through goes away, it moves to the next address of ``?servers=`` and the chat goes on
there, nothing shown twice. Real clock, real browser, two real servers on one database."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect
from websockets.sync.client import connect

from ..pg import free_port
from .lab import new_page, screenshot
from .live_server import ServerThread, say
from .test_customer_page import Agent


def test_the_page_moves_to_the_next_address_and_the_chat_goes_on(
    browser: Browser, tmp_path: Path
) -> None:
    db = tmp_path / "two.sqlite"
    first = ServerThread(db)
    first.start()
    page_origin = f"http://127.0.0.1:{first.server.port}"
    second_port = free_port()
    servers = f"127.0.0.1:{first.server.port},127.0.0.1:{second_port}"
    second: ServerThread | None = None
    page = new_page(browser)
    try:
        page.goto(f"{page_origin}/?lang=en&servers={servers}")
        page.get_by_test_id("start-form").locator("#nickname").fill("Carla")
        page.get_by_test_id("start-chat").click()
        status = page.get_by_test_id("customer-status")
        expect(status).to_have_attribute("data-status", "connected")
        transcript = page.get_by_test_id("customer-transcript")
        with connect(first.server.url) as ws:
            alice = Agent(first, ws, "Alice")
            conv = alice.take_next_chat()
            say(page, "My invoice is wrong")
            alice.expect("Message", conversation=conv, text="My invoice is wrong")
            alice.send("SendMessage", conversation=conv, text="Let me look at it")
            expect(transcript).to_contain_text("Let me look at it")
        token = alice.token
        first.stop()  # the process the page chats through goes away
        expect(status).to_have_attribute("data-status", "reconnecting")
        # one SQLite file serves one process at a time: the next address starts now,
        # allowing the page's origin (it was served by the first)
        second = ServerThread(db, port=second_port, origins=(page_origin,))
        second.start()
        expect(status).to_have_attribute("data-status", "connected", timeout=20_000)
        with connect(second.server.url) as ws:
            alice = Agent(second, ws, "Alice", token, resume={conv: 0})  # the same agent
            say(page, "Are you still there?")
            alice.expect("Message", conversation=conv, text="Are you still there?")
            alice.send("SendMessage", conversation=conv, text="Yes, it is fixed now")
            expect(transcript).to_contain_text("Yes, it is fixed now")
        # everything once, in order
        texts = transcript.inner_text()
        for line in ("My invoice is wrong", "Let me look at it", "Are you still there?"):
            assert texts.count(line) == 1, texts
        assert texts.index("Let me look at it") < texts.index("Yes, it is fixed now")
        screenshot(page, "customer-servers-01-moved")
    finally:
        page.context.close()
        if second is not None:
            second.stop()
        else:
            first.stop()
