"""Synthetic contact-center days: realistic, seeded, in the transcript format.

For demos, tests and benchmarks. Each agent has its own response-time
distribution (log-normal: a median and a spread), so per-agent plots show
real differences; transfers, conferences, consultations, pushed URLs,
abandoned chats, contacts who leave and typing indicators all occur. Supervision
(a help flag, coaching, barge-ins: issue 14) only when asked for
(``p_supervised``), so the default days stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..formats.notices import Notice, notice, with_detail
from ..formats.time_codec import format_utc_ns
from ..formats.transcript_io import write_transcripts
from ..formats.transcript_schema import FORMAT_NAME, FORMAT_VERSION, parties_of
from ..model.clock import DEFAULT_START
from ..model.reply_timer import Thresholds


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """An agent and how fast they answer (log-normal: ``median`` seconds, ``sigma`` spread)."""

    id: str
    name: str
    response_median_s: float = 20.0
    response_sigma: float = 0.6
    accept_mean_s: float = 8.0


DEFAULT_AGENTS = (
    AgentSpec("a-lena", "Lena Hoffmann", 14.0, 0.5, 5.0),
    AgentSpec("a-tom", "Tom Richter", 22.0, 0.6, 9.0),
    AgentSpec("a-sara", "Sara Yilmaz", 18.0, 0.45, 6.0),
    AgentSpec("a-max", "Max Vogel", 35.0, 0.7, 14.0),
)

_CONTACT_NAMES = (
    "Maria Weber",
    "Jonas Becker",
    "Aylin Kaya",
    "Peter Braun",
    "Ana Costa",
    "Lukas Wolf",
    "Emma Schulz",
    "Noah Klein",
    "Mia Fischer",
    "Ben Neumann",
)
_CONTACT_LINES = (
    "Hi, my invoice for March looks wrong.",
    "I was charged twice this month.",
    "My internet has been down since this morning.",
    "How do I change my tariff?",
    "I already restarted the router.",
    "The reference number is 40-2231.",
    "Can you send me the link again?",
    "OK, thanks. One more question.",
    "That did not work, sorry.",
    "Yes, that is my address.",
    "Great, that helps!",
)
_AGENT_LINES = (
    "Hello, thanks for contacting us. Let me check that for you.",
    "I can see the double charge; I am refunding it now.",
    "Could you give me your customer number, please?",
    "Thanks. One moment please while I look into it.",
    "I have updated your contract; you will get a confirmation e-mail.",
    "Is there anything else I can do for you?",
)
_URLS = (
    "https://example.com/help/invoice",
    "https://example.com/tariffs",
    "https://example.com/router-reset",
    "https://example.com/contact",
)
_DISPOSITIONS = ("Resolved", "Follow-up needed", "Escalated", "Sale", "No action")
_SUPERVISORS = (("s-tess", "Tess Trainer"),)
_FLAG_NOTES = ("", "Customer wants a refund over my limit", "Angry customer")
_COACH_LINES = (
    "Apologise first, then offer the refund.",
    "You may waive the fee this once.",
    "Ask for the contract number before anything else.",
)


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """What a generated day looks like; every field has a sensible default."""

    conversations: int = 200
    agents: tuple[AgentSpec, ...] = DEFAULT_AGENTS
    start: float = DEFAULT_START - 3600.0  # 08:00 UTC
    day_seconds: float = 8 * 3600.0
    turns_mean: float = 4.0
    contact_think_median_s: float = 15.0
    wrap_up_median_s: float = 25.0
    p_abandon: float = 0.03
    p_contact_leaves: float = 0.2
    p_push_url: float = 0.12
    p_transfer: float = 0.05
    p_conference: float = 0.03
    p_consult: float = 0.05
    p_follow_up: float = 0.15
    p_not_done: float = 0.03
    #: share of accepted chats where the agent raises the help flag and a supervisor
    #: coaches (0: none, the default, which keeps generated days as they were)
    p_supervised: float = 0.0
    #: of those, the share where the supervisor also barges in
    p_barge_in: float = 0.4
    supervisors: tuple[tuple[str, str], ...] = _SUPERVISORS
    typing: bool = True
    thresholds: Thresholds = field(default_factory=Thresholds)
    seed: int = 0


def format_utc(t: float) -> str:
    """Generated times are whole milliseconds (as real exports are)."""
    return format_utc_ns(round(t * 1000) * 1_000_000)


class _Conversation:
    """Builds one transcript dict, entry by entry, with times always moving forward."""

    def __init__(self, cid: str, offered: float) -> None:
        self.cid = cid
        self.offered = offered
        self.entries: list[dict[str, Any]] = []
        self.typing: list[dict[str, Any]] = []
        self.last = offered

    def add(
        self,
        t: float,
        kind: str,
        role: str,
        name: str,
        sid: str,
        text: str | Notice,
        *,
        url: str | None = None,
        visibility: str = "all",
        event: str | None = None,
    ) -> float:
        t = max(t, self.last)
        self.last = t
        entry: dict[str, Any] = {
            "index": len(self.entries),
            "time": format_utc(t),
            "kind": kind,
            "sender": {"role": role, "name": name, "id": sid},
            "text": text.text if isinstance(text, Notice) else text,
            "url": url,
            "visibility": visibility,
            "client_id": None,
        }
        if event is not None:
            entry["event"] = event
        if isinstance(text, Notice):
            entry["code"], entry["params"] = text.code, dict(text.params)
        self.entries.append(entry)
        return t


def generate(config: SyntheticConfig | None = None, **overrides: Any) -> Iterator[dict[str, Any]]:
    """Yield ``config.conversations`` transcript dicts (seeded, in offer order)."""
    cfg = replace(config or SyntheticConfig(), **overrides)
    if not cfg.agents:
        raise ValueError("need at least one agent")
    rng = np.random.default_rng(cfg.seed)
    offers = np.sort(rng.uniform(0, cfg.day_seconds, cfg.conversations)) + cfg.start
    for number, offered in enumerate(offers, start=1):
        yield _one(rng, cfg, f"chat-{number:06d}", float(round(offered, 3)))


def _lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    return float(median * np.exp(sigma * rng.standard_normal()))


def _one(
    rng: np.random.Generator, cfg: SyntheticConfig, cid: str, offered: float
) -> dict[str, Any]:
    conv = _Conversation(cid, offered)
    agent = cfg.agents[int(rng.integers(len(cfg.agents)))]
    contact_name = _CONTACT_NAMES[int(rng.integers(len(_CONTACT_NAMES)))]
    contact_id = f"c-{cid[5:]}"
    system = ("system", "System", "system")

    def contact_says(t: float, text: str) -> float:
        if cfg.typing:
            typing_for = min(max(1.0, len(text) / 6), 12.0)
            conv.typing.append(
                {
                    "time": format_utc(max(t - typing_for, conv.last)),
                    "role": "contact",
                    "typing": True,
                    "id": contact_id,
                }
            )
        return conv.add(t, "message", "contact", contact_name, contact_id, text)

    def line(lines: tuple[str, ...]) -> str:
        return lines[int(rng.integers(len(lines)))]

    t = contact_says(offered + 1.0 + rng.uniform(0, 4), line(_CONTACT_LINES))
    accepted_at: float | None = None
    left_at: float | None = None
    ended_at: float | None = None
    done_at: float | None = None
    state = "done"
    if rng.random() < cfg.p_abandon:
        left_at = conv.add(
            t + rng.exponential(40.0),
            "notice",
            "contact",
            contact_name,
            contact_id,
            notice("left", name=contact_name),
            event="left",
        )
        state = "contact_left"
    else:
        accepted_at = max(t, offered + max(1.0, rng.exponential(agent.accept_mean_s)))
        conv.add(
            accepted_at,
            "notice",
            "agent",
            agent.name,
            agent.id,
            notice("joined", name=agent.name),
            event="joined",
        )
        current = agent
        wait_start = accepted_at
        turns = 1 + int(rng.poisson(cfg.turns_mean))
        for turn in range(turns):
            if rng.random() < cfg.p_follow_up:
                contact_says(wait_start + rng.uniform(3, 20), line(_CONTACT_LINES))
            if rng.random() < cfg.p_consult:
                conv.add(
                    wait_start + rng.uniform(2, 10),
                    "consult",
                    "agent",
                    current.name,
                    current.id,
                    "Quick question: is a refund OK here?",
                    visibility="agents",
                )
            if turn > 0 and rng.random() < cfg.p_transfer:
                others = [a for a in cfg.agents if a.id != current.id]
                if others:
                    target = others[int(rng.integers(len(others)))]
                    conv.add(
                        wait_start + rng.uniform(3, 15),
                        "notice",
                        "agent",
                        target.name,
                        target.id,
                        notice("transferred_from_to", previous=current.name, name=target.name),
                        event="transfer",
                    )
                    current = target
            reply_at = wait_start + _lognormal(
                rng, current.response_median_s, current.response_sigma
            )
            if rng.random() < cfg.p_push_url:
                url = _URLS[int(rng.integers(len(_URLS)))]
                last = conv.add(
                    reply_at,
                    "push_url",
                    "agent",
                    current.name,
                    current.id,
                    notice("push_url", url=url),
                    url=url,
                )
            else:
                last = conv.add(
                    reply_at, "message", "agent", current.name, current.id, line(_AGENT_LINES)
                )
            if rng.random() < 0.2:
                last = conv.add(
                    last + rng.uniform(2, 8),
                    "message",
                    "agent",
                    current.name,
                    current.id,
                    line(_AGENT_LINES),
                )
            if turn == 0 and cfg.p_supervised > 0 and rng.random() < cfg.p_supervised:
                last = _supervise(rng, cfg, conv, (current.name, current.id), last)
            if turn == 0 and rng.random() < cfg.p_conference:
                others = [a for a in cfg.agents if a.id != current.id]
                if others:
                    guest = others[int(rng.integers(len(others)))]
                    last = conv.add(
                        last + rng.uniform(2, 6),
                        "notice",
                        "agent",
                        guest.name,
                        guest.id,
                        notice("conference_joined", name=guest.name),
                        event="conference",
                    )
                    last = conv.add(
                        last + rng.uniform(10, 40),
                        "message",
                        "agent",
                        guest.name,
                        guest.id,
                        "Hello, I can confirm that.",
                    )
                    last = conv.add(
                        last + rng.uniform(2, 6),
                        "notice",
                        "agent",
                        guest.name,
                        guest.id,
                        notice("conference_left", name=guest.name),
                        event="left",
                    )
            if turn == turns - 1:
                break
            think = _lognormal(rng, cfg.contact_think_median_s, 0.6)
            wait_start = contact_says(last + think, line(_CONTACT_LINES))
        end_from = conv.last
        if rng.random() < cfg.p_contact_leaves:
            if rng.random() < 0.3:  # a last word the agent never answers: wait ended by leaving
                end_from = contact_says(end_from + rng.uniform(5, 30), "Thanks, bye.")
            left_at = conv.add(
                end_from + rng.uniform(3, 30),
                "notice",
                "contact",
                contact_name,
                contact_id,
                notice("left", name=contact_name),
                event="left",
            )
            end_from = left_at
        ended_at = conv.add(
            end_from + rng.uniform(2, 20),
            "notice",
            "system",
            *system[1:],
            notice("ended", name=current.name),
        )
        if rng.random() < cfg.p_not_done:
            state = "ended"
        else:
            done_at = ended_at + _lognormal(rng, cfg.wrap_up_median_s, 0.5)
    disposition = _DISPOSITIONS[int(rng.integers(len(_DISPOSITIONS)))] if done_at else None
    agent_doc = {"id": agent.id, "name": agent.name}
    contact_doc = {"name": contact_name, "id": contact_id, "phones": [], "emails": []}
    conv.typing.sort(key=lambda typing: typing["time"])
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "id": cid,
        "state": state,
        "agent": agent_doc,
        "contact": contact_doc,
        "parties": parties_of(agent_doc, contact_doc, conv.entries),  # type: ignore[arg-type]
        "offered_at": format_utc(offered),
        "accepted_at": None if accepted_at is None else format_utc(accepted_at),
        "left_at": None if left_at is None else format_utc(left_at),
        "ended_at": None if ended_at is None else format_utc(ended_at),
        "done_at": None if done_at is None else format_utc(done_at),
        "disposition": disposition,
        "notes": ["Customer asked for a call back."] if disposition == "Follow-up needed" else [],
        "thresholds": {
            "yellow_after": cfg.thresholds.yellow_after,
            "red_after": cfg.thresholds.red_after,
        },
        "entries": conv.entries,
        "typing": conv.typing,
    }


def _supervise(
    rng: np.random.Generator,
    cfg: SyntheticConfig,
    conv: _Conversation,
    agent: tuple[str, str],
    t: float,
) -> float:
    """The agent raises the help flag; a supervisor coaches, perhaps barges in, and the
    flag goes down. Returns the time of the last entry."""
    sup_name, sup_id = cfg.supervisors[int(rng.integers(len(cfg.supervisors)))]
    name, aid = agent
    agents = "agents"

    def monitor(at: float, mode: str) -> float:
        code = "monitor_stopped" if mode == "stopped" else f"monitor_{mode}"
        event = "monitor_stop" if mode == "stopped" else "monitor"
        said = notice(code, name=sup_name)
        return conv.add(
            at, "notice", "supervisor", sup_name, sup_id, said, visibility=agents, event=event
        )

    note = _FLAG_NOTES[int(rng.integers(len(_FLAG_NOTES)))]
    raised = with_detail("flag_raised", note, "note", name=name)
    t = conv.add(
        t + rng.uniform(1, 5), "notice", "agent", name, aid, raised,
        visibility=agents, event="flag_raised",
    )  # fmt: skip
    t = monitor(t + rng.uniform(0.5, 3), "coach")
    line = _COACH_LINES[int(rng.integers(len(_COACH_LINES)))]
    t = conv.add(
        t + _lognormal(rng, 8.0, 0.5), "coaching", "supervisor", sup_name, sup_id, line,
        visibility=agents, event="coaching",
    )  # fmt: skip
    t = conv.add(
        t + rng.uniform(2, 6), "coaching", "agent", name, aid, "Thanks, will do.",
        visibility=agents, event="coaching",
    )  # fmt: skip
    lowered_by = (name, aid, "agent")
    if rng.random() < cfg.p_barge_in:
        t = monitor(t + rng.uniform(5, 20), "barge_in")
        t = conv.add(
            t, "notice", "supervisor", sup_name, sup_id, notice("joined", name=sup_name),
            event="joined",
        )  # fmt: skip
        t = conv.add(
            t + rng.uniform(3, 10), "message", "supervisor", sup_name, sup_id,
            "Hello, I am the team lead; I have approved this for you.",
        )  # fmt: skip
        t = conv.add(
            t + rng.uniform(3, 10), "notice", "supervisor", sup_name, sup_id,
            notice("left", name=sup_name), event="left",
        )  # fmt: skip
        lowered_by = (sup_name, sup_id, "supervisor")
    who, wid, role = lowered_by
    t = conv.add(
        t + rng.uniform(1, 4), "notice", role, who, wid, notice("flag_lowered", name=who),
        visibility=agents, event="flag_lowered",
    )  # fmt: skip
    return monitor(t + rng.uniform(1, 10), "stopped")


def generate_day(path: str | Path, config: SyntheticConfig | None = None, **overrides: Any) -> Path:
    """Write a generated day as JSON Lines; returns the path."""
    return write_transcripts(path, generate(config, **overrides))


def conversations_for_entries(entries: int, config: SyntheticConfig | None = None) -> int:
    """About how many conversations give ``entries`` entries with this config."""
    cfg = config or SyntheticConfig()
    sample = list(generate(cfg, conversations=300, seed=cfg.seed + 10_000))
    per = sum(len(doc["entries"]) for doc in sample) / len(sample)
    return max(1, round(entries / per))
