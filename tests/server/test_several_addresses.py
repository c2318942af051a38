"""Clients given several server addresses (issue 18, "Clients reconnect anywhere").

The service's processes are simulated with SQLite's one-server-per-file rule:
server A serves the file, A stops, server B starts on the same file on another
port. A client given ``[A, B]`` moves to B on its reconnect and resumes there
from its last seq: nothing lost, nothing twice, the transcript still whole.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from chat_widget import WebSocketBackend, WebSocketSupervisor
from chat_widget.backends.scenario import load_scenario
from chat_widget.backends.server_urls import ServerUrls, server_urls
from chat_widget.classroom import Classroom
from chat_widget.classroom.wire_customer import WireCustomer
from chat_widget.formats.transcript import Entry
from chat_widget.model.clock import VirtualClock
from chat_widget.model.session import ChatSession, Connection
from chat_widget.server import ChatServer

from ..classroom.helpers import WAIT, stored
from .conftest import make_config
from .helpers import ResilientCustomer
from .test_reconnect import FAST, free_port, stored_messages
from .test_websocket_backend import until

SHOP = "http://shop.test"  # the page the customers come from: every server allows it


def ws_url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/ws"


def shape(transcript: list[Entry]) -> list[tuple[object, ...]]:
    return [(e.kind, e.sender.role, e.text, e.client_id) for e in transcript]


def messages(session: ChatSession) -> list[str]:
    return [e.text for e in session.transcript if e.kind == "message"]


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path, port: int = 0, origins: tuple[str, ...] = (SHOP,)
) -> AsyncIterator[ChatServer]:
    """A real-time server on ``tmp_path``'s database (one at a time: SQLite's serving
    lock); ``origins=()``: only its own origin."""
    server = ChatServer(make_config(tmp_path, port=port, origins=origins))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class Gate:
    """A TCP path to a server that the test opens when it wants: shut, every connection
    is closed at once (the client sees a failed connect and moves on); open, bytes flow
    both ways. It decides *when* a client can reach server B, nothing else."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.open = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):  # ends with the connection
                writer.write(data)
                await writer.drain()
        writer.close()
        self._writers.discard(writer)


# -- the address list -----------------------------------------------------------------
def test_one_address_or_several_round_robin() -> None:
    assert server_urls("ws://a:1/ws") == ("ws://a:1/ws",)
    ring = ServerUrls(["ws://a:1/ws", "wss://b.example/ws", "ws://c:3/ws"])
    assert ring.current == "ws://a:1/ws"
    assert [ring.advance() for _ in range(4)] == [
        "wss://b.example/ws",
        "ws://c:3/ws",
        "ws://a:1/ws",
        "wss://b.example/ws",
    ]


@pytest.mark.parametrize(
    ("urls", "message"),
    [
        ([], "no server URL given"),
        ((), "no server URL given"),
        (["http://127.0.0.1:8765/ws"], "must start with ws:// or wss://"),
        (["ws://a:1/ws", "127.0.0.1:8765"], "must start with ws:// or wss://"),
        ("https://chat.example.com/ws", "must start with ws:// or wss://"),
        (["ws:///ws"], "needs a host"),
        (["ws://a:port/ws"], "not a websocket URL"),
        ([b"ws://a:1/ws"], "must be text"),
    ],
)
async def test_every_client_refuses_a_bad_address_list(urls: Any, message: str) -> None:
    scenario = load_scenario("billing")
    makers = [
        lambda: WebSocketBackend(urls, token="t", start=False),
        lambda: WebSocketSupervisor(urls, "t", start=False),
        lambda: WireCustomer(urls, scenario, VirtualClock()),
        lambda: Classroom(urls, [scenario]),
    ]
    for make in makers:
        with pytest.raises(ValueError, match=message):
            make()


