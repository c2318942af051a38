"""Issue 6 protocol journeys: several agents on the real server (websockets, SQLite)."""

from __future__ import annotations

import asyncio
import sqlite3

from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer
from chat_widget.server.store import ExternalRecord, QueueRecord

from .helpers import Client, agent, customer


async def _owned_chat(
    server: ChatServer, origin: str, owner: Client, nickname: str = "Carla"
) -> tuple[Client, str]:
    carla, conv = await customer(server.url, origin, f"cust-{nickname}", nickname)
    await owner.expect("Offer", conversation=conv)
    aid = await owner.send("Accept", conversation=conv)
    assert (await owner.reply(aid))["type"] == "Ack"
    await carla.expect("ParticipantJoined", conversation=conv, seq=2)
    return carla, conv


async def test_transfer_to_agent_with_note(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    alice = await agent(server.url, at, "alice")
    bob = await agent(server.url, bt, "bob", ready=False)  # Bob gets no new chats
    carla, conv = await _owned_chat(server, origin, alice)
    await carla.send("SendMessage", conversation=conv, text="My invoice is wrong")
    await alice.expect("Message", conversation=conv, text="My invoice is wrong")

    # Bob is not ready: a transfer to him is declined at once, Alice keeps the chat
    tid = await alice.send(
        "RequestTransfer", conversation=conv, targetKind="agent", targetId="bob", note="x"
    )
    assert (await alice.reply(tid))["type"] == "Ack"
    declined = await alice.expect("TransferDeclined", conversation=conv)
    assert "not ready" in declined["reason"]
    rid = await bob.send("SetPresence", presence="ready")
    await bob.reply(rid)
    await alice.expect("PresenceChanged", agent="bob", presence="ready")

    tid = await alice.send(
        "RequestTransfer",
        conversation=conv,
        targetKind="agent",
        targetId="bob",
        note="Double payment, invoice 2026-0315",
    )
    offer = await bob.expect("Offer", conversation=conv)
    assert offer["kind"] == "transfer" and offer["note"] == "Double payment, invoice 2026-0315"
    assert offer["fromAgent"] == {"id": "alice", "nickname": "Alice"}
    # the owner keeps writing while the transfer is pending
    await alice.send("SendMessage", conversation=conv, text="One moment, a colleague helps")
    await carla.expect("Message", conversation=conv, text="One moment, a colleague helps")
    aid = await bob.send("Accept", conversation=conv)
    assert (await bob.reply(aid))["type"] == "Ack"
    moved = await carla.expect("ChatTransferred", conversation=conv)
    assert moved["from"]["participantId"] == "bob"
    assert moved["previous"]["participantId"] == "alice"
    assert "note" not in moved  # the note is for agents only
    await alice.expect("ChatTransferred", conversation=conv)
    # Bob receives the whole chat, the note included
    await bob.expect("Message", conversation=conv, text="My invoice is wrong")
    req = await bob.expect("TransferRequested", conversation=conv, note=offer["note"])
    assert req["targetId"] == "bob"
    # Alice is out: her messages are refused, Bob's reach Carla, not Alice
    mid = await alice.send("SendMessage", conversation=conv, text="still me?")
    assert (await alice.reply(mid))["code"] == "forbidden"
    await bob.send("SendMessage", conversation=conv, text="Bob here, I have your case")
    await carla.expect("Message", conversation=conv, text="Bob here, I have your case")
    await carla.send("SendMessage", conversation=conv, text="Thanks Bob")
    await bob.expect("Message", conversation=conv, text="Thanks Bob")
    await asyncio.sleep(0)  # let fan-out run; Alice must not get Carla's later message
    pid = await alice.send("Ping")
    await alice.reply(pid)
    assert not any(f.get("text") == "Thanks Bob" for f in alice.frames)
    assert not any(f.get("type") == "TransferRequested" for f in carla.frames)
    with sqlite3.connect(server.config.db) as db:
        owner = db.execute("SELECT owner FROM conversations WHERE id = ?", (conv,)).fetchone()[0]
        types = [
            r[0] for r in db.execute("SELECT type FROM events WHERE conversation = ?", (conv,))
        ]
    assert owner == "bob"
    assert {"TransferRequested", "TransferDeclined", "ChatTransferred"} <= set(types)


async def test_transfer_to_queue_with_nobody_ready(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    server.store.add_queue(QueueRecord("q-billing", "Billing", "billing"))
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    _, ct = server.store.add_agent("Cem")
    server.store.set_skills("bob", ("billing",))
    alice = await agent(server.url, at, "alice")
    carla, conv = await _owned_chat(server, origin, alice)
    cem = await agent(server.url, ct, "cem")  # ready, but no billing skill
    tid = await alice.send(
        "RequestTransfer", conversation=conv, targetKind="queue", targetId="q-billing"
    )
    assert (await alice.reply(tid))["type"] == "Ack"
    clock.advance(60)  # nobody with the skill is ready: the chat waits, still Alice's
    mid = await alice.send("SendMessage", conversation=conv, text="Still waiting for billing")
    assert (await alice.reply(mid))["type"] == "Ack"
    bob = await agent(server.url, bt, "bob")  # Bob (billing) gets ready: offered now
    offer = await bob.expect("Offer", conversation=conv)
    assert offer["kind"] == "transfer" and offer["queue"] == "q-billing"
    # Bob ignores it: after the timeout it comes back to him (the only one with the skill)
    clock.advance(server.config.offer_timeout)
    await bob.expect("OfferRevoked", conversation=conv)
    clock.advance(server.config.offer_timeout)
    await bob.expect("Offer", conversation=conv)
    aid = await bob.send("Accept", conversation=conv)
    assert (await bob.reply(aid))["type"] == "Ack"
    await carla.expect("ChatTransferred", conversation=conv)
    assert not any(f.get("type") == "Offer" and f.get("kind") == "transfer" for f in cem.frames)


async def test_conference_join_and_leave(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    alice = await agent(server.url, at, "alice")
    carla, conv = await _owned_chat(server, origin, alice)
    bob = await agent(server.url, bt, "bob")
    iid = await alice.send("InviteToConference", conversation=conv, targetId="bob")
    assert (await alice.reply(iid))["type"] == "Ack"
    offer = await bob.expect("Offer", conversation=conv)
    assert offer["kind"] == "conference"
    await bob.send("Accept", conversation=conv)
    for who in (carla, alice, bob):
        joined = await who.expect("ParticipantJoined", conversation=conv, seq=4)
        assert joined["from"]["participantId"] == "bob"
    # everyone sees everyone's messages
    await bob.send("SendMessage", conversation=conv, text="Bob from billing here")
    await carla.expect("Message", conversation=conv, text="Bob from billing here")
    await alice.expect("Message", conversation=conv, text="Bob from billing here")
    await carla.send("SendMessage", conversation=conv, text="Hi both")
    await alice.expect("Message", conversation=conv, text="Hi both")
    await bob.expect("Message", conversation=conv, text="Hi both")
    # the owner leaves: Bob stays and owns the chat
    lid = await alice.send("LeaveConference", conversation=conv)
    assert (await alice.reply(lid))["type"] == "Ack"
    left = await carla.expect("ParticipantLeft", conversation=conv)
    assert left["from"]["participantId"] == "alice"
    assert left["successor"]["participantId"] == "bob"
    await bob.expect("ParticipantLeft", conversation=conv)
    assert server.service.router.owner(conv) == "bob"
    # Bob invites Alice back; now Alice (the guest) leaves; Bob keeps it
    await bob.send("InviteToConference", conversation=conv, targetId="alice")
    await alice.expect("Offer", conversation=conv, kind="conference")
    await alice.send("Accept", conversation=conv)
    await carla.expect(
        "ParticipantJoined",
        conversation=conv,
        **{"from": {"nickname": "Alice", "participantId": "alice", "type": "Agent"}},
    )
    await alice.send("LeaveConference", conversation=conv)
    await bob.expect(
        "ParticipantLeft",
        conversation=conv,
        successor={"nickname": "Bob", "participantId": "bob", "type": "Agent"},
    )
    assert server.service.router.owner(conv) == "bob"
    eid = await bob.send("EndChat", conversation=conv)
    assert (await bob.reply(eid))["type"] == "Ack"
    await carla.expect("ChatEnded", conversation=conv)


async def test_consultation_never_reaches_the_customer(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    server.store.add_external(ExternalRecord("x-brandt", "Dr. Ilse Brandt", "+49 30 5550100"))
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    alice = await agent(server.url, at, "alice")
    carla, conv = await _owned_chat(server, origin, alice)
    bob = await agent(server.url, bt, "bob", ready=False)
    sid = await alice.send(
        "StartConsultation",
        conversation=conv,
        consultation="k1",
        targetKind="agent",
        targetId="bob",
        medium="chat",
    )
    assert (await alice.reply(sid))["type"] == "Ack"
    offered = await bob.expect("ConsultationOffered", conversation=conv)
    assert offered["fromAgent"]["id"] == "alice" and offered["medium"] == "chat"
    await bob.send("AnswerConsultation", conversation=conv, consultation="k1")
    await alice.expect("ConsultationState", conversation=conv, status="active")
    await alice.send(
        "SendConsultMessage", conversation=conv, consultation="k1", text="Refund 40 EUR ok?"
    )
    await bob.expect("ConsultMessage", conversation=conv, text="Refund 40 EUR ok?")
    await bob.send("SendConsultMessage", conversation=conv, consultation="k1", text="Yes, fine")
    await alice.expect("ConsultMessage", conversation=conv, text="Yes, fine")
    # the consultant does not read the customer chat
    await carla.send("SendMessage", conversation=conv, text="Are you there?")
    await alice.expect("Message", conversation=conv, text="Are you there?")
    await alice.send("EndConsultation", conversation=conv, consultation="k1")
    await bob.expect("ConsultationState", conversation=conv, status="ended")

    # voice with an external contact: simulated call states on the server clock
    await alice.send(
        "StartConsultation",
        conversation=conv,
        consultation="k2",
        targetKind="external",
        targetId="x-brandt",
        medium="voice",
    )
    await alice.expect(
        "ConsultationState", conversation=conv, consultation="k2", status="requested"
    )
    clock.advance(1)
    await alice.expect("ConsultationState", conversation=conv, consultation="k2", status="ringing")
    clock.advance(4)
    await alice.expect("ConsultationState", conversation=conv, consultation="k2", status="active")
    await alice.send("EndConsultation", conversation=conv, consultation="k2")
    await alice.expect("ConsultationState", conversation=conv, consultation="k2", status="ended")

    # a resumed customer socket replays the chat: still no consultation event
    await alice.send("SendMessage", conversation=conv, text="Good news: refund approved")
    await carla.expect("Message", conversation=conv, text="Good news: refund approved")
    assert not any(f.get("text") == "Are you there?" for f in bob.frames)
    token = next(f for f in carla.frames if f.get("type") == "ChatStarted")["token"]
    again = await Client.open(server.url, "carla-again", origin=origin)
    rid = await again.send("ResumeChat", conversation=conv, token=token, lastSeq=0)
    await again.reply(rid)
    await again.expect("Message", conversation=conv, text="Good news: refund approved")
    for client in (carla, again):
        kinds = {f.get("type") for f in client.frames}
        assert not kinds & {"ConsultMessage", "ConsultationState", "ConsultationOffered"}
        assert not any("40 EUR" in str(f) or "Yes, fine" in str(f) for f in client.frames)
    with sqlite3.connect(server.config.db) as db:
        n = db.execute(
            "SELECT COUNT(*) FROM events WHERE conversation = ? AND type = 'ConsultMessage'"
            " AND visibility = 'agents'",
            (conv,),
        ).fetchone()[0]
    assert n == 2


async def test_team_im_delivery_and_unread(server: ChatServer, clock: VirtualClock) -> None:
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    alice = await agent(server.url, at, "alice")
    bob = await agent(server.url, bt, "bob")
    directory = next(f for f in alice.frames if f["type"] == "AuthOk")["directory"]
    assert {a["id"] for a in directory["agents"]} == {"alice", "bob"}
    for n in range(3):
        iid = await alice.send("SendIm", to="bob", text=f"note {n}", id=f"im-{n}")
        assert (await alice.reply(iid))["type"] == "Ack"
        got = await bob.expect("ImMessage", text=f"note {n}")
        assert got["from"]["id"] == "alice" and got["unread"] == n + 1
    await alice.send("SendIm", to="bob", text="note 0", id="im-0")  # a retry: stored once
    await bob.close()
    bob = await agent(server.url, bt, "bob2")
    ok = next(f for f in bob.frames if f["type"] == "AuthOk")
    assert ok["imUnread"] == {"alice": 3}
    for n in range(3):  # what Bob missed is replayed, each once
        await bob.expect("ImMessage", text=f"note {n}")
    rid = await bob.send("MarkImRead", colleague="alice")
    assert (await bob.reply(rid))["type"] == "Ack"
    await bob.expect("ImRead", colleague="alice")
    await bob.send("SendIm", to="alice", text="Got it")
    await alice.expect("ImMessage", text="Got it", unread=1)
    await bob.close()
    bob = await agent(server.url, bt, "bob3", imAfter=3)
    ok = next(f for f in bob.frames if f["type"] == "AuthOk")
    assert ok["imUnread"] == {}
    await bob.expect("ImMessage", text="Got it")
    pid = await bob.send("Ping")
    await bob.reply(pid)
    assert [f["text"] for f in bob.frames if f["type"] == "ImMessage"] == ["Got it"]


async def test_agent_disconnects_mid_transfer(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    alice = await agent(server.url, at, "alice")
    carla, conv = await _owned_chat(server, origin, alice)
    bob = await agent(server.url, bt, "bob")
    # 1. the receiver drops while the offer is pending: declined, Alice keeps the chat
    await alice.send("RequestTransfer", conversation=conv, targetKind="agent", targetId="bob")
    await bob.expect("Offer", conversation=conv, kind="transfer")
    await bob.close()
    declined = await alice.expect("TransferDeclined", conversation=conv)
    assert "disconnected" in declined["reason"]
    assert server.service.router.owner(conv) == "alice"
    # 2. the owner drops while the transfer is pending: still owned; Bob accepts later
    bob = await agent(server.url, bt, "bob2")
    await alice.send("RequestTransfer", conversation=conv, targetKind="agent", targetId="bob")
    await bob.expect("Offer", conversation=conv, kind="transfer")
    last = max(f["seq"] for f in alice.events(conv))
    await alice.close()
    assert server.service.router.owner(conv) == "alice"
    await carla.send("SendMessage", conversation=conv, text="hello?")
    await bob.send("Accept", conversation=conv)
    await carla.expect("ChatTransferred", conversation=conv)
    await bob.expect("Message", conversation=conv, text="hello?")
    # Alice comes back and resumes: she learns of the transfer, then nothing more
    alice = await agent(server.url, at, "alice2", resume={conv: last})
    await alice.expect("Message", conversation=conv, text="hello?")
    await alice.expect("ChatTransferred", conversation=conv)
    await bob.send("SendMessage", conversation=conv, text="Bob now")
    await carla.expect("Message", conversation=conv, text="Bob now")
    pid = await alice.send("Ping")
    await alice.reply(pid)
    assert not any(f.get("text") == "Bob now" for f in alice.frames)
    # 3. the new owner drops right after accepting: the chat stays his, never orphaned
    await bob.close()
    assert server.service.router.owner(conv) == "bob"
    assert server.service.conversations[conv].record.owner == "bob"
