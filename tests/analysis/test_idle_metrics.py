"""``idle_alerts`` and ``closed_idle`` (issue 16): from the entries' ``event`` column, the
same with both loading engines, for the mock's exported transcripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_widget import MockBackend, VirtualClock
from chat_widget.analysis import conversation_metrics, load_transcripts
from chat_widget.formats.transcript_io import write_transcripts
from chat_widget.model.export import transcript_from_session
from chat_widget.model.idle_rule import IdleTimes

SCENARIO = {
    "name": "Quiet",
    "contact": {"name": "Maria Weber"},
    "steps": [
        {"say": "My parcel is late", "typing": 0, "delay": 0},
        {"wait_for_reply": True},
        {"pause": 65},  # silent past the alert, then she writes before the close
        {"say": "Order 4711", "typing": 0, "delay": 0},
        {"wait_for_reply": True},
        {"pause": 10_000},  # silent for good: alert and close
    ],
}


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    idle = IdleTimes(alert_after=60, close_after=30)
    docs = []
    for quiet in (True, False):
        backend = MockBackend(SCENARIO, clock=VirtualClock(start=0.0), idle=idle)
        backend.clock.advance(0)
        session = backend.first_session()
        assert session is not None
        session.accept()
        backend.clock.advance(1)
        session.send("Which order is it?")
        backend.clock.advance(66)  # the alert at 61, her "Order 4711" at 66
        session.send("Found it, it ships today.")
        if quiet:
            backend.clock.advance(200)  # the second alert, then the close
        else:
            session.end()
        doc = transcript_from_session(session)
        doc["id"] = "quiet" if quiet else "answered"
        docs.append(doc)
    return write_transcripts(tmp_path_factory.mktemp("idle") / "idle.jsonl", docs)


@pytest.mark.parametrize("engine", ["columnar", "rows"])
def test_idle_alerts_and_closed_idle(jsonl: Path, engine: str) -> None:
    cm = conversation_metrics(load_transcripts(jsonl, engine=engine))  # type: ignore[arg-type]
    assert cm["idle_alerts"].tolist() == [2, 1]
    assert cm["closed_idle"].tolist() == [True, False]
    assert cm["state"].astype(str).tolist() == ["contact_left", "ended"]
