import { h, setAttr, setHidden, setText } from "./dom";
import type { Ctx, Part } from "./context";

/** F1: the incoming-chat offer with Accept, Reject and Ignore. */
export function mountOffer(ctx: Ctx): Part {
  const title = h("span", { class: "cw-offer-title" });
  const who = h("strong", { class: "cw-offer-contact" });
  const accept = h("button", { class: "cw-btn cw-primary", "data-testid": "accept", type: "button" });
  const reject = h("button", { class: "cw-btn", "data-testid": "reject", type: "button" });
  const ignore = h("button", { class: "cw-btn", "data-testid": "ignore", type: "button" });
  accept.addEventListener("click", () => ctx.act("accept"));
  reject.addEventListener("click", () => ctx.act("reject"));
  ignore.addEventListener("click", () => ctx.act("ignore"));
  const el = h(
    "div",
    { class: "cw-offer", "data-testid": "offer", role: "group", "aria-live": "assertive" },
    title,
    who,
    h("span", { class: "cw-offer-buttons" }, accept, reject, ignore),
  );
  return {
    el,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      setHidden(el, s.state !== "offered");
      setText(title, L.incomingChat + ": ");
      setText(who, s.contact?.name ?? "");
      setText(accept, L.accept);
      setText(reject, L.reject);
      setText(ignore, L.ignore);
      setAttr(el, "aria-label", `${L.incomingChat}: ${s.contact?.name ?? ""}`);
    },
  };
}