async def test_the_clients_show_their_current_address() -> None:
    both = ["ws://127.0.0.1:1/ws", "ws://127.0.0.1:2/ws"]
    backend = WebSocketBackend(both, token="t", start=False)
    board = WebSocketSupervisor(both, "t", start=False)
    wire = WireCustomer(both, load_scenario("billing"), VirtualClock())
    room = Classroom(both, ["billing"])
    for client in (backend, board, wire):
        assert client.url == both[0] and client.urls == tuple(both)
    assert wire.origin == "http://127.0.0.1:1"  # each server's own origin by default
    assert room.urls == tuple(both) and room.wire[0].urls == tuple(both)
    assert WebSocketBackend(both[1], token="t", start=False).urls == (both[1],)


# -- moving to the next server ----------------------------------------------------------
async def test_agent_and_supervisor_move_to_the_next_server_and_resume(tmp_path: Path) -> None:
    port_b = free_port()
    clock = VirtualClock()
    target = ["", ""]  # where the customer's page points (a page reload would follow too)
    async with serving(tmp_path) as a:
        _, token = a.store.add_agent("Alice")
        _, tess_token = a.store.add_agent("Tess", supervisor=True)
        both = [a.url, ws_url(port_b)]
        target[:] = [a.url]
        backend = WebSocketBackend(both, token=token, clock=clock, reconnect=FAST)
        tess = WebSocketSupervisor(both, tess_token, clock=VirtualClock(), reconnect=FAST)
        carla = ResilientCustomer(lambda: target[0], lambda: SHOP, "carla")
        await backend.wait_connected()
        await tess.wait_connected()
        carla.start()
        session = await backend.next_offer()
        session.accept()
        await until(lambda: len(carla.events) >= 2)
        carla.send_message("My parcel is late")
        await until(lambda: "My parcel is late" in messages(session))
        session.send("Let me look it up.")
        await until(lambda: backend.pending == 0 and not carla.outbox)
        await until(lambda: len(carla.messages()) == 2)
        conv = session.id
        await until(lambda: conv in tess.desk.chats and len(tess.desk.chats[conv].entries) >= 2)
        before = shape(session.transcript)
        assert backend.url == a.url and backend.connects == 1
    try:
        # A is gone: no server at all now. The agent answers while away (it stays queued)
        await until(lambda: session.connection is not Connection.CONNECTED)
        session.send("Found it: it ships today.")
        assert backend.pending == 1
        async with serving(tmp_path, port=port_b) as b:
            target[:] = [b.url]
            await until(lambda: backend.connects == 2 and tess.connects == 2)
            assert backend.url == b.url and tess.url == b.url
            assert backend.urls == tuple(both)
            await until(lambda: backend.pending == 0)
            # the agent's view still has the transcript, nothing twice
            assert shape(session.transcript)[: len(before)] == before
            assert session.connection is Connection.CONNECTED
            # the reply sent while away reaches Carla once; her next message reaches Alice once
            await until(lambda: len(carla.messages()) == 3)
            carla.send_message("Great, thanks")
            await until(lambda: "Great, thanks" in messages(session))
            await until(lambda: not carla.outbox)
            await until(
                lambda: any(e.text == "Great, thanks" for e in tess.desk.chats[conv].entries)
            )
            sent = ["My parcel is late", "Let me look it up.", "Found it: it ships today."]
            assert [m["text"] for m in carla.messages()] == [*sent, "Great, thanks"]
            assert messages(session) == [*sent, "Great, thanks"]
            assert [t for _, t in stored_messages(b.config.db, conv)] == [*sent, "Great, thanks"]
            board = [e.text for e in tess.desk.chats[conv].entries if e.kind == "message"]
            assert board == [*sent, "Great, thanks"]
            assert backend.duplicates == 0 and carla.duplicates == 0
            assert backend.errors == [] and tess.errors == []
    finally:
        await carla.stop()
        await backend.aclose()
        await tess.aclose()


