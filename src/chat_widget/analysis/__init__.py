"""Analyst tools: transcripts → pandas, response-time metrics, plots, synthetic days.

    from chat_widget.analysis import load_transcripts, conversation_metrics
    frames = load_transcripts("day.jsonl")
    conversation_metrics(frames)
    supervision_metrics(frames)            # flags, coaching, barge-ins (issue 14)
    frames = load_store("chats.sqlite")   # the server's database, read-only
    export_parquet(frames, "chats.parquet")  # day-partitioned Parquet; load_transcripts reads it
    class_report("chats.sqlite", "mon-am").to_html("mon-am.html")  # a class run (issue 15)
    response_usage(frames)                # standard responses used, per agent (issue 16)

Needs the ``analysis`` extra (pandas, matplotlib, tqdm). Definitions of every
metric: ``docs/metrics.md``; the file format: ``docs/transcript-format.md``.
"""

from __future__ import annotations

from .classroom import ClassReport, class_report
from .load import TranscriptFrames, frames_from_transcripts, load_transcripts
from .metrics import agent_metrics, conversation_metrics, responses, summary
from .parquet import export_parquet, load_parquet, parquet_files
from .response_usage import response_usage
from .store import UnknownEventsWarning, export_store, load_store
from .supervision import (
    flag_answers,
    supervision_by_agent,
    supervision_events,
    supervision_metrics,
)
from .synthetic import AgentSpec, SyntheticConfig, generate, generate_day
from .waits import colour_at, timeline, waits

__all__ = [
    "AgentSpec",
    "ClassReport",
    "SyntheticConfig",
    "TranscriptFrames",
    "UnknownEventsWarning",
    "agent_metrics",
    "class_report",
    "colour_at",
    "conversation_metrics",
    "export_parquet",
    "export_store",
    "flag_answers",
    "frames_from_transcripts",
    "generate",
    "generate_day",
    "load_parquet",
    "load_store",
    "load_transcripts",
    "parquet_files",
    "response_usage",
    "responses",
    "summary",
    "supervision_by_agent",
    "supervision_events",
    "supervision_metrics",
    "timeline",
    "waits",
]
