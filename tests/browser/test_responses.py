"""Issue 16 journey: standard responses in the composer, in a real JupyterLab, real clock.

`/hi` offers the greeting; choosing it inserts the filled text; the trainee edits it and
the sent message is the edited text (recorded as started from the greeting). Then a
keyboard-only choice from the list (Tab to the toggle, Enter, type, arrows, Enter)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .a11y_checks import check_page
from .lab import Lab, open_notebook, run_cell, run_py, screenshot, widget_root

SETUP = """
from chat_widget import ChatWidget, MockBackend
from chat_widget.formats.transcript import AgentProfile
scenario = {
    "name": "Invoice",
    "contact": {"name": "Maria Weber"},
    "offer_after": 0,
    "steps": [
        {"say": "Hi, my invoice is wrong", "typing": 0.2, "delay": 0},
        {"wait_for_reply": True},
        {"pause": 3600},
    ],
}
backend = MockBackend(scenario, responses="sample", agent=AgentProfile("Lena", "lena"))
widget = ChatWidget(backend)
widget
"""

GREETING = "Hello Maria, I am Lena. How can I help?"


def test_standard_responses_by_shortcut_and_by_keyboard(lab: Lab, page: Page) -> None:
    name = lab.write_notebook("responses.ipynb", [SETUP])
    open_notebook(page, lab, name)
    run_cell(page, 0)
    root = widget_root(page)
    root.get_by_test_id("accept").click()
    contact = root.locator("[data-testid=entry][data-sender-role=contact]")
    expect(contact).to_have_count(1, timeout=15_000)

    # `/hi` offers the greeting inline; Enter inserts the filled text, nothing is sent
    composer = root.get_by_test_id("composer")
    composer.click()
    composer.press_sequentially("/hi")
    item = root.locator("[data-testid=response-item][data-response-id=greeting]")
    expect(item).to_be_visible()
    expect(item).to_contain_text(GREETING)
    composer.press("Enter")
    expect(composer).to_have_value(GREETING)
    agent = root.locator("[data-testid=entry][data-sender-role=agent]")
    expect(agent).to_have_count(0)

    # the trainee edits it before sending: the sent message is the edited text
    composer.press("End")
    for _ in "How can I help?":
        composer.press("Backspace")
    composer.press_sequentially("What can I do for you today?")
    composer.press("Enter")
    edited = "Hello Maria, I am Lena. What can I do for you today?"
    expect(agent).to_have_count(1)
    expect(agent.first).to_contain_text(edited)
    expect(composer).to_have_value("")
    sent = run_py(
        page,
        "e = [e for e in backend.first_session().transcript if e.sender.role == 'agent'][-1]\n"
        "print(repr((e.text, e.response)))",
    )
    assert sent == repr((edited, "greeting"))

    # keyboard only: Tab to the toggle, Enter opens the list, type, arrows, Enter
    toggle = root.get_by_test_id("responses-toggle")
    composer.focus()  # back from the notebook cell the check above ran in
    for _ in range(6):
        if toggle.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    search = root.get_by_test_id("responses-search")
    expect(search).to_be_focused()
    expect(root.get_by_test_id("responses-category")).to_have_count(3)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(root.locator("[data-testid=response-item][aria-selected=true]")).to_have_attribute(
        "data-response-id", "greeting-back"
    )
    check_page(page, ".chat-widget", "responses list open")
    screenshot(page, "16-responses-list", root)
    page.keyboard.type("moment")
    items = root.get_by_test_id("responses-list").get_by_test_id("response-item")
    expect(items).to_have_count(1)  # after the debounce
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    hold = "One moment please, Maria, I am checking that for you."
    expect(composer).to_have_value(hold)
    expect(composer).to_be_focused()
    expect(root.get_by_test_id("responses-popup")).to_be_hidden()
    page.keyboard.press("Enter")
    expect(agent).to_have_count(2)
    expect(agent.nth(1)).to_contain_text(hold)
    sent = run_py(
        page,
        "e = [e for e in backend.first_session().transcript if e.sender.role == 'agent'][-1]\n"
        "print(repr((e.text, e.response)))\nbackend.close()",
    )
    assert sent == repr((hold, "hold"))
