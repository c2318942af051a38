"""Issue 11 item 7: bad values get typed errors and the connection keeps working.

Real server on 127.0.0.1, real SQLite. Frames are sent as raw JSON text, since a
lone surrogate escape (``\\ud800``) is what a hostile client writes by hand.
"""

from __future__ import annotations

import json

from chat_widget.server import ChatServer

from .helpers import Client, agent


async def _chat(server: ChatServer, origin: str) -> tuple[Client, Client, str, str, str]:
    """Alice has accepted Carla's chat: both clients, the chat, its token, Alice's token."""
    _, token = server.store.add_agent("Alice")
    alice = await agent(server.url, token, "alice")
    carla = await Client.open(server.url, "carla", origin=origin)
    rid = await carla.send("RequestChat", nickname="Carla")
    started = await carla.reply(rid)
    conv = started["conversation"]
    await alice.expect("Offer", conversation=conv)
    aid = await alice.send("Accept", conversation=conv)
    assert (await alice.reply(aid))["type"] == "Ack"
    return alice, carla, conv, started["token"], token


async def _still_works(client: Client, conv: str) -> None:
    frame_id = await client.send("SendMessage", conversation=conv, text="still here")
    assert (await client.reply(frame_id))["type"] == "Ack"


async def test_lone_surrogates_are_refused_with_a_typed_error(
    server: ChatServer, origin: str
) -> None:
    alice, carla, conv, _, _ = await _chat(server, origin)
    # in the id: answered without an id (it cannot be echoed), the connection stays
    await carla.send_raw('{"v":1,"type":"Ping","id":"\\ud800"}')
    error = await carla.expect("Error")
    assert error["code"] == "invalid_frame" and "id" in error["message"]
    assert "id" not in error
    await _still_works(carla, conv)
    # in a message text: refused, never stored, never shown to the agent
    raw = json.dumps({"v": 1, "type": "SendMessage", "id": "s1", "conversation": conv})
    await carla.send_raw(raw[:-1] + ', "text": "hi \\udfff"}')
    refused = await carla.reply("s1")
    assert refused["code"] == "invalid_frame" and refused["message"].startswith("text:")
    # a proper pair of escapes is one character, and fine
    await carla.send_raw(raw[:-1] + ', "text": "ok \\ud83d\\ude00"}')
    assert (await carla.reply("s1"))["type"] == "Ack"
    message = await alice.expect("Message", conversation=conv, text="ok \U0001f600")
    assert message["from"]["type"] == "Client"
    await _still_works(alice, conv)


async def test_numbers_past_the_json_safe_range_are_refused(
    server: ChatServer, origin: str
) -> None:
    _alice, _carla, conv, token, _ = await _chat(server, origin)
    late = await Client.open(server.url, "late", origin=origin)
    for big in (2**63, 2**53):
        frame = {"v": 1, "type": "ResumeChat", "id": f"r{big}", "conversation": conv}
        await late.send_raw(json.dumps({**frame, "token": token, "lastSeq": big}))
        error = await late.reply(f"r{big}")
        assert error["code"] == "invalid_frame" and "lastSeq" in error["message"], error
    _, bob_token = server.store.add_agent("Bob")
    bob = await Client.open(server.url, "bob")
    await bob.send_raw(json.dumps({"v": 1, "type": "Auth", "id": "a1", "token": bob_token,
                                   "imAfter": 2**64}))  # fmt: skip
    error = await bob.reply("a1")
    assert error["code"] == "invalid_frame" and "imAfter" in error["message"], error
    # the same connections still work with sane values
    ok = await bob.send("Auth", token=bob_token)
    assert (await bob.reply(ok))["type"] == "AuthOk"
    again = await late.send("ResumeChat", conversation=conv, token=token, lastSeq=0)
    assert (await late.reply(again))["type"] == "ChatStarted"
    await _still_works(late, conv)


async def test_a_resume_point_beyond_the_chat_is_an_error_not_silence(
    server: ChatServer, origin: str
) -> None:
    alice, _carla, conv, token, alice_token = await _chat(server, origin)
    last = server.service.conversations[conv].record.last_seq
    late = await Client.open(server.url, "late", origin=origin)
    rid = await late.send("ResumeChat", conversation=conv, token=token, lastSeq=last + 50)
    error = await late.reply(rid)
    assert error["type"] == "Error" and error["code"] == "invalid_frame", error
    assert f"beyond the chat's last event ({last})" in error["message"]
    rid = await late.send("ResumeChat", conversation=conv, token=token, lastSeq=last)
    assert (await late.reply(rid))["type"] == "ChatStarted"
    await _still_works(late, conv)
    # an agent's Auth.resume beyond the end: a typed error for that chat, then AuthOk
    await alice.close()
    last = server.service.conversations[conv].record.last_seq
    back = await Client.open(server.url, "alice-back")
    aid = await back.send("Auth", token=alice_token, resume={conv: last + 50})
    refused = await back.wait_for(lambda f: f.get("type") == "Error" and f.get("id") == aid)
    assert refused["code"] == "invalid_frame" and refused["conversation"] == conv
    assert f"beyond the chat's last event ({last})" in refused["message"]
    assert (await back.wait_for(lambda f: f.get("type") == "AuthOk"))["id"] == aid
