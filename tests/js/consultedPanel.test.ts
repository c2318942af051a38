import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DE, EN, type Labels } from "../../js/core/labels";
import { consultCountdown, mountConsultedPanel, type ConsultedPanel } from "../../js/workspace/consultedPanel";
import type { IncomingConsultationView } from "../../js/workspace/types";

const T0 = Date.UTC(2026, 11, 5, 9, 0, 0);

function consultation(over: Partial<IncomingConsultationView> = {}): IncomingConsultationView {
  return {
    id: "k1",
    session_id: "c-1",
    from_id: "alice",
    from_name: "Alice Agent",
    contact_name: "Dana",
    medium: "chat",
    state: "requested",
    messages: [],
    offered_at_ms: T0,
    expires_at_ms: T0 + 20_000,
    connected_at_ms: null,
    ended_at_ms: null,
    ...over,
  };
}

let list: IncomingConsultationView[];
let labels: Labels;
let acts: { name: string; args: Record<string, unknown> }[];
let panel: ConsultedPanel;
const q = <T extends HTMLElement = HTMLElement>(id: string): T => panel.el.querySelector(`[data-testid=${id}]`) as T;
const visible = (id: string) => !q(id).hidden;

beforeEach(() => {
  list = [];
  labels = EN;
  acts = [];
  panel = mountConsultedPanel(() => labels, () => list, (name, args) => acts.push({ name, args }));
  document.body.append(panel.el);
  panel.update();
});
afterEach(() => panel.el.remove());

describe("consulted colleague (F7, consulted side)", () => {
  it("is out of sight without consultations, and shows who asks about whom with a countdown", () => {
    expect(panel.el.hidden).toBe(true);
    list = [consultation()];
    panel.update();
    panel.tick(T0 + 5_500);
    expect(panel.el.hidden).toBe(false);
    expect(q("offer-kind").dataset.kind).toBe("consultation");
    expect(q("offer-from").textContent).toBe("Alice Agent");
    expect(q("consult-about").textContent).toBe("about Dana");
    expect(q("offer-countdown").textContent).toBe("0:15");
    expect([visible("consult-answer"), visible("consult-decline"), visible("consult-reply")]).toEqual([true, true, false]);
    q("consult-answer").click();
    expect(acts).toEqual([{ name: "incoming_answer", args: { consultation_id: "k1" } }]);
  });

  it("once answered: no countdown, the colleague's messages as text, replies by Enter, hang up", () => {
    list = [consultation()];
    panel.update();
    list = [
      consultation({
        state: "active",
        connected_at_ms: T0 + 2_000,
        messages: [{ from: "Alice Agent", text: "<img src=x onerror=alert(1)>", t: T0 + 3_000, mine: false }],
      }),
    ];
    panel.update();
    panel.tick(T0 + 4_000);
    expect(visible("offer-countdown")).toBe(false);
    expect(visible("consult-answer")).toBe(false);
    const msg = q("consult-message");
    expect(msg.querySelector(".cw-text")?.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(msg.querySelector("img")).toBeNull();
    expect(msg.querySelector("time")?.getAttribute("datetime")).toBe("2026-12-05T09:00:03.000Z");
    const input = q<HTMLInputElement>("consult-composer");
    expect(document.activeElement).toBe(input); // just answered: typing goes to the reply
    input.value = "  Yes, fixed within the hour. ";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    input.value = "   ";
    q("consult-send").click(); // empty: nothing sent
    q("consult-hang-up").click();
    expect(acts).toEqual([
      { name: "incoming_reply", args: { consultation_id: "k1", text: "Yes, fixed within the hour." } },
      { name: "incoming_hang_up", args: { consultation_id: "k1" } },
    ]);
  });

  it("a finished consultation can be closed; a voice consultation has no chat composer", () => {
    list = [consultation({ state: "ended" }), consultation({ id: "k2", medium: "voice", state: "active" })];
    panel.update();
    const cards = [...panel.el.querySelectorAll<HTMLElement>("[data-testid=incoming-consultation]")];
    expect(cards.map((c) => c.dataset.state)).toEqual(["ended", "active"]);
    const [ended, call] = cards as [HTMLElement, HTMLElement];
    expect((ended.querySelector("[data-testid=consult-close]") as HTMLElement).hidden).toBe(false);
    expect((call.querySelector("[data-testid=consult-reply]") as HTMLElement).hidden).toBe(true);
    (ended.querySelector("[data-testid=consult-close]") as HTMLElement).click();
    expect(acts).toEqual([{ name: "incoming_dismiss", args: { consultation_id: "k1" } }]);
    list = [list[1] as IncomingConsultationView];
    panel.update();
    expect(panel.el.querySelectorAll("[data-testid=incoming-consultation]")).toHaveLength(1);
  });

  it("speaks German with the seed's term Rückfrage", () => {
    labels = DE;
    list = [consultation({ medium: "voice", state: "ringing" })];
    panel.update();
    expect(q("offer-kind").textContent).toBe("Rückfrage per Anruf: ");
    expect(q("consult-answer").textContent).toBe("Annehmen");
    expect(panel.el.getAttribute("aria-label")).toContain("Rückfrage");
  });

  it("counts down to 0:00 and not below; no countdown without a deadline", () => {
    expect(consultCountdown(consultation(), T0 + 25_000)).toBe("0:00");
    expect(consultCountdown(consultation(), T0 + 19_500)).toBe("0:01");
    expect(consultCountdown(consultation({ expires_at_ms: null }), T0)).toBe("");
  });
});
