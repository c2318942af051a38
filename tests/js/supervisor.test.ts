import { afterEach, describe, expect, it } from "vitest";
import { SUPERVISOR_DE, SUPERVISOR_EN } from "../../js/core/labels";
import type { EntryView } from "../../js/core/types";
import widget from "../../js/supervisor";
import { asSupervisorSees } from "../../js/supervisor/chatPane";
import { filterRows, rowColour, sortRows } from "../../js/supervisor/rows";
import type { ChatRow, TeamView } from "../../js/supervisor/types";

type Listener = (...args: unknown[]) => void;
const TH = { yellow: 30_000, red: 60_000 };
const last = <T>(xs: T[]): T | undefined => xs[xs.length - 1];

const chatRow = (id: string, agent: string | null, pending: number | null, extra: Partial<ChatRow> = {}): ChatRow => ({
  id, contact: `Contact ${id}`, state: agent ? "active" : "queued", agent_id: agent, agent_name: agent ? agent.toUpperCase() : null,
  members: agent ? [agent] : [], created_ms: 0, accepted_at_ms: agent ? 0 : null, pending_since_ms: pending, flag: null,
  my_mode: null, monitors: {}, entries: 0, ...extra,
});

function fakeModel(attrs: Record<string, unknown>) {
  const listeners = new Map<string, Listener[]>();
  const sent: Record<string, unknown>[] = [];
  const model = {
    get: (key: string) => attrs[key],
    set: (key: string, value: unknown) => {
      attrs[key] = value;
      for (const f of listeners.get(`change:${key}`) ?? []) f();
    },
    on: (ev: string, f: Listener) => listeners.set(ev, [...(listeners.get(ev) ?? []), f]),
    off: (ev: string, f: Listener) => listeners.set(ev, (listeners.get(ev) ?? []).filter((g) => g !== f)),
    send: (msg: Record<string, unknown>) => sent.push(msg),
  };
  const fromPython = (msg: unknown) => {
    for (const f of listeners.get("msg:custom") ?? []) f(msg);
  };
  return { model, sent, fromPython };
}

// a paused clock at 100 s: colours depend on it alone
const team = (): TeamView => ({
  me: { id: "tess", name: "Tess" },
  connection: "connected",
  thresholds_ms: TH,
  agents: [
    { id: "anna", name: "Anna", presence: "ready", chats: 2, watch_next: false },
    { id: "ben", name: "Ben", presence: "away", chats: 1, watch_next: false },
  ],
  chats: [
    chatRow("green", "anna", 90_000),
    chatRow("red", "ben", 10_000, { flag: { agent: "ben", text: "refund?", raised_at_ms: 80_000 } }),
    chatRow("yellow", "anna", 60_000),
    chatRow("q", null, null, { created_ms: 70_000 }),
  ],
  queue: ["q"],
  flags: ["red"],
});

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  document.body.replaceChildren();
});

function mount(locale = "en") {
  const fake = fakeModel({ team: team(), clock: { clock_ms: 100_000, wall_anchor_ms: 0, rate: 1, paused: true }, locale, virtual_clock: true, error: "", open_chat: "" });
  const el = document.createElement("div");
  document.body.append(el);
  cleanup = widget.render({ model: fake.model, el } as never) as () => void;
  const rows = () => [...el.querySelectorAll<HTMLElement>("[data-testid=supervised-chat]")];
  return { ...fake, el, rows };
}

describe("rows", () => {
  it("colours from the reply wait on the clock, red first, then by agent or waiting, and filters", () => {
    const rows = team().chats!;
    expect(rows.map((r) => rowColour(r, TH, 100_000))).toEqual(["green", "red", "yellow", "idle"]);
    expect(sortRows(rows, "red", TH, 100_000).map((r) => r.id)).toEqual(["red", "yellow", "green", "q"]);
    expect(sortRows(rows, "agent", TH, 100_000).map((r) => r.id)).toEqual(["green", "yellow", "red", "q"]);
    expect(sortRows(rows, "waiting", TH, 100_000).map((r) => r.id)).toEqual(["red", "yellow", "green", "q"]);
    expect(filterRows(rows, "anna").map((r) => r.id)).toEqual(["green", "yellow"]);
    // later on the clock the green one has turned yellow
    expect(rowColour(rows[0]!, TH, 125_000)).toBe("yellow");
  });
  it("has the same labels in German and English", () => {
    expect(Object.keys(SUPERVISOR_DE).sort()).toEqual(Object.keys(SUPERVISOR_EN).sort());
  });
});

