"""Write conversations into a server database through the real ``SQLiteStore`` or
``PostgresStore`` (``create_conversation`` + ``append``, the server's own write path),
with exact times."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chat_widget.formats import protocol as p
from chat_widget.server.pg_store import PostgresStore
from chat_widget.server.sqlite_store import SQLiteStore, hash_token
from chat_widget.server.store import ConversationRecord, ConversationState, StoredEvent
from chat_widget.server.store_factory import postgres_store

Step = tuple[float, type[p._Event], p.Participant, dict[str, Any]]


def who(name: str, pid: str, kind: p.ParticipantType = p.ParticipantType.AGENT) -> p.Participant:
    return p.Participant(nickname=name, participant_id=pid, type=kind)


CUSTOMER = who("Carla", "customer", p.ParticipantType.CLIENT)


@dataclass
class Chat:
    """One conversation: its id, the class run that created it, when it was requested
    (``t0``, epoch seconds) and its events (seconds after ``t0``)."""

    id: str
    class_id: str | None
    t0: float
    steps: Sequence[Step]
    contact: dict[str, Any] = field(default_factory=lambda: {"nickname": "Carla"})

    def events(self) -> list[StoredEvent]:
        out = []
        for seq, (t, model, sender, fields) in enumerate(self.steps, start=1):
            frame = model.model_validate(
                {
                    "conversation": self.id,
                    "seq": seq,
                    "utc_time": round((self.t0 + t) * 1000),
                    "from": sender,
                    **fields,
                }
            )
            out.append(
                StoredEvent(
                    self.id,
                    seq,
                    frame.type,
                    self.t0 + t,
                    str(frame.visibility),
                    sender.participant_id,
                    None,
                    frame.to_json(),
                )
            )
        return out


def handled(
    agent: p.Participant,
    *,
    accept: float,
    said: Iterable[tuple[float, p.Participant, str]],
    end: float,
    disposition: str | None = None,
    urls: Iterable[float] = (),
) -> list[Step]:
    """The steps of an accepted chat: the customer arrives at 0, ``agent`` accepts at
    ``accept``, the messages ``said``, pushed URLs at ``urls``, the end and wrap-up."""
    steps: list[Step] = [
        (0, p.ParticipantJoined, CUSTOMER, {}),
        (accept, p.ParticipantJoined, agent, {}),
    ]
    steps += [(t, p.Message, sender, {"text": text}) for t, sender, text in said]
    steps += [
        (t, p.PushUrl, agent, {"url": "https://example.com/faq", "text": "FAQ"}) for t in urls
    ]
    steps.append((end, p.ChatEnded, agent, {}))
    if disposition is not None:
        steps.append(
            (end + 1, p.DispositionSet, agent, {"visibility": "agents", "code": disposition})
        )
    steps.append((end + 2, p.ChatDone, agent, {"visibility": "agents"}))
    return sorted(steps, key=lambda s: s[0])


async def _write(db: Path | str, chats: Sequence[Chat]) -> None:
    store: SQLiteStore | PostgresStore
    store = postgres_store(db) if isinstance(db, str) else SQLiteStore(db, synchronous="NORMAL")
    store.start(asyncio.get_running_loop())
    try:
        pending: list[asyncio.Future[None]] = []
        for chat in chats:  # the writer keeps the order; one group commit per batch
            contact = dict(chat.contact)
            if chat.class_id is not None:
                contact["class"] = chat.class_id
            pending.append(
                store.create_conversation(
                    ConversationRecord(
                        chat.id, hash_token(chat.id), contact, chat.t0, ConversationState.DONE
                    )
                )
            )
            pending += [store.append(event) for event in chat.events()]
        await asyncio.gather(*pending)
    finally:
        await store.close()


def write_store(db: str | Path, chats: Sequence[Chat]) -> Path:
    """A server database holding ``chats`` (created if missing)."""
    path = Path(db)
    asyncio.run(_write(path, chats))
    return path


def write_pg_store(url: str, chats: Sequence[Chat]) -> str:
    """The same in a PostgreSQL store (a ``--store`` server's database) at ``url``."""
    asyncio.run(_write(url, chats))
    return url
