"""Issue 10: the journeys whose outcome depends on time, on the real clock.

Short thresholds (3 s yellow, 6 s red) and bounded waits: the reminder must read 0:00
at accept however long the kernel's clock ran before, turn yellow and red on time in
wall seconds, and "contact is typing" must show while it lasts. A bug that only shows
at real rate (the view adding the time since the clock's last anchor twice) fails here.
Letting wall time pass is the point of these tests; state is still awaited with
playwright's waiting functions, polled every 50 ms.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, Locator, Page, expect

from .lab import Lab, open_notebook, run_cell, screenshot, widget_root
from .live_server import ServerThread, customer_page

QUICK_PATH = """
from chat_widget import ChatWidget, MockBackend, SessionConfig, Thresholds
scenario = {
    "name": "Real time",
    "contact": {"name": "Maria Weber"},
    "offer_after": 1,
    "steps": [
        {"say": "Hi, my invoice is wrong", "delay": 1, "typing": 2},
        {"wait_for_reply": True},
        {"say": "Thanks, and the second one?", "delay": 0.5, "typing": 1},
        {"pause": 1000},
    ],
}
config = SessionConfig(thresholds=Thresholds(yellow_after=3, red_after=6))
backend = MockBackend(scenario, config=config)   # real time: the quick path
widget = ChatWidget(backend)
widget
"""


def wait_attr(page: Page, el: Locator, name: str, value: str, timeout_s: float) -> float:
    """Wait (bounded) until ``el`` has attribute ``name`` = ``value``; wall seconds taken."""
    t0 = time.monotonic()
    page.wait_for_function(
        "([el, n, v]) => el.getAttribute(n) === v",
        arg=[el.element_handle(), name, value],
        polling=50,
        timeout=timeout_s * 1000,
    )
    return time.monotonic() - t0


def reminder_seconds(timer: Locator) -> int:
    text = timer.inner_text().strip()
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def test_quick_path_reminder_and_typing_on_the_real_clock(lab: Lab, page: Page) -> None:
    open_notebook(page, lab, lab.write_notebook("realtime_quick.ipynb", [QUICK_PATH]))
    run_cell(page, 0)
    root = widget_root(page)
    expect(root.get_by_test_id("offer")).to_be_visible(timeout=10_000)
    # let the kernel's clock run a while before accepting (a trainee reads the offer)
    page.wait_for_timeout(4_000)
    expect(root.get_by_test_id("elapsed")).to_have_text("0:04", timeout=2_000)
    timer = root.get_by_test_id("reply-timer")
    root.get_by_test_id("accept").click()
    accepted = time.monotonic()
    expect(timer).to_have_attribute("data-color", "green")
    assert reminder_seconds(timer) <= 1, f"reminder at accept reads {timer.inner_text()}"
    expect(root.get_by_test_id("elapsed")).to_have_text(re.compile(r"^0:0[01]$"))
    screenshot(page, "realtime-quick-01-accepted", root)
    # the scripted customer types 1 s after accept, for 2 s: the indicator shows meanwhile
    typing = root.get_by_test_id("typing-indicator")
    expect(typing).to_have_text("Maria Weber is typing…", timeout=3_000)
    expect(root.locator("[data-testid=entry][data-sender-role=contact]")).to_have_count(
        1, timeout=4_000
    )
    expect(typing).to_be_hidden()
    # yellow at 3 s ± 1 s and red at 6 s ± 1 s of wall time after accept
    wait_attr(page, timer, "data-color", "yellow", 6)
    yellow_at = time.monotonic() - accepted
    screenshot(page, "realtime-quick-02-yellow", root)
    wait_attr(page, timer, "data-color", "red", 6)
    red_at = time.monotonic() - accepted
    expect(timer).to_have_attribute("data-blink", "true")
    assert 2.0 <= yellow_at <= 4.0, f"yellow after {yellow_at:.2f} s (want 3 ± 1)"
    assert 5.0 <= red_at <= 7.0, f"red after {red_at:.2f} s (want 6 ± 1)"
    # a reply ends the wait; the customer's next message starts a new one at 0:00
    root.get_by_test_id("composer").fill("Sorry, let me check that.")
    root.get_by_test_id("send").click()
    expect(timer).to_have_attribute("data-color", "idle")
    expect(root.locator("[data-testid=entry][data-sender-role=contact]")).to_have_count(
        2, timeout=5_000
    )
    expect(timer).to_have_attribute("data-color", "green")
    assert reminder_seconds(timer) <= 1


def test_live_chat_on_the_real_clock(
    lab: Lab,
    page: Page,
    browser: Browser,
    chat_server: ServerThread,
) -> None:
    """Customer page + agent widget: typing both ways, reminder 0:00 at accept, a reply
    resets it, the next customer message turns it yellow after 3 s."""
    _, token = chat_server.server.store.add_agent("Alice Agent")
    url = chat_server.server.url
    code = (
        "from chat_widget import ChatWidget, SessionConfig, Thresholds, WebSocketBackend\n"
        "config = SessionConfig(thresholds=Thresholds(3, 6), typing_timeout=3)\n"
        f"backend = WebSocketBackend({url!r}, token={token!r}, config=config)\n"
        "w = ChatWidget(backend)\n"
        "w"
    )
    open_notebook(page, lab, lab.write_notebook("realtime_live.ipynb", [code]))
    run_cell(page, 0)
    root = widget_root(page)
    expect(root.get_by_test_id("waiting")).to_be_visible()
    # the backend's clock has run for a while when the customer arrives (typing_timeout 3 s)
    page.wait_for_timeout(4_000)
    customer = customer_page(browser, chat_server, "Carla")
    try:
        timer = root.get_by_test_id("reply-timer")
        expect(root.get_by_test_id("offer")).to_contain_text("Carla")
        root.get_by_test_id("accept").click()
        expect(timer).to_have_attribute("data-color", "green")
        assert reminder_seconds(timer) <= 1, f"reminder at accept reads {timer.inner_text()}"
        screenshot(page, "realtime-live-01-accepted", root)
        # customer typing shows in the agent's view
        customer.get_by_test_id("customer-input").press_sequentially("Hello, my bi")
        expect(root.get_by_test_id("typing-indicator")).to_have_text(
            "Carla is typing…", timeout=2_000
        )
        customer.get_by_test_id("customer-input").fill("Hello, my bill is wrong")
        customer.get_by_test_id("customer-send").click()
        expect(root.locator("[data-testid=entry][data-sender-role=contact]")).to_contain_text(
            "Hello, my bill is wrong"
        )
        # the agent's typing shows on the customer page; the reply resets the reminder
        root.get_by_test_id("composer").press_sequentially("Let me ch")
        expect(customer.get_by_test_id("agent-typing")).to_be_visible()
        root.get_by_test_id("composer").fill("Let me check, Carla.")
        root.get_by_test_id("send").click()
        expect(timer).to_have_attribute("data-color", "idle")
        expect(customer.get_by_test_id("customer-transcript")).to_contain_text(
            "Let me check, Carla."
        )
        # the next customer message starts a new wait: green at 0:00, yellow after 3 s
        customer.get_by_test_id("customer-input").fill("Any news?")
        customer.get_by_test_id("customer-send").click()
        expect(root.locator("[data-testid=entry][data-sender-role=contact]")).to_have_count(2)
        sent = time.monotonic()
        expect(timer).to_have_attribute("data-color", "green")
        assert reminder_seconds(timer) <= 1
        wait_attr(page, timer, "data-color", "yellow", 6)
        yellow_at = time.monotonic() - sent
        assert 2.0 <= yellow_at <= 4.0, f"yellow after {yellow_at:.2f} s (want 3 ± 1)"
        screenshot(page, "realtime-live-02-yellow", root)
    finally:
        customer.context.close()


FOLLOW = """
from chat_widget import ChatWidget, MockBackend
def chat(name, after, **extra):
    return {"name": name, "contact": {"name": name}, "offer_after": after,
            "steps": [{"pause": 1000}], **extra}
