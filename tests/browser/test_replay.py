"""Issue 7: replay a stored transcript in the widget with the timer colours as they were."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .lab import Lab, open_notebook, run_cell, run_py, screenshot, widget_root

SETUP = """
from chat_widget import ChatWidget, MockBackend, VirtualClock
from chat_widget.formats.transcript_file import transcript_from_session
from chat_widget.replay import ReplayBackend

live = MockBackend("impatient", clock=VirtualClock())
live.clock.advance(0)
s = live.first_session()
s.accept()
live.clock.advance(65)          # red at 60 s; the customer complains
s.send("Sorry! Let me look at your line.")
live.clock.advance(10)
doc = transcript_from_session(s)
red_at_ms = (s.accepted_at + 62) * 1000
replay = ReplayBackend(doc)
widget = ChatWidget(replay)
widget
"""


def test_replay_slider_shows_the_past_as_it_was(lab: Lab, page: Page) -> None:
    name = lab.write_notebook("replay.ipynb", [SETUP])
    open_notebook(page, lab, name)
    run_cell(page, 0)
    root = widget_root(page)
    bar = root.get_by_test_id("replay-bar")
    expect(bar).to_be_visible()
    expect(root.get_by_test_id("clock-controls")).to_be_hidden()
    timer = root.get_by_test_id("reply-timer")
    slider = root.get_by_test_id("replay-slider")

    # the chat was offered and accepted at the start: 62 s later it was red and blinking,
    # the complaint shown, no reply yet
    lo = float(slider.get_attribute("min") or 0)
    slider.fill(str(int(lo + 62_000)))
    expect(timer).to_have_attribute("data-color", "red")
    expect(timer).to_have_attribute("data-blink", "true")
    contact = root.locator("[data-testid=entry][data-sender-role=contact]")
    expect(contact.last).to_contain_text("Hello??")
    expect(root.locator("[data-testid=entry][data-sender-role=agent]")).to_have_count(0)
    screenshot(page, "replay-01-red", root)

    # agent controls are inert in a replay; Python refuses too
    expect(root.locator(".cw-composer")).to_have_js_property("inert", True)
    out = run_py(
        page,
        "try:\n    replay.first_session().send('x')\n"
        "except Exception as e:\n    print(type(e).__name__)",
    )
    assert "ReplayError" in out

    # back to 20 s after accept: green, the complaint not yet there
    slider.fill(str(int(lo + 20_000)))
    expect(timer).to_have_attribute("data-color", "green")
    expect(root.locator("[data-testid=entry]").filter(has_text="Hello??")).to_have_count(0)

    # just after the reply (65 s): idle, the reply there, the next question not yet
    slider.fill(str(int(lo + 66_000)))
    expect(root.locator("[data-testid=entry][data-sender-role=agent]")).to_have_count(1)
    expect(timer).to_have_attribute("data-color", "idle")
    screenshot(page, "replay-02-replied", root)

    # to the end: the customer's next message started a new wait, green again
    hi = float(slider.get_attribute("max") or 0)
    slider.fill(str(int(hi)))
    expect(contact.last).to_contain_text("restarted the router")
    expect(timer).to_have_attribute("data-color", "green")
