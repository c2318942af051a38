"""Issue 3 journeys: the complete interaction view for one chat, in a real JupyterLab.

Each test is a user journey that asserts several features (SPEC 9 budgets). Time moves
only through the VirtualClock (``backend.clock.advance``) or the trainer's clock strip;
waits are playwright ``expect`` assertions, never sleeps.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from .lab import Lab, PageWatch, open_notebook, run_cell, run_py, screenshot, widget_root

JOURNEY = """
from chat_widget import ChatWidget, MockBackend, SessionConfig, VirtualClock
scenario = {
    "name": "Journey",
    "contact": {
        "name": "Maria Weber",
        "phones": ["+49 30 1234567", "+49 170 5555555"],
        "emails": ["maria.weber@example.com"],
    },
    "offer_after": 1,
    "steps": [
        {"say": "Hello, my invoice is wrong. Call me on 040 9876543 or write to maria@example.org",
         "typing": 3},
        {"wait_for_reply": True},
        {"typing_pause": 30},
        {"pause": 1000},
    ],
}
config = SessionConfig(typing_timeout=5, disposition_required=True)
backend = MockBackend(scenario, clock=VirtualClock(), config=config)
backend.clock.advance(1)
session = backend.first_session()
widget = ChatWidget(backend)
widget
"""


def test_offer_party_actions_connection_typing_scroll_and_wrap_up(lab: Lab, page: Page) -> None:
    """F1, F2, F3, F4, F8, F9, F10, F12 and the trainer's clock strip, by mouse."""
    name = lab.write_notebook("journey_chat.ipynb", [JOURNEY])
    open_notebook(page, lab, name)
    run_cell(page, 0)
    root = widget_root(page)
    timer = root.get_by_test_id("reply-timer")
    status = root.get_by_test_id("connection-status")

    # F1: the offer, then Accept; the name at the top, the timer starts green
    expect(root.get_by_test_id("offer")).to_contain_text("Maria Weber")
    expect(root.get_by_test_id("transcript")).to_be_hidden()
    expect(root.get_by_test_id("clock-controls")).to_be_visible()
    screenshot(page, "light-en-01-offer", root)
    root.get_by_test_id("accept").click()
    expect(root.get_by_test_id("offer")).to_be_hidden()
    expect(root.get_by_test_id("contact-name")).to_have_text("Maria Weber")
    expect(timer).to_have_attribute("data-color", "green")
    expect(root.get_by_test_id("elapsed")).to_have_text("0:00")
    # F12: the connection status sits next to the Party Action menu
    expect(status).to_have_attribute("data-status", "connected")
    assert root.locator(".cw-party + [data-testid=connection-status]").count() == 1

    # F4: typing shows who types, never the draft; the message clears it
    run_py(page, "backend.clock.advance(2)")
    typing = root.get_by_test_id("typing-indicator")
    expect(typing).to_have_text("Maria Weber is typing…")
    run_py(page, "backend.clock.advance(2)")
    expect(typing).to_be_hidden()
    contact = root.locator("[data-testid=entry][data-sender-role=contact]")
    expect(contact).to_have_count(1)
    # F3: timestamps, sender names, system notices
    expect(contact.first.locator("time")).to_have_text("09:00:05")
    expect(contact.first.locator(".cw-sender")).to_have_text("Maria Weber")
    notice = root.locator("[data-testid=entry][data-kind=notice]")
    expect(notice.first).to_contain_text("Agent joined the chat")
    expect(root.get_by_test_id("elapsed")).to_have_text("0:04")

    # F2 via the trainer's strip: three "+10 s" steps make 34 s without a reply: yellow
    for _ in range(3):
        root.get_by_test_id("clock-step").click()
    expect(timer).to_have_attribute("data-color", "yellow")
    expect(timer).to_have_attribute("data-blink", "false")
    screenshot(page, "light-en-02-yellow", root)

    # F8: a number the contact wrote is a call action; the call is simulated
    root.get_by_test_id("chat-phone").click()
    call = root.get_by_test_id("call-state")
    expect(call).to_have_text("Dialing… 040 9876543")
    expect(call).to_have_attribute("data-call", "dialing")
    run_py(page, "backend.clock.advance(3)")
    expect(call).to_have_attribute("data-call", "connected")
    expect(call).to_contain_text("Call connected")
    screenshot(page, "light-en-03-call", root)
    # F12: a call's status never pushes the connection status off Party Action's line
    # (in a narrow output area, where the header has to wrap)
    root.evaluate("(el) => { el.style.maxWidth = '700px'; }")
    assert same_line(root.get_by_test_id("party-action"), status)
    root.evaluate("(el) => { el.style.maxWidth = ''; }")
    # one call at a time: Call is offered, disabled; the menu opens under its button
    root.get_by_test_id("party-action").click()
    expect(root.get_by_test_id("call-contact").first).to_have_attribute("aria-disabled", "true")
    assert under(root.get_by_test_id("party-menu"), root.get_by_test_id("party-action"))
    page.keyboard.press("Escape")
    root.get_by_test_id("hang-up").click()
    expect(call).to_have_attribute("data-call", "ended")
    expect(root.get_by_test_id("hang-up")).to_be_hidden()
    # the call leaves a trace in the transcript (agents only)
    expect(notice.filter(has_text="Agent called 040 9876543")).to_have_count(1)
    expect(notice.filter(has_text="Call to 040 9876543 ended")).to_have_count(1)
    expect(root.get_by_test_id("chat-email")).to_have_attribute("href", "mailto:maria@example.org")

    # F8: the Party Action menu lists every number and address of the contact record
    page.evaluate(
        """() => document.addEventListener('click', (e) => {
             const a = e.target.closest && e.target.closest('a[href^="mailto:"]');
             if (a) { e.preventDefault(); window.__mailto = a.getAttribute('href'); }
           }, true)"""
    )
    root.get_by_test_id("party-action").click()
    menu = root.get_by_test_id("party-menu")
    expect(menu).to_be_visible()
    expect(root.get_by_test_id("call-contact")).to_have_text(
        ["Call +49 30 1234567", "Call +49 170 5555555"]
    )
    screenshot(page, "light-en-04-party-menu", root)
    root.get_by_test_id("email-contact").click()
    assert page.evaluate("() => window.__mailto") == "mailto:maria.weber@example.com"
    expect(menu).to_be_hidden()
    expect(notice.filter(has_text="opened an e-mail to maria.weber@example.com")).to_have_count(1)
    root.get_by_test_id("party-action").click()
    root.get_by_test_id("call-contact").nth(1).click()
    expect(call).to_have_text("Dialing… +49 170 5555555")
    root.get_by_test_id("hang-up").click()

    # F12: the mock simulates connection changes for trainers
    for state, text in [
        ("reconnecting", "Reconnecting…"),
        ("disconnected", "Disconnected"),
        ("connected", "Connected"),
    ]:
        run_py(page, f"backend.set_connection({state!r})")
        expect(status).to_have_attribute("data-status", state)
        expect(status).to_have_text(text)

    # F4: our typing goes to the other side; Enter sends; a reply resets the timer
    composer = root.get_by_test_id("composer")
    composer.press_sequentially("Sorry")
    assert run_py(page, "print(session.agent_typing)") == "True"
    composer.press_sequentially(" for the wait!")
    composer.press("Enter")
    expect(composer).to_have_value("")
    agent = root.locator("[data-testid=entry][data-sender-role=agent]")
    expect(agent).to_have_count(1)
    expect(agent.first.locator(".cw-sender")).to_have_text("Agent (You)")
    expect(timer).to_have_attribute("data-color", "idle")
    assert run_py(page, "print(session.agent_typing)") == "False"

    # F4: the contact starts typing and never sends a stop: it expires after typing_timeout
    run_py(page, "backend.clock.advance(1)")  # typing started at the reply: 4 s left
    expect(typing).to_be_visible()
    run_py(page, "backend.clock.advance(3.9)")
    expect(typing).to_be_visible()
    run_py(page, "backend.clock.advance(0.2)")
    expect(typing).to_be_hidden()

    # F3: auto-scroll while at the bottom; reviewing older lines is never yanked back
    transcript = root.get_by_test_id("transcript")
    run_py(page, "for i in range(30): backend.customer.say(f'line {i}')")
    expect(contact.last).to_have_text(re.compile("line 29"))
    at_bottom = "(el) => el.scrollHeight - el.scrollTop - el.clientHeight < 5"
    page.wait_for_function(
        f"() => ({at_bottom})(document.querySelector('.chat-widget [data-testid=transcript]'))"
    )
    transcript.evaluate("(el) => { el.scrollTop = 0; }")
    more = root.get_by_test_id("new-messages")
    run_py(page, "for i in range(3): backend.customer.say(f'more {i}')")
    expect(more).to_be_visible()
    expect(more).to_have_text("New messages ↓ (3)")
    assert transcript.evaluate("(el) => el.scrollTop") == 0
    screenshot(page, "light-en-05-new-messages", root)
    more.click()
    expect(more).to_be_hidden()
    assert transcript.evaluate(at_bottom)

    # F9, F10: End, then Mark done; the disposition is mandatory here
    root.get_by_test_id("end").click()
    done = root.get_by_test_id("done")
    expect(done).to_be_visible()
    expect(root.get_by_test_id("end")).to_be_hidden()
    expect(root.get_by_test_id("chat-status")).to_have_text("Chat ended")
    expect(root.get_by_test_id("done-hint")).to_have_text(
        "Choose a disposition code before marking done."
    )
    expect(done).to_have_attribute("aria-disabled", "true")
    done.focus()  # aria-disabled, still reachable: pressing it says why and goes to the picker
    page.keyboard.press("Enter")
    expect(root.get_by_test_id("disposition")).to_be_focused()
    assert run_py(page, "print(session.state)") == "ended"
    screenshot(page, "light-en-06-disposition-required", root)
    root.get_by_test_id("disposition").select_option("Resolved")
    expect(root.get_by_test_id("done-hint")).to_be_hidden()
    note = root.get_by_test_id("note")
    note.fill("Double charge refunded")
    note.press("Enter")
    expect(root.get_by_test_id("notes")).to_have_text("Double charge refunded")
    done.click()
    expect(root.get_by_test_id("chat-status")).to_have_text("Done")
    out = run_py(page, "print(session.state, session.disposition, session.notes)")
    assert out == "done Resolved ['Double charge refunded']"
    screenshot(page, "light-en-07-done", root)


