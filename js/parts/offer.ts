import { h, setAttr, setHidden, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import type { Labels } from "../core/labels";
import { formatDuration } from "../core/timer";
import type { ViewState } from "../core/types";

/** The offer's headline by kind: a new chat, a colleague's transfer or conference invitation. */
export function offerTitle(s: ViewState, L: Labels): string {
  const kind = s.offer?.kind ?? "new";
  if (kind === "transfer") return L.offerTransfer;
  if (kind === "conference") return L.offerConference;
  return L.incomingChat;
}

/** Seconds left until an unanswered offer moves on, as "m:ss" ("" without a deadline). */
export function offerCountdown(s: ViewState, nowMs: number): string {
  const until = s.offer?.expires_at_ms;
  if (until === null || until === undefined) return "";
  return formatDuration(Math.max(0, until - nowMs) + 999); // 0:01 until the last second is gone
}

/** F1: the incoming-chat offer with Accept, Reject and Ignore; for a transfer or a
 *  conference also who offers it and their note (F5, F6), and the time left to answer. */
export function mountOffer(ctx: Ctx): Part {
  const kind = h("span", { class: "cw-offer-title", "data-testid": "offer-kind", "data-kind": "new" });
  const who = h("strong", { class: "cw-offer-contact" });
  const from = h("span", { class: "cw-offer-from", "data-testid": "offer-from", hidden: true });
  const countdown = h("span", {
    class: "cw-offer-countdown",
    "data-testid": "offer-countdown",
    role: "timer",
    hidden: true,
  });
  const note = h("p", { class: "cw-offer-note", "data-testid": "offer-note", hidden: true });
  const accept = h("button", { class: "cw-btn cw-primary", "data-testid": "accept", type: "button" });
  const reject = h("button", { class: "cw-btn", "data-testid": "reject", type: "button" });
  const ignore = h("button", { class: "cw-btn", "data-testid": "ignore", type: "button" });
  accept.addEventListener("click", () => ctx.act("accept"));
  reject.addEventListener("click", () => ctx.act("reject"));
  ignore.addEventListener("click", () => ctx.act("ignore"));
  const el = h(
    "div",
    { class: "cw-offer", "data-testid": "offer", role: "group", "aria-live": "assertive" },
    h("span", { class: "cw-offer-line" }, kind, who, from, countdown),
    h("span", { class: "cw-offer-buttons" }, accept, reject, ignore),
    note,
  );

  function tick(): void {
    const s = ctx.state();
    const text = s.state === "offered" ? offerCountdown(s, ctx.now()) : "";
    setHidden(countdown, text === "");
    setText(countdown, text);
    setAttr(countdown, "aria-label", `${ctx.labels().offerCountdown}: ${text}`);
  }

  return {
    el,
    tick,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      setHidden(el, s.state !== "offered");
      const offerKind = s.offer?.kind ?? "new";
      setAttr(kind, "data-kind", offerKind);
      setAttr(el, "data-kind", offerKind);
      setText(kind, offerTitle(s, L) + ": ");
      setText(who, s.contact?.name ?? "");
      const fromName = s.offer?.from ?? "";
      setHidden(from, fromName === "");
      setText(from, fromName ? `${L.offerFrom} ${fromName}` : "");
      const noteText = s.offer?.note ?? "";
      setHidden(note, noteText === "");
      setText(note, noteText ? `${L.offerNote}: ${noteText}` : "");
      setText(accept, L.accept);
      setText(reject, L.reject);
      setText(ignore, L.ignore);
      const parts = [`${offerTitle(s, L)}: ${s.contact?.name ?? ""}`];
      if (fromName) parts.push(`${L.offerFrom} ${fromName}`);
      setAttr(el, "aria-label", parts.join(", "));
      tick();
    },
  };
}
