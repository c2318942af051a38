"""Issue 10 item 8: the shipped notebooks survive a trainee who does what the markdown says.

Each notebook is copied into the lab root, opened (it must not be marked modified: every cell
has an id) and run cell by cell. Where the markdown invites a click in the widget, playwright
clicks first; the cell after it must still run without an error, and so must every later
cell. Time in these notebooks moves only through the cells (``VirtualClock``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from .lab import ROOT, Lab, new_page, open_notebook, run_cell_error, screenshot

Actions = dict[int, Callable[[Page], object]]


def _cell(page: Page, index: int) -> Locator:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def _chat(page: Page, cell: int) -> Locator:
    """The ``ChatWidget`` shown by code cell ``cell``."""
    root = _cell(page, cell).locator(".chat-widget").first
    expect(root).to_be_visible(timeout=30_000)
    return root


def _run_as_trainee(lab: Lab, page: Page, name: str, clicks: Actions) -> None:
    """Run every cell of ``notebooks/<name>`` in order; before cell ``i`` do ``clicks[i]``."""
    shutil.copy(ROOT / "notebooks" / name, lab.root / name)
    open_notebook(page, lab, name)
    dirty = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty")
    assert dirty is False, f"{name} is marked modified as soon as it is opened"
    count = int(page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length"))
    assert max(clicks) < count
    for index in range(count):
        if index in clicks:
            clicks[index](page)
        error = run_cell_error(page, index)
        assert error is None, f"{name} cell {index} failed after the trainee's clicks: {error}"


def _expect_done(chat: Locator) -> None:
    """Done: the widget says so, or has already moved on to wait for the agent's next chat."""
    status = chat.get_by_test_id("chat-status")
    expect(status).to_have_attribute("data-state", re.compile(r"^(done|waiting)$"))


# 01_walkthrough: cell 3 shows the step-by-step widget; cells 7, 13 and 17 follow the markdown
# "click Accept", "type a reply and press Send" and "choose a disposition, add a note, Mark done".
def _01_accept(page: Page) -> None:
    chat = _chat(page, 3)
    chat.get_by_test_id("accept").click()
    expect(chat.get_by_test_id("contact-name")).to_have_text("Maria Weber")


def _01_reply(page: Page) -> None:
    chat = _chat(page, 3)
    chat.get_by_test_id("composer").fill("Sorry for the wait, one moment please.")
    chat.get_by_test_id("composer").press("Enter")
    expect(chat.locator("[data-testid=entry][data-sender-role=agent]")).to_have_count(1)


def _01_wrap_up(page: Page) -> None:
    chat = _chat(page, 3)
    chat.get_by_test_id("composer").fill("Yes, you will get it today.")
    chat.get_by_test_id("composer").press("Enter")
    chat.get_by_test_id("disposition").select_option("Resolved")
    chat.get_by_test_id("note").fill("Refund done in the widget")
    chat.get_by_test_id("note").press("Enter")
    expect(chat.get_by_test_id("notes")).to_contain_text("Refund done in the widget")
    chat.get_by_test_id("end").click()
    chat.get_by_test_id("done").click()
    _expect_done(chat)


# 02_prototyping, cell 19: "The view refuses Done and says why": pick a code, then Done.
def _02_done(page: Page) -> None:
    chat = _chat(page, 19)
    chat.get_by_test_id("disposition").select_option("Billing")
    chat.get_by_test_id("done").click()
    _expect_done(chat)


# 02_prototyping, cell 29: "type /hi in the composer ... change it, then send" (cell 28's chat).
def _02_response(page: Page) -> None:
    chat = _chat(page, 28)
    composer = chat.get_by_test_id("composer")
    composer.press_sequentially("/hi")
    expect(chat.get_by_test_id("response-item").first).to_be_visible()
    composer.press("Enter")  # inserts the filled greeting, does not send
    expect(composer).to_have_value(re.compile(r"^Hello Maria, I am Lena\."))
    composer.press("End")
    composer.press_sequentially(" Which invoice number is it?")
    chat.get_by_test_id("send").click()
    agent = chat.locator("[data-testid=entry][data-sender-role=agent]")
    expect(agent.last).to_contain_text("Hello Maria, I am Lena. How can I help? Which invoice")


# 02_prototyping, cell 32: "open one in the history panel" (cell 31's chat).
def _02_history(page: Page) -> None:
    chat = _chat(page, 31)
    expect(chat.get_by_test_id("history-item")).to_have_count(1)
    chat.get_by_test_id("history-open").click()
    expect(chat.get_by_test_id("history-transcript")).to_contain_text("My router blinks red.")


# 03_team, cell 4: "Accept the first chat" in the workspace of cell 1.
def _03_accept(page: Page) -> None:
    ws = _cell(page, 1).get_by_test_id("workspace")
    pane = ws.locator("[data-testid=chat-pane][data-session-id=chat-1]")
    pane.get_by_test_id("accept").click()
    expect(pane.get_by_test_id("contact-name")).to_have_text("Maria Weber")


