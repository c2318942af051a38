"""The store contract (``server.store``), the same tests on SQLite and on PostgreSQL.

Each test gets a fresh store: a SQLite file in ``tmp_path``, or a fresh database
on the session's throw-away PostgreSQL cluster (``tests/pg.py``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from chat_widget.server.pg_store import PostgresStore
from chat_widget.server.sqlite_store import SQLiteStore
from chat_widget.server.store import (
    ConversationRecord,
    ConversationState,
    ConversationUpdate,
    DuplicateAgentError,
    ExternalRecord,
    ImRecord,
    QueueRecord,
    RolledBack,
    StoredEvent,
    StoreError,
    StoreInUse,
    client_key,
)

Store = SQLiteStore | PostgresStore
Factory = Callable[[], Store]
WRITE_FAILED = (StoreError, sqlite3.Error)  # what a refused row fails with


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """Opens the test's store (again: the same database each time)."""
    if request.param == "sqlite":
        path = tmp_path / "chats.sqlite"
        return lambda: SQLiteStore(path)
    url = request.getfixturevalue("pg_url")
    return lambda: PostgresStore(url)


@pytest.fixture
async def store(make_store: Factory) -> AsyncIterator[Store]:
    s = make_store()
    s.start(asyncio.get_running_loop())
    try:
        yield s
    finally:
        await s.close()


def conversation(cid: str, created: float = 1.0, **contact: object) -> ConversationRecord:
    return ConversationRecord(cid, f"hash-{cid}", {"nickname": "Carla", **contact}, created)


def event(
    cid: str, seq: int, *, sender: str | None = "customer", client_id: str | None = None
) -> StoredEvent:
    return StoredEvent(
        cid, seq, "Message", 10.0 + seq, "all", sender, client_id, f'{{"seq": {seq}}}', None
    )


async def test_events_read_back_in_seq_order_in_pages(store: Store) -> None:
    await store.create_conversation(conversation("c1"))
    audience = ("alice", "uma")
    writes = [
        store.append(
            StoredEvent("c1", n, "Message", 10.0 + n, "agents", "alice", None, f"b{n}", audience)
        )
        for n in range(1, 8)
    ]
    await asyncio.gather(*writes)
    first = await store.read_events("c1", 0, 3)
    rest = await store.read_events("c1", 3, 100)
    assert [e.seq for e in first + rest] == list(range(1, 8))
    assert first[0] == StoredEvent(
        "c1", 1, "Message", 11.0, "agents", "alice", None, "b1", audience
    )
    assert await store.read_events("c1", 7, 10) == []
    assert await store.read_events("unknown", 0, 10) == []


async def test_a_seq_is_taken_once(store: Store) -> None:
    await store.create_conversation(conversation("c1"))
    await store.append(event("c1", 1))
    with pytest.raises(WRITE_FAILED):
        await store.append(event("c1", 1, sender="agent"))
    assert [e.sender for e in await store.read_events("c1", 0, 10)] == ["customer"]


async def test_a_client_id_keeps_its_first_seq(store: Store) -> None:
    await store.create_conversation(conversation("c1"))
    await store.append(event("c1", 1, client_id="m-1"))
    with pytest.raises(WRITE_FAILED):  # the same sender's retry on another seq
        await store.append(event("c1", 2, client_id="m-1"))
    await store.append(event("c1", 2, sender="alice", client_id="m-1"))  # another sender may
    assert await store.find_client_id("c1", "customer", "m-1") == 1
    assert await store.find_client_id("c1", "alice", "m-1") == 2
    assert await store.find_client_id("c1", "customer", "m-2") is None
    record = await store.get_conversation("c1")
    assert record is not None and record.last_seq == 2
    assert record.client_ids == {client_key("customer", "m-1"): 1, client_key("alice", "m-1"): 2}


