"""Several real server processes form one chat service (issue 18).

``chat-widget serve`` processes (``tests/cluster.py``) on one throw-away
PostgreSQL database and one throw-away Redis: one is the router, the others
gateways. Clients (``wire_clients.py``) connect anywhere, and after a close or
a drop resume on the next process. Outcomes are checked against what the users
saw and against PostgreSQL's events table: nothing lost, nothing duplicated,
each sender's messages in send order, seqs gapless per conversation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import pytest

from chat_widget import WebSocketBackend, WebSocketSupervisor
from chat_widget.model.clock import VirtualClock
from chat_widget.model.session import ChatSession
from chat_widget.server.store_factory import admin_store

from ..cluster import ServerCluster
from ..redis_instance import RedisInstance
from .test_reconnect import FAST
from .wire_clients import WireAgentClient, WireClient, WireCustomerClient, stop_all, until


def messages(session: ChatSession) -> list[str | None]:
    """The texts of the messages in an agent's session, in its order."""
    return [e.text for e in session.transcript if e.kind == "message"]


@pytest.fixture
async def clusters() -> AsyncIterator[list[ServerCluster]]:
    """The test's clusters; every process is stopped at the end (bounded)."""
    made: list[ServerCluster] = []
    try:
        yield made
    finally:
        for cluster in made:
            await asyncio.to_thread(cluster.stop)


async def start_cluster(
    made: list[ServerCluster], n: int, store: str, bus: str, *extra: str
) -> ServerCluster:
    cluster = ServerCluster(n, store=store, bus=bus, extra=extra)
    made.append(cluster)
    await asyncio.to_thread(cluster.start)
    await cluster.arouter()  # one router elected, the others gateways
    return cluster


@contextmanager
def explained(cluster: ServerCluster, clients: list[WireClient]) -> Iterator[None]:
    """A failure says what every process and client was doing."""
    try:
        yield
    except AssertionError as exc:
        states = "\n".join(
            f"{c.name}: at {c.url} connects {c.connects} closes {c.closes} "
            f"outbox {len(c.outbox)} errors {c.errors[-3:]}"
            for c in clients
        )
        raise AssertionError(f"{exc}\n{states}\n{cluster.report()}") from exc


def add_agents(store: str, names: list[str]) -> dict[str, tuple[str, str]]:
    """name -> (agent id, token)."""
    admin = admin_store("", store)
    out = {}
    for name in names:
        record, token = admin.add_agent(name)
        out[name] = (record.id, token)
    return out


@dataclass
class Chat:
    """One chat of a test and what each side sent, in send order."""

    customer: WireCustomerClient
    agent: WireAgentClient | None = None
    from_customer: list[str] = field(default_factory=list)
    from_agent: list[str] = field(default_factory=list)

    @property
    def conversation(self) -> str:
        assert self.customer.conversation is not None
        return self.customer.conversation


def stored_events(store: str) -> dict[str, list[tuple[int, str, str | None, dict[str, object]]]]:
    """conversation -> [(seq, type, sender, body)] in seq order, read from PostgreSQL."""
    out: dict[str, list[tuple[int, str, str | None, dict[str, object]]]] = {}
    with psycopg.connect(store, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT conversation, seq, type, sender, body FROM events ORDER BY conversation, seq"
        ).fetchall()
    for conv, seq, kind, sender, body in rows:
        out.setdefault(conv, []).append((seq, kind, sender, json.loads(body)))
    return out


def check_exact(store: str, chats: list[Chat]) -> None:
    """0 lost, 0 duplicated, each sender's order kept, gapless seqs (PostgreSQL); every
    client saw every message of its chat exactly once, in the stored order."""
    stored = stored_events(store)
    for conv, events in stored.items():
        assert [e[0] for e in events] == list(range(1, len(events) + 1)), f"gap in {conv}"
    for chat in chats:
        conv = chat.conversation
        assert chat.agent is not None and chat.agent.agent_id is not None
        messages = [
            (sender, str(body["text"]))
            for _, kind, sender, body in stored[conv]
            if kind == "Message"
        ]
        assert [t for s, t in messages if s == "customer"] == chat.from_customer, conv
        assert [t for s, t in messages if s == chat.agent.agent_id] == chat.from_agent, conv
        assert len(messages) == len(chat.from_customer) + len(chat.from_agent), conv
        texts = [t for _, t in messages]
        assert chat.customer.texts(conv) == texts, f"{chat.customer.name} saw"
        assert chat.agent.texts(conv) == texts, f"{chat.agent.name} saw ({conv})"
        assert chat.customer.agent_frames() == []
    clients: list[WireClient] = [c.customer for c in chats]
    clients += list({id(c.agent): c.agent for c in chats if c.agent is not None}.values())
    for client in clients:
        assert client.duplicates == 0, client.name


