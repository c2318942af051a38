import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mountChatView, type ChatView } from "../../js/parts/chatView";
import type { EntryView } from "../../js/core/types";
import { fakeCtx, key, type FakeCtx } from "./fakeCtx";

let ctx: FakeCtx;
let view: ChatView;
const q = <T extends HTMLElement = HTMLElement>(id: string): T => view.el.querySelector(`[data-testid=${id}]`) as T;
const qa = (id: string) => [...view.el.querySelectorAll<HTMLElement>(`[data-testid=${id}]`)];

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

const entry = (i: number, patch: Partial<EntryView>): EntryView => ({
  i, t: 0, k: "message", r: "contact", n: "Maria Weber", x: "", u: null, v: "all", ...patch,
});

beforeEach(() => mount());
afterEach(() => {
  view.destroy?.();
  view.el.remove();
});

describe("monitored indicator", () => {
  it("shows only while monitored, with the mode and the supervisor's name in the locale", () => {
    const indicator = q("monitored-indicator");
    expect(indicator.hidden).toBe(true);
    expect(indicator.hasAttribute("data-mode")).toBe(false);
    expect(view.el.querySelector(".cw-header")?.contains(indicator)).toBe(true);

    ctx.set({ monitored: { mode: "silent", by: "Tess" } });
    view.update();
    expect(indicator.hidden).toBe(false);
    expect(indicator.dataset.mode).toBe("silent");
    expect(indicator.textContent).toBe("Monitored by Tess");
    expect(indicator.getAttribute("role")).toBe("status");

    ctx.set({ monitored: { mode: "coach", by: "Tess" } });
    ctx.locale = "de";
    view.update();
    expect(indicator.dataset.mode).toBe("coach");
    expect(indicator.textContent).toBe("Tess coacht Sie");

    ctx.set({ monitored: null });
    view.update();
    expect(indicator.hidden).toBe(true);
  });
});

describe("help flag", () => {
  it("asks for the optional line, raises with Enter, then lowers as a toggle", () => {
    const flag = q<HTMLButtonElement>("help-flag");
    expect(flag.getAttribute("aria-pressed")).toBe("false");
    expect(flag.getAttribute("aria-label")).toBe("Ask for help");
    expect(q("help-flag-form").hidden).toBe(true);

    flag.click();
    expect(q("help-flag-form").hidden).toBe(false);
    const note = q<HTMLInputElement>("help-flag-note");
    expect(document.activeElement).toBe(note);
    expect(note.labels?.[0]?.textContent).toBe("What do you need help with? (optional)");
    expect(ctx.actions).toEqual([]); // nothing sent before the line is given (or skipped)
    type(note, "  Refund over my limit ");
    key(note, "Enter");
    expect(ctx.actions).toEqual([{ name: "raise_flag", args: { text: "Refund over my limit" } }]);
    expect(q("help-flag-form").hidden).toBe(true);
    expect(document.activeElement).toBe(flag);

    ctx.set({ help_flag: { text: "Refund over my limit", raised_at_ms: 5_000 } });
    view.update();
    expect(flag.getAttribute("aria-pressed")).toBe("true");
    expect(flag.getAttribute("aria-label")).toBe("Lower the help flag");
    expect(flag.textContent).toContain("Help requested");
    flag.click();
    expect(ctx.actions[1]).toEqual({ name: "lower_flag", args: {} });
  });

  it("raises without a line from the send button; Escape closes the line", () => {
    q("help-flag").click();
    key(q("help-flag-note"), "Escape");
    expect(q("help-flag-form").hidden).toBe(true);
    expect(document.activeElement).toBe(q("help-flag"));
    expect(ctx.actions).toEqual([]);
    q("help-flag").click();
    q("help-flag-send").click();
    expect(ctx.actions).toEqual([{ name: "raise_flag", args: {} }]);
  });

  it("is there only while the chat is in progress", () => {
    ctx.set({ state: "offered" });
    view.update();
    expect(q("help-flag").hidden).toBe(true);
    ctx.set({ state: "contact_left" });
    view.update();
    expect(q("help-flag").hidden).toBe(false);
  });
});

describe("coaching", () => {
  it("draws coaching entries as labelled whispers, never as messages", () => {
    view.applyDelta(0, [
      entry(0, { x: "Hi" }),
      entry(1, { k: "coaching", r: "supervisor", n: "Tess", x: "Apologise first", v: "agents" }),
      entry(2, { k: "coaching", r: "agent", n: "Agent", x: "Will do", v: "agents" }),
    ]);
    const [hi, coach, answer] = qa("entry");
    expect(hi!.dataset.kind).toBe("message");
    expect(coach!.dataset.kind).toBe("coaching");
    expect(coach!.dataset.senderRole).toBe("supervisor");
    expect(coach!.classList.contains("cw-coaching")).toBe(true);
    expect(coach!.querySelector("[data-testid=coaching-label]")?.textContent).toBe("Coaching");
    expect(coach!.textContent).toContain("Tess");
    expect(coach!.textContent).toContain("Apologise first");
    expect(answer!.dataset.senderRole).toBe("agent");
    expect(answer!.textContent).toContain("(You)");
    expect(hi!.querySelector("[data-testid=coaching-label]")).toBeNull();
    // the live region says it is coaching (the latest line not written by us: Tess's)
    expect(q("live-region").textContent).toBe("Coaching – Tess: Apologise first");
    ctx.locale = "de";
    view.update();
    expect(coach!.querySelector(".cw-coaching-label")?.getAttribute("title")).toBe("nur Sie und Ihr Supervisor sehen das");
  });

  it("offers the answer field only while a coach is there, Enter sends it", () => {
    expect(q("coach-bar").hidden).toBe(true);
    ctx.set({ monitored: { mode: "silent", by: "Tess" } });
    view.update();
    expect(q("coach-bar").hidden).toBe(true);
    ctx.set({ monitored: { mode: "coach", by: "Tess" } });
    view.update();
    expect(q("coach-bar").hidden).toBe(false);
    const answer = q<HTMLTextAreaElement>("coach-answer");
    expect(answer.getAttribute("aria-label")).toBe("Answer your coach (not visible to the contact)");
    expect(answer.placeholder).toBe("Whisper to Tess…");
    key(answer, "Enter");
    expect(ctx.actions).toEqual([]); // nothing typed
    type(answer, "Thanks, will do");
    key(answer, "Enter");
    expect(ctx.actions).toEqual([{ name: "answer_coach", args: { text: "Thanks, will do" } }]);
    expect(answer.value).toBe("");
    type(answer, "Over to you");
    q("coach-answer-send").click();
    expect(ctx.actions[1]).toEqual({ name: "answer_coach", args: { text: "Over to you" } });
    ctx.set({ monitored: { mode: "barge_in", by: "Tess" } });
    view.update();
    expect(q("coach-bar").hidden).toBe(false);
    ctx.set({ monitored: null });
    view.update();
    expect(q("coach-bar").hidden).toBe(true);
  });
});
