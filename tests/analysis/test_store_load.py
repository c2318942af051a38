"""The server's SQLite store → analysis frames: a real server, real websockets clients.

The server runs in-process on 127.0.0.1 with a ``VirtualClock`` and a temp database;
every action waits for its acknowledgement before the clock moves, so each stored
time is known exactly (no sleeping). Then ``load_store`` reads the database
read-only and the entries, lifecycle and metrics are checked by hand.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chat_widget.analysis import (
    UnknownEventsWarning,
    agent_metrics,
    conversation_metrics,
    export_parquet,
    export_store,
    frames_from_transcripts,
    load_store,
    load_transcripts,
    waits,
)
from chat_widget.formats import protocol as p
from chat_widget.formats.event_transcript import EventError, transcript_from_events
from chat_widget.formats.transcript_file import (
    TranscriptFileError,
    format_utc,
    read_transcripts,
    validate_transcript,
)
from chat_widget.model.clock import VirtualClock
from chat_widget.model.reply_timer import Thresholds
from chat_widget.server import ChatServer, ServerConfig
from chat_widget.server.sqlite_reader import SQLiteReader
from chat_widget.server.store import StoredEvent

from ..server.helpers import Client, agent, customer

T0 = 1_767_600_000.0
LIMITS = Thresholds(30.0, 60.0)


def at(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(T0 + seconds, unit="s", tz="UTC")


async def acked(client: Client, type_: str, **fields: Any) -> None:
    frame_id = await client.send(type_, **fields)
    reply = await client.reply(frame_id)
    assert reply["type"] == "Ack", reply


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def play_day(tmp_path: Path, store: str | None = None) -> tuple[Path, str, str]:
    """Two conversations on a real server: one complete, one abandoned in the queue.

    ``store``: a PostgreSQL URL to serve from instead of the SQLite file."""
    db = tmp_path / "chats.sqlite"
    clock = VirtualClock(start=T0)
    config = ServerConfig(
        host="127.0.0.1",
        port=0,
        db=str(db),
        store=store,
        rate_per_second=1000.0,
        rate_burst=100_000.0,
    )
    srv = ChatServer(config, clock=clock)
    await srv.start()
    try:
        _, alice_token = srv.store.add_agent("Alice")
        _, bob_token = srv.store.add_agent("Bob")
        alice = await agent(srv.url, alice_token, "alice")
        bob = await agent(srv.url, bob_token, "bob", ready=False)  # consulted only
        origin = f"http://127.0.0.1:{srv.port}"
        carla, conv = await customer(srv.url, origin, "carla")  # T0: offered
        await alice.expect("Offer", conversation=conv)

        clock.advance(4)
        await acked(alice, "Accept", conversation=conv)  # +4
        clock.advance(1)
        await acked(carla, "StartTyping", conversation=conv)  # +5
        clock.advance(2)
        await acked(carla, "SendMessage", conversation=conv, text="Hi, my bill is wrong")  # +7
        clock.advance(12)
        await acked(alice, "SendMessage", conversation=conv, text="Let me check")  # +19
        clock.advance(5)
        await acked(alice, "PushUrl", conversation=conv, url="https://example.com/bill")  # +24
        clock.advance(10)
        await acked(carla, "SendMessage", conversation=conv, text="Still there?")  # +34

        # a consultation with Bob while Carla waits: agents-only, never a reply
        clock.advance(6)
        await acked(
            alice,
            "StartConsultation",
            conversation=conv,
            consultation="k1",
            targetKind="agent",
            targetId="bob",
        )  # +40
        await bob.expect("ConsultationOffered", conversation=conv)
        clock.advance(1)
        await acked(bob, "AnswerConsultation", conversation=conv, consultation="k1")  # +41
        clock.advance(1)
        await acked(
            alice, "SendConsultMessage", conversation=conv, consultation="k1", text="Refund ok?"
        )  # +42
        clock.advance(1)
        await acked(
            bob, "SendConsultMessage", conversation=conv, consultation="k1", text="Yes, go ahead"
        )  # +43
        clock.advance(2)
        await acked(alice, "EndConsultation", conversation=conv, consultation="k1")  # +45

        clock.advance(25)
        await acked(alice, "StartTyping", conversation=conv)  # +70
        clock.advance(4)
        await acked(alice, "SendMessage", conversation=conv, text="Refund issued")  # +74
        clock.advance(2)
        await acked(alice, "SetDisposition", conversation=conv, code="Resolved")  # +76
        await acked(alice, "AddNote", conversation=conv, text="refund issued")  # +76
        clock.advance(4)
        await acked(alice, "EndChat", conversation=conv)  # +80
        clock.advance(30)
        await acked(alice, "MarkDone", conversation=conv)  # +110

        clock.advance(10)
        dana, gone = await customer(srv.url, origin, "dana", nickname="Dana")  # +120
        await alice.expect("Offer", conversation=gone)
        clock.advance(5)
        await acked(dana, "EndChat", conversation=gone)  # +125: left before accept

        # read while the server runs (WAL: the reader blocks nobody)
        live = load_store(store or db)
        assert len(live.conversations) == 2
        for c in (alice, bob, carla, dana):
            await c.close()
    finally:
        await srv.stop()
    return db, conv, gone


async def test_real_server_conversation_loads(tmp_path: Path) -> None:
    db, conv, gone = await play_day(tmp_path)
    before = digest(db)
    frames = load_store(db)
    assert digest(db) == before  # read-only: nothing written (SQLite may add an empty WAL)
    wal = Path(f"{db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    reader = SQLiteReader.open_readonly(db)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):  # opened with mode=ro
        reader._reader.execute(
            "INSERT INTO agents (id, name, token_hash, created) VALUES ('eve', 'Eve', 'x', 0)"
        )
    assert not hasattr(reader, "add_agent") and not hasattr(reader, "start")  # reads only
    await reader.close()

    c = frames.conversations.set_index(frames.conversations["conversation_id"].astype(str))
    assert list(c.index) == [conv, gone]
    one = c.loc[conv]
    assert one["state"] == "done"
    assert (one["agent_id"], one["agent_name"]) == ("alice", "Alice")
    assert (one["contact_id"], one["contact_name"]) == ("customer", "Carla")
    assert one["offered_at"] == at(0)
    assert one["accepted_at"] == at(4)
    assert pd.isna(one["left_at"])
    assert one["ended_at"] == at(80)
    assert one["done_at"] == at(110)
    assert one["disposition"] == "Resolved"
    assert (one["notes"], one["n_notes"]) == ("refund issued", 1)
    assert (one["source"], one["record"]) == (str(db), 1)
    assert np.isnan(one["yellow_after"])  # the server does not know the thresholds

    e = frames.conversation(conv)
    got = [
        (
            (r.time - at(0)).total_seconds(),
            r.kind,
            r.sender_role,
            r.sender_id,
            r.text,
            r.visibility,
            None if pd.isna(r.event) else r.event,
        )
        for r in e.itertuples()
    ]
    assert got == [
        (0.0, "notice", "contact", "customer", "Carla joined the chat", "all", "joined"),
        (4.0, "notice", "agent", "alice", "Alice joined the chat", "all", "joined"),
        (7.0, "message", "contact", "customer", "Hi, my bill is wrong", "all", None),
        (19.0, "message", "agent", "alice", "Let me check", "all", None),
        (
            24.0,
            "push_url",
            "agent",
            "alice",
            "Please click the link your agent sent: https://example.com/bill",
            "all",
            None,
        ),
        (34.0, "message", "contact", "customer", "Still there?", "all", None),
        (
            40.0,
            "notice",
            "agent",
            "alice",
            "Consultation with Bob (chat): requested",
            "agents",
            None,
        ),
        (
            41.0,
            "notice",
            "system",
            "system",
            "Consultation with Bob (chat): active",
            "agents",
            None,
        ),
        (42.0, "consult", "agent", "alice", "Refund ok?", "agents", None),
        (43.0, "consult", "agent", "bob", "Yes, go ahead", "agents", None),
        (45.0, "notice", "agent", "alice", "Consultation with Bob (chat): ended", "agents", None),
        (74.0, "message", "agent", "alice", "Refund issued", "all", None),
        (80.0, "notice", "agent", "alice", "Alice ended the chat", "all", None),
    ]
    assert list(e["index"]) == list(range(13))
    assert e.iloc[4]["url"] == "https://example.com/bill"
    typing = frames.typing[frames.typing["conversation_id"] == conv]
    assert [
        ((r.time - at(0)).total_seconds(), r.role, r.typing, r.sender_id)
        for r in typing.itertuples()
    ] == [(5.0, "contact", True, "customer"), (70.0, "agent", True, "alice")]

    # metrics, by hand: the wait from accept (+4) ends with the reply at +19 (15 s);
    # Carla's +34 message waits until +74 (40 s: 30 green, 10 yellow) - the consultation
    # messages in between are no replies
    m = conversation_metrics(frames, LIMITS).set_index("conversation_id")
    row = m.loc[conv]
    assert row["time_to_accept_s"] == 4.0
    assert row["first_response_s"] == 15.0
    assert row["first_response_from_offer_s"] == 19.0
    assert row["responses"] == 2
    assert row["response_mean_s"] == 27.5
    assert row["response_max_s"] == 40.0
    assert row["handle_s"] == 76.0
    assert row["wrap_up_s"] == 30.0
    assert (row["green_s"], row["yellow_s"], row["red_s"]) == (45.0, 10.0, 0.0)
    assert (row["waits"], row["pushed_urls"], row["transfers"], row["conferences"]) == (2, 1, 0, 0)
    assert (row["contact_messages"], row["agent_messages"]) == (2, 3)
    assert not row["abandoned"] and not row["unanswered"]
    w = waits(frames, LIMITS)
    assert list(w.loc[w["conversation_id"] == conv, "responder_id"].astype(str)) == [
        "alice",
        "alice",
    ]

    # the abandoned chat: offered at +120, the contact left at +125, no agent
    two = c.loc[gone]
    assert two["state"] == "contact_left"
    assert (two["agent_id"], two["contact_name"], two["record"]) == ("", "Dana", 2)
    assert two["offered_at"] == at(120) and pd.isna(two["accepted_at"])
    assert two["left_at"] == at(125) and two["ended_at"] == at(125)
    assert m.loc[gone, "abandoned"] and np.isnan(m.loc[gone, "time_to_accept_s"])
    assert agent_metrics(frames, LIMITS).loc["alice", "responses"] == 2

    # the general loader takes the database too; export → JSON Lines → load is the same
    via_loader = load_transcripts(db)
    pd.testing.assert_frame_equal(via_loader.entries, frames.entries)
    pd.testing.assert_frame_equal(via_loader.conversations, frames.conversations)
    out = tmp_path / "day.jsonl"
    assert export_store(db, out) == 2
    docs = read_transcripts(out).transcripts
    assert [d["id"] for d in docs] == [conv, gone]
    assert docs[0]["contact"]["emails"] == ["carla@example.com"]
    back = load_transcripts(out)
    pd.testing.assert_frame_equal(back.entries, frames.entries)
    pd.testing.assert_frame_equal(
        back.conversations.drop(columns=["source", "record"]),
        frames.conversations.drop(columns=["source", "record"]),
    )


def comparable(frames: Any, ids: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Every frame with the store's own names (conversation ids, the source) replaced."""
    out = {}
    for name in ("conversations", "entries", "typing"):
        df = getattr(frames, name).copy()
        for col in df.columns:
            if isinstance(df[col].dtype, pd.CategoricalDtype):
                df[col] = df[col].astype(object)
        if "source" in df.columns:
            df["source"] = "<store>"
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].map(lambda v: ids.get(v, v) if isinstance(v, str) else v)
        out[name] = df
    return out


