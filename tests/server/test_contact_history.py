"""Issue 16, contact history: the offered agent sees the contact's earlier chats (real
server on 127.0.0.1, SQLite, websockets) and may read their transcripts; nobody else."""

from __future__ import annotations

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer

from .helpers import Client, agent


async def _customer(
    server: ChatServer, origin: str, name: str, email: str, phone: str | None = None
) -> tuple[Client, str]:
    client = await Client.open(server.url, name, origin=origin)
    extra = {} if phone is None else {"phone": phone}
    frame_id = await client.send("RequestChat", nickname=name.title(), email=email, **extra)
    reply = await client.reply(frame_id)
    assert reply["type"] == "ChatStarted", reply
    return client, reply["conversation"]


async def _ack(client: Client, type_: str, **fields: object) -> None:
    reply = await client.reply(await client.send(type_, **fields))
    assert reply["type"] == "Ack", reply


async def _handle(
    server: ChatServer,
    origin: str,
    who: Client,
    name: str,
    email: str,
    disposition: str,
    note: str,
    said: str,
) -> str:
    """A whole earlier chat: offered to ``who``, answered, wrapped up and done."""
    contact, conv = await _customer(server, origin, name, email)
    await who.expect("Offer", conversation=conv)
    await _ack(who, "Accept", conversation=conv)
    await _ack(contact, "SendMessage", conversation=conv, text=said)
    await _ack(who, "SendMessage", conversation=conv, text="Happy to help")
    await _ack(who, "SetDisposition", conversation=conv, code=disposition)
    await _ack(who, "AddNote", conversation=conv, text=note)
    await _ack(who, "EndChat", conversation=conv)
    await _ack(who, "MarkDone", conversation=conv)
    await contact.close()
    return conv


async def _switch(ready: Client, not_ready: Client) -> None:
    await _ack(not_ready, "SetPresence", presence="not_ready")
    await _ack(ready, "SetPresence", presence="ready")


async def test_offered_agent_gets_the_contacts_earlier_chats(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    alice = await agent(server.url, at, "alice")
    bob = await agent(server.url, bt, "bob", ready=False)
    first = await _handle(
        server, origin, alice, "carla", "carla@example.com", "Resolved", "Refund promised",
        "My invoice is wrong",
    )  # fmt: skip
    clock.advance(3600)
    await _switch(bob, alice)
    second = await _handle(
        server, origin, bob, "carla", "Carla@Example.com", "Callback", "Call back Monday",
        "Still no refund",
    )  # fmt: skip
    clock.advance(3600)
    dave_chat = await _handle(
        server, origin, bob, "dave", "dave@example.com", "Resolved", "Dave's note", "Hi"
    )
    # Dave's first chat had no history
    dave_history = await bob.expect("ContactHistory", conversation=dave_chat)
    assert dave_history["items"] == []
    clock.advance(3600)
    await _switch(alice, bob)

    carla, now = await _customer(server, origin, "carla", "carla@example.com")
    await alice.expect("Offer", conversation=now)
    history = await alice.expect("ContactHistory", conversation=now)
    items = history["items"]
    # newest first, the same e-mail in any case; Dave's chat and the current one never
    assert [i["conversation"] for i in items] == [second, first]
    assert items[0]["agent"] == {"id": "bob", "nickname": "Bob"}
    assert items[0]["disposition"] == "Callback" and items[0]["notes"] == ["Call back Monday"]
    assert items[1]["agent"] == {"id": "alice", "nickname": "Alice"}
    assert items[1]["disposition"] == "Resolved" and items[1]["notes"] == ["Refund promised"]
    assert items[0]["state"] == "done" and items[0]["created"] > items[1]["created"]
    # Bob was not offered the chat: no history for him
    assert not [f for f in bob.frames if f["type"] == "ContactHistory" and f["conversation"] == now]

    # the transcript on demand, as the export writes it
    fid = await alice.send("GetHistoryTranscript", conversation=now, of=first)
    answer = await alice.reply(fid)
    assert answer["type"] == "HistoryTranscript" and answer["of"] == first
    doc = answer["transcript"]
    assert doc["id"] == first and doc["disposition"] == "Resolved"
    texts = [e["text"] for e in doc["entries"] if e["kind"] == "message"]
    assert texts == ["My invoice is wrong", "Happy to help"]

    # another contact's chat is never given out, even to the offered agent
    fid = await alice.send("GetHistoryTranscript", conversation=now, of=dave_chat)
    refused = await alice.reply(fid)
    assert refused["type"] == "Error" and refused["code"] == "forbidden"
    # an agent neither offered the chat nor in it may not ask
    fid = await bob.send("GetHistoryTranscript", conversation=now, of=first)
    refused = await bob.reply(fid)
    assert refused["type"] == "Error" and refused["code"] == "forbidden"

    # in the chat, the agent gets the history again when it logs in with resume
    await _ack(alice, "Accept", conversation=now)
    await alice.close()
    again = await agent(server.url, at, "alice2", resume={now: 0})
    resumed = await again.expect("ContactHistory", conversation=now)
    assert [i["conversation"] for i in resumed["items"]] == [second, first]
    fid = await again.send("GetHistoryTranscript", conversation=now, of=second)
    assert (await again.reply(fid))["type"] == "HistoryTranscript"
    await carla.close()


async def test_history_matches_on_phone_too(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    _, at = server.store.add_agent("Alice")
    alice = await agent(server.url, at, "alice")
    old, conv = await _customer(server, origin, "erik", "erik@old.example", "+49 30 1234567")
    await alice.expect("Offer", conversation=conv)
    await _ack(alice, "Accept", conversation=conv)
    await _ack(alice, "EndChat", conversation=conv)
    await _ack(alice, "MarkDone", conversation=conv)
    clock.advance(60)
    _, now = await _customer(server, origin, "erik", "erik@new.example", "+49 30 1234567")
    history = await alice.expect("ContactHistory", conversation=now)
    assert [i["conversation"] for i in history["items"]] == [conv]
    await old.close()
