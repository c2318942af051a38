/** Issue 12, "Smaller things seen": each test fails on the code before its fix. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { attentionController, kernelAlive, liveView } from "../../js/core/attention";
import { mountChatView, type ChatView } from "../../js/parts/chatView";
import type { EntryView } from "../../js/core/types";
import { fakeCtx, type FakeCtx } from "./fakeCtx";

let ctx: FakeCtx;
let view: ChatView;
const q = <T extends HTMLElement = HTMLElement>(id: string): T => view.el.querySelector(`[data-testid=${id}]`) as T;
const qa = (id: string) => [...view.el.querySelectorAll<HTMLElement>(`[data-testid=${id}]`)];
const msg = (i: number, x: string, r: EntryView["r"], n: string): EntryView => ({ i, t: 0, k: "message", r, n, x, u: null, v: "all" });

function mount(state: Parameters<typeof fakeCtx>[0] = {}): void {
  ctx = fakeCtx(state);
  view = mountChatView(ctx);
  document.body.append(view.el);
  view.update();
}

beforeEach(() => mount());
afterEach(() => {
  view.destroy?.();
  view.el.remove();
});

describe("1. Call is not offered again during a call", () => {
  it("disables Call while dialing or connected and sends no call action", () => {
    ctx.set({ call: { state: "dialing", number: "+49 30 1234567" } });
    view.update();
    q("party-action").click();
    const calls = qa("call-contact");
    expect(calls.map((c) => c.getAttribute("aria-disabled"))).toEqual(["true", "true"]);
    calls[1]!.click();
    expect(ctx.actions).toEqual([]);
    // a number the contact wrote in the chat is no way around it
    view.applyDelta(0, [msg(0, "or call 040 9876543", "contact", "Maria Weber")]);
    q("chat-phone").click();
    expect(ctx.actions).toEqual([]);
    ctx.set({ call: { state: "ended", number: "+49 30 1234567" } });
    view.update();
    expect(qa("call-contact").map((c) => c.getAttribute("aria-disabled"))).toEqual([null, null]);
    qa("call-contact")[0]!.click();
    expect(ctx.actions).toEqual([{ name: "call", args: { number: "+49 30 1234567" } }]);
  });
});

describe("2. F13 counts only live views", () => {
  it("a view whose kernel is gone (or that left the page) does not flash the tab", () => {
    const ctl = attentionController(window);
    const el = document.createElement("div");
    const root = document.createElement("div");
    el.append(root);
    document.body.append(el);
    let disposed = false;
    const unwatch = ctl.register({ colour: () => "red", title: () => "x", live: liveView(el, root, () => disposed) });
    try {
      ctl.check();
      expect(ctl.state().colour).toBe("red");
      el.classList.add("jupyter-widgets-disconnected"); // what ipywidgets does when the comm dies
      ctl.check();
      expect(ctl.state().colour).toBe("idle");
      el.classList.remove("jupyter-widgets-disconnected");
      el.remove();
      ctl.check();
      expect(ctl.state().colour).toBe("idle");
      document.body.append(el);
      disposed = true;
      ctl.check();
      expect(ctl.state().colour).toBe("idle");
    } finally {
      unwatch();
      el.remove();
    }
  });
});

describe("2. ... the kernel behind a view", () => {
  it("is gone when JupyterLab's widget manager has no kernel, a dead one, or is disposed", () => {
    const wm: { kernel: { status: string } | null; isDisposed: boolean } = { kernel: { status: "idle" }, isDisposed: false };
    const alive = kernelAlive({ widget_manager: wm });
    expect(alive()).toBe(true);
    wm.kernel = null; // Kernel > Shut Down Kernel
    expect(alive()).toBe(false);
    wm.kernel = { status: "dead" };
    expect(alive()).toBe(false);
    wm.kernel = { status: "busy" };
    wm.isDisposed = true; // the notebook was closed
    expect(alive()).toBe(false);
    expect(kernelAlive({})()).toBe(true); // a host that does not say: alive
    expect(kernelAlive({ widget_manager: {} })()).toBe(true);
  });
});

describe("3. Connection status (F12)", () => {
  it("stays next to Party Action when a call shows; shows while waiting; 'Contact left' after Done", () => {
    ctx.set({ call: { state: "connected", number: "+49 30 1234567" } });
    view.update();
    const status = q("connection-status");
    // one group that never wraps apart; the call's status comes after the connection status
    expect(status.parentElement?.classList.contains("cw-party-group")).toBe(true);
    expect(status.previousElementSibling).toBe(q("party-action").parentElement);
    expect(status.parentElement?.contains(q("call-state"))).toBe(false);
    ctx.set({ state: "waiting", session_id: null, connection: "reconnecting" });
    view.update();
    expect(status.closest("[hidden]")).toBeNull();
    expect(status.dataset.status).toBe("reconnecting");
    expect(q("reply-timer").hidden).toBe(true);
    ctx.set({ state: "done", session_id: "chat-1", connection: "connected", contact_left: true });
    view.update();
    expect(status.dataset.status).toBe("contact_left");
    expect(status.textContent).toBe("Contact left");
  });
});

describe("4. Layout: End and Done together, the menu under its button, one icon set", () => {
  it("keeps End/Done in one group and anchors the menu to the Party Action button", () => {
    expect(q("end").parentElement).toBe(q("done").parentElement);
    expect(q("end").parentElement?.classList.contains("cw-wrapup-actions")).toBe(true);
    expect(q("party-menu").parentElement).toBe(q("party-action").parentElement);
    expect(q("party-menu").parentElement?.contains(q("hang-up"))).toBe(false);
  });
});

describe("5. A message sent while disconnected looks pending until acknowledged", () => {
  it("marks the entry sending… and clears it on ack, whether the state or the entry comes first", () => {
    ctx.set({ pending: [1] });
    view.update(); // state before the entry arrives
    view.applyDelta(0, [msg(0, "Hi", "contact", "Maria Weber"), msg(1, "On it", "agent", "Agent")]);
    const [, mine] = qa("entry");
    expect(mine!.dataset.pending).toBe("true");
    expect(mine!.querySelector("[data-testid=entry-pending]")?.textContent).toBe("sending…");
    ctx.locale = "de";
    view.update();
    expect(mine!.querySelector("[data-testid=entry-pending]")?.textContent).toBe("wird gesendet…");
    ctx.set({ pending: [] });
    view.update();
    expect(mine!.hasAttribute("data-pending")).toBe(false);
    expect(mine!.querySelector("[data-testid=entry-pending]")).toBeNull();
    ctx.set({ pending: [1] });
    view.update(); // an entry already drawn
    expect(mine!.dataset.pending).toBe("true");
  });
});

describe("5b. A message the server refused reads 'not delivered'", () => {
  it("marks the entry, drawn before or after the state, in the locale", () => {
    view.applyDelta(0, [msg(0, "Hi", "contact", "Maria Weber"), msg(1, "On it", "agent", "Agent")]);
    ctx.set({ pending: [], refused: [1] });
    view.update();
    const [, mine] = qa("entry");
    expect(mine!.dataset.refused).toBe("true");
    expect(mine!.hasAttribute("data-pending")).toBe(false);
    expect(mine!.querySelector("[data-testid=entry-refused]")?.textContent).toBe("not delivered");
    ctx.locale = "de";
    view.update();
    expect(mine!.querySelector("[data-testid=entry-refused]")?.textContent).toBe("nicht zugestellt");
    view.applyDelta(2, [msg(2, "Second try", "agent", "Agent")]);
    ctx.set({ refused: [1, 2] });
    view.update();
    expect(qa("entry-refused")).toHaveLength(2);
  });
});

describe("7. reconfigure(clickable_contact_details=False) redraws drawn entries", () => {
  it("numbers and addresses the contact wrote stop (and start) being actions", () => {
    view.applyDelta(0, [msg(0, "Call 040 9876543 or mail maria@example.com", "contact", "Maria Weber")]);
    expect(qa("chat-phone")).toHaveLength(1);
    expect(qa("chat-email")).toHaveLength(1);
    ctx.set({ clickable_contact_details: false });
    view.update();
    expect(qa("chat-phone")).toHaveLength(0);
    expect(qa("chat-email")).toHaveLength(0);
    expect(qa("entry")[0]!.textContent).toContain("040 9876543");
    ctx.set({ clickable_contact_details: true, permissions: { push_urls: true, call_contact: false, email_contact: true } });
    view.update();
    expect(qa("chat-phone")).toHaveLength(0);
    expect(qa("chat-email")).toHaveLength(1);
  });
});

describe("8. Replay: nobody is '(You)'", () => {
  it("labels the historic agent by name only", () => {
    view.applyDelta(0, [msg(0, "Hello", "agent", "Agent")]);
    expect(qa("entry")[0]!.textContent).toContain("(You)");
    view.destroy?.();
    view.el.remove();
    mount({ replaying: true });
    view.applyDelta(0, [msg(0, "Hello", "agent", "Agent")]);
    expect(qa("entry")[0]!.textContent).not.toContain("(You)");
  });
});

describe("6. A transfer asks before the chat leaves", () => {
  it("the first Confirm asks (naming the receiver), the second transfers; conference stays one click", async () => {
    const { mountDialog } = await import("../../js/workspace/dialog");
    const { labelsFor } = await import("../../js/core/labels");
    const acts: { sid: string; name: string; args: Record<string, unknown> }[] = [];
    const dir = { agents: [{ id: "lena", name: "Lena Hoffmann", skills: [], presence: "available" as const }], queues: [], externals: [] };
    const d = mountDialog(() => labelsFor("en"), () => dir, () => "me", (sid, name, args) => acts.push({ sid, name, args }));
    document.body.append(d.el);
    try {
      d.open("chat-1", "transfer");
      const dq = (id: string) => d.el.querySelector<HTMLElement>(`[data-testid=${id}]`)!;
      const radio = d.el.querySelector<HTMLInputElement>("[data-target-id=lena] input")!;
      radio.checked = true;
      radio.dispatchEvent(new Event("change"));
      dq("dialog-confirm").click();
      expect(acts).toEqual([]);
      expect(dq("transfer-confirm-question").hidden).toBe(false);
      expect(dq("transfer-confirm-question").textContent).toContain("Lena Hoffmann");
      expect(dq("dialog-confirm").textContent).toBe("Yes, transfer");
      expect(d.el.hidden).toBe(false);
      dq("dialog-confirm").click();
      expect(acts).toEqual([{ sid: "chat-1", name: "transfer", args: { target_kind: "agent", target_id: "lena", note: "" } }]);
      expect(d.el.hidden).toBe(true);
      d.open("chat-1", "conference");
      expect(dq("transfer-confirm-question").hidden).toBe(true);
      const r2 = d.el.querySelector<HTMLInputElement>("[data-target-id=lena] input")!;
      r2.checked = true;
      r2.dispatchEvent(new Event("change"));
      dq("dialog-confirm").click();
      expect(acts.map((a) => a.name)).toEqual(["transfer", "invite"]);
    } finally {
      d.el.remove();
    }
  });
});

describe("4/8. Workspace: one icon set; no empty directory headings", () => {
  it("collaboration buttons carry SVG icons, no Unicode glyphs; empty sections have no heading", async () => {
    const { mountSidePanel } = await import("../../js/workspace/sidePanel");
    const { mountCollabPanel } = await import("../../js/workspace/collabPanel");
    const { labelsFor } = await import("../../js/core/labels");
    const L = labelsFor("en");
    const side = mountSidePanel(() => L, () => ({ agents: [{ id: "lena", name: "Lena Hoffmann", skills: [], presence: "available" }], queues: [], externals: [] }), () => ({}), () => "me", () => undefined);
    side.update();
    const headings = [...side.el.querySelectorAll("h5")].map((x) => x.textContent);
    expect(headings).toEqual([L.colleagues]);
    expect(side.el.querySelector("[data-testid=directory-im] svg")).not.toBeNull();
    const wctx = Object.assign(fakeCtx(), { state: () => ({ ...fakeCtx().state(), collab: { owner: null, participants: [], conference: null, invite: null, transfer: null, consultation: { id: "k", target_kind: "agent", target_id: "lena", target_name: "Lena", medium: "voice", state: "active", started_at_ms: 0, connected_at_ms: 0, ended_at_ms: null } } }) });
    const panel = mountCollabPanel(wctx as never, () => undefined);
    panel.update();
    const text = panel.el.textContent ?? "";
    expect(text).not.toMatch(/[⇄⊕☎✉]/);
    for (const id of ["transfer-open", "conference-open", "consult-open", "consult-end"])
      expect(panel.el.querySelector(`[data-testid=${id}] svg`)).not.toBeNull();
  });
});
