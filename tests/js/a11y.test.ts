import { afterEach, describe, expect, it } from "vitest";
import { containKeys, isTextField, replaySliderKey, widgetOwnsKey } from "../../js/core/a11y";
import { mountChatView, type ChatView } from "../../js/parts/chatView";
import { h } from "../../js/core/dom";
import { fakeCtx, key, type FakeCtx } from "./fakeCtx";

describe("replay slider keys", () => {
  const at = (k: string, value = 10_000, init: { shiftKey?: boolean; ctrlKey?: boolean } = {}) =>
    replaySliderKey({ key: k, ...init }, value, 0, 100_000);

  it("steps a second with the arrows, ten with Shift", () => {
    expect(at("ArrowRight")).toBe(11_000);
    expect(at("ArrowUp")).toBe(11_000);
    expect(at("ArrowLeft")).toBe(9_000);
    expect(at("ArrowDown")).toBe(9_000);
    expect(at("ArrowRight", 10_000, { shiftKey: true })).toBe(20_000);
  });

  it("pages by a tenth of the conversation, Home and End go to its ends", () => {
    expect(at("PageUp")).toBe(20_000);
    expect(at("PageDown", 50_000)).toBe(40_000);
    expect(at("Home")).toBe(0);
    expect(at("End")).toBe(100_000);
  });

  it("stays inside the conversation and leaves other keys alone", () => {
    expect(at("ArrowLeft", 500)).toBe(0);
    expect(at("ArrowRight", 99_800)).toBe(100_000);
    expect(at("a")).toBeNull();
    expect(at("Tab")).toBeNull();
    expect(at("End", 10_000, { ctrlKey: true })).toBeNull();
  });
});

describe("which keys the widget keeps from the notebook", () => {
  it("keeps navigation and activation keys on controls, lets shortcuts and Tab through", () => {
    for (const k of ["Enter", " ", "Escape", "ArrowDown", "ArrowUp", "Home", "End", "PageDown"])
      expect(widgetOwnsKey({ key: k }, false)).toBe(true);
    expect(widgetOwnsKey({ key: "a" }, false)).toBe(false); // not typing: nothing of ours
    expect(widgetOwnsKey({ key: "Tab" }, false)).toBe(false);
    expect(widgetOwnsKey({ key: "s", ctrlKey: true }, true)).toBe(false);
    expect(widgetOwnsKey({ key: "C", ctrlKey: true, shiftKey: true }, false)).toBe(false);
  });

  it("keeps every plain key (and Shift+Enter) typed in a text field", () => {
    for (const k of ["a", "d", "Backspace", "Delete", "Enter"]) expect(widgetOwnsKey({ key: k }, true)).toBe(true);
    expect(widgetOwnsKey({ key: "Enter", shiftKey: true }, true)).toBe(true);
  });

  it("knows text fields", () => {
    expect(isTextField(h("textarea", {}))).toBe(true);
    expect(isTextField(h("input", { type: "url" }))).toBe(true);
    expect(isTextField(h("input", { type: "range" }))).toBe(false);
    expect(isTextField(h("button", {}))).toBe(false);
    expect(isTextField(null)).toBe(false);
  });

  it("stops them at the root while the control itself still gets them, and typing still works", () => {
    const button = h("button", {});
    const area = h("textarea", {});
    const root = h("div", {}, button, area);
    containKeys(root);
    const outer = h("div", {}, root);
    document.body.append(outer);
    const reached: string[] = [];
    outer.addEventListener("keydown", (ev) => reached.push(ev.key));
    let seen = 0;
    button.addEventListener("keydown", () => seen++);
    key(button, "ArrowDown");
    key(button, "Enter");
    key(area, "a");
    key(button, "s", { ctrlKey: true });
    key(button, "Tab");
    expect(seen).toBe(4);
    expect(reached).toEqual(["s", "Tab"]);
    // containment never cancels the default action (the character is typed)
    const ev = new KeyboardEvent("keydown", { key: "a", bubbles: true, cancelable: true });
    area.dispatchEvent(ev);
    expect(ev.defaultPrevented).toBe(false);
    outer.remove();
  });
});

describe("focus after the agent's own actions", () => {
  let ctx: FakeCtx;
  let view: ChatView;
  const q = (id: string) => view.el.querySelector(`[data-testid=${id}]`) as HTMLElement;
  afterEach(() => view.el.remove());

  function mount(state: string): void {
    ctx = fakeCtx({ state: state as never });
    view = mountChatView(ctx);
    document.body.append(view.el);
    view.update();
  }

  it("goes to the composer after Accept, to Mark done after End, to the status after Done", () => {
    mount("offered");
    q("accept").focus();
    q("accept").click();
    expect(ctx.actions.map((a) => a.name)).toEqual(["accept"]);
    view.update(); // Python has not answered yet: focus stays
    expect(document.activeElement).toBe(q("accept"));
    ctx.set({ state: "accepted" });
    view.update();
    expect(document.activeElement).toBe(q("composer"));

    q("end").click();
    ctx.set({ state: "ended" });
    view.update();
    expect(document.activeElement).toBe(q("done"));

    q("done").click();
    ctx.set({ state: "done" });
    view.update();
    expect(document.activeElement).toBe(q("chat-status"));
  });

  it("does not steal focus when Python changes the state on its own", () => {
    mount("offered");
    const outside = h("button", {});
    document.body.append(outside);
    outside.focus();
    ctx.set({ state: "accepted" });
    view.update();
    expect(document.activeElement).toBe(outside);
    outside.remove();
  });

  it("makes the disabled check link no tab stop", () => {
    mount("accepted");
    const check = q("url-check");
    expect(check.getAttribute("aria-disabled")).toBe("true");
    expect(check.getAttribute("tabindex")).toBe("-1");
    const input = q("url-input") as HTMLInputElement;
    input.value = "https://example.com";
    input.dispatchEvent(new Event("input"));
    expect(check.getAttribute("tabindex")).toBe("0");
  });

  it("opens the URL history with ArrowDown on its toggle, and keeps the key from the notebook", () => {
    mount("accepted");
    ctx.set({ url_history: ["https://a.example", "https://b.example"] });
    view.update();
    const reached: string[] = [];
    document.body.addEventListener("keydown", (ev) => reached.push(ev.key));
    key(q("url-history-toggle"), "ArrowDown");
    expect(q("url-history").hidden).toBe(false);
    expect(q("url-history-toggle").getAttribute("aria-expanded")).toBe("true");
    expect(view.el.querySelector("[aria-selected=true]")?.textContent).toBe("https://a.example");
    expect(reached).toEqual([]);
  });
});
