"""The customer page on a phone, as a customer lives it (issue 12): a clear status from the
first moment, tap targets of 44 px, a pushed link shown once, a plain message when the
agent ends, "start a new chat", and a sentence (not a close code) when the line drops."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import ClientConnection, connect

from .lab import screenshot
from .live_server import ServerThread

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TAP_PX = 44
# what an English page would say: none of it may show on the German page
ENGLISH = re.compile(
    r"\b(Chat with us|Your name|Start chat|Send|End chat|Connected|ended|Please click)\b"
)

_TARGETS_JS = """
() => [...document.querySelectorAll('button, input, textarea, select')]
  .filter((el) => el.offsetParent !== null)
  .map((el) => {
    const r = el.getBoundingClientRect();
    return { what: el.dataset.testid || el.id || el.tagName, height: r.height, width: r.width };
  })
"""


@contextmanager
def phone(browser: Browser, url: str) -> Iterator[Page]:
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(url)
    try:
        yield page
    finally:
        context.close()


def small_targets(page: Page) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = page.evaluate(_TARGETS_JS)
    assert targets, "no visible controls"
    return [t for t in targets if t["height"] < TAP_PX or t["width"] < TAP_PX]


class Agent:
    """An agent on the protocol (a websockets client), to drive the customer's chat."""

    _connections = itertools.count(1)

    def __init__(
        self,
        srv: ServerThread,
        ws: ClientConnection,
        name: str,
        token: str | None = None,
        resume: dict[str, int] | None = None,
    ) -> None:
        if token is None:
            _, token = srv.server.store.add_agent(name)
        self.token = token
        self.ws = ws
        self.n = 0
        self.connection = next(Agent._connections)
        self.send("Auth", token=token, ready=True, **({"resume": resume} if resume else {}))
        self.expect("AuthOk")

    def send(self, type_: str, **fields: Any) -> str:
        self.n += 1
        # unique across Agent objects: a frame id is also the client id a server
        # deduplicates by, and the same agent may come back on another connection
        frame_id = f"agent-{self.connection}-{self.n}"
        self.ws.send(json.dumps({"v": 1, "type": type_, "id": frame_id, **fields}))
        return frame_id

    def expect(self, type_: str, **match: Any) -> dict[str, Any]:
        for _ in range(500):  # bounded: frames, each within the timeout
            frame: dict[str, Any] = json.loads(self.ws.recv(timeout=10))
            if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame
        raise AssertionError(f"no {type_} {match}")

    def take_next_chat(self) -> str:
        conv: str = self.expect("Offer")["conversation"]
        self.expect("Ack", id=self.send("Accept", conversation=conv))
        return conv


def test_customer_on_a_phone_chats_is_told_the_chat_ended_and_starts_again(
    browser: Browser, chat_server: ServerThread
) -> None:
    with connect(chat_server.server.url, open_timeout=10) as ws:
        agent = Agent(chat_server, ws, "Alice")
        with phone(browser, f"{chat_server.server.http_url}?lang=de") as page:
            status = page.get_by_test_id("customer-status")
            # before anything happened: an invitation, not "Not connected"
            expect(status).to_have_attribute("data-status", "idle")
            expect(status).to_have_text("Starten Sie unten einen Chat")
            assert small_targets(page) == []
            screenshot(page, "customer-phone-01-start")

            page.locator("#nickname").fill("Jonas")
            page.get_by_test_id("start-chat").click()
            expect(status).to_have_text(re.compile("gleich ist jemand für Sie da"))
            conv = agent.take_next_chat()
            expect(status).to_have_text("Verbunden")
            page.get_by_test_id("customer-input").fill("Hallo, meine Rechnung ist falsch.")
            page.get_by_test_id("customer-send").click()
            agent.expect("Message", conversation=conv)
            agent.send("SendMessage", conversation=conv, text="Hier ist die Hilfeseite:")
            url = "https://example.com/hilfe/rechnung"
            agent.send("PushUrl", conversation=conv, url=url, text=url)  # SendPushUrl
            transcript = page.get_by_test_id("customer-transcript")
            link = page.get_by_test_id("pushed-link")
            expect(link).to_have_count(1)
            expect(link).to_have_attribute("href", url)
            expect(transcript).to_contain_text("Ein Link für Sie:")
            assert transcript.inner_text().count(url) == 1  # the URL once, not twice
            # the server's default push text reads in the customer's language
            other = "https://example.com/hilfe/zahlung"
            agent.send("PushUrl", conversation=conv, url=other)  # SendPushUrl, no text
            expect(link).to_have_count(2)
            expect(transcript).to_contain_text(
                "Bitte klicken Sie auf den Link, den Ihre Beratung gesendet hat:"
            )
            assert transcript.inner_text().count(other) == 1
            assert small_targets(page) == []
            screenshot(page, "customer-phone-02-chatting")

            agent.send("EndChat", conversation=conv)
            expect(status).to_have_attribute("data-status", "ended")
            expect(status).to_have_text("Chat beendet")
            expect(page.get_by_test_id("chat-over-text")).to_have_text(
                "Dieser Chat ist beendet. Vielen Dank!"
            )
            again = page.get_by_test_id("new-chat")
            expect(again).to_be_visible()
            expect(again).to_be_focused()
            expect(page.get_by_test_id("customer-input")).to_be_hidden()
            assert small_targets(page) == []
            body = page.locator("body").inner_text()
            assert ENGLISH.findall(body) == [], body
            screenshot(page, "customer-phone-03-ended")

            # start again: the form (name kept), a new chat that reaches an agent
            agent.send("MarkDone", conversation=conv)
            again.click()
            expect(page.get_by_test_id("start-form")).to_be_visible()
            expect(status).to_have_attribute("data-status", "idle")
            expect(page.locator("#nickname")).to_have_value("Jonas")
            page.get_by_test_id("start-chat").click()
            second = agent.take_next_chat()
            assert second != conv
            expect(status).to_have_text("Verbunden")
            expect(transcript).not_to_contain_text("Rechnung ist falsch")
            expect(page.get_by_test_id("customer-input")).to_be_editable()


def test_a_dropped_connection_reads_as_a_sentence_not_a_close_code(
    browser: Browser, tmp_path: Path
) -> None:
    srv = ServerThread(tmp_path / "drop.sqlite")
    srv.start()
    stopped = False
    try:
        with phone(browser, f"{srv.server.http_url}?lang=en") as page:
            page.locator("#nickname").fill("Carla")
            page.get_by_test_id("start-chat").click()
            status = page.get_by_test_id("customer-status")
            expect(status).to_have_attribute("data-status", "connected")
            srv.stop()  # the server goes away under the customer
            stopped = True
            expect(status).to_have_attribute("data-status", "reconnecting")
            expect(status).to_have_text("Connection lost. Reconnecting…")
            assert not re.search(r"\d{4}", status.inner_text())  # no 1006, 1001
            screenshot(page, "customer-phone-04-lost")
    finally:
        if not stopped:
            srv.stop()
