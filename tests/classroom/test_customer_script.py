"""The scenario engine on a virtual clock: the mock's timing, hooks at exact times, pause."""

from __future__ import annotations

from chat_widget import MockBackend, VirtualClock
from chat_widget.backends.scenario import load_scenario
from chat_widget.classroom import Classroom, plan
from chat_widget.clock_driver import ClockDriver
from chat_widget.formats.transcript import Role
from chat_widget.model.customer_script import CustomerScript
from chat_widget.model.reply_timer import Thresholds


class Recorder:
    """A port that notes what the customer did, and when."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.said: list[tuple[float, str]] = []
        self.typing_log: list[tuple[float, bool]] = []
        self.left: list[float] = []
        self.coached: list[tuple[float, str]] = []

    def say(self, text: str) -> None:
        self.said.append((self.clock.now(), text))

    def typing(self, on: bool) -> None:
        self.typing_log.append((self.clock.now(), on))

    def leave(self) -> None:
        self.left.append(self.clock.now())

    def coach(self, text: str) -> None:
        self.coached.append((self.clock.now(), text))


def engine(name: str, thresholds: Thresholds | None = None) -> tuple[CustomerScript, Recorder]:
    clock = VirtualClock(start=0.0)
    port = Recorder(clock)
    return CustomerScript(load_scenario(name), clock, port, thresholds=thresholds), port


def test_the_engine_keeps_the_mocks_step_timing() -> None:
    """The same agent replies at the same times: the same customer lines at the same times."""
    replies = [20.0, 40.0, 60.0]
    backend = MockBackend("billing", clock=VirtualClock(start=0.0))
    backend.clock.advance(1)
    session = backend.first_session()
    assert session is not None
    session.accept()
    accepted = backend.clock.now()
    for t in replies:
        backend.clock.advance_to(accepted + t)
        session.send("Let me see.")
    backend.clock.advance(30)
    contact = [e for e in session.transcript if e.sender.role is Role.CONTACT]
    mock = [(e.time - accepted, e.text) for e in contact]

    script, port = engine("billing")
    clock = port.clock
    script.accepted()
    for t in replies:
        clock.advance_to(t)
        script.agent_replied()
    clock.advance(30)
    assert port.said == mock
    assert [t for t, _ in port.said] == [5.0, 28.0, 45.0, 60.0]  # delay + typing after replies
    assert port.left == [60.0] and script.finished and script.over
    assert port.typing_log[:2] == [(1.0, True), (23.0, True)]


def test_red_complaint_fires_exactly_when_the_customers_wait_turns_red() -> None:
    script, port = engine("impatient", Thresholds(yellow_after=3, red_after=8))
    clock = port.clock
    script.accepted()  # the wait starts at accept
    clock.advance(7.999)
    first = "My internet has been down since this morning. Fix it NOW."
    assert [text for _, text in port.said] == [first]
    clock.advance(0.001)
    assert port.said[-1] == (8.0, "Hello?? Is anybody there? I have been waiting for ages!")
    clock.advance(100)
    assert len(port.said) == 2  # once per wait
    script.agent_replied()  # at 108: the next line at 108 + 1 + 2, a new wait from there
    clock.advance(3)
    assert port.said[-1] == (111.0, "I already restarted the router three times.")
    clock.advance(7.5)
    script.agent_replied()  # answered before red: no complaint for this wait
    clock.advance(100)
    assert not any(text.startswith("Hello??") for t, text in port.said if t > 111)
    assert script.finished and port.left


def test_no_hook_after_the_chat_ended() -> None:
    script, port = engine("impatient", Thresholds(yellow_after=3, red_after=8))
    script.accepted()
    port.clock.advance(5)
    script.ended()
    port.clock.advance(60)
    assert len(port.said) == 1 and script.finished and not port.left


async def test_a_paused_class_clock_holds_the_customer_where_it_was() -> None:
    wall = [0.0]
    clock = VirtualClock(start=0.0)
    driver = ClockDriver(clock, interval=3600, wall=lambda: wall[0])
    port = Recorder(clock)
    script = CustomerScript(load_scenario("billing"), clock, port)
    driver.start()
    try:
        script.accepted()
        wall[0] += 2_000
        driver.tick()
        assert port.typing_log == [(1.0, True)] and not port.said
        clock.pause()
        wall[0] += 600_000  # ten minutes of pause
        driver.tick()
        assert not port.said and clock.now() == 2.0
        clock.resume()
        wall[0] += 2_900
        driver.tick()
        assert not port.said  # 4.9 s of class time: still typing
        wall[0] += 100
        driver.tick()
        assert port.said == [(5.0, "Hello, I was charged twice for my March invoice.")]
    finally:
        driver.stop()


def test_arrivals_cycle_through_scenarios_or_follow_the_files_counts() -> None:
    billing, impatient = load_scenario("billing"), load_scenario("impatient")
    mix = plan([billing, impatient], 5)
    assert [(s.name, t) for s, t in mix] == [
        ("Impatient customer", 0.0),
        ("Impatient customer", 0.0),
        ("Billing question", 1.0),
        ("Billing question", 1.0),
        ("Billing question", 1.0),
    ]
    data = billing.model_dump(mode="json", by_alias=True, exclude_unset=True)
    stream = load_scenario({**data, "arrive_after": 2, "count": 3, "every": 10})
    assert [t for _, t in plan([stream, impatient], 99)] == [0.0, 2.0, 12.0, 22.0]


def test_a_class_has_a_valid_class_id_and_the_servers_origin() -> None:
    room = Classroom("ws://127.0.0.1:8765/ws", ["billing", "leaver"], trainees=3)
    assert room.origin == "http://127.0.0.1:8765"
    assert room.class_id.startswith("class-") and len(room.class_id) <= 64
    assert [c.status for c in room.customers] == ["scheduled"] * 3
    assert [c.name for c in room.customers] == ["Aylin Demir", "Maria Weber", "Maria Weber 2"]
