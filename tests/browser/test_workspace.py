"""Issue 4 journeys: the workspace with several chats, colleagues, IM and F13.

Each test is one user journey asserting several features; the kernel side is
checked by cells that print a marker only when their asserts pass.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from .lab import Lab, open_notebook, run_cell, run_code, screenshot

SETUP = """
from chat_widget import MockBackend, VirtualClock, WorkspaceWidget
second = {"name": "Router down", "contact": {"name": "Jonas Becker"}, "offer_after": 4,
          "steps": [{"say": "My internet is down.", "typing": 1, "delay": 0},
                    {"wait_for_reply": True}, {"say": "Thanks!", "typing": 1}]}
backend = MockBackend(["billing", second], clock=VirtualClock())
backend.clock.advance(1)
ws = WorkspaceWidget(backend)
ws
"""


def _kernel_ok(page: Page, code: str, marker: str) -> None:
    """Run ``code`` (asserts) in the kernel and wait for ``marker``: fails if an assert fails."""
    run_code(page, f"{code}\nprint({marker!r})")
    expect(page.get_by_text(marker, exact=True)).to_be_visible()


def _open(lab: Lab, page: Page, name: str) -> Locator:
    open_notebook(page, lab, lab.write_notebook(name, [SETUP]))
    run_cell(page, 0)
    ws = page.get_by_test_id("workspace")
    expect(ws).to_be_visible(timeout=30_000)
    return ws


def _pane(ws: Locator, sid: str) -> Locator:
    return ws.locator(f"[data-testid=chat-pane][data-session-id={sid}]")


def _tab(ws: Locator, sid: str) -> Locator:
    return ws.locator(f"[data-testid=interaction-tab][data-session-id={sid}]")


def _accept_both(page: Page, ws: Locator) -> None:
    _pane(ws, "chat-1").get_by_test_id("accept").click()
    run_code(page, "backend.clock.advance(4)")  # second chat offered at 4 s: no reload
    expect(_tab(ws, "chat-2")).to_be_visible()
    _tab(ws, "chat-2").click()
    _pane(ws, "chat-2").get_by_test_id("accept").click()
    expect(_pane(ws, "chat-2").get_by_test_id("contact-name")).to_have_text("Jonas Becker")


def test_interaction_bar_hover_switch_and_attention(lab: Lab, page: Page) -> None:
    """F11 (tabs, colours, hover preview, draft/scroll kept, offers without reload), F13."""
    ws = _open(lab, page, "ws_bar.ipynb")
    expect(ws.get_by_test_id("interaction-tab")).to_have_count(1)
    expect(_tab(ws, "chat-1").get_by_test_id("tab-contact")).to_have_text("Maria Weber")
    _accept_both(page, ws)
    expect(ws.get_by_test_id("interaction-tab")).to_have_count(2)
    run_code(page, "backend.clock.advance(28)")  # chat-1 accepted ~32 s ago, chat-2 ~28 s
    expect(_tab(ws, "chat-1")).to_have_attribute("data-color", "yellow")
    expect(_tab(ws, "chat-2")).to_have_attribute("data-color", "green")

    # draft and scroll position survive switching
    composer2 = _pane(ws, "chat-2").get_by_test_id("composer")
    composer2.fill("Let me check your line")
    _tab(ws, "chat-1").click()
    expect(_pane(ws, "chat-1")).to_be_visible()
    expect(_pane(ws, "chat-2")).to_be_hidden()
    _tab(ws, "chat-2").click()
    expect(composer2).to_have_value("Let me check your line")

    # hover preview: elapsed time and the last lines of the transcript
    _tab(ws, "chat-1").hover()
    preview = ws.get_by_test_id("tab-preview")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("data-session-id", "chat-1")
    expect(preview.get_by_test_id("tab-preview-elapsed")).to_contain_text("0:3")
    expect(preview.get_by_test_id("tab-preview-line").last).to_contain_text("charged twice")
    screenshot(page, "ws-01-bar-hover", ws)
    ws.get_by_test_id("directory").hover()
    expect(preview).to_be_hidden()

    # F13: page hidden while replies are pending → the tab title flashes, favicon in colour
    title = page.title()
    page.evaluate("window.chatWidgetAttention.emulate({hidden: true})")
    expect(page).to_have_title(re.compile("Reply pending – Maria Weber"), timeout=5_000)
    expect(page.locator("link[rel~=icon][data-cw-attention=yellow]")).to_have_count(1)
    assert page.evaluate("window.chatWidgetAttention.state().flashing") is True
    # back to the page: what JupyterLab had is restored at once
    page.evaluate("window.chatWidgetAttention.emulate({hidden: false})")
    assert page.title() == title
    expect(page.locator("link[rel~=icon][data-cw-attention]")).to_have_count(0)
    # blurred window, red chat: flashes red; replying to every chat restores
    run_code(page, "backend.clock.advance(30)")
    expect(_tab(ws, "chat-1")).to_have_attribute("data-color", "red")
    expect(_tab(ws, "chat-1")).to_have_attribute("data-blink", "true")
    page.evaluate("window.chatWidgetAttention.emulate({blurred: true})")
    expect(page.locator("link[rel~=icon][data-cw-attention=red]")).to_have_count(1)
    screenshot(page, "ws-02-attention-red", ws)
    _pane(ws, "chat-2").get_by_test_id("send").click()
    expect(page.locator("link[rel~=icon][data-cw-attention=red]")).to_have_count(1)
    _tab(ws, "chat-1").click()
    _pane(ws, "chat-1").get_by_test_id("composer").fill("Sorry, checking now")
    _pane(ws, "chat-1").get_by_test_id("send").click()
    expect(_tab(ws, "chat-1")).to_have_attribute("data-color", "idle")
    expect(page.locator("link[rel~=icon][data-cw-attention]")).to_have_count(0)
    expect(page).to_have_title(title)

    # F13 counts only live views: once the notebook's kernel is gone, its chats
    # (still on the page, their timers running on) no longer flash the tab
    run_code(page, "backend.customers['chat-1'].say('Hello? Still there?')")
    expect(_tab(ws, "chat-1")).to_have_attribute("data-color", "green")
    expect(page.locator("link[rel~=icon][data-cw-attention=green]")).to_have_count(1)
    _shut_down_kernel(page)
    expect(page.locator("link[rel~=icon][data-cw-attention]")).to_have_count(0, timeout=15_000)
    expect(ws.get_by_test_id("interaction-tab")).to_have_count(2)  # still shown
    assert page.evaluate("window.chatWidgetAttention.state().colour") == "idle"
    page.evaluate("window.chatWidgetAttention.emulate({blurred: false})")


def _shut_down_kernel(page: Page) -> None:
    """Shut down the notebook's kernel as a user does: Kernel menu, Shut Down Kernel."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").click()
    page.locator(".lm-Menu-itemLabel", has_text="Shut Down Kernel").first.click()


