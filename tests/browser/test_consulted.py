"""The consulted colleague's side of F7 in the workspace (issue 10 #6), real browser.

Bob is consulted by Alice about her chat: on the real server (customer page, two
agents, real clock) he answers, reads her question, replies and hangs up in his
workspace; on the mock a colleague's request is declined, and one is withdrawn
when the countdown runs out on the training clock.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from .lab import Lab, open_notebook, run_cell, run_code, run_py, screenshot
from .live_server import ServerThread, customer_page

UNTIL = """
import asyncio
async def until(condition, timeout=10.0):
    async def poll():
        while not condition():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)
"""


def test_consulted_agent_answers_replies_and_hangs_up_on_the_real_server(
    lab: Lab, page: Page, browser: Browser, chat_server: ServerThread
) -> None:
    store = chat_server.server.store
    _, alice_token = store.add_agent("Alice")
    bob, bob_token = store.add_agent("Bob")
    url = chat_server.server.url
    setup = (
        "from chat_widget import WebSocketBackend, WorkspaceWidget\n"
        f"alice = WebSocketBackend({url!r}, token={alice_token!r})\n"
        f"backend = WebSocketBackend({url!r}, token={bob_token!r}, ready=False)\n"
        "w = WorkspaceWidget(backend)\n"
        "w"
    )
    open_notebook(page, lab, lab.write_notebook("consulted_live.ipynb", [setup, UNTIL]))
    run_cell(page, 0)
    run_cell(page, 1)
    ws = page.get_by_test_id("workspace")
    expect(ws).to_be_visible()
    card = ws.get_by_test_id("incoming-consultation")
    expect(card).to_have_count(0)
    customer = customer_page(browser, chat_server, "Carla")
    try:
        # Alice (only she is ready) takes the chat and consults Bob by chat
        run_py(
            page,
            "chat = await alice.next_offer(timeout=20)\n"
            "chat.accept()\n"
            "await until(lambda: chat.state == 'accepted')\n"
            f"alice.desk.collab.consult(chat.id, 'agent', {bob.id!r}, 'chat')",
        )
        expect(card).to_have_attribute("data-state", "requested")
        expect(card.get_by_test_id("offer-kind")).to_have_attribute("data-kind", "consultation")
        expect(card.get_by_test_id("offer-from")).to_have_text("Alice")
        expect(card.get_by_test_id("consult-about")).to_have_text("about Carla")
        # the countdown runs on the real clock
        countdown = card.get_by_test_id("offer-countdown")
        expect(countdown).to_have_text(re.compile(r"^0:\d\d$"))
        first = countdown.inner_text()
        expect(countdown).not_to_have_text(first, timeout=3_000)
        screenshot(page, "consulted-01-request", ws)
        card.get_by_test_id("consult-answer").click()
        expect(card).to_have_attribute("data-state", "active")
        expect(card.get_by_test_id("offer-countdown")).to_be_hidden()
        expect(card.get_by_test_id("consult-composer")).to_be_focused()

        # Alice's question arrives as text (never as markup); Bob replies with Enter
        run_py(
            page,
            "await until(lambda: alice.desk.collab.team(chat.id).consultation.state == 'active')\n"
            "alice.desk.collab.consult_send(chat.id, '<b>Is the outage in Berlin known?</b>')",
        )
        question = card.get_by_test_id("consult-message").first
        expect(question).to_contain_text("<b>Is the outage in Berlin known?</b>")
        expect(question.locator("b")).to_have_count(0)
        card.get_by_test_id("consult-composer").fill("Yes, fixed within the hour.")
        card.get_by_test_id("consult-composer").press("Enter")
        expect(card.get_by_test_id("consult-message")).to_have_count(2)
        expect(card.get_by_test_id("consult-message").nth(1)).to_have_attribute("data-from", "me")
        out = run_py(
            page,
            "await until(lambda: any(e.text == 'Yes, fixed within the hour.'"
            " for e in chat.transcript))\nprint('alice-got-reply')",
        )
        assert "alice-got-reply" in out
        screenshot(page, "consulted-02-active", ws)

        # Bob hangs up; Alice's view says it ended; Bob closes the card
        card.get_by_test_id("consult-hang-up").click()
        expect(card).to_have_attribute("data-state", "ended")
        out = run_py(
            page,
            "await until(lambda: alice.desk.collab.team(chat.id).consultation.state == 'ended')\n"
            "print('alice-sees-ended')",
        )
        assert "alice-sees-ended" in out
        card.get_by_test_id("consult-close").click()
        expect(card).to_have_count(0)
        # the consultation never reached the customer
        transcript = customer.get_by_test_id("customer-transcript")
        expect(transcript).to_contain_text("Alice joined the chat")
        expect(transcript).not_to_contain_text("outage")
        expect(transcript).not_to_contain_text("fixed within the hour")
        # Bob's own pane holds no chat for the consultation
        expect(ws.get_by_test_id("interaction-tab")).to_have_count(0)
    finally:
        customer.context.close()
        run_code(page, "alice.close(); backend.close()")


MOCK = """
from chat_widget import MockBackend, VirtualClock, WorkspaceWidget
backend = MockBackend("billing", clock=VirtualClock())
backend.clock.advance(1)
ws = WorkspaceWidget(backend, locale="de")
asked = backend.team.consult("c-lena", contact_name="Jonas")
ws
"""


def test_consulted_agent_declines_and_a_request_runs_out_on_the_mock(lab: Lab, page: Page) -> None:
    open_notebook(page, lab, lab.write_notebook("consulted_mock.ipynb", [MOCK]))
    run_cell(page, 0)
    ws = page.get_by_test_id("workspace")
    card = ws.get_by_test_id("incoming-consultation")
    expect(card).to_have_attribute("data-state", "requested")
    expect(card.get_by_test_id("offer-kind")).to_have_text("Rückfrage: ")
    expect(card.get_by_test_id("offer-from")).to_have_text("Lena Hoffmann")
    card.get_by_test_id("consult-decline").click()
    expect(card).to_have_attribute("data-state", "declined")
    expect(card.get_by_test_id("consult-state")).to_have_text("Keine Antwort")
    card.get_by_test_id("consult-close").click()
    expect(card).to_have_count(0)
    # a second request nobody answers is withdrawn when its countdown is over
    run_code(page, "again = backend.team.consult('c-tobias', medium='voice')")
    expect(card).to_have_attribute("data-state", "ringing")
    expect(card.get_by_test_id("consult-reply")).to_be_hidden()  # a call has no chat
    run_code(page, "backend.clock.advance(60)")
    expect(card).to_have_attribute("data-state", "declined")
    expect(card.get_by_test_id("consult-answer")).to_be_hidden()
    out = run_py(page, "print(again.state)")
    assert out == "declined"
