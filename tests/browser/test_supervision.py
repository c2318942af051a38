"""Issue 14 in a real browser: a supervisor's dashboard watching two agents live.

Two agents (Alice, Bob) in two JupyterLab pages, the supervisor's dashboard
(``SupervisorWidget(WebSocketSupervisor(...))``) in a third, two customer pages, and
the chat server in a thread, all on the real clock with short reply-reminder
thresholds (yellow 3 s, red 6 s). Waits are playwright's bounded ones; letting wall
time pass is the point where rows change colour. A second, shorter journey drives
``SupervisorWidget(MockTeam(...))`` on a virtual clock advanced from a cell.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .a11y_checks import check_page
from .lab import Lab, new_page, open_notebook, open_notebooks, run_cell, run_py, screenshot
from .live_server import ServerThread, customer_page, say

COACHING = "Apologise first, then offer the refund link."
ANSWER = "Will do, thanks."
FLAG_NOTE = "Refund over my limit"
BARGE_IN = "Hello Carla, I am Alice's team lead: your refund is approved."


def agent_cell(url: str, token: str) -> str:
    return (
        "from chat_widget import ChatWidget, SessionConfig, Thresholds, WebSocketBackend\n"
        "config = SessionConfig(thresholds=Thresholds(3, 6))\n"
        f"backend = WebSocketBackend({url!r}, token={token!r}, config=config)\n"
        "w = ChatWidget(backend)\n"
        "w"
    )


def supervisor_cell(url: str, token: str) -> str:
    return (
        "from chat_widget import SupervisorWidget, Thresholds, WebSocketSupervisor\n"
        f"sup = WebSocketSupervisor({url!r}, {token!r}, thresholds=Thresholds(3, 6))\n"
        "board = SupervisorWidget(sup)\n"
        "board"
    )


def wait_attr(page: Page, el: Locator, name: str, value: str, timeout_s: float) -> None:
    """Wait (bounded, polled every 50 ms) until ``el``'s attribute ``name`` is ``value``."""
    page.wait_for_function(
        "([el, n, v]) => el.getAttribute(n) === v",
        arg=[el.element_handle(), name, value],
        polling=50,
        timeout=timeout_s * 1000,
    )


def contact_entries(root: Locator) -> Locator:
    return root.locator("[data-testid=entry][data-sender-role=contact]")


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[ServerThread]:
    """The chat server, silent monitoring not announced to agents (the default, said)."""
    srv = ServerThread(tmp_path / "supervision.sqlite", announce_monitoring=False)
    srv.start()
    yield srv
    srv.stop()


