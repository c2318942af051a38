"""Issue 2 journey: offer → accept → timer green/yellow/red+blink → reply → idle → answer."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .lab import Lab, open_notebook, run_cell, run_code, screenshot, widget_root

SETUP = """
from chat_widget import ChatWidget, MockBackend, VirtualClock
backend = MockBackend("billing", clock=VirtualClock())
backend.clock.advance(1)
widget = ChatWidget(backend)
widget
"""


def test_first_chat_end_to_end(lab: Lab, page: Page) -> None:
    name = lab.write_notebook("first_chat.ipynb", [SETUP])
    open_notebook(page, lab, name)
    run_cell(page, 0)
    root = widget_root(page)
    timer = root.get_by_test_id("reply-timer")

    expect(root.get_by_test_id("offer")).to_be_visible()
    expect(root.get_by_test_id("offer")).to_contain_text("Maria Weber")
    expect(timer).to_have_attribute("data-color", "idle")
    screenshot(page, "01-offer", root)

    root.get_by_test_id("accept").click()
    expect(root.get_by_test_id("offer")).to_be_hidden()
    expect(root.get_by_test_id("contact-name")).to_have_text("Maria Weber")
    expect(timer).to_have_attribute("data-color", "green")
    expect(timer).to_have_attribute("data-blink", "false")

    run_code(page, "backend.clock.advance(4.5)")
    expect(root.get_by_test_id("typing-indicator")).to_be_visible()
    expect(root.get_by_test_id("typing-indicator")).to_contain_text("Maria Weber")
    screenshot(page, "02-typing", root)
    run_code(page, "backend.clock.advance(0.5)")
    expect(root.get_by_test_id("typing-indicator")).to_be_hidden()
    contact = root.locator("[data-testid=entry][data-sender-role=contact]")
    expect(contact).to_have_count(1)
    expect(contact.first).to_contain_text("charged twice")

    run_code(page, "backend.clock.advance(25.5)")  # 31 s after accept
    expect(timer).to_have_attribute("data-color", "yellow")
    expect(timer).to_have_attribute("data-blink", "false")
    screenshot(page, "03-yellow", root)

    run_code(page, "backend.clock.advance(30)")  # 61 s after accept
    expect(timer).to_have_attribute("data-color", "red")
    expect(timer).to_have_attribute("data-blink", "true")
    screenshot(page, "04-red", root)

    composer = root.get_by_test_id("composer")
    composer.fill("Sorry for the wait, let me check your invoice.")
    root.get_by_test_id("send").click()
    expect(composer).to_have_value("")
    agent = root.locator("[data-testid=entry][data-sender-role=agent]")
    expect(agent).to_have_count(1)
    expect(agent.first).to_contain_text("let me check your invoice")
    expect(timer).to_have_attribute("data-color", "idle")

    run_code(page, "backend.clock.advance(8)")
    expect(contact).to_have_count(2)
    expect(contact.nth(1)).to_contain_text("2026-0315")
    expect(timer).to_have_attribute("data-color", "green")
    screenshot(page, "05-answer", root)
