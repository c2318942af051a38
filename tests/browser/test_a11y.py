"""Accessibility (WCAG 2.1 AA, issue 12) as a trainee lives it, in a real JupyterLab.

One journey through the states of a chat (offer, accepted with messages, URL editor with its
history open, reminder red, wrap-up, replay), each checked in the light and the dark theme with
axe-core (no serious or critical violation) and our own contrast measurement; focus and keys
by keyboard. A second journey checks the workspace and the customer page on a phone.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect

from .a11y_checks import check_page
from .lab import Lab, open_notebook, run_cell, run_code, run_py, screenshot, set_theme, widget_root
from .live_server import ServerThread

JOURNEY = """
from chat_widget import ChatWidget, MockBackend, VirtualClock
scenario = {
    "name": "A11y",
    "contact": {"name": "Maria Weber", "phones": ["+49 30 1234567"],
                "emails": ["maria@example.com"]},
    "offer_after": 1,
    "steps": [
        {"say": "Hello, my invoice is wrong.", "typing": 1, "delay": 0},
        {"wait_for_reply": True},
        {"say": "Thanks, I will look at it.", "typing": 1},
        {"pause": 1000},
    ],
}
backend = MockBackend(scenario, clock=VirtualClock())
backend.clock.advance(1)
session = backend.first_session()
widget = ChatWidget(backend)
widget
"""

REPLAY = """
from chat_widget.formats.transcript_file import transcript_from_session
from chat_widget.replay import ReplayBackend
replay = ChatWidget(ReplayBackend(transcript_from_session(session)))
replay
"""

WIDGET = ".chat-widget"

_CELLS_JS = "() => window.jupyterapp.shell.currentWidget.content.widgets.length"

_RING_JS = """
(el) => { const cs = getComputedStyle(el);
  return { style: cs.outlineStyle, width: parseFloat(cs.outlineWidth),
           offset: parseFloat(cs.outlineOffset), visible: el.matches(':focus-visible') }; }
