"""A full conversation through the protocol: customer, two agents, all stored."""

from __future__ import annotations

import asyncio
import sqlite3

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer

from .helpers import agent, customer, first_to_get


async def test_full_conversation(server: ChatServer, clock: VirtualClock, origin: str) -> None:
    _, alice_token = server.store.add_agent("Alice")
    _, bob_token = server.store.add_agent("Bob")
    alice = await agent(server.url, alice_token, "alice")
    bob = await agent(server.url, bob_token, "bob")
    carla, conv = await customer(server.url, origin, "carla")
    await carla.expect("ParticipantJoined", seq=1)

    # offered to one agent; a reject passes it to the other at once
    offered = await first_to_get([alice, bob], "Offer", conversation=conv)
    other = bob if offered is alice else alice
    rid = await offered.send("Reject", conversation=conv)
    assert (await offered.reply(rid))["type"] == "Ack"
    await other.expect("Offer", conversation=conv)

    # the other ignores it: after the offer timeout (virtual clock) it goes back
    clock.advance(server.config.offer_timeout)
    await other.expect("OfferRevoked", conversation=conv)
    await offered.expect("Offer", conversation=conv)

    # racing accepts: the late one (other) and the current one (offered): exactly one wins
    a_id, b_id = await asyncio.gather(
        offered.send("Accept", conversation=conv), other.send("Accept", conversation=conv)
    )
    replies = [await offered.reply(a_id), await other.reply(b_id)]
    assert sorted(r["type"] for r in replies) == ["Ack", "Error"]
    assert replies[1]["code"] == "offer_not_available"
    owner = offered
    joined = await owner.expect("ParticipantJoined", conversation=conv, seq=2)
    assert joined["from"]["type"] == "Agent"
    await carla.expect("ParticipantJoined", seq=2)

    # messages both ways, typing, push URL
    tid = await carla.send("StartTyping", conversation=conv)
    await owner.expect("TypingStarted", conversation=conv)
    mid = await carla.send("SendMessage", conversation=conv, text="Hello, my bill is wrong")
    assert (await carla.reply(mid))["type"] == "Ack"
    msg = await owner.expect("Message", conversation=conv)
    assert msg["text"] == "Hello, my bill is wrong" and msg["from"]["type"] == "Client"
    await owner.send("StartTyping", conversation=conv)
    await carla.expect("TypingStarted", conversation=conv)
    await owner.send("SendMessage", conversation=conv, text="<b>Let me check</b>")
    assert await carla.expect("Message", conversation=conv, text="<b>Let me check</b>")
    uid = await owner.send("PushUrl", conversation=conv, url="https://example.com/bill")
    pushed = await carla.expect("PushUrl", conversation=conv)
    assert pushed["url"] == "https://example.com/bill"
    assert "click" in pushed["text"]
    assert (await owner.reply(uid))["type"] == "Ack"
    bad = await owner.send("PushUrl", conversation=conv, url=" JAVA\tSCRIPT:alert(1)")
    assert (await owner.reply(bad))["code"] == "invalid_url"

    # typing expiry is a clock callback: nobody "types" forever after a lost StopTyping
    assert tid
    await carla.send("StartTyping", conversation=conv)
    await owner.expect("TypingStarted", conversation=conv)
    clock.advance(server.config.typing_timeout)
    stopped = await owner.expect("TypingStopped", conversation=conv)
    assert stopped["from"]["type"] == "Client"

    # wrap-up: disposition and note are agents-only; end; done
    did = await owner.send("SetDisposition", conversation=conv, code="Resolved")
    nid = await owner.send("AddNote", conversation=conv, text="refund issued")
    eid = await owner.send("EndChat", conversation=conv)
    await carla.expect("ChatEnded", conversation=conv)
    xid = await owner.send("MarkDone", conversation=conv)
    for fid in (did, nid, eid, xid):
        assert (await owner.reply(fid))["type"] == "Ack"
    await owner.expect("ChatDone", conversation=conv)
    assert not any(f["type"] in ("DispositionSet", "NoteAdded", "ChatDone") for f in carla.frames)

    # everything is in SQLite, in order
    db = sqlite3.connect(server.config.db)
    rows = db.execute(
        "SELECT seq, type FROM events WHERE conversation = ? ORDER BY seq", (conv,)
    ).fetchall()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    types = [r[1] for r in rows]
    for expected in (
        "ParticipantJoined",
        "TypingStarted",
        "Message",
        "PushUrl",
        "TypingStopped",
        "DispositionSet",
        "NoteAdded",
        "ChatEnded",
        "ChatDone",
    ):
        assert expected in types
    state, owner_id = db.execute(
        "SELECT state, owner FROM conversations WHERE id = ?", (conv,)
    ).fetchone()
    assert state == "done" and owner_id in ("alice", "bob")
    # the owner's events equal the store's, exactly once each
    assert [f["seq"] for f in owner.events(conv)] == sorted({f["seq"] for f in owner.events(conv)})
    for c in (alice, bob, carla):
        await c.close()
