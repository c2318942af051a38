import { h, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";

/** F4: "contact is typing"; hides itself when the typing deadline passes on the clock. */
export function mountTypingIndicator(ctx: Ctx): Part {
  const el = h("div", { class: "cw-typing", "data-testid": "typing-indicator", "aria-live": "polite", hidden: true });
  function tick(): void {
    const s = ctx.state();
    const until = s.contact_typing_until_ms;
    const on = until !== null && until !== undefined && ctx.now() < until && s.state === "accepted";
    if (el.hidden === on) el.hidden = !on;
    setText(el, on ? `${s.contact?.name ?? ""} ${ctx.labels().typing}` : "");
  }
  return { el, update: tick, tick };
}