def test_transfer_and_conference(lab: Lab, page: Page) -> None:
    """F5 transfer with a note (chat leaves, contact sees a notice); F6 conference."""
    ws = _open(lab, page, "ws_transfer.ipynb")
    _accept_both(page, ws)
    expect(ws.get_by_test_id("directory-agent")).to_have_count(5)
    expect(ws.locator("[data-testid=directory-agent][data-presence=busy]")).to_have_count(1)

    # F5: transfer chat-1 to Lena with a note
    _tab(ws, "chat-1").click()
    pane1 = _pane(ws, "chat-1")
    pane1.get_by_test_id("transfer-open").click()
    dialog = ws.get_by_test_id("collab-dialog")
    expect(dialog).to_have_attribute("data-mode", "transfer")
    expect(dialog.locator("[data-target-kind=queue]")).to_have_count(3)
    expect(dialog.locator("[data-target-id=c-eva]")).to_have_count(0)  # offline
    dialog.locator("[data-target-id=c-lena]").click()
    dialog.get_by_test_id("transfer-note").fill("Double payment, invoice 2026-0315")
    screenshot(page, "ws-03-transfer-dialog", ws)
    dialog.get_by_test_id("dialog-confirm").click()
    # a transfer takes the chat away: asked once more, naming the receiver
    question = dialog.get_by_test_id("transfer-confirm-question")
    expect(question).to_contain_text("Lena Hoffmann")
    expect(dialog.get_by_test_id("dialog-confirm")).to_have_text("Yes, transfer")
    expect(pane1.get_by_test_id("transfer-status")).to_be_hidden()
    expect(pane1.get_by_test_id("transfer-open").locator("svg")).to_have_count(1)  # one icon set
    dialog.get_by_test_id("dialog-confirm").click()
    expect(pane1.get_by_test_id("transfer-status")).to_contain_text("Lena Hoffmann")
    run_code(page, "backend.clock.advance(2)")
    expect(_tab(ws, "chat-1")).to_have_count(0)
    expect(ws.get_by_test_id("interaction-tab")).to_have_count(1)
    _kernel_ok(
        page,
        "assert backend.team.owner_of['chat-1'] == 'c-lena'\n"
        "got = backend.team.contact_received['chat-1']\n"
        "assert any('transferred to Lena' in e.text for e in got)",
        "OK-transfer",
    )

    # F6: conference on chat-2 with Tobias; he joins and writes; he leaves
    pane2 = _pane(ws, "chat-2")
    expect(pane2).to_be_visible()
    pane2.get_by_test_id("conference-open").click()
    dialog.locator("[data-target-id=c-tobias]").click()
    dialog.get_by_test_id("dialog-confirm").click()
    expect(pane2.get_by_test_id("transfer-status")).to_contain_text("Tobias Klein")
    run_code(page, "backend.clock.advance(6)")
    conf = pane2.locator("[data-testid=participant][data-role=conference]")
    expect(conf).to_contain_text("Tobias Klein")
    expect(pane2.get_by_test_id("participant")).to_have_count(3)
    expect(pane2.locator("[data-testid=entry][data-kind=notice]").last).to_be_visible()
    expect(pane2.locator("[data-testid=entry][data-sender-role=agent]").last).to_contain_text(
        "Tobias from technical support"
    )
    screenshot(page, "ws-04-conference", ws)
    run_code(page, "backend.team.leave_conference('chat-2')")
    expect(conf).to_have_count(0)
    expect(pane2.get_by_test_id("entry").last).to_contain_text("Tobias Klein left the chat")
    # invite again, then this agent leaves: Tobias keeps the chat
    pane2.get_by_test_id("conference-open").click()
    dialog.locator("[data-target-id=c-tobias]").click()
    dialog.get_by_test_id("dialog-confirm").click()
    run_code(page, "backend.clock.advance(3)")
    expect(conf).to_have_count(1)
    pane2.get_by_test_id("leave-conference").click()
    expect(ws.get_by_test_id("interaction-tab")).to_have_count(0)
    expect(ws.get_by_test_id("no-chats")).to_be_visible()
    _kernel_ok(page, "assert backend.team.owner_of['chat-2'] == 'c-tobias'", "OK-conference")


