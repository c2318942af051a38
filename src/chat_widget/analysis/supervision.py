"""Supervision in the data (issue 14): monitoring, coaching, barge-ins and help flags.

A supervisor's steps are stored entries like any other (``docs/transcript-format.md``,
"Supervision"); this module picks them out of the entries frame and measures them
(``docs/metrics.md``, "Supervision"). Each step is credited to the chat's owner at
that moment: the agent who accepted it, or whoever a ``transfer`` entry made the
owner before the step. Vectorised: only the supervision and transfer rows are
touched, so a day with none costs a few column comparisons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .load import TranscriptFrames
from .waits import NAT, NS, conversation_positions, ns

#: what a supervision row is (``supervision_events``'s ``action``)
ACTIONS = (
    "monitor",  # monitoring started or changed mode (``mode``)
    "monitor_stop",  # monitoring stopped
    "coaching",  # a supervisor's coaching line (agents only)
    "coach_answer",  # an agent's answer to the coach (agents only)
    "flag_raised",  # an agent asked for help
    "flag_lowered",  # the agent or a supervisor lowered the flag
    "barge_in",  # a supervisor joined the chat (the contact sees it)
    "barge_in_left",  # ... and left it
    "supervisor_message",  # a barged-in supervisor's message or pushed link
)
ACTION_DTYPE = pd.CategoricalDtype(list(ACTIONS))
MODE_DTYPE = pd.CategoricalDtype(["silent", "coach", "barge_in", "stopped"])
ANSWERED_BY = pd.CategoricalDtype(["flag_lowered", "coaching", "barge_in"])
#: a raised flag is answered by the first of these after it
ANSWERS = ("flag_lowered", "coaching", "barge_in")
_MODE_OF_CODE = {
    "monitor_silent": "silent",
    "monitor_coach": "coach",
    "monitor_barge_in": "barge_in",
    "monitor_stopped": "stopped",
}


def _is(column: pd.Series, *values: str) -> np.ndarray:
    """``column.isin(values)`` on a categorical's codes (no strings built per row)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        wanted = np.asarray([i for i, c in enumerate(categories) if c in values], np.int64)
        return np.isin(column.cat.codes.to_numpy(), wanted)
    return np.asarray(column.isin(values).to_numpy(), dtype=bool)


def _actions(ent: pd.DataFrame) -> np.ndarray:
    """Per entry: its ``ACTIONS`` code, or -1 (not a supervision entry)."""
    role, kind, event = ent["sender_role"], ent["kind"], ent["event"]
    supervisor = _is(role, "supervisor")
    coaching = _is(kind, "coaching")
    action = np.full(len(ent), -1, dtype=np.int8)
    rules = (
        ("monitor", _is(event, "monitor")),
        ("monitor_stop", _is(event, "monitor_stop")),
        ("coaching", coaching & supervisor),
        ("coach_answer", coaching & ~supervisor),
        ("flag_raised", _is(event, "flag_raised")),
        ("flag_lowered", _is(event, "flag_lowered")),
        ("barge_in", supervisor & _is(event, "joined")),
        ("barge_in_left", supervisor & _is(event, "left")),
        ("supervisor_message", supervisor & _is(kind, "message", "push_url")),
    )
    for name, mask in rules:
        action[mask & (action < 0)] = ACTIONS.index(name)
    return action


def _owners(frames: TranscriptFrames, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(id, name) of each conversation's owner at each of ``rows`` (entry positions, in
    frame order): the sender of the last ``transfer`` entry up to the row, else the
    conversation's agent."""
    ent, conv = frames.entries, frames.conversations
    transfer = np.flatnonzero(_is(ent["event"], "transfer"))
    both = np.union1d(rows, transfer)
    cpos = conversation_positions(frames, ent["conversation_id"].iloc[both])
    is_transfer = np.isin(both, transfer)
    picked = ent.iloc[both]

    def carried(column: str) -> np.ndarray:
        values: np.ndarray = picked[column].astype(object).to_numpy()
        moved = pd.Series(values).where(is_transfer)
        return np.asarray(moved.groupby(cpos).ffill().to_numpy(dtype=object))

    ids, names = carried("sender_id"), carried("sender_name")
    safe = np.maximum(cpos, 0)
    agent_id = conv["agent_id"].astype(object).to_numpy()[safe]
    agent_name = conv["agent_name"].astype(object).to_numpy()[safe]
    unset = pd.isna(ids)
    keep = np.isin(both, rows)
    return (
        np.where(unset, agent_id, ids)[keep],
        np.where(unset, agent_name, names)[keep],
    )


