import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mountChatView, type ChatView } from "../../js/parts/chatView";
import { TypingDebounce } from "../../js/parts/typingDebounce";
import type { EntryView } from "../../js/core/types";
import { fakeCtx, key, type FakeCtx } from "./fakeCtx";

let ctx: FakeCtx;
let view: ChatView;
const q = <T extends HTMLElement = HTMLElement>(id: string): T => view.el.querySelector(`[data-testid=${id}]`) as T;
const qa = (id: string) => [...view.el.querySelectorAll<HTMLElement>(`[data-testid=${id}]`)];
const names = () => ctx.actions.map((a) => a.name);
const last = () => ctx.actions[ctx.actions.length - 1];

function mount(state: Parameters<typeof fakeCtx>[0] = {}): void {
  ctx = fakeCtx(state);
  view = mountChatView(ctx);
  document.body.append(view.el);
  view.update();
}

function type(el: HTMLInputElement | HTMLTextAreaElement, text: string): void {
  el.value = text;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

beforeEach(() => mount());
afterEach(() => {
  view.destroy?.();
  view.el.remove();
});

describe("URL editor keyboard flow (F15–F17)", () => {
  it("opens under the text area, refuses javascript:/data: before sending, pushes http(s)", () => {
    q("url-editor-toggle").click();
    expect(q("url-editor").hidden).toBe(false);
    const input = q<HTMLInputElement>("url-input");
    expect(document.activeElement).toBe(input);
    for (const bad of ["javascript:alert(1)", "data:text/html,<b>x</b>", "JaVa\tScript:alert(1)", "ftp://x.org"]) {
      type(input, bad);
      key(input, "Enter");
      expect(q("url-error").hidden).toBe(false);
      expect(input.getAttribute("aria-invalid")).toBe("true");
    }
    q("url-send").click();
    expect(ctx.actions).toEqual([]);
    type(input, "https://example.com/help");
    expect(q("url-error").hidden).toBe(true); // typing clears the message
    expect(q("url-check").getAttribute("href")).toBe("https://example.com/help");
    expect(q("url-check").getAttribute("rel")).toBe("noopener noreferrer");
    key(input, "Enter");
    expect(ctx.actions).toEqual([{ name: "push_url", args: { url: "https://example.com/help" } }]);
    expect(input.value).toBe("");
  });

  it("history: Down opens and highlights, Up/Down move, Left/Right insert, Enter pushes, Escape closes", () => {
    ctx.set({ url_history: ["https://a.example", "https://b.example", "https://c.example"] });
    view.update();
    q("url-editor-toggle").click();
    const input = q<HTMLInputElement>("url-input");
    const menu = q("url-history");
    key(input, "ArrowDown");
    expect(menu.hidden).toBe(false);
    const selected = () => qa("url-history-item").map((li) => li.getAttribute("aria-selected"));
    expect(selected()).toEqual(["true", "false", "false"]);
    key(menu, "ArrowDown");
    key(menu, "ArrowDown");
    key(menu, "ArrowUp");
    expect(selected()).toEqual(["false", "true", "false"]);
    key(menu, "ArrowRight");
    expect(menu.hidden).toBe(true);
    expect(input.value).toBe("https://b.example");
    expect(document.activeElement).toBe(input);
    expect(ctx.actions).toEqual([]); // inserting does not push
    key(input, "ArrowDown");
    key(menu, "ArrowLeft");
    expect(input.value).toBe("https://a.example");
    key(input, "ArrowDown");
    key(menu, "ArrowUp"); // wraps to the last
    key(menu, "Enter");
    expect(last()).toEqual({ name: "push_url", args: { url: "https://c.example" } });
    key(input, "ArrowDown");
    key(menu, "Escape");
    expect(menu.hidden).toBe(true);
    expect(document.activeElement).toBe(input);
    q("url-history-toggle").click();
    qa("url-history-item")[1]!.click();
    expect(last()).toEqual({ name: "push_url", args: { url: "https://b.example" } });
    key(input, "Escape"); // Escape in the field closes the editor, focus back on its toggle
    expect(q("url-editor").hidden).toBe(true);
    expect(document.activeElement).toBe(q("url-editor-toggle"));
  });

  it("is not offered without the permission", () => {
    ctx.set({ permissions: { push_urls: false, call_contact: true, email_contact: true } });
    view.update();
    expect(q("url-editor-toggle").hidden).toBe(true);
  });
});

describe("wrap-up (F9, F10)", () => {
  it("End, then Mark done; a mandatory disposition is refused in the view until chosen", () => {
    ctx.set({ disposition_required: true });
    view.update();
    expect(q("done").hidden).toBe(true);
    q("end").click();
    expect(names()).toEqual(["end"]);
    ctx.set({ state: "ended" });
    view.update();
    expect(q("end").hidden).toBe(true);
    expect(q("done").hidden).toBe(false);
    expect(q("done-hint").hidden).toBe(false);
    q("done").click();
    expect(names()).toEqual(["end"]);
    expect(document.activeElement).toBe(q("disposition"));
    const select = q<HTMLSelectElement>("disposition");
    select.value = "Resolved";
    select.dispatchEvent(new Event("change"));
    expect(last()).toEqual({ name: "disposition", args: { code: "Resolved" } });
    ctx.set({ disposition: "Resolved" });
    view.update();
    expect(q("done-hint").hidden).toBe(true);
    const note = q<HTMLInputElement>("note");
    note.value = "refund sent";
    key(note, "Enter");
    q("done").click();
    expect(names().slice(-2)).toEqual(["note", "done"]);
  });
});

describe("Party Action (F8) and header (F2, F12)", () => {
  it("lists every number and address; call states; mailto drafts; stays open across updates", () => {
    q("party-action").click();
    expect(q("party-menu").hidden).toBe(false);
    expect(qa("call-contact").map((b) => b.textContent)).toEqual(["Call +49 30 1234567", "Call +49 170 5555555"]);
    expect(q("email-contact").getAttribute("href")).toBe("mailto:maria@example.com");
    expect(document.activeElement).toBe(qa("call-contact")[0]);
    key(q("party-menu"), "ArrowDown");
    view.update(); // an unrelated update must not steal focus from the open menu
    expect(document.activeElement).toBe(qa("call-contact")[1]);
    qa("call-contact")[1]!.click();
    expect(ctx.actions).toEqual([{ name: "call", args: { number: "+49 170 5555555" } }]);
    expect(q("party-menu").hidden).toBe(true);
    ctx.set({ call: { state: "dialing", number: "+49 170 5555555" } });
    view.update();
    expect(q("call-state").textContent).toBe("Dialing… +49 170 5555555");
    expect(q("hang-up").hidden).toBe(false);
    ctx.set({ call: { state: "connected", number: "+49 170 5555555" } });
    view.update();
    expect(q("call-state").dataset.call).toBe("connected");
    q("hang-up").click();
    expect(names()[names().length - 1]).toBe("hang_up");
    q("party-action").click();
    key(q("party-menu"), "Escape");
    expect(q("party-menu").hidden).toBe(true);
    expect(document.activeElement).toBe(q("party-action"));
  });

  it("a phone number the contact wrote is a call action when the setting is on", () => {
    view.applyDelta(0, [{ i: 0, t: 0, k: "message", r: "contact", n: "Maria Weber", x: "Call me on 040 9876543", u: null, v: "all" }]);
    q("chat-phone").click();
    expect(ctx.actions).toEqual([{ name: "call", args: { number: "040 9876543" } }]);
  });

  it("connection status next to Party Action, timer colour from the clock, elapsed time", () => {
    const status = q("connection-status");
    expect(status.previousElementSibling?.classList.contains("cw-party")).toBe(true);
    for (const st of ["reconnecting", "disconnected", "connected"]) {
      ctx.set({ connection: st });
      view.update();
      expect(status.dataset.status).toBe(st);
    }
    ctx.set({ state: "contact_left" });
    view.update();
    expect(status.dataset.status).toBe("contact_left");
    const timer = q("reply-timer");
    ctx.set({ state: "accepted" });
    ctx.nowMs = 45_000;
    view.tick?.();
    expect(timer.dataset.color).toBe("yellow");
    expect(q("elapsed").textContent).toBe("0:45");
    ctx.nowMs = 61_000;
    view.tick?.();
    expect([timer.dataset.color, timer.dataset.blink]).toEqual(["red", "true"]);
  });

  it("German labels throughout", () => {
    ctx.locale = "de";
    view.update();
    expect(q("party-action").textContent).toContain("Teilnehmeraktion");
    expect(q("send").textContent).toBe("Senden");
    expect(q("end").textContent).toBe("Beenden");
    expect(q("connection-status").textContent).toBe("Verbunden");
  });

  it("relabels our own lines when the locale changes", () => {
    view.applyDelta(0, [{ i: 0, t: 0, k: "message", r: "agent", n: "Agent", x: "Hallo", u: null, v: "all" }]);
    expect(view.el.querySelector(".cw-sender")!.textContent).toBe("Agent (You)");
    ctx.locale = "de";
    view.update();
    expect(view.el.querySelector(".cw-sender")!.textContent).toBe("Agent (Sie)");
  });
});

describe("typing (F4)", () => {
  it("the contact's indicator expires by itself on the clock", () => {
    ctx.set({ contact_typing_until_ms: 10_000 });
    ctx.nowMs = 9_000;
    view.tick?.();
    expect(q("typing-indicator").hidden).toBe(false);
    expect(q("typing-indicator").textContent).toBe("Maria Weber is typing…");
    ctx.nowMs = 10_000;
    view.tick?.();
    expect(q("typing-indicator").hidden).toBe(true);
  });

  it("our typing: started at once, stopped after inactivity, cleared on empty draft", () => {
    vi.useFakeTimers();
    try {
      const sent: boolean[] = [];
      const t = new TypingDebounce((v) => sent.push(v), 3000);
      t.input(false);
      t.input(false);
      expect(sent).toEqual([true]);
      vi.advanceTimersByTime(2999);
      t.input(false);
      vi.advanceTimersByTime(2999);
      expect(sent).toEqual([true]);
      vi.advanceTimersByTime(1);
      expect(sent).toEqual([true, false]);
      t.input(false);
      t.input(true);
      expect(sent).toEqual([true, false, true, false]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("transcript (F3)", () => {
  const entries = (from: number, n: number): EntryView[] =>
    Array.from({ length: n }, (_, j) => ({ i: from + j, t: 0, k: "message", r: "contact", n: "Maria Weber", x: `m${from + j}`, u: null, v: "all" }));

  const frame = () => new Promise((r) => setTimeout(r, 40)); // scrolling waits for a frame

  it("auto-scrolls at the bottom, but not while the user reviews; offers 'new messages'", async () => {
    const list = q("transcript");
    let height = 1000;
    Object.defineProperty(list, "scrollHeight", { get: () => height });
    Object.defineProperty(list, "clientHeight", { get: () => 200 });
    view.applyDelta(0, entries(0, 20));
    await frame();
    expect(list.scrollTop).toBe(1000);
    list.scrollTop = 100; // the user scrolls up to review
    list.dispatchEvent(new Event("scroll"));
    height = 1200;
    view.applyDelta(20, entries(20, 3));
    await frame();
    expect(list.scrollTop).toBe(100);
    expect(q("new-messages").hidden).toBe(false);
    expect(q("new-messages").textContent).toContain("(3)");
    q("new-messages").click();
    expect(list.scrollTop).toBe(1200);
    expect(q("new-messages").hidden).toBe(true);
    expect(q("live-region").textContent).toBe("Maria Weber: m22");
  });

  it("reports a gap so the widget asks for a snapshot", () => {
    expect(view.applyDelta(0, entries(0, 2))).toBeNull();
    expect(view.applyDelta(5, entries(5, 1))).toBe(2);
    expect(qa("entry")).toHaveLength(2);
  });
});
