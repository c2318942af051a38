"""Supervision end to end through the real clients (issue 14): a customer, two agents
(``WebSocketBackend``), a supervisor (``WebSocketSupervisor`` behind a
``SupervisorWidget``) and the real server on 127.0.0.1. The server's clock and the
clients' clocks are virtual: nothing sleeps to wait for time."""

from __future__ import annotations

from chat_widget import SupervisorWidget, WebSocketBackend, WebSocketSupervisor
from chat_widget.formats.transcript import Kind, Role, Visibility
from chat_widget.model.clock import VirtualClock
from chat_widget.model.reply_timer import Thresholds
from chat_widget.server import ChatServer

from .helpers import customer
from .test_websocket_backend import until


async def test_dashboard_monitor_coach_barge_in_and_flag_through_the_real_clients(
    server: ChatServer, clock: VirtualClock, origin: str
) -> None:
    _, alice_token = server.store.add_agent("Alice")
    _, bob_token = server.store.add_agent("Bob")
    _, tess_token = server.store.add_agent("Tess", supervisor=True)
    alice = WebSocketBackend(server.url, token=alice_token, clock=VirtualClock())
    bob = WebSocketBackend(server.url, token=bob_token, clock=VirtualClock(), ready=False)
    sup_clock = VirtualClock(start=clock.now())
    tess = WebSocketSupervisor(
        server.url, tess_token, clock=sup_clock, thresholds=Thresholds(3.0, 6.0)
    )
    board = SupervisorWidget(tess)
    desk = tess.desk
    carla = dana = None
    try:
        await alice.wait_connected()
        await bob.wait_connected()
        await until(lambda: desk.connection == "connected")
        # the dashboard knows the team; supervisors are not agents' colleagues
        await until(lambda: {"alice", "bob"} <= set(desk.agents))
        assert "tess" not in desk.agents
        assert "tess" not in alice.desk.directory.agents

        # Carla's chat goes to Alice (Bob is not ready): a row with owner and a wait
        carla, conv = await customer(server.url, origin, "carla")
        session = await alice.next_offer()
        session.accept()
        await until(lambda: conv in desk.chats and desk.chats[conv].owner_id == "alice")
        await carla.send("SendMessage", conversation=conv, text="I was charged twice")
        await until(lambda: any(e.text == "I was charged twice" for e in desk.chats[conv].entries))
        waiting_since = desk.chats[conv].pending_since
        assert waiting_since is not None
        sup_clock.advance_to(waiting_since + 6.5)
        assert desk.colour(conv) == "red"
        row = next(r for r in board.team["chats"] if r["id"] == conv)
        assert row["agent_id"] == "alice"
        assert desk.agents["alice"].chats == 1

        # silent monitoring: nobody notices (the server does not announce it)
        desk.monitor(conv, "silent")
        await until(lambda: server.service.supervision.mode(conv, "tess") == "silent")
        await carla.send("SendMessage", conversation=conv, text="Hello?")
        await until(lambda: any(e.text == "Hello?" for e in session.transcript))
        assert session.monitored is None

        # coaching: only Alice sees it; it does not reset her reply timer
        desk.coach(conv, "Apologise first, then offer the refund link.")
        await until(lambda: any(e.kind is Kind.COACHING for e in session.transcript))
        coaching = next(e for e in session.transcript if e.kind is Kind.COACHING)
        assert coaching.sender.role is Role.SUPERVISOR
        assert coaching.visibility is Visibility.AGENTS
        assert session.monitored == "coach" and session.monitored_by == "Tess"
        assert session.timer.pending_since is not None  # coaching is no reply
        session.answer_coach("Will do.")
        await until(lambda: any(e.text == "Will do." for e in desk.chats[conv].entries))

        # the help flag goes up on Alice's side and shows at once on the dashboard
        session.raise_flag("Refund over my limit")
        await until(lambda: [c.id for c in desk.flags] == [conv])
        assert desk.chats[conv].flag is not None
        assert desk.chats[conv].flag.text == "Refund over my limit"

        # barge-in: the customer sees the supervisor join and write; the wait ends
        desk.barge_in(conv)
        await carla.expect("ParticipantJoined", conversation=conv, timeout=5)
        desk.say(conv, "Hello Carla, I am Alice's team lead. The refund is approved.")
        said = await carla.wait_for(
            lambda f: f["type"] == "Message" and f["from"]["type"] == "Supervisor"
        )
        assert said["text"].startswith("Hello Carla") and said["from"]["nickname"] == "Tess"
        await until(lambda: any(e.text.startswith("Hello Carla") for e in session.transcript))
        assert session.timer.pending_since is None  # a barge-in message is a reply
        desk.lower_flag(conv)
        await until(lambda: session.help_flag is None and desk.flags == [])
        desk.leave(conv)  # from barge-in back to silent monitoring
        await carla.expect("ParticipantLeft", conversation=conv, timeout=5)
        # for Alice the coach left (silent monitoring is not announced on this server)
        await until(lambda: session.monitored is None)
        assert session.transcript[-1].code == "monitor_coach_ended"
        await until(lambda: desk.chats[conv].my_mode == "silent")
        desk.stop(conv)
        await until(lambda: server.service.supervision.mode(conv, "tess") == "stopped")
        assert server.service.router.owner(conv) == "alice"  # ownership never moved

        # the customer never got a supervision event nor a coaching line
        seen = [f["type"] for f in carla.events(conv)]
        assert not {"MonitoringChanged", "CoachMessage", "HelpFlagChanged"} & set(seen)
        texts = [f.get("text") for f in carla.events(conv)]
        assert "Apologise first, then offer the refund link." not in texts
        assert "Will do." not in texts

        # Bob's chat, nobody monitors: Bob saw nothing of Alice's supervision
        bob.desk.set_presence("ready")
        dana, conv2 = await customer(server.url, origin, "dana", nickname="Dana")
        bob_session = await bob.next_offer()
        bob_session.accept()
        await until(lambda: conv2 in desk.chats and desk.chats[conv2].owner_id == "bob")
        assert conv not in bob.desk.sessions
        assert not any(e.kind is Kind.COACHING for e in bob_session.transcript)
    finally:
        for client in (carla, dana):
            if client is not None:
                await client.close()
        tess.close()
        await alice.aclose()
        await bob.aclose()
