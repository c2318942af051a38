"""Live chat in a real browser: the customer page and agents in JupyterLab (issues 5, 6).

The chat server runs in a thread of this test process (``live_server``, fixture
``chat_server``) with real time. Waits use playwright's ``expect``; nothing sleeps
for a fixed time.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Locator, Page, expect

from .lab import Lab, new_page, run_code, run_py, screenshot
from .live_server import ServerThread, agent_notebook, customer_page, say


def test_customer_and_agent_live(
    lab: Lab, page: Page, browser: Browser, chat_server: ServerThread
) -> None:
    """Issue 5: messages, typing both ways, a pushed URL as a link with the please-click text."""
    _, token = chat_server.server.store.add_agent("Alice Agent")
    agent_notebook(lab, page, "live_one.ipynb", chat_server.server.url, token, "ChatWidget")
    root = page.locator(".chat-widget").first
    expect(root).to_be_visible()
    customer = customer_page(browser, chat_server, "Carla")
    try:
        root.get_by_test_id("accept").click()
        expect(root.get_by_test_id("contact-name")).to_have_text("Carla")
        transcript = customer.get_by_test_id("customer-transcript")
        expect(transcript).to_contain_text("Alice Agent joined the chat")
        # customer typing → agent's indicator; message → agent's transcript
        customer.get_by_test_id("customer-input").press_sequentially("Hello, my bi")
        expect(root.get_by_test_id("typing-indicator")).to_be_visible()
        customer.get_by_test_id("customer-input").fill("Hello, my bill is wrong")
        customer.get_by_test_id("customer-send").click()
        expect(root.locator("[data-testid=entry][data-sender-role=contact]")).to_contain_text(
            "Hello, my bill is wrong"
        )
        # agent typing → customer's indicator; message → customer's transcript
        root.get_by_test_id("composer").press_sequentially("Let me ch")
        expect(customer.get_by_test_id("agent-typing")).to_be_visible()
        root.get_by_test_id("composer").fill("Let me check, Carla.")
        root.get_by_test_id("send").click()
        expect(transcript).to_contain_text("Let me check, Carla.")
        # pushed URL: a link plus the please-click text
        root.get_by_test_id("url-editor-toggle").click()
        root.get_by_test_id("url-input").fill("https://example.com/refund")
        root.get_by_test_id("url-send").click()
        link = customer.get_by_test_id("pushed-link")
        expect(link).to_have_attribute("href", "https://example.com/refund")
        expect(transcript).to_contain_text("Please click the link")
        screenshot(customer, "live-01-customer")
        screenshot(page, "live-02-agent", root)
    finally:
        customer.context.close()


def entry_time(entry: Locator) -> str | None:
    """The stored time an agent view gives an entry (``<time datetime>``)."""
    expect(entry).to_have_count(1)
    return entry.locator("time").get_attribute("datetime")


def _pane(ws: Locator, sid: str) -> Locator:
    return ws.locator(f"[data-testid=chat-pane][data-session-id={sid}]")


def test_two_agents_transfer_and_conference(
    lab: Lab, page: Page, browser: Browser, chat_server: ServerThread
) -> None:
    """Issue 6: customer page + two agents in two JupyterLab pages: transfer, conference."""
    store = chat_server.server.store
    _, at = store.add_agent("Alice")
    _, bt = store.add_agent("Bob")
    url = chat_server.server.url
    agent_notebook(lab, page, "live_alice.ipynb", url, at, "WorkspaceWidget")
    ws_a = page.get_by_test_id("workspace")
    expect(ws_a).to_be_visible()
    page_b = new_page(browser)
    customer: Page | None = None
    try:
        agent_notebook(lab, page_b, "live_bob.ipynb", url, bt, "WorkspaceWidget", ready=False)
        ws_b = page_b.get_by_test_id("workspace")
        expect(ws_b).to_be_visible()
        expect(ws_a.locator("[data-testid=directory-agent]")).to_have_count(1)
        customer = customer_page(browser, chat_server, "Carla")
        transcript = customer.get_by_test_id("customer-transcript")
        # Alice is the only ready agent: the chat is offered to her
        first, second, first_page, second_name = ws_a, ws_b, page, "Bob"
        expect(ws_a.locator("[data-testid=directory-agent][data-presence=busy]")).to_have_count(1)
        first.get_by_test_id("accept").click()
        expect(transcript).to_contain_text("joined the chat")
        say(customer, "I was charged twice")
        expect(first.locator("[data-testid=entry][data-sender-role=contact]")).to_contain_text(
            "charged twice"
        )
        # Bob gets ready (his own presence command); Alice's directory shows it
        run_code(page_b, "backend.desk.set_presence('ready')")
        expect(
            ws_a.locator("[data-testid=directory-agent][data-presence=available]")
        ).to_have_count(1)
        # F5: transfer to the other agent with a note
        first.get_by_test_id("transfer-open").click()
        dialog = first.get_by_test_id("collab-dialog")
        dialog.locator("[data-target-kind=agent]").first.click()
        dialog.get_by_test_id("transfer-note").fill("Double payment, invoice 2026-0315")
        dialog.get_by_test_id("dialog-confirm").click()
        expect(dialog.get_by_test_id("transfer-confirm-question")).to_be_visible()
        dialog.get_by_test_id("dialog-confirm").click()  # yes, transfer
        expect(second.get_by_test_id("accept")).to_be_visible()
        # the receiver sees what kind of offer it is, from whom, and the note (as text)
        expect(second.get_by_test_id("offer-kind")).to_have_attribute("data-kind", "transfer")
        expect(second.get_by_test_id("offer-from")).to_contain_text("Alice")
        expect(second.get_by_test_id("offer-note")).to_have_text(
            "Note: Double payment, invoice 2026-0315"
        )
        expect(second.get_by_test_id("offer-countdown")).to_be_visible()
        screenshot(page_b if second is ws_b else page, "live-03-transfer-offer", second)
        second.get_by_test_id("accept").click()
        expect(transcript).to_contain_text("transferred from")
        expect(transcript).to_contain_text(f"to {second_name}")
        expect(first.get_by_test_id("interaction-tab")).to_have_count(0)
        expect(second.locator("[data-testid=entry][data-sender-role=contact]")).to_contain_text(
            "charged twice"
        )
        # F6: the new owner invites the first agent back into a conference
        second.get_by_test_id("conference-open").click()
        dialog2 = second.get_by_test_id("collab-dialog")
        dialog2.locator("[data-target-kind=agent]").first.click()
        dialog2.get_by_test_id("dialog-confirm").click()
        expect(first.get_by_test_id("accept")).to_be_visible()
        expect(first.get_by_test_id("offer-kind")).to_have_attribute("data-kind", "conference")
        expect(first.get_by_test_id("offer-from")).to_contain_text("Bob")
        first.get_by_test_id("accept").click()
        expect(second.locator("[data-testid=participant][data-role=conference]")).to_have_count(1)
        # the guest may leave but not hand over or consult: that is the owner's
        expect(first.get_by_test_id("consult-open")).to_be_disabled()
        expect(second.get_by_test_id("consult-open")).to_be_enabled()
        # one truth: both views name the server's owner (Bob) and the same members
        for ws in (first, second):
            owner = ws.locator("[data-testid=participant][data-role=owner]")
            expect(owner).to_have_attribute("data-participant-id", "bob")
            guest = ws.locator("[data-testid=participant][data-role=conference]")
            expect(guest).to_have_attribute("data-participant-id", "alice")
        expect(transcript.locator("li.notice").last).to_contain_text("joined the chat")
        say(customer, "Hello both of you")
        expect(
            second.locator("[data-testid=entry][data-sender-role=contact]").last
        ).to_contain_text("Hello both of you")
        # the guest's model has the whole chat again (checked in its kernel)
        out = run_py(
            first_page,
            "import asyncio\n"
            "s = backend.desk.sessions[next(iter(backend.desk.sessions))]\n"
            "for _ in range(200):\n"
            "    if any(e.text == 'Hello both of you' for e in s.transcript): break\n"
            "    await asyncio.sleep(0.02)\n"
            "print([e.text for e in s.transcript], s.state)",
        )
        assert "I was charged twice" in out and "Hello both of you" in out, out
        assert out.endswith("accepted"), out
        # every entry keeps the server's time: the same in both views and on the page
        for text in ("I was charged twice", "Hello both of you"):
            times = [
                entry_time(ws.locator("[data-testid=entry]").filter(has_text=text))
                for ws in (first, second)
            ]
            on_page = transcript.locator("li").filter(has_text=text).get_attribute("data-time")
            assert times[0] == times[1] == on_page and on_page, (text, times, on_page)
        screenshot(customer, "live-04-customer-conference")
        screenshot(first_page, "live-05-agent-conference", first)
        # the guest leaves; the owner keeps the chat; the customer sees it
        first.get_by_test_id("leave-conference").click()
        expect(transcript.locator("li.notice").last).to_contain_text("left the chat")
        expect(second.locator("[data-testid=participant][data-role=conference]")).to_have_count(0)
        expect(first.get_by_test_id("interaction-tab")).to_have_count(0)
        screenshot(customer, "live-06-customer-after")
    finally:
        if customer is not None:
            customer.context.close()
        page_b.context.close()
