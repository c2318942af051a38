"""Property-based fuzzing of client frames against the real server (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat_widget.formats import protocol as p
from chat_widget.model.clock import VirtualClock
from chat_widget.server import ChatServer

from .conftest import make_config
from .helpers import customer

TYPES = [
    "Auth",
    "RequestChat",
    "ResumeChat",
    "SendMessage",
    "StartTyping",
    "StopTyping",
    "PushUrl",
    "SetReady",
    "Accept",
    "Reject",
    "SetDisposition",
    "AddNote",
    "EndChat",
    "MarkDone",
    "Ping",
    "Message",
    "Nope",
    "",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
frames = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)},
    optional={
        "v": st.sampled_from([1, 1, 1, 2, "1", None]),
        "id": st.text(max_size=20) | st.integers(),
        "conversation": st.text(max_size=20),
        "text": st.text(max_size=60),
        "url": st.sampled_from(
            ["https://ok.example/x", "javascript:alert(1)", "JAVA\tSCRIPT:x", "http://", "ftp://x"]
        )
        | st.text(max_size=20),
        "token": st.text(max_size=20),
        "nickname": st.text(max_size=20),
        "lastSeq": st.integers(-5, 10**12),
        "ready": json_values,
        "extra": json_values,
    },
)
raw_frames = st.one_of(
    frames.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=100),
)

FUZZED: list[int] = [0]


def check_parser(raw: str | bytes) -> None:
    try:
        frame = p.parse_client_frame(raw)
    except p.FrameError as exc:
        assert exc.code in set(p.ErrorCode) and exc.message
    else:
        assert frame.v == 1 and frame.id


@settings(max_examples=400, deadline=None)
@given(raw_frames)
def test_parser_never_crashes(raw: str | bytes) -> None:
    check_parser(raw)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(raw_frames, min_size=1, max_size=8))
async def test_server_answers_every_fuzzed_frame(tmp_path: Path, batch: list[Any]) -> None:
    FUZZED[0] += 1
    folder = tmp_path / f"example-{FUZZED[0]}"  # a fresh server and database per example
    folder.mkdir()
    async with ChatServer(make_config(folder), clock=VirtualClock()) as srv:
        await fuzz_one(srv, batch)


async def fuzz_one(srv: ChatServer, batch: list[Any]) -> None:
    origin = f"http://127.0.0.1:{srv.port}"
    carla, conv = await customer(srv.url, origin, "fuzz")
    for raw in batch:
        await carla.send_raw(raw)
    # the connection is still served after the fuzz: a ping is answered
    pid = await carla.send("Ping")
    assert (await carla.reply(pid))["type"] == "Pong"
    for f in carla.frames:
        p.parse_server_frame(json.dumps(f))  # every answer is a valid server frame
        assert f.get("conversation") in (None, conv)  # never another customer's chat
    await carla.close()
