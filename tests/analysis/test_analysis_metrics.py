"""Every metric against hand-computed values (thresholds 30 s / 60 s unless said)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from chat_widget.analysis import (
    TranscriptFrames,
    agent_metrics,
    conversation_metrics,
    frames_from_transcripts,
    responses,
    summary,
    waits,
)
from chat_widget.model.reply_timer import Thresholds
from tests.analysis.docs import entry, make_doc

# A: three waits (15 s, 40 s, 70 s); a follow-up message and a consultation do not
# restart or stop a wait; contact's first message came before accept
FULL = make_doc(
    "full",
    offered=0,
    accepted=10,
    ended=200,
    done=230,
    entries=[
        entry(5, "contact"),
        entry(10, "system", "notice", event="joined"),
        entry(25, "agent"),
        entry(40, "contact"),
        entry(50, "contact"),
        entry(60, "agent", "consult", visibility="agents"),
        entry(80, "agent", "push_url"),
        entry(100, "contact"),
        entry(170, "agent"),
        entry(200, "system", "notice"),
    ],
)
# B: accepted, never a reply, the contact left while waiting, the agent ended later
NO_REPLY = make_doc(
    "no-reply",
    offered=0,
    accepted=5,
    left=100,
    ended=120,
    entries=[
        entry(6, "contact"),
        entry(100, "system", "notice", event="left"),
    ],
)
# C: the contact left before anyone accepted
ABANDONED = make_doc(
    "abandoned",
    offered=0,
    left=50,
    state="contact_left",
    entries=[
        entry(3, "contact"),
        entry(50, "contact", "notice", event="left"),
    ],
)
# D: replies exactly at the yellow and at the red threshold
AT_THRESHOLD = make_doc(
    "exact",
    offered=0,
    accepted=0,
    ended=150,
    entries=[
        entry(30, "agent"),
        entry(40, "contact"),
        entry(100, "agent"),
    ],
)


@pytest.fixture(scope="module")
def frames():  # type: ignore[no-untyped-def]
    return frames_from_transcripts([FULL, NO_REPLY, ABANDONED, AT_THRESHOLD])


@pytest.fixture(scope="module")
def cm(frames) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return conversation_metrics(frames).set_index("conversation_id")


def test_waits_of_the_full_conversation(frames) -> None:  # type: ignore[no-untyped-def]
    w = waits(frames)
    full = w[w["conversation_id"] == "full"]
    assert full["duration_s"].tolist() == [15.0, 40.0, 70.0]
    assert full["ended_by"].astype(str).tolist() == ["reply"] * 3
    assert full["first"].tolist() == [True, False, False]
    assert full["wait_no"].tolist() == [0, 1, 2]
    assert full["green_s"].tolist() == [15.0, 30.0, 30.0]
    assert full["yellow_s"].tolist() == [0.0, 10.0, 30.0]
    assert full["red_s"].tolist() == [0.0, 0.0, 10.0]
    assert set(full["responder_id"].astype(str)) == {"a1"}


def test_full_conversation_metrics(cm: pd.DataFrame) -> None:
    row = cm.loc["full"]
    assert row["time_to_accept_s"] == 10
    assert row["first_response_s"] == 15
    assert row["first_response_from_offer_s"] == 25
    assert row["responses"] == 3
    assert row["response_mean_s"] == pytest.approx((15 + 40 + 70) / 3)
    assert row["response_p50_s"] == 40
    assert row["response_p90_s"] == pytest.approx(40 + 0.8 * 30)  # linear interpolation
    assert row["response_max_s"] == 70
    assert row["handle_s"] == 190
    assert row["wrap_up_s"] == 30
    assert (row["green_s"], row["yellow_s"], row["red_s"]) == (75, 40, 10)
    assert row["waits"] == 3
    assert row["pushed_urls"] == 1
    assert row["contact_messages"] == 4
    assert row["agent_messages"] == 3  # the consultation is no reply
    assert not row["abandoned"] and not row["unanswered"]


def test_no_agent_reply_at_all(frames, cm: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    row = cm.loc["no-reply"]
    assert math.isnan(row["first_response_s"]) and math.isnan(row["response_mean_s"])
    assert row["responses"] == 0 and row["unanswered"]
    assert row["handle_s"] == 115 and math.isnan(row["wrap_up_s"])
    # one wait from accept (5) until the contact left (100): 95 s
    assert (row["green_s"], row["yellow_s"], row["red_s"]) == (30, 30, 35)
    w = waits(frames)
    assert w.loc[w["conversation_id"] == "no-reply", "ended_by"].astype(str).tolist() == ["end"]


def test_contact_left_before_accept(frames, cm: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    row = cm.loc["abandoned"]
    assert row["abandoned"] and not row["unanswered"]
    for col in ("time_to_accept_s", "first_response_s", "handle_s", "wrap_up_s"):
        assert math.isnan(row[col]), col
    assert row["waits"] == 0 and row["green_s"] == 0
    assert str(row["state"]) == "contact_left"


def test_replies_exactly_at_the_thresholds(frames, cm: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    row = cm.loc["exact"]
    assert row["first_response_s"] == 30
    # 30 s: all green (it turns yellow at 30 and is answered then); 60 s: 30 green, 30 yellow
    assert (row["green_s"], row["yellow_s"], row["red_s"]) == (60, 30, 0)
    am = agent_metrics(frames)
    # "at or over": a reply exactly at a threshold counts as over it
    resp = responses(frames)
    exact = resp[resp["conversation_id"] == "exact"]["response_s"].tolist()
    assert exact == [30.0, 60.0]
    assert am.loc["a1", "responses"] == 5


def test_thresholds_are_a_parameter(frames) -> None:  # type: ignore[no-untyped-def]
    cm = conversation_metrics(frames, Thresholds(10, 20)).set_index("conversation_id")
    # waits 15, 40, 70 → green 10 each; yellow 5+10+10; red 0+20+50
    assert (cm.loc["full", "green_s"], cm.loc["full", "yellow_s"], cm.loc["full", "red_s"]) == (
        30,
        25,
        70,
    )


def test_recorded_thresholds_are_used_by_default() -> None:
    doc = make_doc(
        "own", offered=0, accepted=0, ended=50, thresholds=(10, 20), entries=[entry(25, "agent")]
    )
    cm = conversation_metrics(frames_from_transcripts([doc]))
    assert (cm.loc[0, "green_s"], cm.loc[0, "yellow_s"], cm.loc[0, "red_s"]) == (10, 10, 5)


def test_transfers_conferences_and_responders() -> None:
    b = ("a2", "Bert Agent")
    c = ("a3", "Cleo Agent")
    doc = make_doc(
        "moves",
        offered=0,
        accepted=0,
        ended=300,
        done=310,
        entries=[
            entry(1, "contact"),
            entry(11, "agent"),  # a1: 11 s
            entry(20, "agent", "notice", event="conference", sender=c),
            entry(25, "agent", sender=c),
            entry(30, "agent", "notice", event="left", sender=c),
            entry(40, "contact"),
            entry(45, "agent", "notice", event="transfer", sender=b),
            entry(100, "agent", sender=b),  # a2: 60 s
            entry(120, "contact"),
            entry(125, "agent", "push_url", sender=b),  # a2: 5 s
        ],
    )
    frames = frames_from_transcripts([doc])
    cm = conversation_metrics(frames)
    assert cm.loc[0, "transfers"] == 1 and cm.loc[0, "conferences"] == 1
    assert cm.loc[0, "pushed_urls"] == 1
    am = agent_metrics(frames)
    assert am.loc["a1", "responses"] == 1 and am.loc["a1", "conversations"] == 1
    assert am.loc["a2", "responses"] == 2 and am.loc["a2", "conversations"] == 0
    assert am.loc["a2", "response_mean_s"] == pytest.approx(32.5)
    assert am.loc["a2", "over_red_share"] == 0.5  # 60 s is at the red threshold
    assert am.loc["a2", "agent_name"] == "Bert Agent"
    # the conference guest's message was no response: no wait was running
    assert "a3" not in am.index


def test_open_wait_is_cut_at_the_last_known_time() -> None:
    doc = make_doc(
        "open",
        offered=0,
        accepted=0,
        entries=[
            entry(5, "agent"),
            entry(10, "contact"),
            entry(80, "system", "notice"),
        ],
    )
    w = waits(frames_from_transcripts([doc]))
    assert w["ended_by"].astype(str).tolist() == ["reply", "open"]
    assert w["duration_s"].tolist() == [5.0, 70.0]
    assert pd.isna(w["end"].iloc[1])
    assert (w["green_s"].iloc[1], w["yellow_s"].iloc[1], w["red_s"].iloc[1]) == (30, 30, 10)


def test_agent_reply_at_the_same_instant_is_a_zero_response() -> None:
    doc = make_doc(
        "zero",
        offered=0,
        accepted=0,
        ended=40,
        entries=[
            entry(0, "agent"),
            entry(10, "contact"),
            entry(10, "agent"),
        ],
    )
    cm = conversation_metrics(frames_from_transcripts([doc]))
    assert cm.loc[0, "first_response_s"] == 0 and cm.loc[0, "responses"] == 2
    assert cm.loc[0, "green_s"] == 0


def test_summary_and_filtered_frames(frames) -> None:  # type: ignore[no-untyped-def]
    s = summary(frames)
    assert s["conversations"] == 4 and s["abandoned"] == 1 and s["unanswered"] == 1
    assert s["pushed_urls"] == 1
    # counts are ints, also as notebook 05 shows them (rounded), not 4.0
    for count in ("conversations", "entries", "agents", "abandoned", "transfers"):
        assert type(s[count]) is int, count
    shown = s.round(1)
    assert type(shown["conversations"]) is int
    assert "4.0" not in shown.to_string().split("conversations")[1].splitlines()[0]
    # analysts filter conversations; entries of the others are ignored
    sub = type(frames)(
        frames.conversations[frames.conversations["conversation_id"] == "full"].reset_index(
            drop=True
        ),
        frames.entries,
        frames.typing,
    )
    cm = conversation_metrics(sub)
    assert len(cm) == 1 and cm.loc[0, "responses"] == 3
    assert np.isclose(cm.loc[0, "red_s"], 10)


def test_waits_do_not_depend_on_the_order_of_the_entries(frames) -> None:  # type: ignore[no-untyped-def]
    """In the loaders' order the timer's events are merged without a sort; in any other
    order they are sorted: the same waits either way."""
    shuffled = frames.entries.sample(frac=1, random_state=3).reset_index(drop=True)
    other = TranscriptFrames(frames.conversations, shuffled, frames.typing)
    pd.testing.assert_frame_equal(waits(other), waits(frames), check_exact=True)