def same_line(a: Locator, b: Locator) -> bool:
    """Two elements drawn on one line (their vertical extents overlap by most)."""
    ba, bb = a.bounding_box(), b.bounding_box()
    assert ba is not None and bb is not None
    overlap = min(ba["y"] + ba["height"], bb["y"] + bb["height"]) - max(ba["y"], bb["y"])
    return overlap >= 0.5 * min(ba["height"], bb["height"])


def under(menu: Locator, button: Locator) -> bool:
    """A menu opened under its button: below it and horizontally overlapping it."""
    bm, bb = menu.bounding_box(), button.bounding_box()
    assert bm is not None and bb is not None
    below = bm["y"] >= bb["y"] + bb["height"] - 2
    return below and bm["x"] < bb["x"] + bb["width"] and bm["x"] + bm["width"] > bb["x"]


REJECT_IGNORE_BURST = """
from chat_widget import ChatWidget, MockBackend, VirtualClock
def sc(name):
    return {"name": name, "contact": {"name": name}, "offer_after": 1,
            "steps": [{"wait_for_reply": True}]}
backend = MockBackend([sc("Rita Reject"), sc("Igor Ignore"), sc("Bea Burst")], clock=VirtualClock())
backend.clock.advance(1)
w1, w2, w3 = (ChatWidget(backend, session=f"chat-{i}") for i in (1, 2, 3))
display(w1, w2, w3)
"""


