import { describe, expect, it } from "vitest";
import type { Ctx } from "../../js/core/context";
import { labelsFor } from "../../js/core/labels";
import { isHttpUrl, splitParts } from "../../js/parts/linkify";
import { renderEntry } from "../../js/parts/transcript";
import { TranscriptStore } from "../../js/core/transcriptStore";
import type { EntryView, ViewState } from "../../js/core/types";

const entry = (i: number, x: string, r: EntryView["r"] = "contact"): EntryView => ({
  i, t: 0, k: "message", r, n: "Maria", x, u: null, v: "all",
});

const ctx = (state: Partial<ViewState> = {}): Ctx => ({
  clock: () => undefined,
  virtualClock: () => false,
  state: () => ({ session_id: "c", state: "accepted", clickable_contact_details: true, ...state }),
  labels: () => labelsFor("en"),
  now: () => 0,
  act: () => undefined,
});

describe("TranscriptStore", () => {
  it("applies deltas idempotently and reports gaps", () => {
    const store = new TranscriptStore();
    expect(store.apply(0, [entry(0, "a"), entry(1, "b")]).appended).toHaveLength(2);
    expect(store.apply(1, [entry(1, "b"), entry(2, "c")]).appended.map((e) => e.x)).toEqual(["c"]);
    expect(store.apply(5, [entry(5, "f")])).toEqual({ appended: [], gapFrom: 3 });
    expect(store.length).toBe(3);
  });
});

describe("renderEntry", () => {
  it("renders HTML and script payloads as literal text", () => {
    const payload = '<img src=x onerror="alert(1)"><script>alert(2)</script><b>bold</b>';
    const el = renderEntry(entry(0, payload), ctx());
    expect(el.querySelector("img, script, b")).toBeNull();
    expect(el.textContent).toContain(payload);
  });
  it("links only http(s) URLs, with noopener", () => {
    const el = renderEntry(entry(0, "see https://example.com/x and javascript:alert(1)"), ctx());
    const links = el.querySelectorAll("a");
    expect(links).toHaveLength(1);
    expect(links[0]!.getAttribute("href")).toBe("https://example.com/x");
    expect(links[0]!.getAttribute("rel")).toBe("noopener noreferrer");
  });
  it("makes the contact's phone numbers and e-mails clickable only when the setting is on", () => {
    const text = "call +49 40 9876543 or mail a@example.org, invoice 2026-0315";
    const on = renderEntry(entry(0, text), ctx());
    expect([...on.querySelectorAll("[data-testid=chat-phone]")].map((b) => b.textContent)).toEqual(["+49 40 9876543"]);
    expect(on.querySelector("[data-testid=chat-email]")!.getAttribute("href")).toBe("mailto:a@example.org");
    const off = renderEntry(entry(0, text), ctx({ clickable_contact_details: false }));
    expect(off.querySelectorAll("button, [data-testid=chat-email]")).toHaveLength(0);
    expect(off.textContent).toContain(text);
    const noPerms = ctx({ permissions: { push_urls: true, call_contact: false, email_contact: false } });
    expect(renderEntry(entry(0, text), noPerms).querySelectorAll("button, a")).toHaveLength(0);
  });
  it("carries the stable hooks", () => {
    const el = renderEntry(entry(3, "hi", "agent"), ctx());
    expect(el.dataset.testid).toBe("entry");
    expect(el.dataset.kind).toBe("message");
    expect(el.dataset.senderRole).toBe("agent");
  });
});

describe("URL checks", () => {
  it("accepts only http and https", () => {
    expect(isHttpUrl("https://example.com")).toBe(true);
    for (const bad of ["javascript:alert(1)", "data:text/html,x", "ftp://x.org", "example.com", "JAVASCRIPT:alert(1)"]) {
      expect(isHttpUrl(bad)).toBe(false);
    }
  });
  it("splitParts keeps text order", () => {
    expect(splitParts("a https://x.org b", false).map((p) => p.kind)).toEqual(["text", "url", "text"]);
  });
});

describe("entry time", () => {
  it("carries the stored time as <time datetime>, empty when out of range", () => {
    const el = renderEntry({ ...entry(0, "hi"), t: Date.UTC(2026, 11, 5, 19, 30, 25, 120) }, ctx());
    expect(el.querySelector("time")?.getAttribute("datetime")).toBe("2026-12-05T19:30:25.120Z");
    const far = renderEntry({ ...entry(1, "x"), t: Number.MAX_VALUE }, ctx());
    expect(far.querySelector("time")?.getAttribute("datetime")).toBe("");
  });
});