def test_supervisor_watches_coaches_and_barges_in_live(
    lab: Lab, page: Page, browser: Browser, quiet_server: ServerThread
) -> None:
    store = quiet_server.server.store
    url = quiet_server.server.url
    _, alice_token = store.add_agent("Alice")
    _, bob_token = store.add_agent("Bob")
    _, tess_token = store.add_agent("Tess", supervisor=True)
    alice_page, bob_page, sup_page = page, new_page(browser), new_page(browser)
    customers: list[Page] = []
    try:
        notebooks = [
            (alice_page, "sup_alice.ipynb", agent_cell(url, alice_token)),
            (bob_page, "sup_bob.ipynb", agent_cell(url, bob_token)),
            (sup_page, "sup_tess.ipynb", supervisor_cell(url, tess_token)),
        ]
        open_notebooks(lab, [(pg, lab.write_notebook(n, [code])) for pg, n, code in notebooks])
        run_cell(sup_page, 0)
        board = sup_page.get_by_test_id("supervisor")
        expect(board.get_by_test_id("connection-status")).to_have_attribute(
            "data-status", "connected"
        )
        rows = board.get_by_test_id("supervised-chat")
        alice_row = board.locator("[data-testid=supervised-chat][data-agent=alice]")
        bob_row = board.locator("[data-testid=supervised-chat][data-agent=bob]")

        # Bob is ready first and takes Dana's chat; then Alice comes and takes Carla's
        run_cell(bob_page, 0)
        bob = bob_page.locator(".chat-widget").first
        expect(bob.get_by_test_id("waiting")).to_be_visible()
        dana = customer_page(browser, quiet_server, "Dana")
        customers.append(dana)
        bob.get_by_test_id("accept").click()
        expect(bob_row).to_have_count(1)
        run_cell(alice_page, 0)
        alice = alice_page.locator(".chat-widget").first
        expect(alice.get_by_test_id("waiting")).to_be_visible()
        carla = customer_page(browser, quiet_server, "Carla")
        customers.append(carla)
        alice.get_by_test_id("accept").click()
        expect(alice.get_by_test_id("contact-name")).to_have_text("Carla")
        expect(rows).to_have_count(2)
        expect(alice_row).to_have_count(1)

        # Bob answers his customer: his row has no wait (idle)
        say(dana, "Hi, where is my parcel?")
        expect(contact_entries(bob)).to_contain_text("where is my parcel")
        bob.get_by_test_id("composer").fill("Let me look, Dana.")
        bob.get_by_test_id("send").click()
        expect(dana.get_by_test_id("customer-transcript")).to_contain_text("Let me look, Dana.")
        expect(bob_row).to_have_attribute("data-color", "idle")

        # Alice does not answer: her row turns yellow at ~3 s and red at ~6 s
        say(carla, "I was charged twice")
        sent = time.monotonic()
        expect(alice_row).to_have_attribute("data-color", "green", timeout=3_000)
        wait_attr(sup_page, alice_row, "data-color", "yellow", 6)
        yellow_at = time.monotonic() - sent
        wait_attr(sup_page, alice_row, "data-color", "red", 6)
        red_at = time.monotonic() - sent
        assert 2.0 <= yellow_at <= 4.0, f"row yellow after {yellow_at:.2f} s (want 3 ± 1)"
        assert 5.0 <= red_at <= 7.0, f"row red after {red_at:.2f} s (want 6 ± 1)"
        expect(alice_row.get_by_test_id("row-timer")).to_have_attribute("data-color", "red")
        expect(bob_row).to_have_attribute("data-color", "idle")
        # red first: Alice's row leads though Bob's chat is older
        expect(rows.first).to_have_attribute("data-agent", "alice")
        expect(rows.nth(1)).to_have_attribute("data-agent", "bob")

        # coaching: the supervisor opens Alice's chat, coaches; only Alice reads it
        alice_row.click()
        pane = board.get_by_test_id("open-chat")
        expect(pane).to_be_visible()
        expect(pane.get_by_test_id("entry").filter(has_text="charged twice")).to_have_count(1)
        expect(pane.get_by_test_id("composer")).to_be_hidden()  # silent by default: no voice
        pane.get_by_test_id("coach").click()
        expect(pane).to_have_attribute("data-mode", "coach")
        expect(alice_row.get_by_test_id("row-mode")).to_have_attribute("data-mode", "coach")
        pane.get_by_test_id("composer").fill(COACHING)
        pane.get_by_test_id("send").click()
        coaching = alice.locator("[data-testid=entry][data-kind=coaching]")
        expect(coaching).to_contain_text(COACHING)
        expect(coaching).to_have_attribute("data-sender-role", "supervisor")
        indicator = alice.get_by_test_id("monitored-indicator")
        expect(indicator).to_be_visible()
        expect(indicator).to_have_attribute("data-mode", "coach")
        expect(indicator).to_contain_text("Tess")
        # coaching is no reply: Alice's own reminder is still red
        expect(alice.get_by_test_id("reply-timer")).to_have_attribute("data-color", "red")
        # Alice whispers back; the dashboard's transcript shows it
        alice.get_by_test_id("coach-answer").fill(ANSWER)
        alice.get_by_test_id("coach-answer-send").click()
        answer = pane.locator("[data-testid=entry][data-kind=coaching]").filter(has_text=ANSWER)
        expect(answer).to_have_attribute("data-sender-role", "agent")
        # the supervisor reads the coaching notice in her own words, not the agent's
        expect(pane.get_by_test_id("transcript")).to_contain_text("Tess is coaching the agents")
        expect(pane.get_by_test_id("transcript")).not_to_contain_text("coaching you")
        # Dana writes again: Bob's row waits (green) while Alice's stays red and first
        say(dana, "Any news on the parcel?")
        expect(bob_row).to_have_attribute("data-color", "green")
        expect(rows.first).to_have_attribute("data-agent", "alice")
        screenshot(sup_page, "supervision-01-dashboard-coaching", board)
        check_page(alice_page, ".chat-widget", "coached agent view")
        screenshot(alice_page, "supervision-02-agent-coached", alice)
        # nobody else read the coaching: not Bob, not the customers
        expect(contact_entries(bob)).to_have_count(2)
        for view in (bob, carla.get_by_test_id("customer-transcript")):
            expect(view).not_to_contain_text(COACHING)
            expect(view).not_to_contain_text(ANSWER)
        expect(dana.get_by_test_id("customer-transcript")).not_to_contain_text(COACHING)
        expect(bob.get_by_test_id("monitored-indicator")).to_be_hidden()

        # the help flag: Alice raises it with a line; the dashboard lists it at once
        alice.get_by_test_id("help-flag").click()
        alice.get_by_test_id("help-flag-note").fill(FLAG_NOTE)
        alice.get_by_test_id("help-flag-send").click()
        expect(alice.get_by_test_id("help-flag")).to_have_attribute("aria-pressed", "true")
        flags = board.get_by_test_id("help-flags")
        flag = flags.locator("[data-testid=help-flag-item][data-agent=alice]")
        expect(flag).to_contain_text(FLAG_NOTE, timeout=3_000)
        expect(alice_row.get_by_test_id("row-flag")).to_be_visible()
        check_page(sup_page, ".chat-supervisor", "dashboard with a flag and coaching")
        screenshot(sup_page, "supervision-03-dashboard-flag", board)
        # barge-in from the flag: Carla reads Tess join and write; Alice's wait ends
        flag.get_by_test_id("barge-in").click()
        expect(pane).to_have_attribute("data-mode", "barge_in")
        carla_transcript = carla.get_by_test_id("customer-transcript")
        expect(carla_transcript).to_contain_text("Tess joined the chat")
        expect(indicator).to_have_attribute("data-mode", "barge_in")
        pane.get_by_test_id("composer").fill(BARGE_IN)
        pane.get_by_test_id("send").click()
        expect(carla_transcript).to_contain_text(BARGE_IN)
        said = alice.locator("[data-testid=entry][data-sender-role=supervisor]")
        expect(said.filter(has_text=BARGE_IN)).to_have_count(1)
        expect(alice.get_by_test_id("reply-timer")).to_have_attribute("data-color", "idle")
        expect(alice_row).to_have_attribute("data-color", "idle")
        screenshot(carla, "supervision-04-customer-barge-in")
        # the supervisor lowers the flag: gone in both views
        flag.get_by_test_id("lower-flag").click()
        expect(flags.get_by_test_id("help-flag-item")).to_have_count(0)
        expect(alice.get_by_test_id("help-flag")).to_have_attribute("aria-pressed", "false")
        expect(alice_row.get_by_test_id("row-flag")).to_be_hidden()
        # still nothing of the coaching on Carla's page (she got later events meanwhile)
        expect(carla_transcript).not_to_contain_text(COACHING)
        expect(carla_transcript).not_to_contain_text(FLAG_NOTE)

        # silent monitoring is invisible: Bob and Dana notice nothing
        bob_row.click()
        expect(pane).to_have_attribute("data-chat", bob_row.get_attribute("data-chat") or "")
        pane.get_by_test_id("monitor").click()
        expect(bob_row.get_by_test_id("row-mode")).to_have_attribute("data-mode", "silent")
        expect(pane.get_by_test_id("composer")).to_be_hidden()
        bob.get_by_test_id("composer").fill("It ships tomorrow, Dana.")
        bob.get_by_test_id("send").click()
        expect(pane.locator("[data-testid=entry]").filter(has_text="ships tomorrow")).to_have_count(
            1
        )
        expect(dana.get_by_test_id("customer-transcript")).to_contain_text("ships tomorrow")
        expect(bob.get_by_test_id("monitored-indicator")).to_be_hidden()
        expect(bob).not_to_contain_text("Tess")
        expect(dana.get_by_test_id("customer-transcript")).not_to_contain_text("Tess")
    finally:
        for pg in (*customers, bob_page, sup_page):
            pg.context.close()