describe("SupervisorWidget view", () => {
  it("draws rows red first with their colour, agent and flag, and filters by agent", () => {
    const { el, rows } = mount();
    expect(el.querySelector(".chat-supervisor")).not.toBeNull();
    expect(rows().map((r) => r.dataset.chat)).toEqual(["red", "yellow", "green", "q"]);
    expect(rows().map((r) => r.dataset.color)).toEqual(["red", "yellow", "green", "idle"]);
    expect(rows()[0]!.dataset.blink).toBe("true");
    expect(rows()[0]!.dataset.agent).toBe("ben");
    expect(rows()[0]!.querySelector<HTMLElement>("[data-testid=row-flag]")!.hidden).toBe(false);
    expect(rows()[0]!.querySelector("[data-testid=row-timer]")!.textContent).toBe("1:30");
    const filter = el.querySelector<HTMLSelectElement>("[data-testid=filter-agent]")!;
    filter.value = "anna";
    filter.dispatchEvent(new Event("change"));
    expect(rows().map((r) => r.dataset.chat)).toEqual(["yellow", "green"]);
    const sort = el.querySelector<HTMLSelectElement>("[data-testid=sort-by]")!;
    filter.value = "";
    sort.value = "agent";
    sort.dispatchEvent(new Event("change"));
    expect(rows().map((r) => r.dataset.chat)).toEqual(["green", "yellow", "red", "q"]);
  });

  it("lists help flags, the queue and the agents, and their buttons act", () => {
    const { el, sent } = mount();
    const flag = el.querySelector<HTMLElement>("[data-testid=help-flags] [data-testid=help-flag-item]")!;
    expect(flag.dataset.chat).toBe("red");
    expect(flag.textContent).toContain("refund?");
    expect(flag.querySelector("[data-testid=flag-age]")!.textContent).toContain("0:20");
    flag.querySelector<HTMLButtonElement>("[data-testid=lower-flag]")!.click();
    expect(last(sent)).toEqual({ type: "action", name: "lower_flag", args: { chat: "red" } });
    flag.querySelector<HTMLButtonElement>("[data-testid=barge-in]")!.click();
    expect(sent.slice(-2)).toEqual([
      { type: "action", name: "barge_in", args: { chat: "red" } },
      { type: "action", name: "open", args: { chat: "red" } },
    ]);
    const queued = el.querySelector("[data-testid=team-queue] [data-testid=queue-item]")!;
    expect(queued.textContent).toContain("Contact q");
    expect(queued.textContent).toContain("0:30");
    const ben = el.querySelector<HTMLElement>('[data-testid=team-agents] [data-agent="ben"]')!;
    expect(ben.dataset.presence).toBe("away");
    expect(ben.textContent).toContain("Chats: 1");
    ben.querySelector<HTMLButtonElement>("[data-testid=monitor-next]")!.click();
    expect(last(sent)).toEqual({ type: "action", name: "monitor_next", args: { agent: "ben", cancel: false } });
  });

  it("opens a row by click or Enter, renders its transcript and sends the buttons' actions", () => {
    const { el, sent, rows, model, fromPython } = mount();
    rows()[1]!.click();
    expect(last(sent)).toEqual({ type: "action", name: "open", args: { chat: "yellow" } });
    rows()[0]!.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(last(sent)).toEqual({ type: "action", name: "open", args: { chat: "red" } });
    model.set("open_chat", "red");
    expect(last(sent)).toEqual({ type: "snapshot", session_id: "red", from_index: 0 });
    const entries: EntryView[] = [
      { i: 0, t: 10_000, k: "message", r: "contact", n: "Maria", x: "Hello?", u: null, v: "all" },
      { i: 1, t: 20_000, k: "coaching" as EntryView["k"], r: "supervisor" as EntryView["r"], n: "Tess", x: "Apologise", u: null, v: "agents" },
    ];
    fromPython({ type: "entries", session_id: "red", first_index: 0, entries });
    fromPython({ type: "entries", session_id: "green", first_index: 0, entries }); // not open: ignored
    const pane = el.querySelector<HTMLElement>("[data-testid=open-chat]")!;
    expect(pane.hidden).toBe(false);
    const drawn = [...pane.querySelectorAll<HTMLElement>("[data-testid=entry]")];
    expect(drawn.map((e) => [e.dataset.kind, e.dataset.senderRole])).toEqual([["message", "contact"], ["coaching", "supervisor"]]);
    for (const [testid, name] of [["monitor", "monitor"], ["coach", "coach"], ["barge-in", "barge_in"], ["stop", "stop"]]) {
      pane.querySelector<HTMLButtonElement>(`[data-testid=${testid}]`)!.disabled = false;
      pane.querySelector<HTMLButtonElement>(`[data-testid=${testid}]`)!.click();
      expect(last(sent)).toMatchObject({ type: "action", name, args: { chat: "red" } });
    }
    // the composer shows in coach mode and sends what is typed
    const composer = pane.querySelector<HTMLElement>(".cw-sup-composer")!;
    expect(composer.hidden).toBe(true);
    model.set("team", { ...team(), chats: team().chats!.map((c) => (c.id === "red" ? { ...c, my_mode: "coach" } : c)) });
    expect(composer.hidden).toBe(false);
    const input = pane.querySelector<HTMLTextAreaElement>("[data-testid=composer]")!;
    expect(input.getAttribute("aria-label")).toBe(SUPERVISOR_EN.composerCoach);
    input.value = "Offer the refund";
    pane.querySelector<HTMLButtonElement>("[data-testid=send]")!.click();
    expect(last(sent)).toEqual({ type: "action", name: "send", args: { chat: "red", text: "Offer the refund" } });
    expect(pane.querySelector("[data-testid=coach]")!.getAttribute("aria-pressed")).toBe("true");
  });

  it("names its parts in the locale", () => {
    const { el } = mount("de");
    expect(el.querySelector(".chat-supervisor")!.getAttribute("aria-label")).toBe(SUPERVISOR_DE.dashboard);
    expect(el.querySelector("[data-testid=monitor-next]")!.textContent).toBe(SUPERVISOR_DE.monitorNext);
  });

  it("words the coached agent's notices for the supervisor (no 'coaching you')", () => {
    const notice: EntryView = { i: 3, t: 0, k: "notice", r: "system", n: "", x: "Tess is coaching you in this chat", u: null, v: "agents", c: "monitor_coach", p: { name: "Tess" } };
    expect(asSupervisorSees(notice, SUPERVISOR_EN).x).toBe("Tess is coaching the agents in this chat (the contact does not see it)");
    expect(asSupervisorSees({ ...notice, c: "monitor_coach_ended" }, SUPERVISOR_DE).x).toBe("Tess coacht in diesem Chat nicht mehr");
    const other = { ...notice, c: "monitor_silent" };
    expect(asSupervisorSees(other, SUPERVISOR_EN)).toBe(other);
  });
});
