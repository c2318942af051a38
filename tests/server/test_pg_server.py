"""The real server on PostgreSQL (issue 18, first step), and one serving process
per database on both stores.

A throw-away cluster from ``tests/pg.py``; real websockets on 127.0.0.1; the
second-process checks run ``chat-widget serve`` as a real process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chat_widget.cli import main
from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer
from chat_widget.server.pg_store import PostgresStore
from chat_widget.server.store import StoreInUse

from .conftest import make_config
from .helpers import Client, agent, customer

PROCESS_TIMEOUT = 60.0  # wall seconds a server process may take to start or refuse


async def test_a_chat_on_postgresql_survives_a_server_restart(pg_url: str, tmp_path: Path) -> None:
    config = make_config(tmp_path, store=pg_url)
    srv = ChatServer(config, clock=VirtualClock())
    _, token = srv.store.add_agent("Alice")
    await srv.start()
    try:
        origin = f"http://127.0.0.1:{srv.port}"
        alice = await agent(srv.url, token, "alice")
        carla, conv = await customer(srv.url, origin, "carla")
        chat_token = next(f["token"] for f in carla.frames if f["type"] == "ChatStarted")
        await alice.expect("Offer", conversation=conv)
        assert (await alice.reply(await alice.send("Accept", conversation=conv)))["type"] == "Ack"
        first = await carla.send("SendMessage", conversation=conv, text="my router blinks")
        first_seq = (await carla.reply(first))["seq"]
        await alice.expect("Message", conversation=conv, text="my router blinks")
        await alice.send("SendMessage", conversation=conv, text="which colour?")
        seen = (await carla.expect("Message", conversation=conv, text="which colour?"))["seq"]
        await alice.close()
        await carla.close()
    finally:
        await srv.stop()
    stored = await _stored(pg_url, conv)
    assert stored == list(range(1, seen + 1))  # gapless, in order, everything acknowledged

    srv = ChatServer(make_config(tmp_path, store=pg_url), clock=VirtualClock())
    await srv.start()  # the same database: the open chat is restored from PostgreSQL
    try:
        origin = f"http://127.0.0.1:{srv.port}"
        alice = await agent(srv.url, token, "alice", resume={conv: seen})
        carla = await Client.open(srv.url, "carla2", origin=origin)
        resume = await carla.send(
            "ResumeChat", conversation=conv, token=chat_token, lastSeq=first_seq
        )
        assert (await carla.reply(resume))["type"] == "ChatStarted"
        missed = await carla.expect("Message", conversation=conv, text="which colour?")
        assert missed["seq"] == seen
        # a retry of a frame stored before the restart gets its original seq ...
        await carla.send("SendMessage", id=first, conversation=conv, text="my router blinks")
        assert (await carla.reply(first))["seq"] == first_seq
        # ... and the chat goes on after the last stored seq
        again = await carla.send("SendMessage", conversation=conv, text="green")
        assert (await carla.reply(again))["seq"] == seen + 1
        await alice.expect("Message", conversation=conv, text="green", seq=seen + 1)
        await alice.close()
        await carla.close()
    finally:
        await srv.stop()
    assert await _stored(pg_url, conv) == list(range(1, seen + 2))


async def _stored(url: str, conv: str) -> list[int]:
    store = PostgresStore(url)
    try:
        return [e.seq for e in await store.read_events(conv, 0, 10_000)]
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_args(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    """``--db FILE`` or ``--store URL``: the database a server process is given."""
    if request.param == "sqlite":
        return ["--db", str(tmp_path / "chats.sqlite")]
    return ["--store", request.getfixturevalue("pg_url")]


def _config_for(store_args: list[str], tmp_path: Path) -> dict[str, str]:
    return {"db": store_args[1]} if store_args[0] == "--db" else {"store": store_args[1]}


def _serve(store_args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "chat_widget.cli", "serve", "--port", "0", *store_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def test_a_second_server_process_on_the_same_database_refuses_to_start(
    store_args: list[str], tmp_path: Path
) -> None:
    config = make_config(tmp_path, **_config_for(store_args, tmp_path))
    async with ChatServer(config, clock=VirtualClock()):
        proc = _serve(store_args)
        try:
            out, err = await asyncio.to_thread(proc.communicate, timeout=PROCESS_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 1, (out, err)
        assert "another chat-widget server already serves" in err, err
        assert "Traceback" not in err
        # and in the same process, a second server is refused the same way
        with pytest.raises(StoreInUse):
            await ChatServer(config, clock=VirtualClock()).start()


async def test_a_killed_server_does_not_keep_the_next_one_out(
    store_args: list[str], tmp_path: Path
) -> None:
    proc = _serve(store_args)
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        assert "customer page" in line, (line, proc.stderr.read() if proc.stderr else "")
        proc.send_signal(signal.SIGKILL)  # no clean-up: the lock must go with the process
    finally:
        if proc.poll() is None:
            proc.kill()
        await asyncio.to_thread(proc.wait, PROCESS_TIMEOUT)
    config = make_config(tmp_path, **_config_for(store_args, tmp_path))
    for _ in range(100):  # PostgreSQL ends the killed process's session within moments
        try:
            async with ChatServer(config, clock=VirtualClock()):
                return
        except StoreInUse:
            await asyncio.sleep(0.05)
    pytest.fail("the killed server's lock was never released")


def test_admin_commands_and_migrate_on_postgresql(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--store", pg_url]) == 0
    assert "steps applied now: 1, 2" in capsys.readouterr().err
    assert main(["migrate", "--store", pg_url]) == 0
    assert "none (up to date)" in capsys.readouterr().err
    assert main(["agents", "add", "Ann Lee", "--nickname", "Ann", "--skill", "billing",
                 "--store", pg_url]) == 0  # fmt: skip
    token = capsys.readouterr().out.strip()
    assert main(["agents", "add", "Uma", "--supervisor", "--store", pg_url]) == 0
    assert main(["agents", "add", "Uma", "--store", pg_url]) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["queues", "add", "q1", "Billing", "--skill", "billing", "--store", pg_url]) == 0
    assert main(["externals", "add", "x1", "Bank", "+49 1", "--store", pg_url]) == 0
    assert main(["agents", "list", "--store", pg_url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ann-lee\tAnn Lee\tagent",
        "uma\tUma\tsupervisor",
    ]

    async def check() -> None:
        store = PostgresStore(pg_url)
        try:
            ann = await store.agent_for_token(token)
            assert ann is not None and ann.public_name == "Ann"
            assert await store.agent_skills() == {"ann-lee": ("billing",)}
            assert [q.id for q in await store.list_queues()] == ["q1"]
            assert [x.phone for x in await store.list_externals()] == ["+49 1"]
        finally:
            await store.close()

    asyncio.run(check())


def test_a_store_out_of_reach_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.pg import free_port

    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    assert main(["agents", "add", "Ann", "--store", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("chat-widget: ") and "Traceback" not in err
    assert main(["agents", "add", "Ann", "--store", "mysql://x"]) == 1
    assert "postgresql://" in capsys.readouterr().err