async def test_a_postgresql_store_gives_the_same_frames_as_sqlite(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same day on a SQLite server and on a PostgreSQL one (``--store``): load_store
    reads each, and every frame is the same but for the stores' own names."""
    (tmp_path / "lite").mkdir()
    (tmp_path / "pg").mkdir()
    monkeypatch.setattr(Client, "_ids", itertools.count(1))  # the same frame ids twice
    db, conv, gone = await play_day(tmp_path / "lite")
    monkeypatch.setattr(Client, "_ids", itertools.count(1))
    _, pg_conv, pg_gone = await play_day(tmp_path / "pg", store=pg_url)
    assert {conv, gone}.isdisjoint({pg_conv, pg_gone})  # each store named its own chats

    lite = load_store(db)
    pg = load_store(pg_url)
    assert pg.problems == [] and lite.problems == []
    assert list(pg.conversations["source"].astype(str)) == [pg_url, pg_url]
    assert list(pg.conversations["record"]) == [1, 2]
    assert len(pg.entries) == len(lite.entries) == 13 + 2  # every stored event, both chats
    a = comparable(lite, {conv: "c1", gone: "c2"})
    b = comparable(pg, {pg_conv: "c1", pg_gone: "c2"})
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    pd.testing.assert_frame_equal(
        conversation_metrics(lite, LIMITS).drop(columns=["conversation_id"]),
        conversation_metrics(pg, LIMITS).drop(columns=["conversation_id"]),
    )
    # class_id: only that class run's chats (none here)
    assert len(load_store(pg_url, class_id="nobody").conversations) == 0
    # load_transcripts takes the URL too, with its filters
    via = comparable(load_transcripts(pg_url), {pg_conv: "c1", pg_gone: "c2"})
    for name in b:
        pd.testing.assert_frame_equal(via[name], b[name], obj=name)
    one = load_transcripts(pg_url, conversations=[pg_gone])
    assert list(one.conversations["conversation_id"].astype(str)) == [pg_gone]
    assert set(one.entries["conversation_id"].astype(str)) == {pg_gone}
    # and a Parquet dataset straight from the live PostgreSQL store
    back = comparable(
        load_transcripts(export_parquet(pg_url, tmp_path / "pg.parquet")),
        {pg_conv: "c1", pg_gone: "c2"},
    )
    for name in b:
        pd.testing.assert_frame_equal(back[name], b[name], obj=name)


def test_a_postgresql_database_without_the_store_says_so(pg_url: str) -> None:
    with pytest.raises(LookupError, match="no chat-widget tables"):
        load_store(pg_url)


def test_a_store_url_shows_no_password() -> None:
    from chat_widget.analysis.store import _shown, is_store_url

    assert _shown("postgresql://chat:s3cret@db:5432/chats") == "postgresql://chat:***@db:5432/chats"
    assert _shown("postgresql://chat@db/chats") == "postgresql://chat@db/chats"
    assert is_store_url("postgres://db/chats") and is_store_url("postgresql://db/chats")
    assert not is_store_url("chats.sqlite") and not is_store_url(Path("postgresql:"))


async def test_corrupted_and_unknown_events(tmp_path: Path) -> None:
    db, conv, gone = await play_day(tmp_path)
    bad = tmp_path / "bad.sqlite"
    shutil.copy(db, bad)
    con = sqlite3.connect(bad)
    (last,) = con.execute("SELECT MAX(seq) FROM events WHERE conversation = ?", (gone,)).fetchone()
    future = {"v": 1, "type": "HologramShared", "conversation": conv, "seq": 99, "utcTime": 1}
    broken = {  # a known type without its text
        "v": 1,
        "type": "Message",
        "conversation": gone,
        "seq": last + 1,
        "utcTime": 1,
        "from": {"nickname": "Dana", "participantId": "customer", "type": "Client"},
    }
    rows = [
        (conv, 99, "HologramShared", T0 + 111, "all", "x", None, json.dumps(future)),
        (conv, 100, "HologramShared", T0 + 112, "all", "x", None, json.dumps(future)),
        (gone, last + 1, "Message", T0 + 126, "all", "customer", None, json.dumps(broken)),
    ]
    con.executemany(
        "INSERT INTO events (conversation, seq, type, time, visibility, sender, client_id, body)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.commit()
    con.close()

    with pytest.warns(UnknownEventsWarning, match="HologramShared ×2") as caught:
        frames = load_store(bad, errors="skip")
    assert caught[0].message.counts == Counter({"HologramShared": 2})  # type: ignore[union-attr]
    assert list(frames.conversations["conversation_id"].astype(str)) == [conv]
    assert len(frames.conversation(conv)) == 13  # the unknown events left out, nothing else
    (problem,) = frames.problems
    assert (problem.source, problem.record) == (str(bad), 2)
    assert problem.field == f"events[seq={last + 1}].text"
    assert gone in problem.message

    with pytest.raises(TranscriptFileError) as exc:
        load_store(bad)
    assert (exc.value.source, exc.value.record) == (str(bad), 2)
    assert exc.value.field == f"events[seq={last + 1}].text"

    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("hello")
    with pytest.raises(ValueError, match="not a chat-widget server database"):
        load_store(not_a_db)
    with pytest.raises(FileNotFoundError):
        load_store(tmp_path / "missing.sqlite")


# ----------------------------------------------------------------------------- pure mapping
CARLA = p.Participant(nickname="Carla", participant_id="customer", type=p.ParticipantType.CLIENT)
ALICE = p.Participant(nickname="Alice", participant_id="alice", type=p.ParticipantType.AGENT)
BOB = p.Participant(nickname="Bob", participant_id="bob", type=p.ParticipantType.AGENT)
CORA = p.Participant(nickname="Cora", participant_id="cora", type=p.ParticipantType.AGENT)


def stored(
    seq: int, t: float, model: type[p._Event], who: p.Participant, **fields: Any
) -> StoredEvent:
    values = {"conversation": "c1", "seq": seq, "utc_time": int((T0 + t) * 1000), "from": who}
    frame = model.model_validate({**values, **fields})
    return StoredEvent(
        "c1",
        seq,
        frame.type,
        T0 + t,
        str(frame.visibility),
        who.participant_id,
        None,
        frame.to_json(),
    )


def test_transfer_conference_and_leaving() -> None:
    agents = p.Visibility.AGENTS
    events: list[StoredEvent | str] = [
        stored(1, 0, p.ParticipantJoined, CARLA),
        stored(2, 2, p.ParticipantJoined, ALICE),
        stored(3, 3, p.Message, CARLA, text="Hello"),
        stored(
            4,
            5,
            p.TransferRequested,
            ALICE,
            visibility=agents,
            target_kind="agent",
            target_id="bob",
            target_name="Bob",
            note="billing",
        ),
        stored(5, 8, p.ChatTransferred, BOB, previous=ALICE),
        stored(6, 9, p.Message, BOB, text="Bob here"),
        stored(7, 10, p.InviteSent, BOB, visibility=agents, target_id="cora", target_name="Cora"),
        stored(8, 12, p.ParticipantJoined, CORA),
        stored(9, 15, p.ParticipantLeft, CORA, successor=BOB),
        '{"v":1,"type":"ImSent","seq":10}',  # a type from a later protocol
        stored(11, 20, p.ParticipantLeft, CARLA),
        stored(12, 30, p.ChatDone, BOB, visibility=agents),
    ]
    skipped: Counter[str] = Counter()
    doc = transcript_from_events("c1", events, contact={"nickname": "Carla"}, skipped=skipped)
    validate_transcript(doc)
    assert skipped == Counter({"ImSent": 1})
    assert doc["agent"] == {"id": "alice", "name": "Alice"}  # who accepted
    assert [(e["sender"]["id"], e.get("event")) for e in doc["entries"]] == [
        ("customer", "joined"),
        ("alice", "joined"),
        ("customer", None),
        ("alice", None),
        ("bob", "transfer"),
        ("bob", None),
        ("bob", None),
        ("cora", "conference"),
        ("cora", "left"),
        ("customer", "left"),
    ]
    assert doc["entries"][3]["text"] == "Alice asked to transfer the chat to Bob: billing"
    assert doc["entries"][3]["visibility"] == "agents"
    assert [q["id"] for q in doc["parties"]] == ["alice", "customer", "bob", "cora"]
    assert (doc["left_at"], doc["ended_at"], doc["done_at"]) == (
        format_utc(T0 + 20),
        format_utc(T0 + 20),
        format_utc(T0 + 30),
    )
    assert doc["state"] == "done"
    m = conversation_metrics(frames_from_transcripts([doc]), LIMITS).iloc[0]
    assert (m["transfers"], m["conferences"], m["handle_s"]) == (1, 1, 18.0)
    assert m["first_response_s"] == 7.0  # Bob's message at +9, accepted at +2


def test_corrupted_bodies_name_the_event() -> None:
    good = stored(1, 0, p.ParticipantJoined, CARLA)
    not_json = StoredEvent("c1", 2, "Message", T0 + 1, "all", "customer", None, "{oops")
    with pytest.raises(EventError, match=r"events\[seq=2\]\.body: not valid JSON"):
        transcript_from_events("c1", [good, not_json])
    bad_url = StoredEvent(
        "c1",
        3,
        "PushUrl",
        T0 + 1,
        "all",
        "alice",
        None,
        json.dumps(
            {
                "type": "PushUrl",
                "seq": 3,
                "conversation": "c1",
                "utcTime": 5,
                "from": {"nickname": "A", "participantId": "a", "type": "Agent"},
            }
        ),
    )
    with pytest.raises(EventError) as exc:
        transcript_from_events("c1", [good, bad_url])
    assert exc.value.seq == 3 and exc.value.where.startswith("events[seq=3].")
    # bare frames as a client received them: times from utcTime
    doc = transcript_from_events("c1", [json.loads(good.body)])
    assert doc["offered_at"] == format_utc(T0)