async def test_conversations_state_owner_and_the_open_ones(store: Store) -> None:
    await store.create_conversation(conversation("c2", created=2.0, **{"class": "k7"}))
    await store.create_conversation(conversation("c1", created=1.0))
    await store.append(event("c1", 1), ConversationUpdate(ConversationState.ACTIVE, "alice"))
    await store.append(event("c2", 1), ConversationUpdate(ConversationState.DONE, "bob"))
    assert await store.conversation_ids() == ["c1", "c2"]
    c1 = await store.get_conversation("c1")
    assert c1 is not None
    assert (c1.state, c1.owner, c1.token_hash, c1.created) == ("active", "alice", "hash-c1", 1.0)
    c2 = await store.get_conversation("c2")
    assert c2 is not None and c2.contact == {"nickname": "Carla", "class": "k7"}
    assert c2.state is ConversationState.DONE
    assert [c.id for c in await store.open_conversations()] == ["c1"]
    assert await store.get_conversation("nope") is None


async def test_a_state_change_follows_the_events_queued_before_it(store: Store) -> None:
    await store.create_conversation(conversation("c1"))
    store.append(event("c1", 1))
    store.append(event("c1", 2), ConversationUpdate(ConversationState.ENDED, "alice"))
    await store.append(event("c1", 3))
    c1 = await store.get_conversation("c1")
    assert c1 is not None and (c1.state, c1.owner, c1.last_seq) == ("ended", "alice", 3)


async def test_agents_roles_nicknames_capacity_and_tokens(store: Store) -> None:
    alice, alice_token = store.add_agent("Alice Smith", nickname="Ali", capacity=2)
    uma, uma_token = store.add_agent("Uma Lead", supervisor=True)
    assert (alice.id, alice.public_name, alice.capacity, alice.role) == (
        "alice-smith",
        "Ali",
        2,
        "agent",
    )
    assert uma.supervisor and uma.role == "supervisor" and uma.capacity is None
    assert await store.agent_for_token(alice_token) == alice
    assert await store.agent_for_token(uma_token) == uma
    assert await store.agent_for_token("not-a-token") is None
    assert await store.list_agents() == [alice, uma]
    with pytest.raises(DuplicateAgentError):
        store.add_agent("alice smith")
    for bad in ({"name": " "}, {"name": "Bo", "nickname": " "}, {"name": "Bo", "capacity": 0}):
        with pytest.raises(ValueError):
            store.add_agent(**bad)  # type: ignore[arg-type]


async def test_skills_queues_and_externals_replace_by_id(store: Store) -> None:
    store.add_agent("Alice")
    store.set_skills("alice", ("billing", "tech", "billing", ""))
    assert await store.agent_skills() == {"alice": ("billing", "tech")}
    store.set_skills("alice", ("sales",))
    assert await store.agent_skills() == {"alice": ("sales",)}
    store.add_queue(QueueRecord("q1", "Billing", "billing"))
    store.add_queue(QueueRecord("q0", "Anyone"))
    store.add_queue(QueueRecord("q1", "Billing 2", "billing"))
    assert await store.list_queues() == [
        QueueRecord("q0", "Anyone"),
        QueueRecord("q1", "Billing 2", "billing"),
    ]
    store.add_external(ExternalRecord("x1", "Bank", "+49 1"))
    store.add_external(ExternalRecord("x1", "Bank", "+49 2", "Sparkasse"))
    assert await store.list_externals() == [ExternalRecord("x1", "Bank", "+49 2", "Sparkasse")]


async def test_team_im_read_unread_and_mark_read(store: Store) -> None:
    assert await store.next_im_id() == 1
    await store.append_im(ImRecord(1, "alice", "bob", "hi Bob", 5.0, "a-1"))
    await store.append_im(ImRecord(2, "alice", "bob", "there?", 6.0, "a-2"))
    await store.append_im(ImRecord(3, "carl", "bob", "lunch", 7.0))
    await store.append_im(ImRecord(4, "alice", "bob", "again", 8.0, "a-1"))  # a retry: ignored
    assert await store.next_im_id() == 4
    assert [m.id for m in await store.read_im("bob", 0, 10)] == [1, 2, 3]
    assert await store.read_im("alice", 1, 10) == [
        ImRecord(2, "alice", "bob", "there?", 6.0, "a-2")
    ]
    assert await store.im_unread("bob") == {"alice": 2, "carl": 1}
    await store.mark_im_read("bob", "alice", 2)
    await store.mark_im_read("bob", "alice", 1)  # never backwards
    assert await store.im_unread("bob") == {"carl": 1}
    assert await store.im_unread("alice") == {}