def test_reject_ignore_and_a_5000_entry_burst(lab: Lab, page: Page) -> None:
    """F1 (Reject, Ignore by keyboard), F3 (a 5,000-entry burst arrives whole; a fresh view
    gets it by snapshot), in JupyterLab's dark theme."""
    from .lab import set_theme

    name = lab.write_notebook("journey_burst.ipynb", [REJECT_IGNORE_BURST])
    open_notebook(page, lab, name)
    set_theme(page, dark=True)
    try:
        run_cell(page, 0)
        r1, r2, r3 = widget_root(page, 0), widget_root(page, 1), widget_root(page, 2)
        expect(r1.get_by_test_id("offer")).to_contain_text("Rita Reject")
        screenshot(page, "dark-en-01-offer", r1)
        r1.get_by_test_id("reject").click()
        expect(r1.get_by_test_id("offer")).to_be_hidden()
        expect(r1.get_by_test_id("chat-status")).to_have_text("Chat rejected")
        r2.get_by_test_id("ignore").focus()
        page.keyboard.press("Enter")
        expect(r2.get_by_test_id("chat-status")).to_have_text("Chat ignored")
        out = run_py(page, "print([s.state.value for s in backend.desk.sessions.values()])")
        assert out == "['declined', 'ignored', 'offered']"
        r3.get_by_test_id("accept").focus()
        page.keyboard.press("Enter")
        expect(r3.get_by_test_id("contact-name")).to_have_text("Bea Burst")

        run_py(page, "s3 = w3.session\nfor i in range(5000): s3.receive_message(f'burst {i}')")
        entries = r3.locator("[data-testid=entry]")
        total = int(run_py(page, "print(len(s3.transcript))"))
        assert total == 5001  # the join notice and the burst
        expect(entries).to_have_count(total, timeout=30_000)
        expect(entries.nth(1)).to_contain_text("burst 0")
        expect(entries.last).to_contain_text("burst 4999")
        indices = entries.evaluate_all("(els) => els.map((e) => Number(e.dataset.index))")
        assert indices == list(range(total))
        screenshot(page, "dark-en-02-burst", r3)

        # a freshly rendered view of the same widget asks for a snapshot and gets it whole
        run_py(page, "display(w3)")
        fresh = widget_root(page, 3)
        expect(fresh.locator("[data-testid=entry]")).to_have_count(total, timeout=30_000)
        assert "IOPub message rate exceeded" not in lab.log.read_text()
    finally:
        set_theme(page, dark=False)