"""

# the pill's look at points of its animation (seeked with the Web Animations API, no waiting)
_PILL_JS = """
(el) => {
  const anims = el.getAnimations();
  const look = () => { const cs = getComputedStyle(el);
    return { visibility: cs.visibility, opacity: Number(cs.opacity), color: cs.color,
             shadow: cs.boxShadow,
             visible: el.checkVisibility({ opacityProperty: true, visibilityProperty: true }) }; };
  if (anims.length === 0) return { animations: 0, frames: [look()] };
  const frames = [];
  for (const a of anims) a.pause();
  for (const t of [0, 250, 500, 750, 999]) {
    for (const a of anims) a.currentTime = t;
    frames.push(look());
  }
  for (const a of anims) a.play();
  return { animations: anims.length, frames };
}
"""


def switch_theme(page: Page, dark: bool) -> None:
    """JupyterLab covers the page with its splash while it changes theme: wait it out."""
    set_theme(page, dark=dark)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)


def both_themes(page: Page, where: str, dark_now: bool, selector: str = WIDGET) -> bool:
    """Check the current state in the current theme, switch theme, check again."""
    results: dict[str, Any] = {}
    for dark in (dark_now, not dark_now):
        if dark != dark_now:
            switch_theme(page, dark)
        theme = "dark" if dark else "light"
        measured = check_page(page, selector, f"{where} ({theme})")
        results[theme] = min(m["ratio"] for m in measured)
    print(f"{where}: lowest contrast {results}")
    return not dark_now


def focus_by_keyboard(page: Page, target: Locator) -> None:
    """Put focus on ``target`` the way a keyboard user does (so :focus-visible applies)."""
    target.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(target).to_be_focused()


def assert_ring(target: Locator) -> None:
    ring = target.evaluate(_RING_JS)
    assert ring["visible"] and ring["style"] == "solid", ring
    assert ring["width"] >= 2 and ring["offset"] >= 1, ring  # outside the control


def test_trainee_journey_by_keyboard_in_light_and_dark(lab: Lab, page: Page) -> None:
    open_notebook(page, lab, lab.write_notebook("a11y.ipynb", [JOURNEY]))
    dark = False
    try:
        run_cell(page, 0)
        root = widget_root(page)
        cells = page.evaluate(_CELLS_JS)

        # offer: axe and contrast in both themes; the Accept ring shows outside the button
        expect(root.get_by_test_id("offer")).to_be_visible()
        accept = root.get_by_test_id("accept")
        focus_by_keyboard(page, accept)
        assert_ring(accept)
        screenshot(page, "a11y-light-focus-accept", root.get_by_test_id("offer"))
        dark = both_themes(page, "offer", dark)
        focus_by_keyboard(page, accept)
        assert_ring(accept)
        screenshot(page, "a11y-dark-focus-accept", root.get_by_test_id("offer"))

        # Accept by keyboard: focus lands in the composer; typing there is no notebook shortcut
        page.keyboard.press("Enter")
        composer = root.get_by_test_id("composer")
        expect(composer).to_be_focused()
        page.keyboard.type("Hello Maria, a moment please")  # "a", "b", "m" … are shortcuts
        page.keyboard.press("Enter")
        expect(root.locator("[data-testid=entry][data-sender-role=agent]")).to_have_count(1)
        assert page.evaluate(_CELLS_JS) == cells
        run_py(page, "backend.clock.advance(3)")
        expect(root.locator("[data-testid=entry][data-sender-role=contact]")).to_have_count(1)
        # a call being dialled (its yellow text was 1.8:1 on white), checked with this state
        root.get_by_test_id("party-action").click()
        root.get_by_test_id("call-contact").first.click()
        expect(root.get_by_test_id("call-state")).to_have_attribute("data-call", "dialing")
        send = root.get_by_test_id("send")
        focus_by_keyboard(page, send)
        assert_ring(send)
        screenshot(page, "a11y-dark-focus-send", root.locator(".cw-composer"))
        dark = both_themes(page, "accepted with messages", dark)

        # URL editor: the disabled check link is no tab stop
        root.get_by_test_id("url-editor-toggle").click()
        url = root.get_by_test_id("url-input")
        check = root.get_by_test_id("url-check")
        expect(url).to_be_focused()
        expect(check).to_have_attribute("aria-disabled", "true")
        expect(check).to_have_attribute("tabindex", "-1")
        page.keyboard.press("Tab")
        expect(root.get_by_test_id("url-send")).to_be_focused()
        url.fill("https://example.com/help")
        expect(check).to_have_attribute("tabindex", "0")
        url.press("Enter")
        expect(root.locator("[data-testid=entry][data-kind=push_url]")).to_have_count(1)

        # ArrowDown on the history toggle opens the history; Enter there pushes the URL and
        # never reaches the notebook (it used to add a cell)
        toggle = root.get_by_test_id("url-history-toggle")
        active = page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
        )
        cells = page.evaluate(_CELLS_JS)
        focus_by_keyboard(page, toggle)
        page.keyboard.press("ArrowDown")
        history = root.get_by_test_id("url-history")
        expect(history).to_be_visible()
        expect(root.get_by_test_id("url-history-item").first).to_have_attribute(
            "aria-selected", "true"
        )
        page.keyboard.press("Enter")
        expect(root.locator("[data-testid=entry][data-kind=push_url]")).to_have_count(2)
        assert page.evaluate(_CELLS_JS) == cells
        assert (
            page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")
            == active
        )
        focus_by_keyboard(page, toggle)
        page.keyboard.press("ArrowDown")
        expect(history).to_be_visible()
        dark = both_themes(page, "URL editor and history open", dark)
        expect(history).to_be_visible()
        page.keyboard.press("Escape")
        expect(history).to_be_hidden()

        # red: the pill pulses, its number always readable; no motion with reduced motion
        run_py(page, "backend.clock.advance(65)")
        timer = root.get_by_test_id("reply-timer")
        expect(timer).to_have_attribute("data-color", "red")
        expect(timer).to_have_attribute("data-blink", "true")
        pill = timer.evaluate(_PILL_JS)
        assert pill["animations"] >= 1, pill
        for frame in pill["frames"]:
            assert frame["visible"] and frame["visibility"] == "visible", pill
            assert frame["opacity"] == 1, pill
        assert len({f["shadow"] for f in pill["frames"]}) > 1, pill  # it does pulse
        assert len({f["color"] for f in pill["frames"]}) == 1, pill
        dark = both_themes(page, "reminder red", dark)
        for theme_dark in (dark, not dark):
            if theme_dark != dark:
                switch_theme(page, theme_dark)
                dark = theme_dark
            timer.evaluate(
                "(el) => el.getAnimations().forEach((a) => { a.pause(); a.currentTime = 500; })"
            )
            name = "dark" if dark else "light"
            screenshot(page, f"a11y-{name}-red-pill", root.locator(".cw-header"))
            timer.evaluate("(el) => el.getAnimations().forEach((a) => a.play())")
        page.emulate_media(reduced_motion="reduce")
        still = timer.evaluate(_PILL_JS)
        assert still["animations"] == 0, still
        assert still["frames"][0]["shadow"] != "none" and still["frames"][0]["visible"], still
        expect(timer).to_have_attribute("data-blink", "true")
        screenshot(page, "a11y-reduced-motion-red-pill", root.locator(".cw-header"))
        page.emulate_media(reduced_motion="no-preference")

        # End by keyboard: focus on Mark done; wrap-up checked; Done: focus on the status
        focus_by_keyboard(page, root.get_by_test_id("end"))
        page.keyboard.press("Enter")
        done = root.get_by_test_id("done")
        expect(done).to_be_focused()
        assert_ring(done)
        screenshot(
            page, f"a11y-{'dark' if dark else 'light'}-focus-done", root.locator(".cw-wrapup")
        )
        dark = both_themes(page, "wrap-up", dark)
        page.keyboard.press("Enter")
        status = root.get_by_test_id("chat-status")
        expect(status).to_have_attribute("data-state", "done")
        expect(status).to_be_focused()

        # replay: the slider moves with ArrowRight and End (and the notebook never sees them)
        run_code(page, REPLAY)
        replay = widget_root(page, 1)
        slider = replay.get_by_test_id("replay-slider")
        expect(slider).to_be_visible()
        lo, hi = int(slider.get_attribute("min") or 0), int(slider.get_attribute("max") or 0)
        cells = page.evaluate(_CELLS_JS)
        slider.focus()
        start = int(slider.input_value())
        page.keyboard.press("ArrowRight")
        expect(slider).to_have_value(str(min(hi, start + 1000)))
        page.keyboard.press("End")
        expect(slider).to_have_value(str(hi))
        expect(replay.get_by_test_id("chat-status")).to_have_attribute("data-state", "done")
        page.keyboard.press("Home")
        expect(slider).to_have_value(str(lo))
        assert page.evaluate(_CELLS_JS) == cells
        dark = both_themes(
            page,
            "replay",
            dark,
            selector=".chat-widget:has([data-testid=replay-bar]:not([hidden]))",
        )
    finally:
        page.emulate_media(reduced_motion="no-preference")
        if dark:
            set_theme(page, dark=False)


WORKSPACE = """
from chat_widget import MockBackend, VirtualClock, WorkspaceWidget
backend = MockBackend("billing", clock=VirtualClock())
backend.clock.advance(1)
ws = WorkspaceWidget(backend)
ws
"""

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_workspace_and_customer_page(
    lab: Lab, page: Page, browser: Browser, chat_server: ServerThread
) -> None:
    open_notebook(page, lab, lab.write_notebook("a11y_ws.ipynb", [WORKSPACE]))
    dark = False
    try:
        run_cell(page, 0)
        ws = page.get_by_test_id("workspace")
        expect(ws.get_by_test_id("accept")).to_be_visible()
        dark = both_themes(page, "workspace offer", dark, selector="[data-testid=workspace]")
        ws.get_by_test_id("accept").focus()
        page.keyboard.press("Enter")
        expect(ws.get_by_test_id("composer")).to_be_focused()
        run_code(page, "backend.clock.advance(8)")
        expect(ws.locator("[data-testid=entry][data-sender-role=contact]").first).to_be_visible()
        dark = both_themes(page, "workspace chat", dark, selector="[data-testid=workspace]")
        screenshot(page, f"a11y-{'dark' if dark else 'light'}-workspace", ws)
        # End and Done by keyboard: Mark done takes focus; when the chat leaves the desk,
        # focus stays on the workspace (not the page)
        focus_by_keyboard(page, ws.get_by_test_id("end"))
        page.keyboard.press("Enter")
        expect(ws.get_by_test_id("done")).to_be_focused()
        page.keyboard.press("Enter")
        expect(ws.get_by_test_id("chat-pane")).to_have_count(0)
        expect(ws).to_be_focused()
    finally:
        if dark:
            set_theme(page, dark=False)

    # the customer page at phone width: the start form, then waiting for an agent
    # the page's CSP (script-src 'self') would refuse the injected axe script: bypass it here
    context = browser.new_context(bypass_csp=True, **PHONE)  # type: ignore[arg-type]
    try:
        phone = context.new_page()
        phone.set_default_timeout(15_000)
        phone.goto(chat_server.server.http_url)
        check_page(phone, "body", "customer start")
        phone.locator("#start input").first.fill("Maria")
        phone.get_by_test_id("start-chat").click()
        expect(phone.get_by_test_id("customer-input")).to_be_visible()
        check_page(phone, "body", "customer waiting")
    finally:
        context.close()
