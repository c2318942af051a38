"""``chat-widget serve`` options reach the server's settings; bad ones stop it with one
line (exit 2) instead of a server that misbehaves later."""

from __future__ import annotations

import pytest

from chat_widget import cli
from chat_widget.server import ServerConfig, app


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[ServerConfig]:
    configs: list[ServerConfig] = []

    async def run_server(config: ServerConfig) -> None:
        configs.append(config)

    monkeypatch.setattr(app, "run_server", run_server)
    return configs


def test_login_lockout_and_heartbeat_options(seen: list[ServerConfig]) -> None:
    assert cli.main(["serve", "--auth-failures", "2", "--beat-timeout", "1.5"]) == 0
    assert cli.main(["serve"]) == 0
    tuned, default = seen
    assert tuned.auth_failure_limit == 2
    assert (tuned.beat_timeout, tuned.beat_interval) == (1.5, 0.5)
    assert default.auth_failure_limit == 5
    assert (default.beat_timeout, default.beat_interval) == (3.0, 1.0)


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--auth-failures", "0"], "auth_failure_limit must be at least 1"),
        (["--beat-timeout", "0"], "must be positive"),
        (["--agent-capacity", "0"], "agent_capacity must be at least 1"),
    ],
)
def test_bad_values_stop_serve_with_one_line(
    seen: list[ServerConfig], capsys: pytest.CaptureFixture[str], flags: list[str], said: str
) -> None:
    assert cli.main(["serve", *flags]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1
    assert seen == []