HOSTILE_PAYLOADS = [
    '<img src=x onerror="alert(1)">',
    "<script>alert(2)</script>",
    '<a href="javascript:alert(3)">click me</a>',
    '<img src="http://127.0.0.1:9/evil.png">',
    '"><svg onload=alert(4)>',
    "<iframe src=javascript:alert(5)></iframe>",
    "javascript:alert(6) data:text/html,<b>x</b>",
]

URL_PUSH = """
from chat_widget import ChatWidget, MockBackend, VirtualClock
from chat_widget.model.urls import InvalidUrlError
def sc(name, **details):
    return {"name": name, "contact": {"name": name, **details}, "offer_after": 1,
            "steps": [{"wait_for_reply": True}]}
maria = sc("Maria Weber", phones=["+49 30 1234567"], emails=["maria.weber@example.com"])
backend = MockBackend([maria, sc("Jonas Keller")], clock=VirtualClock())
backend.clock.advance(1)
session = backend.first_session()
widget = ChatWidget(backend)
widget
"""


def test_url_editor_by_keyboard_hostile_input_and_locales(lab: Lab, page: Page) -> None:
    """F15–F18 keyboard-only, history across chats, invalid URLs refused in the view and in
    Python, hostile message text rendered as text, German labels, both themes."""
    watch = PageWatch(page)
    name = lab.write_notebook("journey_url.ipynb", [URL_PUSH])
    open_notebook(page, lab, name)
    run_cell(page, 0)
    root = widget_root(page)
    kb = page.keyboard

    root.get_by_test_id("accept").focus()
    kb.press("Enter")
    composer = root.get_by_test_id("composer")
    expect(composer).to_be_enabled()
    composer.focus()
    kb.press("Tab")
    expect(root.get_by_test_id("send")).to_be_focused()
    kb.press("Tab")
    toggle = root.get_by_test_id("url-editor-toggle")
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    kb.press("Enter")
    url_input = root.get_by_test_id("url-input")
    expect(url_input).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    error = root.get_by_test_id("url-error")
    pushes = root.locator("[data-testid=entry][data-kind=push_url]")

    # refused in the view with a visible message, before anything is sent
    only_http = "Only http:// and https:// URLs can be pushed."
    for bad, why in [
        ("javascript:alert(1)", only_http),
        ("data:text/html,<script>alert(1)</script>", only_http),
        ("http:/example.com", "That is not a complete web address"),
    ]:
        kb.type(bad)
        kb.press("Enter")
        expect(error).to_contain_text(why)
        expect(url_input).to_have_attribute("aria-invalid", "true")
        kb.press("Control+a")
        kb.press("Delete")
    screenshot(page, "light-en-08-url-refused", root)
    assert run_py(page, "print(len(session.transcript))") == "1"  # the join notice only
    url_input.focus()  # running a cell moved the focus into the notebook

    # F15, F18: push by keyboard; the contact is asked to click the link
    kb.type("https://example.com/refunds")
    expect(url_input).to_have_value("https://example.com/refunds")
    expect(error).to_be_hidden()
    # F16: the link icon opens the URL in a new tab (no opener) to check it
    check = root.get_by_test_id("url-check")
    expect(check).to_have_attribute("href", "https://example.com/refunds")
    expect(check).to_have_attribute("target", "_blank")
    expect(check).to_have_attribute("rel", "noopener noreferrer")
    kb.press("Enter")
    expect(pushes).to_have_count(1)
    expect(pushes.first).to_contain_text(
        "Please click the link your agent sent: https://example.com/refunds"
    )
    expect(pushes.first.get_by_test_id("pushed-url")).to_have_attribute(
        "href", "https://example.com/refunds"
    )
    expect(url_input).to_have_value("")
    check_url = f"{lab.url}/api/status"
    kb.type(check_url)
    with page.context.expect_page() as popup_info:
        check.click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.url.startswith(check_url)
    assert popup.evaluate("() => window.opener") is None
    popup.close()
    url_input.focus()
    kb.press("Control+a")
    kb.type("https://example.org/faq")
    kb.press("Enter")
    expect(pushes).to_have_count(2)

    # F17: Down opens the history (most recent first), Up/Down highlight,
    # Left/Right insert, Enter pushes, Escape closes
    history = root.get_by_test_id("url-history")
    items = root.get_by_test_id("url-history-item")
    kb.press("ArrowDown")
    expect(history).to_be_visible()
    expect(items).to_have_text(["https://example.org/faq", "https://example.com/refunds"])
    expect(items.nth(0)).to_have_attribute("aria-selected", "true")
    kb.press("ArrowDown")
    expect(items.nth(1)).to_have_attribute("aria-selected", "true")
    expect(items.nth(0)).to_have_attribute("aria-selected", "false")
    screenshot(page, "light-en-09-url-history", root)
    kb.press("ArrowRight")
    expect(history).to_be_hidden()
    expect(url_input).to_have_value("https://example.com/refunds")
    expect(url_input).to_be_focused()
    expect(pushes).to_have_count(2)  # inserting does not push
    kb.press("Enter")
    expect(pushes).to_have_count(3)
    kb.press("ArrowDown")
    kb.press("ArrowDown")
    kb.press("ArrowUp")
    expect(items.nth(0)).to_have_attribute("aria-selected", "true")
    expect(items.nth(0)).to_have_text("https://example.com/refunds")
    kb.press("Enter")
    expect(pushes).to_have_count(4)
    expect(pushes.last).to_contain_text("https://example.com/refunds")
    kb.press("ArrowDown")
    expect(history).to_be_visible()
    kb.press("Escape")
    expect(history).to_be_hidden()
    expect(url_input).to_be_focused()
    kb.press("Escape")
    expect(root.get_by_test_id("url-editor")).to_be_hidden()
    expect(toggle).to_be_focused()

    # the Python side refuses too, and the view shows why
    out = run_py(
        page,
        "try:\n    session.push_url('javascript:alert(1)')\n"
        "except InvalidUrlError as e:\n    print('refused')\n"
        "widget.perform('push_url', {'url': 'data:text/html,x'})",
    )
    assert out == "refused"
    # (in the locale's words: the error reaches the view with its code, issue 12)
    expect(root.get_by_test_id("error")).to_have_text(
        "Only http:// and https:// URLs can be pushed."
    )
    assert run_py(page, "print(backend.desk.url_history)") == (
        "['https://example.com/refunds', 'https://example.org/faq']"
    )

    # hostile text from the contact (and the agent) renders as literal text
    code = "\n".join(f"backend.customer.say({p!r})" for p in HOSTILE_PAYLOADS)
    run_py(page, code)
    composer.fill("<b>bold</b><img src=x onerror=alert(7)>")
    composer.press("Enter")
    contact = root.locator("[data-testid=entry][data-sender-role=contact]")
    expect(contact).to_have_count(len(HOSTILE_PAYLOADS))
    for i, payload in enumerate(HOSTILE_PAYLOADS):
        expect(contact.nth(i).locator(".cw-text")).to_have_text(payload)
    expect(root.locator("[data-testid=entry][data-sender-role=agent]").last).to_contain_text(
        "<b>bold</b><img src=x onerror=alert(7)>"
    )
    transcript = root.get_by_test_id("transcript")
    expect(transcript.locator("img, script, iframe, b, svg:not(.cw-svg)")).to_have_count(0)
    not_http = "a:not([href^='http://']):not([href^='https://'])"
    expect(contact.locator(f"svg, {not_http}")).to_have_count(0)
    expect(transcript.locator("a[href^='javascript'], a[href^='data']")).to_have_count(0)
    assert watch.dialogs == []
    assert not [u for u in watch.requests if "evil.png" in u or u.startswith("http://127.0.0.1:9/")]

    # F17 across chats: the second chat's editor offers the same history
    run_py(
        page,
        "backend.desk.sessions['chat-2'].accept()\n"
        "w2 = ChatWidget(backend, session='chat-2')\n"
        "display(w2)",
    )
    second = widget_root(page, 1)
    expect(second.get_by_test_id("contact-name")).to_have_text("Jonas Keller")
    second.get_by_test_id("url-editor-toggle").click()
    second.get_by_test_id("url-history-toggle").click()
    expect(second.get_by_test_id("url-history-item")).to_have_count(2)
    second.get_by_test_id("url-history-item").first.click()
    expect(second.locator("[data-testid=entry][data-kind=push_url]")).to_have_count(1)

    # locale: German labels, switched live; both themes
    from .lab import set_theme

    run_py(page, "widget.locale = 'de'")
    expect(root.get_by_test_id("send")).to_have_text("Senden")
    expect(root.get_by_test_id("party-action")).to_contain_text("Teilnehmeraktion")
    expect(root.get_by_test_id("end")).to_have_text("Beenden")
    # the German wrap-up row keeps Beenden on the note's line (in a narrow output area too)
    root.evaluate("(el) => { el.style.maxWidth = '640px'; }")
    assert same_line(root.get_by_test_id("end"), root.get_by_test_id("note"))
    root.evaluate("(el) => { el.style.maxWidth = ''; }")
    expect(root.get_by_test_id("connection-status")).to_have_text("Verbunden")
    expect(root.locator("[data-sender-role=agent] .cw-sender").first).to_have_text("Agent (Sie)")
    expect(root.get_by_test_id("disposition").locator("option").first).to_have_text("— auswählen —")
    # drawn notices and the default disposition codes switch with the locale (issue 12)
    notices = root.locator("[data-testid=entry][data-kind=notice]")
    expect(notices.first).to_contain_text("Agent ist dem Chat beigetreten")
    expect(root.get_by_test_id("disposition").locator("option").nth(1)).to_have_text("Gelöst")
    expect(root).to_have_attribute("lang", "de")
    root.get_by_test_id("url-editor-toggle").click()
    url_input.fill("ftp://example.com")
    url_input.press("Enter")
    expect(error).to_have_text("Nur http://- und https://-URLs können gepusht werden.")
    screenshot(page, "light-de-01-chat", root)
    set_theme(page, dark=True)
    try:
        url_input.fill("")
        url_input.press("ArrowDown")
        expect(root.get_by_test_id("url-history")).to_be_visible()
        screenshot(page, "dark-de-01-url-history", root)
        run_py(page, "widget.locale = 'en'")
        expect(root.get_by_test_id("send")).to_have_text("Send")
        expect(notices.first).to_contain_text("Agent joined the chat")
        root.get_by_test_id("party-action").click()
        screenshot(page, "dark-en-03-party-menu", root)
        page.keyboard.press("Escape")
        root.get_by_test_id("end").click()
        expect(root.get_by_test_id("done")).to_be_visible()
        screenshot(page, "dark-en-04-ended", root)
    finally:
        set_theme(page, dark=False)
    assert watch.dialogs == []
    assert watch.errors == []