def supervision_events(frames: TranscriptFrames) -> pd.DataFrame:
    """One row per supervision entry, in the entries' order.

    Columns: ``conversation_id, index, time, action`` (``ACTIONS``), ``mode`` (for
    ``monitor``/``monitor_stop``: ``silent``, ``coach``, ``barge_in``, ``stopped``, from
    the notice code), ``sender_role, sender_id, sender_name, owner_id, owner_name``
    (the chat's owner then), ``text``."""
    ent = frames.entries
    action = _actions(ent)
    rows = np.flatnonzero(action >= 0)
    picked = ent.iloc[rows]
    owner_id, owner_name = _owners(frames, rows)
    mode = picked["code"].astype(object).map(_MODE_OF_CODE)
    return pd.DataFrame(
        {
            "conversation_id": picked["conversation_id"].to_numpy(),
            "index": picked["index"].to_numpy(),
            "time": picked["time"].to_numpy(),
            "action": pd.Categorical.from_codes(action[rows], dtype=ACTION_DTYPE),
            "mode": pd.Categorical(mode.to_numpy(dtype=object), dtype=MODE_DTYPE),
            "sender_role": picked["sender_role"].to_numpy(),
            "sender_id": picked["sender_id"].to_numpy(),
            "sender_name": picked["sender_name"].to_numpy(),
            "owner_id": pd.Series(owner_id, dtype="str"),
            "owner_name": pd.Series(owner_name, dtype="str"),
            "text": picked["text"].to_numpy(),
        }
    ).astype({"conversation_id": ent["conversation_id"].dtype, "time": ent["time"].dtype})


