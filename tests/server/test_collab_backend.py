"""Two WorkspaceWidget(WebSocketBackend) agents against the real server: F5, F6, F7, F14."""

from __future__ import annotations

from chat_widget import WebSocketBackend
from chat_widget.model.clock import VirtualClock
from chat_widget.model.session import SessionState
from chat_widget.server import ChatServer
from chat_widget.server.store import QueueRecord
from chat_widget.widget.workspace import WorkspaceWidget

from .helpers import customer
from .test_websocket_backend import until


async def test_two_agents_transfer_conference_consult_im(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    server.store.add_queue(QueueRecord("q-billing", "Billing", "billing"))
    _, at = server.store.add_agent("Alice")
    _, bt = server.store.add_agent("Bob")
    server.store.set_skills("bob", ("billing",))
    alice = WebSocketBackend(server.url, token=at, clock=VirtualClock())
    bob = WebSocketBackend(server.url, token=bt, clock=VirtualClock(), ready=False)
    wa, wb = WorkspaceWidget(alice), WorkspaceWidget(bob)
    try:
        await alice.wait_connected()
        await bob.wait_connected()
        await until(lambda: "bob" in alice.desk.directory.agents)
        assert wa.directory["queues"] == [
            {"id": "q-billing", "name": "Billing", "skill": "billing"}
        ]
        await until(lambda: alice.desk.directory.agents["bob"].presence == "busy")
        carla, conv = await customer(server.url, origin, "carla")
        s_a = await alice.next_offer()
        s_a.accept()
        bob.desk.set_presence("ready")  # the agent's own presence command
        await until(lambda: alice.desk.directory.agents["bob"].presence == "available")
        await carla.expect("ParticipantJoined", seq=2)
        await carla.send("SendMessage", conversation=conv, text="I was charged twice")
        await until(lambda: any(e.text == "I was charged twice" for e in s_a.transcript))

        # F7: consultation by chat; Bob answers; Carla never sees it
        alice.desk.collab.consult(conv, "agent", "bob", "chat")
        await until(lambda: len(bob.desk.collab.incoming) == 1)
        cid = next(iter(bob.desk.collab.incoming))
        bob.desk.collab.answer(cid)
        await until(lambda: alice.desk.collab.team(conv).consultation.state == "active")
        alice.desk.collab.consult_send(conv, "May I refund 40 EUR?")
        await until(lambda: bob.desk.collab.incoming[cid].messages != [])
        bob.desk.collab.reply(cid, "Yes, up to 500 EUR")
        await until(lambda: any(e.text == "Yes, up to 500 EUR" for e in s_a.transcript))
        alice.desk.collab.end_consultation(conv)
        await until(lambda: bob.desk.collab.incoming[cid].state == "ended")

        # F6: conference; Bob joins, writes; Alice leaves: Bob owns the chat
        alice.desk.collab.invite(conv, "bob")
        s_b = await bob.next_offer()
        assert s_b.offer_kind == "conference"
        s_b.accept()
        await until(lambda: alice.desk.collab.team(conv).conference is not None)
        await until(lambda: bob.desk.collab.team(conv).conference is not None)
        assert wa.chats[conv]["collab"]["conference"]["name"] == "Bob"
        s_b.send("Bob from billing here")
        await carla.expect("Message", conversation=conv, text="Bob from billing here")
        await until(lambda: any(e.text == "Bob from billing here" for e in s_a.transcript))
        # joining read the chat's history (consultation included) again: Bob's consulted
        # card keeps each message once
        await until(lambda: bob.last_seq[conv] >= alice.last_seq[conv])
        assert [m.text for m in bob.desk.collab.incoming[cid].messages] == [
            "May I refund 40 EUR?",
            "Yes, up to 500 EUR",
        ]
        alice.desk.collab.leave_conference(conv)
        assert s_a.state is SessionState.TRANSFERRED
        await carla.expect("ParticipantLeft", conversation=conv)
        await until(lambda: bob.desk.collab.team(conv).conference is None)
        assert server.service.router.owner(conv) == "bob"

        # F5: Bob transfers back to Alice with a note; Alice gets an offer with the note
        bob.desk.collab.transfer(conv, "agent", "alice", "Refund approved, send the link")
        s_a2 = await alice.next_offer()
        assert s_a2.offer_kind == "transfer" and s_a2.offer_note == "Refund approved, send the link"
        assert any("Refund approved" in e.text for e in s_a2.transcript)
        s_a2.accept()
        await carla.expect("ChatTransferred", conversation=conv)
        await until(lambda: s_b.state is SessionState.TRANSFERRED)
        await until(lambda: any(e.text == "I was charged twice" for e in s_a2.transcript))
        assert conv not in wb.chats and conv in wa.chats
        s_a2.send("Alice again: here is your refund")
        await carla.expect("Message", conversation=conv, text="Alice again: here is your refund")

        # F14: IM with unread counts, both ways
        alice.desk.team_im.send("bob", "Thanks for the help!")
        await until(lambda: bob.desk.team_im.total_unread == 1)
        assert wb.im["threads"]["alice"]["unread"] == 1
        bob.desk.team_im.mark_read("alice")
        bob.desk.team_im.send("alice", "Any time")
        await until(lambda: alice.desk.team_im.total_unread == 1)
        await until(lambda: bob.pending == 0 and alice.pending == 0)
        assert server.service.unread["bob"] == {"alice": 0}
        assert not {f["type"] for f in carla.frames} & {"ConsultMessage", "ConsultationState"}
        assert alice.duplicates == 0 and bob.duplicates == 0
        assert not alice.errors and not bob.errors, (alice.errors, bob.errors)
    finally:
        wa.close()
        wb.close()
        await alice.aclose()
        await bob.aclose()
