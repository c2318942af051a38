"""Standard responses in analysis (issue 16): the entries column ``response`` (both loaders
and Parquet agree) and ``response_usage``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from chat_widget import MockBackend, VirtualClock
from chat_widget.analysis import export_parquet, load_transcripts, response_usage
from chat_widget.formats.transcript import AgentProfile
from chat_widget.formats.transcript_file import write_transcripts
from chat_widget.model.export import transcript_from_session


def day(agent: AgentProfile, sends: list[tuple[str, str | None]]) -> dict[str, Any]:
    backend = MockBackend("billing", clock=VirtualClock(), agent=agent, responses="sample")
    backend.clock.advance(3)
    session = backend.first_session()
    assert session is not None
    session.accept()
    for text, response in sends:
        backend.clock.advance(5)
        session.send(text, response=response)
    session.end()
    doc = transcript_from_session(session)
    doc["id"] = f"{agent.id}-chat"
    return doc


@pytest.fixture
def path(tmp_path: Path) -> Path:
    lena = AgentProfile("Lena", "lena")
    tom = AgentProfile("Tom", "tom")
    docs = [
        day(lena, [("Hello Maria!", "greeting"), ("checking", None), ("Bye Maria", "goodbye")]),
        day(tom, [("Hello there", "greeting"), ("Hi again", "greeting"), ("ok", None)]),
    ]
    return write_transcripts(tmp_path / "day.jsonl", docs)


def test_both_loaders_and_parquet_give_the_response_column(path: Path, tmp_path: Path) -> None:
    rows = load_transcripts(path, engine="rows")
    cols = load_transcripts(path)
    pd.testing.assert_frame_equal(rows.entries, cols.entries, check_exact=True)
    sent = cols.entries[cols.entries["kind"] == "message"]
    agents = sent[sent["sender_role"] == "agent"]
    got = [None if pd.isna(v) else v for v in agents["response"].astype(object)]
    assert got == ["greeting", None, "goodbye", "greeting", "greeting", None]
    assert cols.entries[cols.entries["sender_role"] == "contact"]["response"].isna().all()
    export_parquet(cols, tmp_path / "pq")
    again = load_transcripts(tmp_path / "pq")
    assert list(again.entries["response"].astype(object).fillna("-")) == list(
        cols.entries["response"].astype(object).fillna("-")
    )


def test_response_usage_counts_per_agent_and_response(path: Path) -> None:
    usage = response_usage(load_transcripts(path))
    assert usage.to_dict("records") == [
        {"agent_id": "tom", "agent_name": "Tom", "response": "greeting", "uses": 2},
        {"agent_id": "lena", "agent_name": "Lena", "response": "goodbye", "uses": 1},
        {"agent_id": "lena", "agent_name": "Lena", "response": "greeting", "uses": 1},
    ]


def test_files_without_responses_load_with_an_empty_column(tmp_path: Path) -> None:
    doc = day(AgentProfile("Lena", "lena"), [("typed", None)])
    path = write_transcripts(tmp_path / "plain.jsonl", [doc])
    rows, cols = load_transcripts(path, engine="rows"), load_transcripts(path)
    pd.testing.assert_frame_equal(rows.entries, cols.entries, check_exact=True)
    assert cols.entries["response"].isna().all()
    usage = response_usage(cols)
    assert usage.empty and list(usage.columns) == ["agent_id", "agent_name", "response", "uses"]
