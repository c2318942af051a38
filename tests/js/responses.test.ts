/** Standard responses in the composer (issue 16): the list by category, search, keyboard
 *  choice, `/shortcut` suggestions; choosing inserts for editing and never sends. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mountChatView, type ChatView } from "../../js/parts/chatView";
import { filterResponses, matchShortcut, SEARCH_DEBOUNCE_MS, shortcutAt } from "../../js/parts/responses";
import type { ResponseView } from "../../js/core/types";
import { fakeCtx, key, type FakeCtx } from "./fakeCtx";

const RESPONSES: ResponseView[] = [
  { id: "greeting", name: "Greeting", category: "Opening", shortcut: "hi", text: "Hello Maria, I am Agent. How can I help?" },
  { id: "history", name: "Earlier chat", category: "Opening", shortcut: "hist", text: "I see you wrote before, Maria." },
  { id: "hold", name: "One moment", category: "During the chat", shortcut: "hold", text: "One moment please, I am checking the invoice." },
  { id: "bye", name: "Goodbye", category: "Closing", shortcut: "bye", text: "Thank you, Maria. Have a nice day!" },
];

let ctx: FakeCtx;
let view: ChatView;
const q = <T extends HTMLElement = HTMLElement>(id: string): T => view.el.querySelector(`[data-testid=${id}]`) as T;
const qa = (id: string, root: ParentNode = view.el) => [...root.querySelectorAll<HTMLElement>(`[data-testid=${id}]`)];
const composer = () => q<HTMLTextAreaElement>("composer");
const lastSend = () => ctx.actions.filter((a) => a.name === "send").slice(-1)[0]!.args;
const visibleItems = () => qa("response-item").filter((el) => !el.closest("[hidden]"));

function type(text: string): void {
  const ta = composer();
  ta.value = text;
  ta.setSelectionRange(text.length, text.length);
  ta.dispatchEvent(new Event("input", { bubbles: true }));
}

beforeEach(() => {
  vi.useFakeTimers();
  ctx = fakeCtx({ responses: RESPONSES });
  view = mountChatView(ctx);
  document.body.append(view.el);
  view.update();
});
afterEach(() => {
  view.destroy?.();
  view.el.remove();
  vi.useRealTimers();
});

describe("the pure helpers", () => {
  it("filters by every word, matches shortcuts by prefix with the exact one first", () => {
    expect(filterResponses(RESPONSES, "maria nice").map((r) => r.id)).toEqual(["bye"]);
    expect(filterResponses(RESPONSES, "").length).toBe(4);
    expect(matchShortcut(RESPONSES, "HI").map((r) => r.id)).toEqual(["greeting", "history"]);
    expect(matchShortcut(RESPONSES, "h").map((r) => r.id)).toEqual(["greeting", "history", "hold"]);
    expect(shortcutAt("/hi", 3)).toEqual({ start: 0, prefix: "hi" });
    expect(shortcutAt("ok /ho", 6)).toEqual({ start: 3, prefix: "ho" });
    expect(shortcutAt("a/b", 3)).toBeNull(); // not inside a word (a URL, a date)
    expect(shortcutAt("/hi there", 9)).toBeNull();
  });
});

describe("the responses list", () => {
  it("opens from the toggle, grouped by category, focus in the search", () => {
    const toggle = q<HTMLButtonElement>("responses-toggle");
    expect(toggle.hidden).toBe(false);
    expect(toggle.textContent).toBe("Responses");
    expect(q("responses-popup").hidden).toBe(true);
    toggle.click();
    expect(q("responses-popup").hidden).toBe(false);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(document.activeElement).toBe(q("responses-search"));
    const groups = qa("responses-category");
    expect(groups.map((g) => g.getAttribute("aria-label"))).toEqual(["Opening", "During the chat", "Closing"]);
    expect(groups.map((g) => qa("response-item", g).map((i) => i.dataset.responseId))).toEqual([
      ["greeting", "history"],
      ["hold"],
      ["bye"],
    ]);
    expect(visibleItems()[0]!.textContent).toContain("Hello Maria");
  });

  it("is hidden without a library and shows German labels", () => {
    ctx.set({ responses: [] });
    view.update();
    expect(q("responses-toggle").hidden).toBe(true);
    ctx.set({ responses: RESPONSES });
    ctx.locale = "de";
    view.update();
    expect(q("responses-toggle").textContent).toBe("Textbausteine");
    expect(q("responses-search").getAttribute("aria-label")).toBe("Textbausteine durchsuchen");
  });

  it("search filters after a short pause (debounced)", () => {
    q("responses-toggle").click();
    const search = q<HTMLInputElement>("responses-search");
    search.value = "invoice";
    search.dispatchEvent(new Event("input"));
    expect(visibleItems().length).toBe(4); // not yet: the debounce waits
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    expect(visibleItems().map((i) => i.dataset.responseId)).toEqual(["hold"]);
    search.value = "nothing like this";
    search.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    expect(visibleItems()).toEqual([]);
    expect(q("responses-popup").textContent).toContain("No matching response");
  });

  it("keyboard: arrows highlight, Enter inserts into the composer, nothing is sent", () => {
    type("Hi! ");
    q("responses-toggle").click();
    const search = q<HTMLInputElement>("responses-search");
    key(search, "ArrowDown");
    key(search, "ArrowDown");
    key(search, "ArrowDown");
    key(search, "ArrowUp");
    const selected = visibleItems().filter((i) => i.getAttribute("aria-selected") === "true");
    expect(selected.map((i) => i.dataset.responseId)).toEqual(["history"]);
    expect(search.getAttribute("aria-activedescendant")).toBe(selected[0]!.id);
    key(search, "Enter");
    expect(q("responses-popup").hidden).toBe(true);
    expect(composer().value).toBe("Hi! I see you wrote before, Maria.");
    expect(document.activeElement).toBe(composer());
    expect(ctx.actions.filter((a) => a.name === "send")).toEqual([]);
  });

  it("Escape closes and gives the focus back to the toggle", () => {
    q("responses-toggle").click();
    key(q("responses-search"), "Escape");
    expect(q("responses-popup").hidden).toBe(true);
    expect(document.activeElement).toBe(q("responses-toggle"));
  });

  it("a click on an item inserts it; the edited text is sent with the response id", () => {
    q("responses-toggle").click();
    visibleItems()[0]!.click();
    expect(composer().value).toBe("Hello Maria, I am Agent. How can I help?");
    type(composer().value.replace("How can I help?", "What can I do for you?"));
    key(composer(), "Enter");
    expect(ctx.actions.filter((a) => a.name === "send")).toEqual([
      { name: "send", args: { text: "Hello Maria, I am Agent. What can I do for you?", response: "greeting" } },
    ]);
    type("typed freely");
    key(composer(), "Enter");
    expect(lastSend()).toEqual({ text: "typed freely" });
  });

  it("emptying the text forgets the response", () => {
    q("responses-toggle").click();
    visibleItems()[3]!.click();
    type("");
    type("my own words");
    key(composer(), "Enter");
    expect(lastSend()).toEqual({ text: "my own words" });
  });
});

describe("/ shortcuts in the composer", () => {
  it("offers matches inline with the same item hooks; Enter inserts in place of /hi", () => {
    type("/h");
    expect(visibleItems().map((i) => i.dataset.responseId)).toEqual(["greeting", "history", "hold"]);
    type("/hi");
    expect(visibleItems().map((i) => i.dataset.responseId)).toEqual(["greeting", "history"]);
    key(composer(), "Enter"); // no highlight: the best (exact) match
    expect(composer().value).toBe("Hello Maria, I am Agent. How can I help?");
    expect(visibleItems()).toEqual([]);
    expect(ctx.actions.filter((a) => a.name === "send")).toEqual([]); // inserted, not sent
    key(composer(), "Enter");
    expect(lastSend()).toEqual({
      text: "Hello Maria, I am Agent. How can I help?",
      response: "greeting",
    });
  });

  it("arrows pick another suggestion, mid-text; Escape dismisses and Enter then sends", () => {
    type("Sure. /h");
    key(composer(), "ArrowDown");
    key(composer(), "ArrowDown");
    key(composer(), "ArrowDown");
    key(composer(), "Tab");
    expect(composer().value).toBe("Sure. One moment please, I am checking the invoice.");
    type(""); // emptied: the response is forgotten
    type("see /zz");
    expect(visibleItems()).toEqual([]); // no match: nothing offered
    type("/by");
    expect(visibleItems().length).toBe(1);
    key(composer(), "Escape");
    expect(visibleItems()).toEqual([]);
    key(composer(), "Enter");
    expect(lastSend()).toEqual({ text: "/by" });
  });

  it("a click on a suggestion inserts it", () => {
    type("/bye");
    visibleItems()[0]!.click();
    expect(composer().value).toBe("Thank you, Maria. Have a nice day!");
  });
});
