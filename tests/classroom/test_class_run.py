"""A class of scripted customers against a real server on the wall clock, with
trainees answering from code: scripts complete, complaints on time, pause, stop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from chat_widget.classroom import Classroom, CustomerInfo
from chat_widget.model.reply_timer import Thresholds

from .helpers import WAIT, Trainee, conversations, realtime_server, stored

QUESTION: dict[str, Any] = {
    "name": "Quick question",
    "contact": {"name": "Maria Weber", "emails": ["maria@example.com"]},
    "steps": [
        {"say": "Hi, my bill is wrong", "typing": 0.2, "delay": 0.1},
        {"wait_for_reply": True},
        {"say": "Thanks, that helps", "typing": 0.1, "delay": 0.1},
        {"wait_for_reply": True},
        {"leave": "Bye"},
    ],
}
LEAVER: dict[str, Any] = {
    "name": "Leaver",
    "contact": {"name": "Aylin Demir"},
    "steps": [
        {"say": "Call me back, please", "typing": 0.1, "delay": 0},
        {"typing_pause": 0.2},
        {"pause": 0.1},
        {"leave": True},
    ],
}
IMPATIENT: dict[str, Any] = {
    "name": "Impatient",
    "contact": {"name": "Jonas Becker"},
    "when_red": "Hello?? Anybody there?",
    "steps": [
        {"say": "Fix it NOW", "typing": 0.1, "delay": 0},
        {"wait_for_reply": True},
        {"leave": "Fine."},
    ],
}


def client_lines(events: list[tuple[str, float, str, dict[str, Any]]]) -> list[str]:
    """What the customer did, in stored order (typing, messages, leaving)."""
    out = []
    for type_, _, who, body in events:
        if who != "Client" or type_ == "ParticipantJoined":
            continue
        out.append(f"{type_}: {body['text']}" if type_ == "Message" else type_)
    return out


async def test_every_scripted_customer_completes_its_scenario_with_its_events_stored(
    tmp_path: Path,
) -> None:
    async with realtime_server(tmp_path) as server:
        trainees = [await Trainee.join(server, f"T{n}") for n in range(2)]
        room = Classroom(server.url, [QUESTION, LEAVER], trainees=4, class_id="morning-1")
        await room.start()
        try:
            assert await room.finished(timeout=WAIT)
        finally:
            await room.stop()
            for t in trainees:
                await t.close()
        assert sorted(c.status for c in room.customers) == ["left"] * 4
        assert sorted(len(t.accepted) for t in trainees) == [2, 2]  # normal routing
        db = server.config.db
        stored_convs = conversations(db)
        assert len(stored_convs) == 4
        for info in room.customers:
            events = stored(db, str(info.conversation))
            types = [(type_, who) for type_, _, who, _ in events]
            assert types[:2] == [("ParticipantJoined", "Client"), ("ParticipantJoined", "Agent")]
            if info.scenario == "Quick question":
                assert client_lines(events) == [
                    "TypingStarted",
                    "Message: Hi, my bill is wrong",
                    "TypingStarted",
                    "Message: Thanks, that helps",
                    "Message: Bye",
                    "ParticipantLeft",
                ]
                # each line after the first came after the trainee's answer to the one before
                said = [i for i, (t, w) in enumerate(types) if t == "Message" and w == "Client"]
                answers = [i for i, (t, w) in enumerate(types) if t == "Message" and w == "Agent"]
                assert answers[0] < said[1] and answers[1] < said[2]
            else:
                assert client_lines(events) == [
                    "TypingStarted",
                    "Message: Call me back, please",
                    "TypingStarted",
                    "TypingStopped",
                    "ParticipantLeft",
                ]
        # the class is stored with every conversation it created
        assert {c["class"] for _, c, _ in stored_convs} == {"morning-1"}
        assert {i for i, _, _ in stored_convs} == {c.conversation for c in room.customers}


async def test_red_complaints_fire_when_the_customers_wait_turns_red_on_the_wall_clock(
    tmp_path: Path,
) -> None:
    async with realtime_server(tmp_path) as server:
        trainee = await Trainee.join(server, "Slow")
        trainee.answering = False
        room = Classroom(
            server.url, [IMPATIENT], trainees=2, thresholds=Thresholds(0.4, 0.8), class_id="red"
        )
        await room.start()

        def complained(c: CustomerInfo) -> bool:
            return c.conversation is not None and any(
                body.get("text") == "Hello?? Anybody there?"
                for _, _, _, body in stored(server.config.db, c.conversation)
            )

        try:
            loop = asyncio.get_running_loop()
            end = loop.time() + WAIT
            while loop.time() < end and not all(map(complained, room.customers)):
                await asyncio.sleep(0.05)
        finally:
            await room.stop()
            await trainee.close()
        for info in room.customers:
            events = stored(server.config.db, str(info.conversation))
            joined = next(
                t for k, t, who, _ in events if k == "ParticipantJoined" and who == "Agent"
            )
            complaints = [t for _, t, who, b in events if b.get("text") == "Hello?? Anybody there?"]
            assert len(complaints) == 1
            # the wait started when the trainee took the chat (the script's first line
            # does not restart it): red 0.8 s later
            assert abs(complaints[0] - joined - 0.8) < 0.25, complaints[0] - joined


async def test_pause_holds_every_customer_and_resume_goes_on_where_it_was(
    tmp_path: Path,
) -> None:
    async with realtime_server(tmp_path) as server:
        trainee = await Trainee.join(server, "T")
        room = Classroom(server.url, [QUESTION], trainees=2, class_id="paused")
        await room.start()
        try:
            loop = asyncio.get_running_loop()
            end = loop.time() + WAIT
            while loop.time() < end and not all(c.step == 1 for c in room.customers):
                await asyncio.sleep(0.02)
            room.pause()
            steps = [c.step for c in room.customers]
            counts = [len(stored(server.config.db, str(c.conversation))) for c in room.customers]
            await asyncio.sleep(0.8)  # the class is paused: wall time passes, nothing is said
            after = [stored(server.config.db, str(c.conversation)) for c in room.customers]
            # the trainee's answers still arrive; the customers say nothing while paused
            for before, events in zip(counts, after, strict=True):
                assert all(who != "Client" for _, _, who, _ in events[before:])
            # a reply ends the wait step, but the next line is not even typed while paused
            assert all(c.step <= s + 1 for c, s in zip(room.customers, steps, strict=True))
            room.resume()
            assert await room.finished(timeout=WAIT)
        finally:
            await room.stop()
            await trainee.close()
        for info in room.customers:
            assert info.status == "left"
            assert client_lines(stored(server.config.db, str(info.conversation)))[-2:] == [
                "Message: Bye",
                "ParticipantLeft",
            ]


async def test_stop_leaves_no_queued_or_active_chat_of_the_class(tmp_path: Path) -> None:
    async with realtime_server(tmp_path) as server:
        trainee = await Trainee.join(server, "Solo")  # capacity 3: two of five stay queued
        trainee.answering = False
        room = Classroom(server.url, [IMPATIENT], trainees=5, class_id="stopme")
        await room.start()
        loop = asyncio.get_running_loop()
        end = loop.time() + WAIT
        expected = ["chatting"] * 3 + ["waiting"] * 2
        while loop.time() < end and sorted(c.status for c in room.customers) != expected:
            await asyncio.sleep(0.02)
        assert all(c.conversation for c in room.customers)
        assert sorted(c.status for c in room.customers) == ["chatting"] * 3 + ["waiting"] * 2
        await room.stop()
        await trainee.close()
        assert [c.status for c in room.customers] == ["stopped"] * 5
        live = [
            conv
            for conv in server.service.conversations.values()
            if conv.record.contact.get("class") == "stopme" and conv.state in ("queued", "active")
        ]
        assert live == []
        assert {s for _, c, s in conversations(server.config.db) if c["class"] == "stopme"} <= {
            "wrapup",
            "done",
            "ended",
        }


async def test_the_class_run_command_runs_a_class_to_its_end(tmp_path: Path) -> None:
    import yaml

    from chat_widget.cli import main

    scenario = tmp_path / "leaver.yaml"
    scenario.write_text(yaml.safe_dump(LEAVER))
    async with realtime_server(tmp_path) as server:
        trainee = await Trainee.join(server, "T")
        try:
            argv = ["class", "run", str(scenario), "--trainees", "2", "--url", server.url]
            code = await asyncio.to_thread(main, [*argv, "--class-id", "cli", "--timeout", "10"])
        finally:
            await trainee.close()
        assert code == 0
        stored_convs = conversations(server.config.db)
        assert [c["class"] for _, c, _ in stored_convs] == ["cli", "cli"]
        for conv, _, _ in stored_convs:
            assert client_lines(stored(server.config.db, conv))[-1] == "ParticipantLeft"
    bad = await asyncio.to_thread(main, ["class", "run", "nope.yaml", "--url", server.url])
    assert bad == 1  # no such scenario: a message, not a traceback


async def test_a_customer_resumes_its_chat_after_a_drop(tmp_path: Path) -> None:
    async with realtime_server(tmp_path) as server:
        trainee = await Trainee.join(server, "T", delay=0.3)
        room = Classroom(server.url, [QUESTION], trainees=1, class_id="drop")
        await room.start()
        try:
            customer = room.wire[0]
            loop = asyncio.get_running_loop()
            end = loop.time() + WAIT
            while loop.time() < end and customer.step < 1:
                await asyncio.sleep(0.02)
            customer.drop()  # the network fails while the customer waits for the answer
            assert await room.finished(timeout=WAIT)
        finally:
            await room.stop()
            await trainee.close()
        assert customer.connects >= 2 and customer.status == "left"
        lines = client_lines(stored(server.config.db, str(customer.conversation)))
        assert [x for x in lines if x.startswith("Message")] == [
            "Message: Hi, my bill is wrong",
            "Message: Thanks, that helps",
            "Message: Bye",
        ]


async def test_the_class_run_command_takes_several_addresses(tmp_path: Path, capfd: Any) -> None:
    """``--url A,B``: a process that does not answer is reported, the customers move on."""
    import socket

    import yaml

    from chat_widget.cli import main

    scenario = tmp_path / "leaver.yaml"
    scenario.write_text(yaml.safe_dump(LEAVER))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"ws://127.0.0.1:{s.getsockname()[1]}/ws"  # nobody listens there
    async with realtime_server(tmp_path) as server:
        trainee = await Trainee.join(server, "T")
        try:
            argv = [
                "class",
                "run",
                str(scenario),
                "--trainees",
                "2",
                "--url",
                f"{dead},{server.url}",
            ]
            code = await asyncio.to_thread(main, [*argv, "--class-id", "two", "--timeout", "10"])
        finally:
            await trainee.close()
        assert code == 0
        assert f"{dead} does not answer" in capfd.readouterr().err
        stored_convs = conversations(server.config.db)
        assert [c["class"] for _, c, _ in stored_convs] == ["two", "two"]
        for conv, _, _ in stored_convs:
            assert client_lines(stored(server.config.db, conv))[-1] == "ParticipantLeft"
    for bad in ("http://127.0.0.1:1/ws", ","):
        assert await asyncio.to_thread(main, ["class", "run", "leaver", "--url", bad]) == 1
    assert "ws:// or wss://" in capfd.readouterr().err
