import type { Ctx } from "../../js/core/context";
import { labelsFor } from "../../js/core/labels";
import type { ViewState } from "../../js/core/types";

export interface FakeCtx extends Ctx {
  actions: { name: string; args: Record<string, unknown> }[];
  set(patch: Partial<ViewState>): void;
  nowMs: number;
  locale: string;
}

export function fakeCtx(state: Partial<ViewState> = {}): FakeCtx {
  let s: ViewState = {
    session_id: "chat-1",
    state: "accepted",
    contact: { name: "Maria Weber", phones: ["+49 30 1234567", "+49 170 5555555"], emails: ["maria@example.com"] },
    agent: { name: "Agent", id: "agent" },
    permissions: { push_urls: true, call_contact: true, email_contact: true },
    thresholds_ms: { yellow: 30_000, red: 60_000 },
    pending_since_ms: 0,
    accepted_at_ms: 0,
    connection: "connected",
    disposition: null,
    disposition_codes: ["Resolved", "Escalated"],
    disposition_required: false,
    notes: [],
    call: { state: "none", number: null },
    clickable_contact_details: true,
    url_history: [],
    ...state,
  };
  const ctx: FakeCtx = {
    actions: [],
    nowMs: 0,
    locale: "en",
    set(patch) {
      s = { ...s, ...patch };
    },
    state: () => s,
    labels: () => labelsFor(ctx.locale),
    clock: () => ({ clock_ms: ctx.nowMs, wall_anchor_ms: 0, rate: 1, paused: true }),
    virtualClock: () => true,
    now: () => ctx.nowMs,
    act: (name, args = {}) => {
      ctx.actions.push({ name, args });
    },
  };
  return ctx;
}

export function key(el: Element, k: string, init: KeyboardEventInit = {}): void {
  el.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...init }));
}