async def delivered(chats: list[Chat], timeout: float = 60.0) -> None:
    """Wait (bounded) until every frame is acknowledged and every message arrived."""

    def done() -> bool:
        for chat in chats:
            total = len(chat.from_customer) + len(chat.from_agent)
            assert chat.agent is not None
            if chat.customer.outbox or chat.agent.outbox:
                return False
            conv = chat.conversation
            if len(chat.customer.messages(conv)) < total or len(chat.agent.messages(conv)) < total:
                return False
        return True

    def missing() -> str:
        return "; ".join(
            f"{c.customer.name}: unacknowledged {len(c.customer.outbox)}"
            f"+{len(c.agent.outbox) if c.agent else 0},"
            f" saw {len(c.customer.messages(c.conversation))}"
            for c in chats
        )

    await until(done, timeout, missing)


async def open_chats(
    cluster: ServerCluster, store: str, n_customers: int, n_agents: int
) -> tuple[list[Chat], list[WireAgentClient]]:
    """Agent j starts on process j, customer i on process i (mod N); all accepted."""
    n = len(cluster.procs)
    ids = add_agents(store, [f"Agent{j}" for j in range(n_agents)])
    agents = [
        WireAgentClient(
            f"agent{j}", cluster.urls, ids[f"Agent{j}"][1], start=j % n, auto_accept=True
        )
        for j in range(n_agents)
    ]
    for a in agents:
        a.start()
    await until(lambda: all(a.live.is_set() for a in agents), what="agents authenticated")
    customers = [
        WireCustomerClient(f"cust{i}", cluster.urls, cluster.page_origin(i), start=i % n)
        for i in range(n_customers)
    ]
    for c in customers:
        c.start()
    await until(
        lambda: sum(len(a.owned) for a in agents) == n_customers,
        what=lambda: f"accepted {[a.owned for a in agents]}",
    )
    owner = {conv: a for a in agents for conv in a.owned}
    chats = [Chat(c, owner[c.conversation]) for c in customers if c.conversation is not None]
    assert len(chats) == n_customers
    return chats, agents


def send_round(chats: list[Chat], r: int, lose_acks: frozenset[int] = frozenset()) -> None:
    """Each customer and each agent write one message in each of their chats;
    clients in ``lose_acks`` (by ``id``) will not hear their Acks (``WireClient.send``)."""
    for chat in chats:
        assert chat.agent is not None
        text = f"{chat.customer.name} c{r}"
        chat.customer.say(text, lose_ack=id(chat.customer) in lose_acks)
        chat.from_customer.append(text)
        text = f"{chat.agent.name} {chat.conversation} a{r}"
        chat.agent.say(chat.conversation, text, lose_ack=id(chat.agent) in lose_acks)
        chat.from_agent.append(text)


async def stored_but_unheard(chats: list[Chat], r: int, movers: list[WireClient]) -> int:
    """Round ``r``, whose Acks the ``movers`` (the clients about to lose their process)
    never hear: stored, and resent after they move, so they must not be stored twice.
    Returns the next round."""
    send_round(chats, r, frozenset(id(c) for c in movers))
    await until(lambda: not any(c.deaf for c in movers), what="round stored")
    return r + 1


# ---------------------------------------------------------------------------------- tests
async def test_a_customer_on_one_process_chats_with_an_agent_on_another(
    pg_url: str, redis_url: str, clusters: list[ServerCluster]
) -> None:
    cluster = await start_cluster(clusters, 3, pg_url, redis_url)
    router = await cluster.arouter()
    a, b = [i for i in range(3) if i != router]  # both relayed: through Redis both ways
    (_, token) = add_agents(pg_url, ["Alice"])["Alice"]
    alice = WireAgentClient("alice", [cluster.url(b)], token, auto_accept=True)
    carla = WireCustomerClient("carla", [cluster.url(a)], cluster.page_origin(a))
    clients: list[WireClient] = [alice, carla]
    with explained(cluster, clients):
        try:
            alice.start()
            await until(alice.live.is_set, what="alice authenticated")
            carla.start()
            await until(lambda: len(alice.owned) == 1, what="alice accepted")
            chat = Chat(carla, alice)
            assert alice.owned == [chat.conversation]
            for r in range(5):
                send_round([chat], r)
            await delivered([chat])
            check_exact(pg_url, [chat])
            assert carla.connects == 1 and alice.connects == 1  # nobody had to reconnect
        finally:
            await stop_all(clients)


