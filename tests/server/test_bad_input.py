"""Bad input: each gets its typed error, and the server keeps serving everyone else."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer

from .conftest import make_config
from .helpers import Client, agent, customer


async def test_bad_frames_get_typed_errors(server: ChatServer, origin: str) -> None:
    carla, conv = await customer(server.url, origin, "carla")
    other, other_conv = await customer(server.url, origin, "other", nickname="Otto")
    cases: list[tuple[str | bytes, str]] = [
        ("{not json", "malformed_json"),
        ("[1, 2]", "invalid_frame"),
        ('"text"', "invalid_frame"),
        (b"\x00\x01binary", "invalid_frame"),
        (json.dumps({"v": 1, "id": "x1", "type": "Teleport"}), "unknown_type"),
        (json.dumps({"v": 1, "id": "x2"}), "unknown_type"),
        (json.dumps({"v": 2, "id": "x3", "type": "Ping"}), "unsupported_version"),
        (json.dumps({"id": "x4", "type": "Ping"}), "invalid_frame"),
        (json.dumps({"v": 1, "type": "Ping"}), "invalid_frame"),
        (
            json.dumps(
                {
                    "v": 1,
                    "id": "x5",
                    "type": "SendMessage",
                    "conversation": conv,
                    "text": "x" * 4001,
                }
            ),
            "message_too_long",
        ),
        (
            json.dumps(
                {
                    "v": 1,
                    "id": "x6",
                    "type": "SendMessage",
                    "conversation": conv,
                    "text": "hi",
                    "extra": 1,
                }
            ),
            "invalid_frame",
        ),
        (
            json.dumps(
                {
                    "v": 1,
                    "id": "x7",
                    "type": "SendMessage",
                    "conversation": other_conv,
                    "text": "let me in",
                }
            ),
            "forbidden",
        ),
        (json.dumps({"v": 1, "id": "x8", "type": "Accept", "conversation": conv}), "forbidden"),
        (
            json.dumps(
                {
                    "v": 1,
                    "id": "x9",
                    "type": "PushUrl",
                    "conversation": conv,
                    "url": "https://example.com",
                }
            ),
            "forbidden",
        ),
        (json.dumps({"v": 1, "id": "x10", "type": "Auth", "token": "t"}), "forbidden"),
    ]
    for raw, code in cases:
        await carla.send_raw(raw)
        error = await carla.expect("Error", code=code)
        assert error["message"], error
    # the connection is still up and the chat still works
    mid = await carla.send("SendMessage", conversation=conv, text="still here")
    assert (await carla.reply(mid))["type"] == "Ack"
    # reading another conversation: resume with the wrong token
    spy = await Client.open(server.url, "spy", origin=origin)
    rid = await spy.send("ResumeChat", conversation=conv, token="guess", last_seq=0)
    assert (await spy.reply(rid))["code"] == "forbidden"
    assert not any(f.get("seq") for f in spy.frames)
    # the other customer never saw a thing of carla's
    pid = await other.send("Ping")
    assert (await other.reply(pid))["type"] == "Pong"
    assert all(f.get("conversation") in (None, other_conv) for f in other.frames)
    for c in (carla, other, spy):
        await c.close()


async def test_oversized_frame_closes_only_that_connection(server: ChatServer, origin: str) -> None:
    carla, conv = await customer(server.url, origin, "carla")
    big, _ = await customer(server.url, origin, "big")
    await big.send_raw(json.dumps({"v": 1, "id": "b", "type": "Ping", "pad": "x" * 70_000}))
    with pytest.raises(ConnectionClosed) as info:
        await big.expect("Pong")
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009  # message too big
    mid = await carla.send("SendMessage", conversation=conv, text="unaffected")
    assert (await carla.reply(mid))["type"] == "Ack"
    await carla.close()


async def test_agent_auth_errors(server: ChatServer, clock: VirtualClock, origin: str) -> None:
    # bad token: typed error, then the server closes (1008)
    bad = await Client.open(server.url, "bad")
    await bad.send("Auth", token="wrong")
    assert (await bad.expect("Error"))["code"] == "auth_failed"
    with pytest.raises(ConnectionClosed) as info:
        await bad.expect("never")
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008
    # anything before auth: auth_required, connection stays
    early = await Client.open(server.url, "early")
    await early.send("SendMessage", conversation="c1", text="hi")
    assert (await early.expect("Error"))["code"] == "auth_required"
    # no auth within the deadline (clock time): auth_timeout, closed
    clock.advance(server.config.auth_timeout)
    assert await early.expect("Error", code="auth_timeout")
    with pytest.raises(ConnectionClosed):
        await early.expect("never")
    # a browser (Origin) may not authenticate as an agent
    _, token = server.store.add_agent("Eve")
    browser = await Client.open(server.url, "browser", origin=origin)
    await browser.send("Auth", token=token)
    assert (await browser.expect("Error"))["code"] == "forbidden"
    # ... and a connection without Origin may not act as a customer
    kernel = await Client.open(server.url, "kernel")
    await kernel.send("RequestChat", nickname="Mallory")
    assert (await kernel.expect("Error"))["code"] == "forbidden"
    # the good agent still works
    good = await agent(server.url, token, "eve")
    pid = await good.send("Ping")
    assert (await good.reply(pid))["type"] == "Pong"
    for c in (browser, kernel, good):
        await c.close()


async def test_foreign_origin_is_refused(server: ChatServer, origin: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        await connect(server.url, origin="http://evil.example")  # type: ignore[arg-type]
    assert info.value.response.status_code == 403
    carla, conv = await customer(server.url, origin, "carla")  # own origin still fine
    assert conv
    await carla.close()


async def test_rate_limit_refills_with_clock(tmp_path, clock: VirtualClock) -> None:  # type: ignore[no-untyped-def]
    srv = ChatServer(make_config(tmp_path, rate_per_second=2.0, rate_burst=3.0), clock=clock)
    await srv.start()
    try:
        origin = f"http://127.0.0.1:{srv.port}"
        carla, conv = await customer(srv.url, origin, "carla")  # 1 token used
        ids = [await carla.send("SendMessage", conversation=conv, text=f"m{i}") for i in range(4)]
        replies = [await carla.reply(i) for i in ids]
        assert [r["type"] for r in replies] == ["Ack", "Ack", "Error", "Error"]
        assert replies[2]["code"] == "rate_limited"
        clock.advance(1.0)  # two more tokens
        again = await carla.send("SendMessage", conversation=conv, text="m2")
        assert (await carla.reply(again))["type"] == "Ack"
        await carla.close()
    finally:
        await srv.stop()


async def test_slow_reader_is_disconnected(tmp_path, clock: VirtualClock) -> None:  # type: ignore[no-untyped-def]
    srv = ChatServer(make_config(tmp_path, send_queue_limit=10), clock=clock)
    await srv.start()
    try:
        origin = f"http://127.0.0.1:{srv.port}"
        carla, conv = await customer(srv.url, origin, "carla")
        peer = next(p for p in srv.peers if p.principal is not None)
        for i in range(50):  # overflow the outbox synchronously: no socket can drain it
            peer.push(json.dumps({"type": "Notice", "i": i}))
        assert peer.closed
        with pytest.raises(ConnectionClosed) as info:
            await carla.expect("never")
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008
        other, other_conv = await customer(srv.url, origin, "other")
        assert other_conv != conv
        await other.close()
    finally:
        await srv.stop()
