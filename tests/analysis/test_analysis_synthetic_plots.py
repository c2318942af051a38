"""Synthetic days are valid, seeded and realistic; plots are Figures that save."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from chat_widget.analysis import (
    AgentSpec,
    SyntheticConfig,
    agent_metrics,
    conversation_metrics,
    generate,
    generate_day,
    load_transcripts,
    responses,
)
from chat_widget.analysis.plots import (
    agent_comparison,
    conversation_timeline,
    red_by_agent_hour,
    red_time_heatmap,
    response_time_distribution,
)
from chat_widget.formats.transcript_file import validate_transcript
from tests.analysis.docs import T0


def test_generated_transcripts_are_valid_and_seeded() -> None:
    a = list(generate(conversations=40, seed=5))
    assert a == list(generate(conversations=40, seed=5))
    assert a != list(generate(conversations=40, seed=6))
    for doc in a:
        validate_transcript(doc)


def test_generated_day_has_the_configured_shape(tmp_path: Path) -> None:
    fast = AgentSpec("fast", "Fast Agent", response_median_s=8, response_sigma=0.2)
    slow = AgentSpec("slow", "Slow Agent", response_median_s=50, response_sigma=0.2)
    config = SyntheticConfig(
        conversations=300, agents=(fast, slow), p_transfer=0.2, p_abandon=0.1, seed=1
    )
    path = generate_day(tmp_path / "day.jsonl", config)
    frames = load_transcripts(path)
    assert len(frames.conversations) == 300
    cm = conversation_metrics(frames)
    assert 10 <= cm["abandoned"].sum() <= 60
    assert cm["transfers"].sum() > 20
    am = agent_metrics(frames)
    assert am.loc["fast", "response_p50_s"] < 15 < 35 < am.loc["slow", "response_p50_s"]
    assert len(frames.typing) > 0 and cm["pushed_urls"].sum() > 0


def test_plots_return_figures_that_save(tmp_path: Path) -> None:
    frames = load_transcripts(generate_day(tmp_path / "d.jsonl", conversations=30, seed=2))
    resp = responses(frames)
    cm = conversation_metrics(frames)
    slowest = cm.loc[cm["response_max_s"].idxmax()]
    abandoned = cm.loc[cm["abandoned"] | cm["first_response_s"].isna()]
    figures = [
        response_time_distribution(resp),
        agent_comparison(resp),
        conversation_timeline(frames, str(slowest["conversation_id"])),
        *[conversation_timeline(frames, str(c)) for c in abandoned["conversation_id"][:1]],
    ]
    for fig in figures:
        assert isinstance(fig, Figure)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        assert buffer.getvalue().startswith(b"\x89PNG")


def test_plots_display_as_images_in_a_fresh_kernel(tmp_path: Path) -> None:
    """Issue 10: a returned plot printed '<Figure size 800x400 with 1 Axes>' unless
    '%matplotlib inline' ran: IPython's display formatter must give a PNG by itself."""
    from IPython.core.interactiveshell import InteractiveShell

    generate_day(tmp_path / "day.jsonl", conversations=20, seed=3)
    frames = load_transcripts(tmp_path / "day.jsonl")
    shell = InteractiveShell.instance()
    try:
        for fig in (
            response_time_distribution(responses(frames)),
            agent_comparison(responses(frames)),
            conversation_timeline(frames, str(frames.conversations["conversation_id"].iloc[0])),
            red_time_heatmap(frames),
        ):
            data, _ = shell.display_formatter.format(fig)
            assert data["image/png"].startswith(b"\x89PNG"), sorted(data)
    finally:
        InteractiveShell.clear_instance()


def test_red_time_heatmap_counts_every_red_second_in_its_hour(tmp_path: Path) -> None:
    from chat_widget.analysis import waits
    from chat_widget.analysis.load import frames_from_transcripts
    from tests.analysis.docs import entry, make_doc

    # T0 is 08:00 UTC. The wait from accept (+1 s) lasts to the reply at +3800 s: red
    # from +61 s, so 3539 s of red in hour 08 and 200 s in hour 09. The wait from
    # +7080 s (09:58) to the reply at +7260 s (10:01) is red from 09:59: 60 s in 09,
    # 60 s in 10.
    doc = make_doc(
        "c",
        accepted=1,
        ended=9000,
        entries=[
            entry(3540, "contact"),
            entry(3800, "agent"),
            entry(7080, "contact"),
            entry(7260, "agent"),
        ],
    )
    frames = frames_from_transcripts([doc])
    w = waits(frames)
    table = red_by_agent_hour(frames, w)
    assert table.to_numpy().sum() == w["red_s"].sum()
    assert pd.Timestamp(T0, unit="s", tz="UTC").hour == 8
    row = table.loc["a1"]
    assert (row[8], row[9], row[10]) == (3539, 200 + 60, 60)
    day = load_transcripts(generate_day(tmp_path / "d.jsonl", conversations=60, seed=4))
    dw = waits(day)
    assert np.isclose(red_by_agent_hour(day, dw).to_numpy().sum(), dw["red_s"].sum())
    fig = red_time_heatmap(day, wait_table=dw)
    assert fig._repr_png_().startswith(b"\x89PNG")
