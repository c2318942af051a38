"""Which standard responses agents start from (issue 16): uses per agent and response.

Not ``analysis.responses`` (the module would shadow the package's ``responses``
function, the agents' reply times).
"""

from __future__ import annotations

import pandas as pd

from .columns import TranscriptFrames

USAGE_COLUMNS = ["agent_id", "agent_name", "response", "uses"]


def response_usage(frames: TranscriptFrames) -> pd.DataFrame:
    """One row per agent and standard response they sent a message from: ``agent_id``,
    ``agent_name`` (the name on their first such message), ``response``, ``uses``; most
    used first. Messages typed freely (``response`` null) are not counted."""
    e = frames.entries
    used = e[e["response"].notna()]
    if used.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in USAGE_COLUMNS}).astype(
            {"uses": "int64"}
        )
    table = pd.DataFrame(
        {
            "agent_id": used["sender_id"].astype(str).to_numpy(),
            "agent_name": used["sender_name"].astype(str).to_numpy(),
            "response": used["response"].astype(str).to_numpy(),
        }
    )
    grouped = table.groupby(["agent_id", "response"], sort=False)
    out = grouped.agg(agent_name=("agent_name", "first"), uses=("agent_name", "size"))
    out = out.reset_index()[USAGE_COLUMNS]
    out["uses"] = out["uses"].astype("int64")
    return out.sort_values(
        ["uses", "agent_id", "response"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
