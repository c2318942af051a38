"""Issue 11 item 2: long backlogs stream with flow control; a reader that reads is never slow.

Histories of 10,000 events and 10,000 IMs are seeded straight into SQLite (the wire
would take too long); the send queue keeps its default of 1,000 frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer

from .conftest import make_config
from .helpers import TIMEOUT, Client, Frame, agent
from .seed import add_agent, seed_chat, seed_ims

N = 10_000


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "chats.sqlite"


async def start(tmp_path: Path, **overrides: object) -> ChatServer:
    srv = ChatServer(make_config(tmp_path, **overrides), clock=VirtualClock())
    await srv.start()
    return srv


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    servers: list[ChatServer] = []

    async def run(**overrides: object) -> ChatServer:
        srv = await start(tmp_path, **overrides)
        servers.append(srv)
        return srv

    yield run
    for srv in servers:
        await srv.stop()


async def collect(client: Client, pred: Callable[[Frame], bool], count: int) -> list[Frame]:
    """Read until ``count`` frames matching ``pred`` arrived (the connection must stay up)."""
    got: list[Frame] = [f for f in client.frames if pred(f)]

    async def run() -> None:
        while len(got) < count:
            frame = await client._read()
            if pred(frame):
                got.append(frame)

    await asyncio.wait_for(run(), TIMEOUT * 4)
    return got


def events_of(conv: str) -> Callable[[Frame], bool]:
    return lambda f: f.get("conversation") == conv and "seq" in f and f.get("type") != "Ack"


async def test_customer_resumes_a_long_chat_from_zero(db: Path, running: Callable) -> None:
    conv, token = seed_chat(db, N, state="active")
    server: ChatServer = await running()  # type: ignore[assignment]
    origin = f"http://127.0.0.1:{server.port}"
    carla = await Client.open(server.url, "carla", origin=origin)
    rid = await carla.send("ResumeChat", conversation=conv, token=token, lastSeq=0)
    assert (await carla.reply(rid))["type"] == "ChatStarted"
    got = await collect(carla, events_of(conv), N)
    assert [f["seq"] for f in got] == list(range(1, N + 1))
    # still connected and live: a new message arrives after the backlog
    mid = await carla.send("SendMessage", conversation=conv, text="still here")
    assert (await carla.reply(mid))["seq"] == N + 1
    await carla.close()


async def test_agent_takes_over_a_long_chat_and_resumes_it(db: Path, running: Callable) -> None:
    conv, _ = seed_chat(db, N)
    _, token = add_agent(db, "Alice")
    server: ChatServer = await running()  # type: ignore[assignment]
    alice = await agent(server.url, token, "alice")
    await alice.expect("Offer", conversation=conv)
    aid = await alice.send("Accept", conversation=conv)
    got = await collect(alice, events_of(conv), N + 1)  # the history and her join
    assert [f["seq"] for f in got] == list(range(1, N + 2))
    assert (await alice.reply(aid))["type"] == "Ack"
    await alice.close()
    for _ in range(2):  # every re-login resumes the whole chat
        again = await Client.open(server.url, "alice2")
        auth = await again.send("Auth", token=token, resume={conv: 0})
        assert (await again.reply(auth))["type"] == "AuthOk"
        got = await collect(again, events_of(conv), N + 1)
        assert [f["seq"] for f in got] == list(range(1, N + 2))
        await again.close()


async def test_agent_with_many_ims_logs_in_with_a_fresh_backend(
    db: Path, running: Callable
) -> None:
    _, token = add_agent(db, "Alice")
    add_agent(db, "Bob")
    seed_ims(db, N, "bob", "alice")
    server: ChatServer = await running()  # type: ignore[assignment]
    alice = await Client.open(server.url, "alice")
    auth = await alice.send("Auth", token=token, imAfter=0)
    ok = await alice.reply(auth)
    assert ok["type"] == "AuthOk" and ok["imUnread"] == {"bob": N}
    got = await collect(alice, lambda f: f.get("type") == "ImMessage", N)
    assert [f["imId"] for f in got] == list(range(1, N + 1))
    await alice.close()
