"""WebSocketSupervisor over a real websocket on 127.0.0.1: connect, resume, resend.

The server side here is a small script speaking the supervisor's frames
(docs/supervision.md), so the I/O layer is tested on its own: the token goes in
the first frame, a dropped connection comes back resuming from the last seq
seen, and what was not acknowledged is sent again with the same ids.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve

from chat_widget import VirtualClock, WebSocketSupervisor
from chat_widget.backends.websocket import ReconnectPolicy
from chat_widget.formats import protocol as p

MARIA = p.Participant(nickname="Maria", participant_id="customer", type=p.ParticipantType.CLIENT)


class ScriptedServer:
    """Answers Auth with AuthOk + TeamState (one chat) + the events after ``resume``."""

    def __init__(self) -> None:
        self.auths: list[dict[str, Any]] = []
        self.frames: list[dict[str, Any]] = []
        self.events = [
            p.Message(conversation="c1", seq=i, utc_time=i * 1000, from_=MARIA, text=f"m{i}")
            for i in (1, 2, 3)
        ]
        self.ack = True
        self.connections: list[ServerConnection] = []

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        auth = json.loads(await ws.recv())
        self.auths.append(auth)
        ok = p.AuthOk(
            id=auth["id"], agent=p.AgentInfo(id="tess", nickname="Tess"), role="supervisor"
        )
        await ws.send(ok.to_json())
        chat = p.SupervisedChat(
            conversation="c1", contact=p.ContactInfo(nickname="Maria"), state="active",
            owner=p.AgentInfo(id="anna", nickname="Anna"), members=["anna"], created=0,
        )  # fmt: skip
        team = p.TeamState(agents=[p.TeamAgent(id="anna", nickname="Anna")], chats=[chat])
        await ws.send(team.to_json())
        after = auth.get("resume", {}).get("c1", 0)
        for event in self.events:
            if event.seq > after:
                await ws.send(event.to_json())
        async for raw in ws:
            frame = json.loads(raw)
            self.frames.append(frame)
            if self.ack:
                await ws.send(p.Ack(id=frame["id"]).to_json())


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[ScriptedServer, Server]]:
    script = ScriptedServer()
    async with serve(script.handler, "127.0.0.1", 0) as server:
        yield script, server


async def until(check: Any, timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def test_connects_resumes_after_a_drop_and_resends_what_was_not_acknowledged(
    scripted: tuple[ScriptedServer, Server],
) -> None:
    script, server = scripted
    port = server.sockets[0].getsockname()[1]
    policy = ReconnectPolicy(initial=0.01, maximum=0.05)
    sup = WebSocketSupervisor(
        f"ws://127.0.0.1:{port}", token="tess-token", clock=VirtualClock(), reconnect=policy
    )
    try:
        await sup.wait_connected()
        desk = sup.desk
        await until(lambda: "c1" in desk.chats and len(desk.chats["c1"].entries) == 3)
        assert script.auths[0]["token"] == "tess-token" and script.auths[0]["resume"] == {}
        assert desk.supervisor.name == "Tess" and desk.connection == "connected"

        script.ack = False
        desk.monitor("c1", "coach")
        await until(lambda: len(script.frames) == 1)
        script.events.append(
            p.Message(conversation="c1", seq=4, utc_time=4000, from_=MARIA, text="m4")
        )
        script.ack = True
        sup.drop_connection()
        await until(lambda: len(script.auths) == 2 and len(desk.chats["c1"].entries) == 4)
        assert script.auths[1]["resume"] == {"c1": 3}  # exactly what was missed comes
        assert [e.text for e in desk.chats["c1"].entries] == ["m1", "m2", "m3", "m4"]
        await until(lambda: len(script.frames) == 2)
        assert script.frames[1] == script.frames[0]  # the same frame, the same id
        await until(lambda: sup.client.pending == 0)
        assert sup.client.duplicates == 0
    finally:
        await sup.aclose()
    assert desk.connection == "disconnected"
