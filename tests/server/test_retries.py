"""Issue 11 items 6 and 9: a resent frame gets its original answer, whatever happened since."""

from __future__ import annotations

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer

from .helpers import Client, agent, customer


async def _active_chat(server: ChatServer, origin: str) -> tuple[Client, Client, str]:
    _, token = server.store.add_agent("Alice")
    alice = await agent(server.url, token, "alice")
    carla, conv = await customer(server.url, origin, "carla")
    await alice.expect("Offer", conversation=conv)
    aid = await alice.send("Accept", conversation=conv)
    assert (await alice.reply(aid))["type"] == "Ack"
    return alice, carla, conv


async def test_retries_after_the_end_get_the_original_seq(server: ChatServer, origin: str) -> None:
    alice, carla, conv = await _active_chat(server, origin)
    c_msg = await carla.send("SendMessage", conversation=conv, text="my bill")
    c_seq = (await carla.reply(c_msg))["seq"]
    a_msg = await alice.send("SendMessage", conversation=conv, text="checking")
    a_seq = (await alice.reply(a_msg))["seq"]
    note = await alice.send("AddNote", conversation=conv, text="billing")
    note_seq = (await alice.reply(note))["seq"]
    end = await alice.send("EndChat", conversation=conv)
    end_seq = (await alice.reply(end))["seq"]

    # after EndChat: the customer's and the agent's resends are acknowledged, not refused
    for client, frame_id, fields, seq in (
        (carla, c_msg, {"type_": "SendMessage", "text": "my bill"}, c_seq),
        (alice, a_msg, {"type_": "SendMessage", "text": "checking"}, a_seq),
        (alice, end, {"type_": "EndChat"}, end_seq),
    ):
        type_ = fields.pop("type_")
        await client.send(type_, id=frame_id, conversation=conv, **fields)
        reply = await client.reply(frame_id)
        assert reply == {"v": 1, "type": "Ack", "id": frame_id, "conversation": conv, "seq": seq}

    done = await alice.send("MarkDone", conversation=conv)
    done_seq = (await alice.reply(done))["seq"]
    assert conv not in server.service.conversations  # done: no longer in memory

    # after MarkDone: still the original seq (read from the store)
    for client, frame_id, type_, fields, seq in (
        (carla, c_msg, "SendMessage", {"text": "my bill"}, c_seq),
        (alice, a_msg, "SendMessage", {"text": "checking"}, a_seq),
        (alice, note, "AddNote", {"text": "billing"}, note_seq),
        (alice, end, "EndChat", {}, end_seq),
        (alice, done, "MarkDone", {}, done_seq),
    ):
        await client.send(type_, id=frame_id, conversation=conv, **fields)
        reply = await client.reply(frame_id)
        assert reply == {"v": 1, "type": "Ack", "id": frame_id, "conversation": conv, "seq": seq}

    # a new frame is still refused, and nobody else's id counts as a retry
    late = await carla.send("SendMessage", conversation=conv, text="hello?")
    assert (await carla.reply(late))["code"] == "invalid_state"
    await alice.send("SendMessage", id=c_msg, conversation=conv, text="my bill")
    assert (await alice.reply(c_msg))["code"] == "forbidden"
    stored = await server.store.read_events(conv, 0, 1_000_000)
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))


async def test_request_chat_retry_returns_the_same_chat(
    server: ChatServer, origin: str, clock: VirtualClock
) -> None:
    _, token = server.store.add_agent("Alice")
    alice = await agent(server.url, token, "alice")
    first = await Client.open(server.url, "first", origin=origin)
    rid = "k3y-8f2c1d9e7a4b-1"
    await first.send("RequestChat", id=rid, nickname="Carla")
    started = await first.reply(rid)
    assert started["type"] == "ChatStarted"
    offer = await alice.expect("Offer")
    assert offer["conversation"] == started["conversation"]
    first.ws.transport.abort()

    # the reply was lost: the page resends the same frame on a new connection
    second = await Client.open(server.url, "second", origin=origin)
    await second.send("RequestChat", id=rid, nickname="Carla")
    again = await second.reply(rid)
    assert again["type"] == "ChatStarted"
    assert again["conversation"] == started["conversation"]
    assert again["token"] == started["token"]
    await second.expect("ParticipantJoined", seq=1)
    assert len(server.service.conversations) == 1
    assert await server.store.conversation_ids() == [started["conversation"]]

    # the chat goes on on the new connection
    aid = await alice.send("Accept", conversation=started["conversation"])
    assert (await alice.reply(aid))["type"] == "Ack"
    await second.expect("ParticipantJoined", seq=2)

    # after the retry window the id starts a new chat
    clock.advance(server.config.request_retry_window + 1)
    third = await Client.open(server.url, "third", origin=origin)
    await third.send("RequestChat", id=rid, nickname="Carla")
    new = await third.reply(rid)
    assert new["type"] == "ChatStarted" and new["conversation"] != started["conversation"]