def test_consultations_and_team_im(lab: Lab, page: Page) -> None:
    """F7 by chat (hidden from the contact) turned into a conference; by voice; F14 IM."""
    ws = _open(lab, page, "ws_consult.ipynb")
    pane = _pane(ws, "chat-1")
    pane.get_by_test_id("accept").click()
    run_code(page, "backend.clock.advance(5)")

    # consultation by chat with Lena
    pane.get_by_test_id("consult-open").click()
    dialog = ws.get_by_test_id("collab-dialog")
    expect(dialog.locator("[data-target-kind=external]")).to_have_count(0)  # chat: internal only
    dialog.locator("[data-target-id=c-lena]").click()
    dialog.get_by_test_id("dialog-confirm").click()
    box = pane.get_by_test_id("consultation")
    expect(box).to_have_attribute("data-medium", "chat")
    expect(box).to_have_attribute("data-state", "requested")
    run_code(page, "backend.clock.advance(2)")
    expect(box).to_have_attribute("data-state", "active")
    pane.get_by_test_id("consult-composer").fill("May I refund a double payment of 40 EUR?")
    pane.get_by_test_id("consult-send").click()
    run_code(page, "backend.clock.advance(7)")
    consult = pane.locator("[data-testid=entry][data-kind=consult]")
    expect(consult).to_have_count(3)
    expect(consult.last).to_contain_text("up to 500 EUR")
    # consultation messages never reset the reply timer: still running since accept
    expect(pane.get_by_test_id("reply-timer")).to_have_attribute("data-color", "green")
    expect(pane.get_by_test_id("reply-timer")).to_have_text("0:14")
    screenshot(page, "ws-05-consult-chat", ws)
    pane.get_by_test_id("consult-to-conference").click()
    run_code(page, "backend.clock.advance(2)")
    expect(pane.locator("[data-testid=participant][data-role=conference]")).to_contain_text("Lena")
    _kernel_ok(
        page,
        "got = backend.team.contact_received['chat-1']\n"
        "assert not any(e.kind == 'consult' or '40 EUR' in e.text for e in got)\n"
        "assert any('Lena Hoffmann joined the chat' in e.text for e in got)",
        "OK-consult-hidden",
    )

    # consultation by voice with an external contact: simulated call states
    pane.get_by_test_id("consult-open").click()
    ws.get_by_test_id("consult-medium").select_option("voice")
    dialog.locator("[data-target-id=x-brandt]").click()
    dialog.get_by_test_id("dialog-confirm").click()
    expect(box).to_have_attribute("data-medium", "voice")
    expect(box).to_have_attribute("data-state", "requested")
    expect(box.get_by_test_id("consultation-state")).to_have_text("Dialing")
    run_code(page, "backend.clock.advance(1)")
    expect(box).to_have_attribute("data-state", "ringing")
    run_code(page, "backend.clock.advance(4)")
    expect(box).to_have_attribute("data-state", "active")
    expect(box.get_by_test_id("consultation-state")).to_have_text("Connected")
    expect(pane.locator("[data-testid=participant][data-role=consultant]")).to_contain_text(
        "Brandt"
    )
    screenshot(page, "ws-06-consult-voice", ws)
    box.get_by_test_id("consult-end").click()
    expect(box).to_have_attribute("data-state", "ended")

    # F14: team IM with unread counts
    ws.get_by_test_id("im-toggle").click()
    ws.locator("[data-testid=im-thread][data-colleague-id=c-tobias]").click()
    ws.get_by_test_id("im-composer").fill("Is the network outage in Berlin known?")
    ws.get_by_test_id("im-send").click()
    expect(ws.locator("[data-testid=im-message][data-from=me]")).to_have_count(1)
    run_code(
        page,
        "backend.clock.advance(3)\nbackend.team.send_im('c-lena', 'Can you take a call at 3?')",
    )
    expect(ws.locator("[data-testid=im-message][data-from=them]")).to_have_count(1)  # open: read
    lena = ws.locator("[data-testid=im-thread][data-colleague-id=c-lena]")
    expect(lena.get_by_test_id("im-unread")).to_have_text("1")
    expect(ws.get_by_test_id("im-total-unread")).to_have_text("1")
    screenshot(page, "ws-07-im", ws)
    lena.click()
    expect(ws.get_by_test_id("im-message")).to_contain_text("take a call at 3")
    expect(lena.get_by_test_id("im-unread")).to_be_hidden()
    expect(ws.get_by_test_id("im-total-unread")).to_be_hidden()
    _kernel_ok(page, "assert backend.desk.team_im.total_unread == 0", "OK-im")