async def test_what_the_customer_said_while_the_agent_was_away_arrives_once(
    tmp_path: Path,
) -> None:
    """The agent cannot reach B (its path is shut) while Carla, already on B, writes;
    then its path opens: it resumes from its last seq and sees her message once."""
    port_b = free_port()
    gate = Gate(port_b)
    await gate.start()
    target = [""]
    try:
        async with serving(tmp_path) as a:
            _, token = a.store.add_agent("Alice")
            path_to_b = ws_url(gate.port)
            backend = WebSocketBackend(
                [a.url, path_to_b], token=token, clock=VirtualClock(), reconnect=FAST
            )
            target[0] = a.url
            carla = ResilientCustomer(lambda: target[0], lambda: SHOP, "carla")
            carla.start()
            session = await backend.next_offer()
            session.accept()
            carla.send_message("Hello?")
            await until(lambda: "Hello?" in messages(session) and not carla.outbox)
            before = shape(session.transcript)
            connects = backend.connects
        async with serving(tmp_path, port=port_b) as b:
            target[0] = b.url
            await until(lambda: carla.connects == 2)
            carla.send_message("Are you still there?")
            await until(lambda: not carla.outbox)  # stored on B
            assert backend.connects == connects  # the agent is still away
            assert "Are you still there?" not in messages(session)
            gate.open = True
            await until(lambda: backend.connects == connects + 1)
            assert backend.url == path_to_b
            await until(lambda: "Are you still there?" in messages(session))
            session.send("Yes, sorry!")
            await until(lambda: len(carla.messages()) == 3)
            assert shape(session.transcript)[: len(before)] == before
            assert messages(session) == ["Hello?", "Are you still there?", "Yes, sorry!"]
            assert [m["text"] for m in carla.messages()] == messages(session)
            assert [t for _, t in stored_messages(b.config.db, session.id)] == messages(session)
            assert backend.duplicates == 0 and carla.duplicates == 0 and backend.errors == []
            await carla.stop()
            await backend.aclose()
    finally:
        await gate.stop()


QUESTION: dict[str, Any] = {
    "name": "Quick question",
    "contact": {"name": "Maria Weber", "emails": ["maria@example.com"]},
    "steps": [
        {"say": "Hi, my bill is wrong", "typing": 0.1, "delay": 0},
        {"wait_for_reply": True},
        {"say": "Thanks, that helps", "typing": 0.1, "delay": 0},
        {"wait_for_reply": True},
        {"leave": "Bye"},
    ],
}


async def test_a_scripted_customer_moves_to_the_next_server_and_resumes(tmp_path: Path) -> None:
    port_b = free_port()
    async with serving(tmp_path, origins=()) as a:  # scripts run on the wall clock
        _, token = a.store.add_agent("Alice")
        both = [a.url, ws_url(port_b)]
        backend = WebSocketBackend(both, token=token, clock=VirtualClock(), reconnect=FAST)
        # no origin given: each customer sends each server's own (its default allowlist)
        room = Classroom(both, [QUESTION], trainees=1, class_id="move")
        maria = room.wire[0]
        await room.start()
        session = await backend.next_offer()
        session.accept()
        await until(lambda: "Hi, my bill is wrong" in messages(session))
        assert maria.url == a.url and maria.origin == f"http://127.0.0.1:{a.port}"
    try:
        session.send("Let me check that.")  # while no server runs: queued
        async with serving(tmp_path, port=port_b, origins=()) as b:
            await until(lambda: "Thanks, that helps" in messages(session))
            assert maria.url == b.url and maria.origin == f"http://127.0.0.1:{port_b}"
            session.send("You're welcome.")
            assert await room.finished(timeout=WAIT)
            await until(lambda: "Bye" in messages(session))
            conv = str(maria.conversation)
            assert maria.connects == 2 and maria.status == "left"
            assert [
                (body["from"]["type"], body["text"])
                for type_, _, _, body in stored(b.config.db, conv)
                if type_ == "Message"
            ] == [
                ("Client", "Hi, my bill is wrong"),
                ("Agent", "Let me check that."),
                ("Client", "Thanks, that helps"),
                ("Agent", "You're welcome."),
                ("Client", "Bye"),
            ]
            seqs = [e["seq"] for e in maria.events]
            assert seqs == sorted(set(seqs))  # each event once, in order
            replies = [e["text"] for e in maria.events if e["type"] == "Message"]
            assert replies.count("Let me check that.") == 1
            assert messages(session).count("Thanks, that helps") == 1
    finally:
        await room.stop()  # B is gone by now too: it only ends the customers' tasks
        await backend.aclose()
