"""Issue 16, contact history in a real JupyterLab: the agent sees the contact's earlier
chats beside the offer and opens one's transcript (a mock scenario's ``history:``, then
the live server with a real earlier chat of the same e-mail). Real clock; waits are
playwright ``expect`` assertions."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from .a11y_checks import check_page
from .lab import Lab, new_page, open_notebook, run_cell, screenshot, widget_root
from .live_server import ServerThread, agent_notebook, say

MOCK = """
from chat_widget import ChatWidget, MockBackend
scenario = {
    "name": "Returning customer",
    "contact": {"name": "Maria Weber", "emails": ["maria.weber@example.com"]},
    "history": [
        {"date": "2026-10-02T09:00:00Z", "agent": "Tom", "disposition": "Escalated",
         "transcript": [{"from": "contact", "text": "Where is my parcel?"}]},
        {"date": "2026-11-20T10:15:00Z", "agent": "Lena", "disposition": "Resolved",
         "notes": ["Refund of 42 EUR promised"],
         "transcript": [{"from": "contact", "text": "My invoice is wrong"},
                        {"from": "agent", "text": "Sorry, I will correct it today"}]},
    ],
    "steps": [{"say": "Hello again, it is about my refund", "delay": 0, "typing": 0.5}],
}
backend = MockBackend(scenario)  # real time
widget = ChatWidget(backend)
widget
"""


def test_history_panel_with_a_mock_scenario(lab: Lab, page: Page) -> None:
    open_notebook(page, lab, lab.write_notebook("history_mock.ipynb", [MOCK]))
    run_cell(page, 0)
    root = widget_root(page)
    panel = root.get_by_test_id("contact-history")
    expect(panel).to_be_visible()
    rows = panel.get_by_test_id("history-item")
    expect(rows).to_have_count(2)
    newest = rows.first
    expect(newest.get_by_test_id("history-date")).to_have_text("20 Nov 2026, 10:15")
    expect(newest.get_by_test_id("history-agent")).to_have_text("Lena")
    expect(newest.get_by_test_id("history-disposition")).to_have_text("Resolved")
    expect(newest.get_by_test_id("history-note")).to_have_text("Refund of 42 EUR promised")
    expect(rows.nth(1).get_by_test_id("history-agent")).to_have_text("Tom")
    # the panel is there with the offer, before accepting
    expect(root.get_by_test_id("accept")).to_be_visible()
    newest.get_by_test_id("history-open").click()
    shown = newest.get_by_test_id("history-transcript")
    expect(shown.get_by_test_id("entry")).to_have_count(2)
    expect(shown.get_by_test_id("entry").first).to_contain_text("My invoice is wrong")
    expect(shown.get_by_test_id("entry").nth(1)).to_contain_text("Sorry, I will correct it today")
    # read-only and separate: the live transcript does not get the old messages
    expect(root.get_by_test_id("transcript")).not_to_contain_text("My invoice is wrong")
    root.get_by_test_id("accept").click()
    expect(root.get_by_test_id("transcript")).to_contain_text("Hello again")
    check_page(page, ".chat-widget", "history panel with a transcript")
    screenshot(page, "history-01-mock", root)
    newest.get_by_test_id("history-open").click()
    expect(newest.get_by_test_id("history-transcript")).to_have_count(0)


def _customer(browser: Browser, srv: ServerThread, nickname: str, email: str) -> Page:
    page = new_page(browser)
    page.goto(srv.server.http_url)
    form = page.get_by_test_id("start-form")
    form.locator("#nickname").fill(nickname)
    form.locator("#email").fill(email)
    page.get_by_test_id("start-chat").click()
    expect(page.get_by_test_id("customer-status")).to_have_attribute("data-status", "connected")
    return page


def test_history_panel_on_the_live_server(
    lab: Lab, page: Page, browser: Browser, chat_server: ServerThread
) -> None:
    _, token = chat_server.server.store.add_agent("Alice Agent")
    url = chat_server.server.url
    agent_notebook(lab, page, "history_live.ipynb", url, token, "ChatWidget")
    root = widget_root(page)
    first = _customer(browser, chat_server, "Carla", "carla@example.com")
    second: Page | None = None
    try:
        root.get_by_test_id("accept").click()
        # a first chat has no history: the panel takes no room
        expect(root.get_by_test_id("contact-history")).to_be_hidden()
        say(first, "My bill is wrong")
        expect(root.get_by_test_id("transcript")).to_contain_text("My bill is wrong")
        root.get_by_test_id("composer").fill("I corrected it, Carla.")
        root.get_by_test_id("send").click()
        root.get_by_test_id("disposition").select_option("Resolved")
        root.get_by_test_id("note").fill("Bill corrected")
        root.get_by_test_id("add-note").click()
        expect(root.get_by_test_id("notes")).to_contain_text("Bill corrected")
        root.get_by_test_id("end").click()
        root.get_by_test_id("done").click()

        second = _customer(browser, chat_server, "Carla", "Carla@Example.com")
        panel = root.get_by_test_id("contact-history")
        expect(panel).to_be_visible()
        row = panel.get_by_test_id("history-item")
        expect(row).to_have_count(1)
        expect(row.get_by_test_id("history-agent")).to_have_text("Alice Agent")
        expect(row.get_by_test_id("history-disposition")).to_have_text("Resolved")
        expect(row.get_by_test_id("history-note")).to_have_text("Bill corrected")
        row.get_by_test_id("history-open").click()
        shown = row.get_by_test_id("history-transcript")
        expect(shown).to_contain_text("My bill is wrong")
        expect(shown).to_contain_text("I corrected it, Carla.")
        screenshot(page, "history-02-live", root)
    finally:
        first.context.close()
        if second is not None:
            second.context.close()
