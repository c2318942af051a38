"""Issue 7: replay a stored transcript in the widget with the timer colours as they were."""

from __future__ import annotations

import re

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


PLAYBACK_JS = """async ({seconds, rate}) => {
  const root = document.querySelector('.chat-widget');
  const q = (id) => root.querySelector(`[data-testid=${id}]`);
  const select = q('replay-rate');
  select.value = String(rate);
  select.dispatchEvent(new Event('change'));
  await new Promise((r) => setTimeout(r, 300));  // the kernel takes the rate
  const t0 = performance.now();
  q('replay-play').click();
  const samples = [];
  while (performance.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 250));
    samples.push({
      wall_ms: performance.now() - t0,
      pos_ms: Number(q('replay-slider').value),
      color: q('reply-timer').getAttribute('data-color'),
    });
  }
  q('replay-play').click();  // pause
  return samples;
}"""


def test_replay_playback_at_4x_keeps_to_the_replay_for_10_seconds(lab: Lab, page: Page) -> None:
    """Real clock: the view's replay position follows the kernel's playback (no drift
    ahead), and the reminder changes colour at the replay's own times."""
    name = lab.write_notebook("replay_play.ipynb", [SETUP])
    open_notebook(page, lab, name)
    run_cell(page, 0)
    root = widget_root(page)
    slider = root.get_by_test_id("replay-slider")
    expect(slider).to_be_visible()
    lo = float(slider.get_attribute("min") or 0)
    assert run_py(page, "print(round(replay.position * 1000 - s.offered_at * 1000))") == "0"
    samples = page.evaluate(PLAYBACK_JS, {"seconds": 10, "rate": 4})
    assert len(samples) >= 30
    # the slider snaps to whole seconds (step 1000): allow that half second on top of 1 s
    for s in samples:
        expected = 4 * s["wall_ms"]
        assert abs((s["pos_ms"] - lo) - expected) <= 1_500, (s, expected)
    # at 4x, 10 s of wall time is 40 s of the chat: past yellow (30 s), not yet red (60 s)
    for s in samples:
        elapsed = s["pos_ms"] - lo
        if elapsed < 29_000:
            assert s["color"] == "green", s
        elif elapsed > 31_000:
            assert s["color"] == "yellow", s
    assert samples[-1]["color"] == "yellow"
    # paused: the kernel's position and the view's agree
    expect(root.get_by_test_id("replay-play")).to_have_attribute("data-face", re.compile("^play:"))
    kernel_ms = float(run_py(page, "print(replay.position * 1000)"))
    assert abs(float(slider.input_value()) - kernel_ms) <= 1_000
    assert abs((kernel_ms - lo) - 4 * samples[-1]["wall_ms"]) <= 1_500
    screenshot(page, "replay-03-played-4x", root)
