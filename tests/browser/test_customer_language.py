"""The customer page speaks the customer's language: ?lang=, else the browser's (issue 12 slice)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from .lab import new_page, screenshot
from .live_server import ServerThread


def test_customer_page_in_german_from_the_browser_and_english_when_asked(
    browser: Browser, chat_server: ServerThread
) -> None:
    url = chat_server.server.http_url
    german = new_page(browser, locale="de-DE")  # Accept-Language: de-DE
    try:
        german.goto(url)
        expect(german.locator("html")).to_have_attribute("lang", "de")
        expect(german.locator("h1")).to_have_text("Chatten Sie mit uns")
        expect(german.get_by_test_id("customer-status")).to_have_text(
            "Starten Sie unten einen Chat"
        )
        form = german.get_by_test_id("start-form")
        expect(form).to_contain_text("Ihr Name")
        expect(german.get_by_test_id("start-chat")).to_have_text("Chat starten")
        form.locator("#nickname").fill("Jonas")
        german.get_by_test_id("start-chat").click()
        status = german.get_by_test_id("customer-status")
        expect(status).to_have_attribute("data-status", "connected")
        expect(status).to_have_text("Verbunden · gleich ist jemand für Sie da")
        expect(german.get_by_test_id("customer-transcript")).to_contain_text(
            "Sie haben den Chat gestartet."
        )
        expect(german.get_by_test_id("customer-input")).to_have_attribute(
            "placeholder", "Ihre Nachricht"
        )
        expect(german.get_by_test_id("customer-end")).to_have_text("Chat beenden")
        screenshot(german, "customer-de-01-started")
    finally:
        german.context.close()

    # ?lang= wins over the browser's language
    english = new_page(browser, locale="de-DE")
    try:
        english.goto(f"{url}?lang=en")
        expect(english.locator("html")).to_have_attribute("lang", "en")
        expect(english.locator("h1")).to_have_text("Chat with us")
        expect(english.get_by_test_id("start-chat")).to_have_text("Start chat")
    finally:
        english.context.close()
