"""Notebook 7 smoke test: the same Jupyter server serves /notebooks/<name>.ipynb."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .lab import _KERNEL_IDLE_JS, Lab, run_cell, run_py, screenshot, widget_root

SETUP = """
from chat_widget import ChatWidget, MockBackend, VirtualClock
backend = MockBackend("billing", clock=VirtualClock())
backend.clock.advance(1)
widget = ChatWidget(backend, locale="de")
widget
"""


def test_chat_in_notebook7(lab: Lab, page: Page) -> None:
    """F1, F2, F3 and the URL push (F15, F18) in Notebook 7, with German labels."""
    name = lab.write_notebook("nb7_smoke.ipynb", [SETUP])
    page.goto(lab.notebook7_url(name))
    page.wait_for_function(_KERNEL_IDLE_JS, timeout=90_000)
    run_cell(page, 0)
    root = widget_root(page)
    expect(root.get_by_test_id("offer")).to_contain_text("Maria Weber")
    root.get_by_test_id("accept").click()
    expect(root.get_by_test_id("accept")).to_be_hidden()
    # notices are stored as a code and read in the widget's locale (issue 12)
    expect(root.locator("[data-testid=entry][data-kind=notice]").first).to_have_text(
        re.compile("Agent ist dem Chat beigetreten")
    )
    timer = root.get_by_test_id("reply-timer")
    expect(timer).to_have_attribute("data-color", "green")
    run_py(page, "backend.clock.advance(36)")
    expect(root.locator("[data-testid=entry][data-sender-role=contact]")).to_have_count(1)
    expect(timer).to_have_attribute("data-color", "yellow")
    root.get_by_test_id("url-editor-toggle").click()
    url = root.get_by_test_id("url-input")
    url.fill("javascript:alert(1)")
    url.press("Enter")
    expect(root.get_by_test_id("url-error")).to_be_visible()
    url.fill("https://example.com/rechnung")
    root.get_by_test_id("url-send").click()
    expect(root.locator("[data-testid=entry][data-kind=push_url]")).to_contain_text(
        "https://example.com/rechnung"
    )
    expect(root.locator("[data-testid=entry][data-kind=push_url]")).to_contain_text(
        "Bitte klicken Sie auf den Link, den Ihre Beratung gesendet hat"
    )
    expect(timer).to_have_attribute("data-color", "idle")
    expect(root.get_by_test_id("send")).to_have_text("Senden")
    screenshot(page, "nb7-de-01-chat", root)