# 04_live_chat: someone uses the customer page printed by cell 1 before the agent connects
# (cell 3); the agent accepts and finishes that chat in the widget. Cell 7 used to take it
# from next_offer() as the notebook's own customer's chat (issue 10).
class _CustomerPage:
    def __init__(self) -> None:
        self.page: Page | None = None

    def start(self, page: Page) -> None:
        text = page.evaluate(
            """() => window.jupyterapp.shell.currentWidget.content.widgets[1].model.outputs
                .toJSON().map((o) => [].concat(o.text || '').join('')).join('')"""
        )
        url = re.search(r"customer page: (\S+)", str(text))
        assert url is not None, text
        browser = page.context.browser
        assert browser is not None
        self.page = new_page(browser)
        self.page.goto(url.group(1))
        self.page.get_by_test_id("start-form").locator("#nickname").fill("Pat")
        self.page.get_by_test_id("start-chat").click()
        status = self.page.get_by_test_id("customer-status")
        expect(status).to_have_attribute("data-status", "connected")

    def finish_in_widget(self, page: Page) -> None:
        chat = _chat(page, 3)
        expect(chat.get_by_test_id("offer")).to_contain_text("Pat")
        chat.get_by_test_id("accept").click()
        expect(chat.get_by_test_id("contact-name")).to_have_text("Pat")
        chat.get_by_test_id("end").click()
        chat.get_by_test_id("disposition").select_option(index=1)
        chat.get_by_test_id("done").click()
        assert self.page is not None
        expect(self.page.get_by_test_id("customer-transcript")).to_contain_text("Alice Agent")

    def close(self) -> None:
        if self.page is not None:
            self.page.context.close()


def test_walkthrough_and_prototyping_survive_the_clicks_their_markdown_asks_for(
    lab: Lab, page: Page
) -> None:
    _run_as_trainee(
        lab, page, "01_walkthrough.ipynb", {7: _01_accept, 13: _01_reply, 17: _01_wrap_up}
    )
    _run_as_trainee(
        lab, page, "02_prototyping.ipynb", {20: _02_done, 29: _02_response, 32: _02_history}
    )


def test_team_and_live_chat_notebooks_survive_the_widgets_and_the_customer_page(
    lab: Lab, page: Page
) -> None:
    _run_as_trainee(lab, page, "03_team.ipynb", {5: _03_accept})
    pat = _CustomerPage()
    try:
        _run_as_trainee(
            lab,
            page,
            "04_live_chat.ipynb",
            {
                3: pat.start,
                7: pat.finish_in_widget,
                25: lambda pg: screenshot(pg, "notebook-04-conference", _cell(pg, 17)),
            },
        )
        # both agents' workspaces are on the page: Alice got the chat back from Bob
        workspaces = _cell(page, 17).get_by_test_id("workspace")
        expect(workspaces).to_have_count(2)
        expect(workspaces.nth(0).get_by_test_id("interaction-tab")).to_contain_text(["Dana"])
        screenshot(page, "notebook-04-workspaces", _cell(page, 17))
    finally:
        pat.close()


# 06_supervision: cell 3 shows Alice's and Bob's ChatWidgets, cell 5 Tess's dashboard. The
# markdown invites: Monitor on Carla's row (before cell 9), Coach and a coaching line (11),
# an answer to the coach and Ask for help in Alice's widget (13), Barge in from the help
# list and a message to Carla (15), "Monitor next chat" on Bob (19), Accept in Bob's
# widget (21). Cell 23 shows the mock team's dashboard, whose rows cells 24-25 colour.
def _board(page: Page) -> Locator:
    board = _cell(page, 5).get_by_test_id("supervisor")
    expect(board).to_be_visible(timeout=30_000)
    return board


def _pane(page: Page) -> Locator:
    """The open chat (``open-chat``: also the test id of the help list's open buttons)."""
    return _board(page).locator("section[data-testid=open-chat]")


def _carla_row(page: Page) -> Locator:
    return _board(page).get_by_test_id("supervised-chat").filter(has_text="Carla")


def _06_monitor(page: Page) -> None:
    row = _carla_row(page)
    expect(row).to_have_attribute("data-agent", "alice-agent")
    row.click()
    pane = _pane(page)
    expect(pane).to_contain_text("I was charged twice!")
    pane.get_by_test_id("monitor").click()
    expect(row.get_by_test_id("row-mode")).to_have_attribute("data-mode", "silent")


def _06_coach(page: Page) -> None:
    pane = _pane(page)
    pane.get_by_test_id("coach").click()
    expect(pane).to_have_attribute("data-mode", "coach")
    pane.get_by_test_id("composer").fill("Ask for the invoice number.")
    pane.get_by_test_id("send").click()
    alice = _chat(page, 3)
    coaching = alice.locator("[data-testid=entry][data-kind=coaching]")
    expect(coaching.filter(has_text="Ask for the invoice number.")).to_have_count(1)
    expect(coaching.first).to_have_attribute("data-sender-role", "supervisor")
    expect(alice.get_by_test_id("monitored-indicator")).to_have_attribute("data-mode", "coach")


