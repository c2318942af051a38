"""chat_widget: a contact-center agent's chat interaction view for Jupyter.

from chat_widget import ChatWidget, MockBackend
ChatWidget(MockBackend("billing"))
"""

from __future__ import annotations

from typing import Any

from .backends.mock import MockBackend
from .backends.mock_team import MockTeam
from .backends.scenario import ScenarioError, load_scenario
from .formats.transcript import AgentProfile, ContactRecord, Entry, Permissions
from .model.clock import VirtualClock
from .model.desk import AgentDesk
from .model.errors import ChatError, IllegalTransitionError
from .model.reply_timer import Thresholds, TimerColour
from .model.session import ChatSession, SessionConfig, SessionState
from .model.supervisor_desk import SupervisorDesk
from .model.urls import InvalidUrlError
from .widget.chat import ChatWidget
from .widget.supervisor import SupervisorWidget
from .widget.workspace import WorkspaceWidget

__all__ = [
    "AgentDesk",
    "AgentProfile",
    "ChatError",
    "ChatSession",
    "ChatWidget",
    "ContactRecord",
    "Entry",
    "IllegalTransitionError",
    "InvalidUrlError",
    "MockBackend",
    "MockTeam",
    "Permissions",
    "ScenarioError",
    "SessionConfig",
    "SessionState",
    "SupervisorDesk",
    "SupervisorWidget",
    "Thresholds",
    "TimerColour",
    "VirtualClock",
    "WebSocketBackend",
    "WebSocketSupervisor",
    "WorkspaceWidget",
    "load_scenario",
]


def __getattr__(name: str) -> Any:
    # the websocket client arrives with the server issue; imported lazily
    if name == "WebSocketBackend":
        from .backends.websocket import WebSocketBackend

        return WebSocketBackend
    if name == "WebSocketSupervisor":
        from .backends.supervisor_websocket import WebSocketSupervisor

        return WebSocketSupervisor
    raise AttributeError(f"module 'chat_widget' has no attribute {name!r}")