async def test_conversations_of_a_contact_newest_first(store: Store) -> None:
    await store.create_conversation(conversation("c1", 1.0, email="Carla@Example.com"))
    await store.create_conversation(conversation("c2", 2.0, phone="+49 30 1"))
    await store.create_conversation(conversation("c3", 3.0, email="carla@example.com"))
    await store.create_conversation(conversation("c4", 4.0, email="other@example.com"))
    found = await store.conversations_of_contact(" CARLA@example.com ", "+49 30 1", 10)
    assert [c.id for c in found] == ["c3", "c2", "c1"]
    assert [c.id for c in await store.conversations_of_contact("carla@example.com", None, 1)] == [
        "c3"
    ]
    older = await store.conversations_of_contact("carla@example.com", None, 10, before=2.5)
    assert [c.id for c in older] == ["c1"]
    assert [c.id for c in await store.conversations_of_contact(None, "+49 30 1", 10)] == ["c2"]
    assert await store.conversations_of_contact(None, " ", 10) == []


async def test_on_commit_runs_in_submission_order(store: Store) -> None:
    for cid in ("a", "b", "c"):
        await store.create_conversation(conversation(cid))
    order: list[tuple[str, int]] = []
    futures = []
    for seq in range(1, 41):
        for cid in ("a", "b", "c"):
            futures.append(
                store.append(event(cid, seq), on_commit=lambda k=(cid, seq): order.append(k))
            )
    await asyncio.gather(*futures)
    assert order == [(cid, seq) for seq in range(1, 41) for cid in ("a", "b", "c")]


async def test_a_failed_write_fails_alone_and_later_writes_are_kept(store: Store) -> None:
    await store.create_conversation(conversation("a"))
    await store.create_conversation(conversation("b"))
    await store.append(event("a", 1, client_id="m-1"))
    committed: list[str] = []
    bad = store.append(event("a", 2, client_id="m-1"), on_commit=lambda: committed.append("a2"))
    behind = store.append(event("a", 3), on_commit=lambda: committed.append("a3"))
    other = store.append(event("b", 1), on_commit=lambda: committed.append("b1"))
    results = await asyncio.gather(bad, behind, other, return_exceptions=True)
    assert isinstance(results[0], WRITE_FAILED)
    assert isinstance(results[1], RolledBack)  # no gap: a3 waits for a2's retry
    assert results[2] is None and committed == ["b1"]
    # the service retries on the failed seq; then the chat goes on
    await store.append(event("a", 2, client_id="m-2"), on_commit=lambda: committed.append("a2"))
    await store.append(event("a", 3), on_commit=lambda: committed.append("a3"))
    assert committed == ["b1", "a2", "a3"]
    assert [e.seq for e in await store.read_events("a", 0, 10)] == [1, 2, 3]
    assert [e.seq for e in await store.read_events("b", 0, 10)] == [1]


async def test_everything_is_there_after_a_reopen(store: Store, make_store: Factory) -> None:
    await store.create_conversation(conversation("c1"))
    store.append(event("c1", 1, client_id="m-1"))
    store.append_im(ImRecord(1, "alice", "bob", "hi", 5.0))
    await store.close()  # commits what is queued
    again = make_store()
    again.start(asyncio.get_running_loop())
    try:
        [record] = await again.open_conversations()
        assert record.last_seq == 1 and record.client_ids == {client_key("customer", "m-1"): 1}
        assert await again.next_im_id() == 2
    finally:
        await again.close()


async def test_one_serving_process_per_database(store: Store, make_store: Factory) -> None:
    await store.claim()
    second = make_store()
    with pytest.raises(StoreInUse, match="already serves"):
        await second.claim()
    await second.close()
    await store.close()  # releases the claim
    third = make_store()
    try:
        await third.claim()
    finally:
        await third.close()
