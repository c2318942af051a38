import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mountChatView, type ChatView } from "../../js/parts/chatView";
import { historyDate } from "../../js/parts/history";
import { labelsFor } from "../../js/core/labels";
import type { EntryView, HistoryItemView } from "../../js/core/types";
import { fakeCtx, type FakeCtx } from "./fakeCtx";

let ctx: FakeCtx;
let view: ChatView;
const q = <T extends HTMLElement = HTMLElement>(id: string): T => view.el.querySelector(`[data-testid=${id}]`) as T;
const qa = (id: string) => [...view.el.querySelectorAll<HTMLElement>(`[data-testid=${id}]`)];

const NOV_20 = Date.UTC(2026, 10, 20, 10, 15);
const OCT_02 = Date.UTC(2026, 9, 2, 9, 0);
const item = (patch: Partial<HistoryItemView>): HistoryItemView => ({
  conversation: "history-1", created_ms: NOV_20, state: "done", agent: "Lena", disposition: "Resolved",
  notes: ["Refund promised"], loading: false, entries: null, ...patch,
});
const entry = (i: number, patch: Partial<EntryView>): EntryView => ({
  i, t: NOV_20 + i * 30_000, k: "message", r: "contact", n: "Maria Weber", x: "", u: null, v: "all", ...patch,
});

beforeEach(() => {
  ctx = fakeCtx();
  view = mountChatView(ctx);
  document.body.append(view.el);
  view.update();
});
afterEach(() => {
  view.destroy?.();
  view.el.remove();
});

describe("contact history panel", () => {
  it("takes no room when the contact has no earlier chats", () => {
    expect(q("contact-history").hidden).toBe(true);
    expect(qa("history-item")).toHaveLength(0);
  });

  it("lists the earlier chats above the transcript: date, agent, disposition, note", () => {
    ctx.set({ history: [item({}), item({ conversation: "history-2", created_ms: OCT_02, agent: "Tom", disposition: null, notes: [] })] });
    view.update();
    const panel = q("contact-history");
    expect(panel.hidden).toBe(false);
    expect(panel.compareDocumentPosition(q("transcript")) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    const rows = qa("history-item");
    expect(rows.map((r) => r.dataset.conversation)).toEqual(["history-1", "history-2"]);
    expect(rows[0]!.querySelector("[data-testid=history-date]")?.textContent).toBe("20 Nov 2026, 10:15");
    expect(rows[0]!.querySelector("[data-testid=history-agent]")?.textContent).toBe("Lena");
    expect(rows[0]!.querySelector("[data-testid=history-disposition]")?.textContent).toBe("Resolved");
    expect(rows[0]!.querySelector("[data-testid=history-note]")?.textContent).toBe("Refund promised");
    expect(rows[1]!.querySelector("[data-testid=history-disposition]")?.textContent).toBe("no disposition");
    expect(rows[1]!.querySelector("[data-testid=history-note]")).toBeNull();
    expect(q("contact-history-toggle").textContent).toContain("Contact history (2)");
  });

  it("shows the date and labels in the reader's locale", () => {
    ctx.set({ history: [item({})] });
    ctx.locale = "de";
    view.update();
    expect(q("history-date").textContent).toBe(historyDate(NOV_20, labelsFor("de")));
    expect(q("history-date").textContent).toMatch(/20\.11\.2026/);
    expect(q("history-open").textContent).toBe("Verlauf anzeigen");
    expect(q("contact-history-toggle").textContent).toContain("Kontakthistorie");
  });

  it("asks for a transcript once, then shows it read-only like the live transcript", () => {
    ctx.set({ history: [item({})], pending: [0], refused: [1] });
    view.update();
    q("history-open").click();
    expect(ctx.actions).toEqual([{ name: "history_open", args: { conversation: "history-1" } }]);
    expect(q("history-transcript").textContent).toBe("Loading the transcript…");
    expect(q("history-open").getAttribute("aria-expanded")).toBe("true");

    ctx.set({ history: [item({ loading: true })] });
    view.update();
    ctx.set({
      history: [item({ entries: [entry(0, { x: "My invoice is wrong" }), entry(1, { r: "agent", n: "Lena", x: "Sorry, I fix it" })] })],
    });
    view.update();
    const shown = q("history-transcript");
    const entries = [...shown.querySelectorAll<HTMLElement>("[data-testid=entry]")];
    expect(entries.map((e) => e.querySelector(".cw-text")?.textContent)).toEqual(["My invoice is wrong", "Sorry, I fix it"]);
    expect(entries[1]!.dataset.senderRole).toBe("agent");
    // the live chat's sending / not-delivered marks never land on the history's entries
    expect(shown.querySelector("[data-testid=entry-pending]")).toBeNull();
    expect(shown.querySelector("[data-testid=entry-refused]")).toBeNull();
    // nothing to type or send in there, and the live transcript is untouched
    expect(shown.querySelector("textarea, input")).toBeNull();
    expect(q("transcript").querySelectorAll("[data-testid=entry]")).toHaveLength(0);

    // hide, show again: no second request
    q("history-open").click();
    expect(qa("history-transcript")).toHaveLength(0);
    q("history-open").click();
    expect(qa("history-transcript")).toHaveLength(1);
    expect(ctx.actions).toHaveLength(1);
  });

  it("collapses to its title", () => {
    ctx.set({ history: [item({})] });
    view.update();
    q("contact-history-toggle").click();
    expect(q("history-list").hidden).toBe(true);
    expect(q("contact-history-toggle").getAttribute("aria-expanded")).toBe("false");
    q("contact-history-toggle").click();
    expect(q("history-list").hidden).toBe(false);
  });
});