def flag_answers(frames: TranscriptFrames, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per raised help flag: ``conversation_id, owner_id, owner_name, raised_at,
    answered_at, answered_by`` (the first after the raise of: ``flag_lowered``, a
    supervisor's ``coaching`` line, a ``barge_in``; NaN: never), ``time_to_answer_s``."""
    ev = supervision_events(frames) if events is None else events
    action = ev["action"].to_numpy()
    conv = ev["conversation_id"].cat.codes.to_numpy() if len(ev) else np.zeros(0, np.int64)
    answer = np.isin(action, ANSWERS)
    n = len(ev)
    # the next answer strictly after each row, within the conversation
    candidate = np.where(answer, np.arange(n), n)
    next_answer = np.r_[np.minimum.accumulate(candidate[::-1])[::-1], n][1:]
    raised = np.flatnonzero(action == "flag_raised")
    nxt = next_answer[raised]
    found = nxt < n
    found[found] = conv[nxt[found]] == conv[raised[found]]
    t = ns(ev["time"])
    answered = np.where(found, t[np.where(found, nxt, 0)], NAT)
    answers = pd.Index(ANSWERED_BY.categories)
    by = np.where(found, answers.get_indexer(pd.Index(action[np.where(found, nxt, 0)])), -1)
    raised_t = t[raised]
    return pd.DataFrame(
        {
            "conversation_id": ev["conversation_id"].iloc[raised].to_numpy(),
            "owner_id": ev["owner_id"].iloc[raised].to_numpy(),
            "owner_name": ev["owner_name"].iloc[raised].to_numpy(),
            "raised_at": ev["time"].iloc[raised].to_numpy(),
            "answered_at": pd.Series(answered.view("datetime64[ns]")).dt.tz_localize("UTC"),
            "answered_by": pd.Categorical.from_codes(by, dtype=ANSWERED_BY),
            "time_to_answer_s": np.where(found, (answered - raised_t) / NS, np.nan),
        }
    ).astype(
        {
            "conversation_id": ev["conversation_id"].dtype,
            "raised_at": ev["time"].dtype,
            "owner_id": "str",
            "owner_name": "str",
        }
    )


def supervision_metrics(frames: TranscriptFrames) -> pd.DataFrame:
    """One row per conversation (the order of ``frames.conversations``).

    Columns: ``conversation_id, agent_id, agent_name, monitored`` (any monitoring
    notice), ``coached`` (any coaching line from a supervisor), ``coaching_lines,
    coach_answers, barge_ins, supervisor_messages, flags_raised, flags_answered,
    flag_answer_first_s`` (time to answer the first flag), ``flag_answer_mean_s,
    flag_answer_max_s``."""
    conv = frames.conversations
    n = len(conv)
    ev = supervision_events(frames)
    flags = flag_answers(frames, ev)
    epos = conversation_positions(frames, ev["conversation_id"])
    action = ev["action"]

    def count(name: str) -> np.ndarray:
        mask = (action == name).to_numpy() & (epos >= 0)
        return np.bincount(epos[mask], minlength=n).astype(np.int32)

    out = pd.DataFrame(
        {
            "conversation_id": conv["conversation_id"].array,
            "agent_id": conv["agent_id"].array,
            "agent_name": conv["agent_name"].array,
        }
    ).astype({c: conv[c].dtype for c in ("conversation_id", "agent_id", "agent_name")})
    out["monitored"] = (count("monitor") + count("monitor_stop")) > 0
    out["coaching_lines"] = count("coaching")
    out["coached"] = out["coaching_lines"] > 0
    out["coach_answers"] = count("coach_answer")
    out["barge_ins"] = count("barge_in")
    out["supervisor_messages"] = count("supervisor_message")
    out["flags_raised"] = count("flag_raised")
    fpos = conversation_positions(frames, flags["conversation_id"])
    secs = flags["time_to_answer_s"].to_numpy()
    answered = ~np.isnan(secs) & (fpos >= 0)
    out["flags_answered"] = np.bincount(fpos[answered], minlength=n).astype(np.int32)
    first = np.full(n, np.nan)
    ok = fpos >= 0
    # flags are in time order within a conversation: the first row of each is the first flag
    starts = np.flatnonzero(ok & np.r_[True, fpos[1:] != fpos[:-1]][: len(fpos)])
    first[fpos[starts]] = secs[starts]
    out["flag_answer_first_s"] = first
    by_conv = pd.Series(secs[answered]).groupby(fpos[answered])
    mean, top = np.full(n, np.nan), np.full(n, np.nan)
    if answered.any():
        means, maxes = by_conv.mean(), by_conv.max()
        mean[means.index.to_numpy()] = means.to_numpy()
        top[maxes.index.to_numpy()] = maxes.to_numpy()
    out["flag_answer_mean_s"] = mean
    out["flag_answer_max_s"] = top
    return out


def supervision_by_agent(frames: TranscriptFrames) -> pd.DataFrame:
    """One row per agent (indexed by ``agent_id``): every agent who owned a conversation,
    with the supervision that happened while they owned it.

    Columns: ``agent_name, monitored_chats, coached_chats`` (conversations with a
    supervisor's coaching line), ``coaching_lines, barge_ins, flags_raised,
    flags_answered, flag_answer_median_s, flag_answer_mean_s``."""
    ev = supervision_events(frames)
    flags = flag_answers(frames, ev)
    conv = frames.conversations
    names = pd.Series(conv["agent_name"].astype(str).to_numpy(), conv["agent_id"].astype(str))
    names = pd.concat([names, pd.Series(ev["owner_name"].to_numpy(), ev["owner_id"])])
    names = names[names.index != ""]
    table = pd.DataFrame({"agent_name": names.groupby(level=0).first()})
    table.index.name = "agent_id"
    owner = ev["owner_id"]
    action = ev["action"]
    cid = ev["conversation_id"].astype(str)

    def chats(*wanted: str) -> pd.Series:
        mask = action.isin(wanted)
        return cid[mask].groupby(owner[mask]).nunique()

    def count(name: str) -> pd.Series:
        return owner[action == name].value_counts()

    secs = flags["time_to_answer_s"]
    by_owner = secs.groupby(flags["owner_id"])
    columns = {
        "monitored_chats": chats("monitor", "monitor_stop"),
        "coached_chats": chats("coaching"),
        "coaching_lines": count("coaching"),
        "barge_ins": count("barge_in"),
        "flags_raised": count("flag_raised"),
        "flags_answered": by_owner.count(),
    }
    for name, values in columns.items():
        table[name] = values.reindex(table.index).fillna(0).astype(np.int64)
    table["flag_answer_median_s"] = by_owner.median().reindex(table.index)
    table["flag_answer_mean_s"] = by_owner.mean().reindex(table.index)
    return table.sort_index()