async def test_kill_9_twice_mid_stream_loses_nothing(
    pg_url: str, redis_url: str, clusters: list[ServerCluster]
) -> None:
    """20 customers and 3 agents over three processes, 30 messages each way per chat;
    kill -9 of a gateway, then of the router, while messages are in flight. Before each
    kill the clients that will move write one message whose Ack they never hear (stored,
    then resent elsewhere: the duplicate check across processes and across a take-over)."""
    cluster = await start_cluster(clusters, 3, pg_url, redis_url, "--agent-capacity", "10")
    chats, agents = await open_chats(cluster, pg_url, 20, 3)
    clients: list[WireClient] = [c.customer for c in chats] + list(agents)
    with explained(cluster, clients):
        try:
            first_router = await cluster.arouter()
            restarted: asyncio.Future[None] | None = None
            killed: list[int] = []
            r = 0
            for step in range(28):
                if step in (9, 18):
                    victim = cluster.gateways()[0] if step == 9 else await cluster.arouter()
                    # the router's death drops every connection (relayed ones with 1012)
                    movers = [c for c in clients if step == 18 or c.url == cluster.url(victim)]
                    assert movers
                    r = await stored_but_unheard(chats, r, movers)
                    send_round(chats, r)  # queued: in flight at the kill
                    r += 1
                    await asyncio.to_thread(cluster.kill9, victim)
                    killed.append(victim)
                    if step == 9:
                        restarted = asyncio.ensure_future(
                            asyncio.to_thread(cluster.restart, victim)
                        )
                else:
                    send_round(chats, r)
                    r += 1
                await asyncio.sleep(0.03)  # the stream goes on
            assert r == 30 and restarted is not None
            await restarted
            await delivered(chats)
            new_router = await cluster.arouter()
            assert killed[1] == first_router != new_router  # a gateway took over
            check_exact(pg_url, chats)
            for client in clients:
                if client.first in killed:  # the killed processes' clients resumed elsewhere
                    assert client.connects >= 2, client.name
                assert client.replies_for_lost_acks() == client.lost_acks  # the original seqs
        finally:
            await stop_all(clients)


async def test_two_agents_on_different_processes_accept_the_same_chat(
    pg_url: str, redis_url: str, clusters: list[ServerCluster]
) -> None:
    """Both agents send Accept for each new chat at the same moment, from different
    processes: exactly one is acknowledged and stored as the owner, the other refused."""
    cluster = await start_cluster(clusters, 3, pg_url, redis_url, "--agent-capacity", "20")
    router = await cluster.arouter()
    gw1, gw2 = [i for i in range(3) if i != router]
    ids = add_agents(pg_url, ["Xavi", "Yuki"])
    xavi = WireAgentClient("xavi", [cluster.url(gw1)], ids["Xavi"][1])
    yuki = WireAgentClient("yuki", [cluster.url(gw2)], ids["Yuki"][1])
    both = [xavi, yuki]
    customers: list[WireCustomerClient] = []
    with explained(cluster, [*both]):
        try:
            for a in both:
                a.start()
            await until(lambda: all(a.live.is_set() for a in both), what="agents in")
            for i in range(8):
                offers = len(xavi.offers) + len(yuki.offers)
                customer = WireCustomerClient(
                    f"c{i}", [cluster.url(router)], cluster.page_origin(0)
                )
                customers.append(customer)
                customer.start()
                await until(
                    lambda: len(xavi.offers) + len(yuki.offers) > offers,  # noqa: B023
                    what="an offer",
                )
                conv = customer.conversation
                assert conv is not None
                ids_sent = [a.accept(conv) for a in both]  # at once, from two processes
                await until(
                    lambda: all(i in a.replies for a, i in zip(both, ids_sent, strict=True)),  # noqa: B023
                    what="both answered",
                )
                answers = [a.replies[i]["type"] for a, i in zip(both, ids_sent, strict=True)]
                assert sorted(answers) == ["Ack", "Error"], answers
                winner = both[answers.index("Ack")]
                loser = both[answers.index("Error")]
                assert loser.refused[conv] == "offer_not_available"
                assert winner.owned[-1] == conv
                with psycopg.connect(pg_url) as conn:
                    row = conn.execute(
                        "SELECT owner FROM conversations WHERE id = %s", (conv,)
                    ).fetchone()
                    joined = conn.execute(
                        "SELECT DISTINCT sender FROM events WHERE conversation = %s"
                        " AND type = 'ParticipantJoined' AND sender <> 'customer'",
                        (conv,),
                    ).fetchall()
                assert row == (winner.agent_id,)
                assert joined == [(winner.agent_id,)]  # one join: the winner's
            assert {conv for a in both for conv in a.owned} == {c.conversation for c in customers}
        finally:
            await stop_all([*both, *customers])