MOCK_TEAM = """
from chat_widget import MockTeam, SupervisorWidget, Thresholds, VirtualClock
team = MockTeam(3, clock=VirtualClock(), thresholds=Thresholds(30, 60),
                reply_after=(5, 1000, 1000), accept_after=1, flag_after=None, chats_each=1)
board = SupervisorWidget(team)
board
"""


def test_mock_team_dashboard_on_the_virtual_clock(lab: Lab, page: Page) -> None:
    """No server: ``MockTeam``'s first agent answers, the other two never do; stepping
    the clock from a cell turns their rows yellow then red (the reddest first), and
    coaching reaches the simulated agent's session."""
    open_notebook(page, lab, lab.write_notebook("sup_mock.ipynb", [MOCK_TEAM]))
    run_cell(page, 0)
    board = page.get_by_test_id("supervisor")
    expect(board).to_be_visible()
    rows = board.get_by_test_id("supervised-chat")
    ben = board.locator("[data-testid=supervised-chat][data-agent=agent-2]")
    clara = board.locator("[data-testid=supervised-chat][data-agent=agent-3]")
    run_py(page, "team.clock.advance(5)")
    expect(rows).to_have_count(3)
    expect(ben).to_have_attribute("data-color", "green")
    run_py(page, "team.clock.advance(30)")  # Ben's customer waits 32 s (yellow at 30)
    expect(ben).to_have_attribute("data-color", "yellow")
    expect(clara).to_have_attribute("data-color", "green")
    run_py(page, "team.clock.advance(30)")  # 62 s (red at 60); Clara's 58 s
    expect(ben).to_have_attribute("data-color", "red")
    expect(clara).to_have_attribute("data-color", "yellow")
    expect(rows.first).to_have_attribute("data-agent", "agent-2")
    expect(rows.nth(1)).to_have_attribute("data-agent", "agent-3")
    ben.click()
    pane = board.get_by_test_id("open-chat")
    pane.get_by_test_id("coach").click()
    expect(pane).to_have_attribute("data-mode", "coach")
    pane.get_by_test_id("composer").fill("Apologise for the wait first.")
    pane.get_by_test_id("send").click()
    expect(
        pane.locator("[data-testid=entry][data-kind=coaching]").filter(has_text="Apologise")
    ).to_have_count(1)
    screenshot(page, "supervision-05-mock-team", board)
    out = run_py(
        page,
        "chat = next(c for c in team.desk.chats if c.startswith('agent-2'))\n"
        "print([(e.kind.value, e.sender.role.value, e.text) for e in team.entries(chat)][-1])",
    )
    assert out == "('coaching', 'supervisor', 'Apologise for the wait first.')", out