def _06_answer_and_flag(page: Page) -> None:
    alice = _chat(page, 3)
    alice.get_by_test_id("coach-answer").fill("Got it, asking now.")
    alice.get_by_test_id("coach-answer-send").click()
    expect(_pane(page)).to_contain_text("Got it, asking now.")
    alice.get_by_test_id("help-flag").click()
    alice.get_by_test_id("help-flag-note").fill("Refund over my limit")
    alice.get_by_test_id("help-flag-send").click()
    expect(alice.get_by_test_id("help-flag")).to_have_attribute("aria-pressed", "true")
    flags = _board(page).get_by_test_id("help-flags")
    expect(flags.get_by_test_id("flag-text")).to_have_text("Refund over my limit")
    expect(_carla_row(page).get_by_test_id("row-flag")).to_be_visible()


def _06_barge_in(page: Page) -> None:
    board = _board(page)
    board.get_by_test_id("help-flags").get_by_test_id("barge-in").click()
    pane = _pane(page)
    expect(pane).to_have_attribute("data-mode", "barge_in")
    pane.get_by_test_id("composer").fill("Hello Carla, Tess here, one moment.")
    pane.get_by_test_id("send").click()
    alice = _chat(page, 3)
    said = alice.locator("[data-testid=entry][data-sender-role=supervisor][data-kind=message]")
    expect(said).to_contain_text(["Hello Carla, Tess here, one moment."])
    screenshot(page, "notebook-06-barge-in", board)


def _06_monitor_next(page: Page) -> None:
    bob = _board(page).locator("[data-testid=team-agent][data-agent=bob-agent]")
    bob.get_by_test_id("monitor-next").click()
    expect(bob.get_by_test_id("monitor-next")).to_have_attribute("aria-pressed", "true")


def _06_accept(page: Page) -> None:
    bob = _cell(page, 3).locator(".chat-widget").nth(1)
    expect(bob.get_by_test_id("offer")).to_contain_text("Dana")
    bob.get_by_test_id("accept").click()
    expect(bob.get_by_test_id("contact-name")).to_have_text("Dana")
    dana = _board(page).get_by_test_id("supervised-chat").filter(has_text="Dana")
    expect(dana.get_by_test_id("row-mode")).to_have_attribute("data-mode", "silent")


def test_supervision_notebook_survives_the_trainers_clicks(lab: Lab, page: Page) -> None:
    _run_as_trainee(
        lab,
        page,
        "06_supervision.ipynb",
        {
            9: _06_monitor,
            11: _06_coach,
            13: _06_answer_and_flag,
            15: _06_barge_in,
            19: _06_monitor_next,
            21: _06_accept,
        },
    )
    # the coaching, Alice's answer and the barge-in are in the analysis of cell 30 too;
    # the mock team's dashboard draws its rows in the colours cells 24 and 25 asserted
    mock = _cell(page, 23).get_by_test_id("supervisor")
    expect(mock.locator("[data-testid=supervised-chat][data-color=red]")).to_have_count(1)
    expect(mock.get_by_test_id("help-flag-item")).to_have_count(1)
    screenshot(page, "notebook-06-mock-team", mock)


# 07_classroom: cell 7 shows your ChatWidget (the third trainee), cell 9 Tess's dashboard;
# cell 11 starts the class. The markdown before cell 13 invites: accept the chat offered
# to you and answer the customer's first line. Cell 13 checks, and lets code do the rest.
def _07_accept_and_answer(page: Page) -> None:
    chat = _chat(page, 7)
    expect(chat.get_by_test_id("offer")).to_be_visible()
    chat.get_by_test_id("accept").click()
    customer = chat.locator("[data-testid=entry][data-sender-role=contact][data-kind=message]")
    expect(customer).to_have_count(1, timeout=10_000)  # the script starts on Accept
    chat.get_by_test_id("composer").fill("Hello, I am on it: one moment please.")
    chat.get_by_test_id("composer").press("Enter")
    mine = chat.locator("[data-testid=entry][data-sender-role=agent][data-kind=message]")
    expect(mine).to_have_count(1)
    board = _cell(page, 9).get_by_test_id("supervisor")
    expect(board.get_by_test_id("supervised-chat")).to_have_count(3)  # the whole class
    expect(board.locator("[data-testid=supervised-chat][data-agent=you]")).to_have_count(1)
    screenshot(page, "notebook-07-class-running", board)


def test_classroom_notebook_survives_the_trainee_answering_in_the_widget(
    lab: Lab, page: Page
) -> None:
    _run_as_trainee(lab, page, "07_classroom.ipynb", {13: _07_accept_and_answer})
    # your chat went on from code after cell 13, to the end: wrapped up in the widget too
    chat = _chat(page, 7)
    _expect_done(chat)
    said = chat.locator("[data-testid=entry][data-sender-role=agent][data-kind=message]")
    expect(said).to_have_count(2)
    # the report's plot (cell 21) reached the page as an image
    expect(_cell(page, 21).locator(".jp-OutputArea-output img")).to_have_count(1)
