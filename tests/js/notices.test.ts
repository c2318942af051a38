import { describe, expect, it } from "vitest";
import type { Ctx } from "../../js/core/context";
import { DE, EN, NOTICES_DE, NOTICES_EN, entryText, errorText, fillTemplate, labelsFor } from "../../js/core/labels";
import { mountTranscript, renderEntry } from "../../js/parts/transcript";
import type { EntryView } from "../../js/core/types";

const notice = (i: number, c: string | undefined, p: Record<string, string>, x: string): EntryView => ({
  i, t: 0, k: "notice", r: "system", n: "System", x, u: null, v: "all", c, p,
});

const ctxFor = (locale: { value: string }): Ctx => ({
  clock: () => undefined,
  virtualClock: () => false,
  state: () => ({ session_id: "c", state: "accepted", agent: { name: "Agent", id: "agent" } }),
  labels: () => labelsFor(locale.value),
  now: () => 0,
  act: () => undefined,
});

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

describe("notices in the reader's language", () => {
  it("renders a coded notice in German with locale de and in English with en", () => {
    const e = notice(0, "joined", { name: "Alice" }, "Alice joined the chat");
    expect(renderEntry(e, ctxFor({ value: "de" })).textContent).toContain("Alice ist dem Chat beigetreten");
    expect(renderEntry(e, ctxFor({ value: "en" })).textContent).toContain("Alice joined the chat");
    expect(entryText(notice(0, "ended", { name: "Bo" }, "Bo ended the chat"), DE)).toBe("Bo hat den Chat beendet");
  });
  it("falls back to the text for an unknown code, missing parameters or no code", () => {
    expect(entryText(notice(0, "from_the_future", { name: "A" }, "A did something new"), DE)).toBe("A did something new");
    expect(entryText(notice(0, "joined", {}, "Someone joined the chat"), DE)).toBe("Someone joined the chat");
    expect(entryText(notice(0, undefined, {}, "Plain text"), DE)).toBe("Plain text");
  });
  it("puts the server's and the mock team's reasons and consultation states into the locale", () => {
    const declined = notice(0, "transfer_declined_reason", { name: "Lena", reason: "Lena Hoffmann is away" }, "x");
    expect(entryText(declined, DE)).toBe("Weiterleitung an Lena abgelehnt: Lena Hoffmann ist abwesend");
    expect(entryText(declined, EN)).toBe("Transfer to Lena declined: Lena Hoffmann is away");
    const timedOut = notice(0, "offer_withdrawn", { reason: "offer timed out" }, "x");
    expect(entryText(timedOut, DE)).toBe("Angebot zurückgezogen: nicht rechtzeitig angenommen");
    const status = notice(0, "consultation_status", { name: "Bob", medium: "voice", status: "declined" }, "x");
    expect(entryText(status, DE)).toBe("Rückfrage bei Bob (Telefon): abgelehnt");
    // free text (a colleague's own words) stays as it was written
    const own = notice(0, "transfer_declined_reason", { name: "Bob", reason: "in a meeting" }, "x");
    expect(entryText(own, DE)).toBe("Weiterleitung an Bob abgelehnt: in a meeting");
  });
  it("inserts parameter values as text, never as markup or templates", () => {
    const e = notice(0, "left", { name: '<img src=x onerror="alert(1)"> {name}' }, "x");
    const el = renderEntry(e, ctxFor({ value: "de" }));
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toContain('<img src=x onerror="alert(1)"> {name} hat den Chat verlassen');
  });
  it("has every code in English and German with the same placeholders", () => {
    expect(Object.keys(NOTICES_DE).sort()).toEqual(Object.keys(NOTICES_EN).sort());
    for (const [code, en] of Object.entries(NOTICES_EN)) {
      expect(placeholders(NOTICES_DE[code]!), code).toEqual(placeholders(en));
      expect(NOTICES_DE[code], code).not.toBe(en);
    }
    expect(labelsFor("de")).toBe(DE);
    expect(labelsFor("en")).toBe(EN);
  });
  it("redraws drawn notices and announces new ones in the locale", () => {
    const locale = { value: "de" };
    const part = mountTranscript(ctxFor(locale));
    part.applyDelta(0, [notice(0, "ended", { name: "Agent" }, "Agent ended the chat")]);
    const live = part.el.querySelector('[data-testid="live-region"]')!;
    expect(live.textContent).toBe("Agent hat den Chat beendet");
    expect(part.el.querySelector('[data-testid="entry"]')!.textContent).toContain("Agent hat den Chat beendet");
    locale.value = "en";
    part.update();
    const entries = part.el.querySelectorAll('[data-testid="entry"]');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.textContent).toContain("Agent ended the chat");
  });
});

describe("default disposition codes in the locale", () => {
  it("shows German labels with locale de and keeps the stored code values", async () => {
    const { mountWrapUp } = await import("../../js/parts/wrapUp");
    const { fakeCtx } = await import("./fakeCtx");
    const ctx = fakeCtx({ disposition_codes: ["Resolved", "Follow-up needed", "Custom code"] });
    ctx.locale = "de";
    const part = mountWrapUp(ctx);
    part.update();
    const select = part.el.querySelector<HTMLSelectElement>('[data-testid="disposition"]')!;
    const options = [...select.options].slice(1);
    expect(options.map((o) => o.value)).toEqual(["Resolved", "Follow-up needed", "Custom code"]);
    expect(options.map((o) => o.text)).toEqual(["Gelöst", "Nachbearbeitung nötig", "Custom code"]);
    ctx.locale = "en";
    part.update();
    expect([...select.options].slice(1).map((o) => o.text)).toEqual(["Resolved", "Follow-up needed", "Custom code"]);
  });
});

describe("German wording against the seed's terms", () => {
  it("uses the seed's and gender-neutral words in labels and notices", () => {
    expect(fillTemplate(DE.transferPending, { name: "Lena" })).toBe("Weiterleitung an Lena ausstehend…");
    expect(fillTemplate(EN.transferPending, { name: "Lena" })).toBe("Transfer to Lena pending…");
    expect([DE.callDialing, DE.consultDialing]).toEqual(["Wird gewählt…", "Wird gewählt…"]);
    expect(["Start", "Weiter"]).toContain(DE.play);
    for (const v of [...Object.values(DE), ...Object.values(NOTICES_DE)]) {
      expect(v).not.toMatch(/Rücksprache|Kolleg|\bihn\b|Abspielen|Empfänger|Teilnehmer\b|Inhaber|Zur Konferenz machen/);
    }
  });
});

describe("error banners in the locale", () => {
  it("shows a known error code in the locale and any other error as Python's text", () => {
    expect(errorText("cannot accept chat 'c1': it is accepted", "not_now", DE)).toBe(DE.errorNotNow);
    expect(errorText("only http and https URLs may be pushed, not javascript:", "url_scheme", DE)).toBe(DE.urlInvalid);
    expect(errorText("unknown action 'fly'", "", DE)).toBe("unknown action 'fly'");
    expect(errorText("x", "from_the_future", EN)).toBe("x");
    expect(errorText("", "not_now", DE)).toBe("");
  });
});