async def test_a_redis_restart_mid_stream_loses_nothing(
    pg_url: str, redis_server: RedisInstance, redis_url: str, clusters: list[ServerCluster]
) -> None:
    """Redis goes away while 8 chats stream and comes back empty 10 rounds later:
    the gateways drop their clients, which move (some to the router, which serves its
    own sockets without Redis) and resume; nothing lost, nothing stored twice."""
    cluster = await start_cluster(clusters, 3, pg_url, redis_url, "--agent-capacity", "10")
    chats, agents = await open_chats(cluster, pg_url, 8, 2)
    clients: list[WireClient] = [c.customer for c in chats] + list(agents)
    down = False
    with explained(cluster, clients):
        try:
            router = await cluster.arouter()
            relayed = [c for c in clients if c.url != cluster.url(router)]
            assert relayed
            r = 0
            for step in range(28):
                if step == 9:
                    r = await stored_but_unheard(chats, r, relayed)
                    send_round(chats, r)  # queued: in flight when Redis goes
                    r += 1
                    down = True
                    await asyncio.to_thread(redis_server.stop)
                else:
                    send_round(chats, r)
                    r += 1
                if step == 19:
                    await asyncio.to_thread(redis_server.start)  # same port, empty
                    down = False
                await asyncio.sleep(0.03)
            await delivered(chats)
            check_exact(pg_url, chats)
            for client in relayed:
                assert client.connects >= 2, client.name  # their gateway dropped them
                assert client.replies_for_lost_acks() == client.lost_acks
            assert await cluster.arouter() in cluster.alive()
        finally:
            await stop_all(clients)
            if down:  # the session's Redis serves the tests after this one
                await asyncio.to_thread(redis_server.start)


async def test_the_real_desk_and_supervisor_follow_the_service_through_a_router_kill(
    pg_url: str, redis_url: str, clusters: list[ServerCluster]
) -> None:
    """``WebSocketBackend`` and ``WebSocketSupervisor`` with the three addresses: the
    router is killed mid-chat; both move on, and the agent's transcript and the
    supervisor's board hold every message once, as PostgreSQL does."""
    cluster = await start_cluster(clusters, 3, pg_url, redis_url)
    router = await cluster.arouter()
    order = sorted(range(3), key=lambda i: i == router)  # start on a gateway, router last
    urls = [cluster.url(i) for i in order]
    ids = add_agents(pg_url, ["Alice"])
    _, tess_token = admin_store("", pg_url).add_agent("Tess", supervisor=True)
    backend = WebSocketBackend(urls, token=ids["Alice"][1], clock=VirtualClock(), reconnect=FAST)
    tess = WebSocketSupervisor(
        urls[1:] + urls[:1], tess_token, clock=VirtualClock(), reconnect=FAST
    )
    carla = WireCustomerClient("carla", cluster.urls, cluster.page_origin(0), start=router)
    with explained(cluster, [carla]):
        try:
            await backend.wait_connected()
            await tess.wait_connected()
            carla.start()
            session = await asyncio.wait_for(backend.next_offer(), 30)
            session.accept()
            await until(lambda: session.id in tess.desk.chats, what="tess sees the chat")
            sent: list[str] = []
            for i in range(20):
                carla.say(f"c{i}")
                sent.append(f"c{i}")
                session.send(f"a{i}")
                sent.append(f"a{i}")
                if i == 9:  # mid-chat, with frames of both in flight
                    await asyncio.to_thread(cluster.kill9, router)
                await asyncio.sleep(0.02)
            conv = session.id
            await until(lambda: backend.pending == 0 and not carla.outbox, what="all acknowledged")
            with psycopg.connect(pg_url) as conn:
                rows = conn.execute(
                    "SELECT sender, body FROM events WHERE conversation = %s AND type = 'Message'"
                    " ORDER BY seq",
                    (conv,),
                ).fetchall()
            stored = [json.loads(body)["text"] for _, body in rows]
            assert sorted(stored) == sorted(sent) and len(stored) == len(set(stored))
            assert [t for t in stored if t[0] == "c"] == [t for t in sent if t[0] == "c"]
            assert [t for t in stored if t[0] == "a"] == [t for t in sent if t[0] == "a"]
            # the desk shows its own messages when sent: each sender's order, each once
            await until(
                lambda: sorted(messages(session)) == sorted(stored),
                what=lambda: f"agent saw {messages(session)}, stored {stored}",
            )
            local = messages(session)
            assert [t for t in local if t[0] == "c"] == [t for t in sent if t[0] == "c"]
            assert [t for t in local if t[0] == "a"] == [t for t in sent if t[0] == "a"]
            await until(lambda: carla.texts(conv) == stored, what="carla has everything")

            def board() -> list[str | None]:
                return [e.text for e in tess.desk.chats[conv].entries if e.kind == "message"]

            await until(lambda: board() == stored, what=lambda: f"board {board()}, stored {stored}")
            assert backend.duplicates == 0 and carla.duplicates == 0
            assert backend.connects >= 2 and tess.connects >= 2  # both moved
            assert backend.url != cluster.url(router)
        finally:
            await carla.stop()
            await backend.aclose()
            await tess.aclose()
