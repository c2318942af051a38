"""The session's one input face: events carrying their time in, commands pulled out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.analysis.docs import T0, entry, make_doc

from chat_widget import AgentDesk, ChatError, ChatSession, ContactRecord, VirtualClock
from chat_widget.backends.replay import ReplayBackend, ReplayError, ReplaySession
from chat_widget.formats.notices import notice
from chat_widget.formats.transcript import SYSTEM_SENDER, Entry, Kind, Role, Sender, Visibility
from chat_widget.model import commands as cmd
from chat_widget.model import events as ev
from chat_widget.model.session import CallState, Connection, SessionState

COLLEAGUE = Sender(Role.AGENT, "Lena", "lena")


def _accepted(clock: VirtualClock) -> ChatSession:
    s = AgentDesk(clock).offer("c1", ContactRecord("Maria Weber"))
    s.accept()
    s.send("Hello")
    clock.advance(5)
    return s


def _snapshot(s: ChatSession) -> dict[str, Any]:
    return {
        **s.to_dict(),
        "typing_until": s.contact_typing_until,
        "agent_typing": s.agent_typing,
        "connection": s.connection,
        "pending": dict(s.pending),
        "call_state": s.call_state,
        "contact_has_left": s.contact_has_left,
        "timer": (s.timer.pending_since, s.timer.last_change),
        "commands": s.take_commands(),
    }


# (wrapper call, the same as an event) on an accepted chat
PAIRS: list[tuple[str, Callable[[ChatSession], object], ev.SessionEvent]] = [
    ("message", lambda s: s.receive_message("Hi"), ev.MessageReceived(text="Hi")),
    (
        "colleague message",
        lambda s: s.receive_message("x", sender=COLLEAGUE, client_id="k1"),
        ev.MessageReceived(text="x", sender=COLLEAGUE, client_id="k1"),
    ),
    ("typing", lambda s: s.receive_typing(True), ev.ContactTyping(typing=True)),
    ("left", lambda s: s.contact_left(), ev.ContactLeft()),
    (
        "notice",
        lambda s: s.receive_notice(notice("joined", name="Lena")),
        ev.NoticeReceived(text=notice("joined", name="Lena")),
    ),
    (
        "entry",
        lambda s: s.add_entry(Kind.CONSULT, COLLEAGUE, "psst", visibility=Visibility.AGENTS),
        ev.EntryReceived(
            kind=Kind.CONSULT, sender=COLLEAGUE, text="psst", visibility=Visibility.AGENTS
        ),
    ),
    (
        "connection",
        lambda s: s.set_connection(Connection.RECONNECTING),
        ev.ConnectionChanged(status=Connection.RECONNECTING),
    ),
    ("pending", lambda s: s.mark_pending("c1:agent:1"), ev.MessagePending(client_id="c1:agent:1")),
    (
        "call",
        lambda s: s.set_call_state(CallState.CONNECTED),
        ev.CallStateChanged(state=CallState.CONNECTED),
    ),
    (
        "handed over",
        lambda s: s.hand_over(notice("transferred_to", name="Lena")),
        ev.HandedOver(notice=notice("transferred_to", name="Lena")),
    ),
]


@pytest.mark.parametrize(("what", "wrapper", "event"), PAIRS, ids=[p[0] for p in PAIRS])
def test_each_event_lands_as_its_wrapper_did(
    what: str, wrapper: Callable[[ChatSession], object], event: ev.SessionEvent
) -> None:
    old, new = _accepted(VirtualClock(100.0)), _accepted(VirtualClock(100.0))
    seen: list[str] = []
    new.subscribe(lambda change, _: seen.append(change))
    wrapper(old)
    new.receive(event)
    assert _snapshot(new) == _snapshot(old)
    assert seen  # the view hears of it


def test_an_event_with_its_time_stamps_what_it_adds(clock: VirtualClock) -> None:
    s = _accepted(clock)
    added = s.receive(ev.MessageReceived(text="late", at=clock.now() - 2))
    assert added is not None and added.time == clock.now() - 2
    s.receive(ev.ContactTyping(typing=True, at=clock.now() - 3))
    assert s.contact_typing_until == clock.now() - 3 + s.config.typing_timeout
    s.receive(ev.ContactLeft(at=clock.now() + 1))
    assert s.transcript[-1].time == clock.now() + 1 and s.state is SessionState.CONTACT_LEFT
    assert s.receive(ev.MessageReceived(text="late", client_id="x", at=1.0)) is not None
    assert s.receive(ev.MessageReceived(text="again", client_id="x")) is None  # resend


def test_resume_events_match_their_wrappers(clock: VirtualClock) -> None:
    old = AgentDesk(clock).offer("c1", ContactRecord("C"))
    new = AgentDesk(clock).offer("c1", ContactRecord("C"))
    history = [Entry(0, 990.0, Kind.MESSAGE, Sender(Role.CONTACT, "C", "c"), "hello")]
    old.resume_accepted(980.0, client_id_tag="r2-")
    old.append_entries(history)
    new.receive(ev.ResumedAccepted(at=980.0, client_id_tag="r2-"))
    new.receive(ev.EntriesResumed(entries=history))
    assert _snapshot(new) == _snapshot(old)
    assert new.accepted_at == 980.0 and new.send("hi").client_id == "c1:agent:r2-1"
    with pytest.raises(ChatError, match="does not continue"):
        new.receive(ev.EntriesResumed(entries=history))


def test_an_unknown_event_is_refused_with_the_state() -> None:
    s = AgentDesk(VirtualClock()).offer("c1", ContactRecord("C"))
    with pytest.raises(TypeError, match="offered"):
        s.receive(ev.SessionEvent())


def test_desk_routes_events_by_chat_id(desk: AgentDesk, session: ChatSession) -> None:
    added = desk.receive("c1", ev.NoticeReceived(text="hello"))
    assert added is session.transcript[-1] and added.sender == SYSTEM_SENDER
    with pytest.raises(ChatError, match="no chat 'nope'"):
        desk.receive("nope", ev.ContactLeft())


def test_commands_are_pulled_in_order_and_only_once(clock: VirtualClock) -> None:
    desk = AgentDesk(clock)
    nudges: list[int] = []
    desk.on_commands(lambda: nudges.append(1))
    s = desk.offer("a", ContactRecord("A"))
    s.accept()
    s.send("hi")
    desk.set_presence("away")
    s.set_agent_typing(True)
    assert desk.commands_to_send() == [
        cmd.Accept("a"),
        cmd.SendMessage("a", "a:agent:1", "hi"),
        cmd.SetPresence("", "away"),
        cmd.SetTyping("a", True),
    ]
    assert len(nudges) == 4
    assert desk.commands_to_send() == []
    s.end()
    assert desk.commands_to_send() == [cmd.End("a")]


def test_connect_stays_a_push_adapter_over_the_pulled_commands(clock: VirtualClock) -> None:
    desk = AgentDesk(clock)
    sent: list[cmd.Command] = []
    desk.connect(sent.append)
    s = desk.offer("a", ContactRecord("A"))
    s.accept()
    desk.set_presence("ready")
    assert sent == [cmd.Accept("a"), cmd.SetPresence("", "ready")]
    assert desk.commands_to_send() == []  # handed out once, to the sink


DOC = make_doc(
    "r1",
    offered=0,
    accepted=10,
    left=150,
    ended=160,
    done=170,
    entries=[
        entry(2, "contact"),
        entry(25, "agent"),
        entry(150, "system", "notice", event="left"),
    ],
    typing=[(20, "agent", True), (35, "contact", True)],
)


def test_the_replay_drives_its_session_through_events(monkeypatch: pytest.MonkeyPatch) -> None:
    fed: list[tuple[str, float | None]] = []
    receive = ReplaySession.receive

    def spy(self: ReplaySession, event: ev.SessionEvent) -> Entry | None:
        fed.append((type(event).__name__, event.at))
        return receive(self, event)

    monkeypatch.setattr(ReplaySession, "receive", spy)
    r = ReplayBackend(DOC)
    r.seek(T0 + 200)
    assert fed == [
        ("EntryRecorded", T0 + 2),
        ("ResumedAccepted", T0 + 10),
        ("AgentTypingRecorded", T0 + 20),
        ("EntryRecorded", T0 + 25),
        ("ContactTyping", T0 + 35),
        ("EntryRecorded", T0 + 150),
        ("ContactLeftRecorded", T0 + 150),
        ("EndRecorded", T0 + 160),
        ("DoneRecorded", T0 + 170),
        ("WrapUpRecorded", T0 + 170),
    ]
    s = r.session
    assert s is not None and s.state is SessionState.DONE and s.ended_at == T0 + 160
    assert not [name for name in dir(ReplaySession) if name.startswith("_replay_")]


def test_a_replay_refuses_the_backend_back_doors_as_before() -> None:
    s = ReplayBackend(DOC).session
    assert s is not None
    with pytest.raises(ReplayError, match="resume"):
        s.resume_accepted()
    with pytest.raises(ReplayError, match="hand over"):
        s.hand_over("gone")


def test_a_hand_over_stamped_before_the_kernels_last_change_still_lands(
    clock: VirtualClock,
) -> None:
    """The server's clock a few ms behind the kernel's: the ChatTransferred it stored
    lies before the reply the kernel just timed. The chat is handed over all the same
    (it used to raise 'timer events must not go back in time', and the live backend lost
    the event: notebook 04 hung waiting for 'transferred')."""
    s = AgentDesk(clock).offer("c1", ContactRecord("Maria Weber"))
    s.accept()
    clock.advance(1)
    s.send("Hello")  # the reply ends the first wait
    clock.advance(1)
    s.receive_message("Hi")  # a new wait starts at the kernel's now
    before = clock.now() - 0.005
    with s.stamped(before):
        s.hand_over(notice("transferred_to", name="Bob"))
    assert s.state is SessionState.TRANSFERRED
    assert s.timer.pending_since is None
    assert s.timer.colour_at(clock.now() + 60) == "idle"