backend = MockBackend([
    chat("Dana Roth", 1, offer={"kind": "transfer", "from": "Kim Meyer",
                                "note": "Wants a refund <b>now</b>", "timeout": 4}),
    chat("Ben Ott", 1.5),
    chat("Cem Aksoy", 2),
])
widget = ChatWidget(backend)
widget
"""


def test_single_widget_follows_offers_transfer_note_and_countdown(lab: Lab, page: Page) -> None:
    """A transfer offer shows kind, sender, note and a countdown, moves on unanswered (real
    clock); the widget then shows the next offer, after reject the next; after done it says so."""
    open_notebook(page, lab, lab.write_notebook("realtime_follow.ipynb", [FOLLOW]))
    run_cell(page, 0)
    root = widget_root(page)
    offer = root.get_by_test_id("offer")
    expect(offer).to_contain_text("Dana Roth", timeout=10_000)
    expect(root.get_by_test_id("offer-kind")).to_have_attribute("data-kind", "transfer")
    expect(root.get_by_test_id("offer-from")).to_have_text("from Kim Meyer")
    # the note is text, never HTML
    expect(root.get_by_test_id("offer-note")).to_have_text("Note: Wants a refund <b>now</b>")
    assert root.get_by_test_id("offer-note").locator("b").count() == 0
    countdown = root.get_by_test_id("offer-countdown")
    expect(countdown).to_have_text(re.compile(r"^0:0[1-4]$"))
    expect(root.get_by_test_id("more-offers")).to_have_text("2 more chats offered")
    screenshot(page, "realtime-follow-01-transfer-offer", root)
    # unanswered for 4 s: withdrawn; the next offer takes the view
    expect(offer).to_contain_text("Ben Ott", timeout=6_000)
    expect(root.get_by_test_id("offer-kind")).to_have_attribute("data-kind", "new")
    expect(countdown).to_be_hidden()
    expect(root.get_by_test_id("offer-note")).to_be_hidden()
    expect(root.get_by_test_id("more-offers")).to_have_text("1 more chat offered")
    root.get_by_test_id("reject").click()
    expect(offer).to_contain_text("Cem Aksoy")
    expect(root.get_by_test_id("more-offers")).to_be_hidden()
    root.get_by_test_id("accept").click()
    expect(root.get_by_test_id("contact-name")).to_have_text("Cem Aksoy")
    root.get_by_test_id("end").click()
    root.get_by_test_id("done").click()
    # nothing else waits: the done chat stays in view, saying so, until the next comes
    expect(root.get_by_test_id("chat-status")).to_have_text("Done")
    expect(root.get_by_test_id("composer")).to_be_hidden()
