import { h, setText } from "./dom";
import type { Ctx, Part } from "./context";
import type { LabelKey } from "./labels";

const CALL_LABEL: Record<string, LabelKey> = {
  dialing: "callDialing",
  connected: "callConnected",
  ended: "callEnded",
};

export function mailtoHref(address: string): string {
  return `mailto:${encodeURIComponent(address).replace(/%40/g, "@")}`;
}

/** F8: call or e-mail the contact; lists every number and address of the record. */
export function mountPartyMenu(ctx: Ctx): Part & { callOrMail(kind: "phone" | "email", value: string): void } {
  const button = h("button", {
    class: "cw-btn",
    "data-testid": "party-action",
    type: "button",
    "aria-haspopup": "menu",
    "aria-expanded": "false",
  });
  const menu = h("div", { class: "cw-menu", role: "menu", "data-testid": "party-menu", hidden: true });
  const callStatus = h("span", { class: "cw-call", "data-testid": "call-state", role: "status" });
  const hangUp = h("button", { class: "cw-btn", "data-testid": "hang-up", type: "button", hidden: true });
  hangUp.addEventListener("click", () => ctx.act("hang_up"));

  function close(): void {
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
  }

  function callOrMail(kind: "phone" | "email", value: string): void {
    if (kind === "phone") ctx.act("call", { number: value });
    else window.open(mailtoHref(value), "_blank", "noopener,noreferrer");
    close();
  }

  button.addEventListener("click", () => {
    const open = menu.hidden;
    menu.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) (menu.querySelector("[role=menuitem]") as HTMLElement | null)?.focus();
  });
  menu.addEventListener("keydown", (ev) => {
    const items = [...menu.querySelectorAll<HTMLElement>("[role=menuitem]")];
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (ev.key === "Escape") {
      close();
      button.focus();
    } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const n = items.length;
      items[(i + (ev.key === "ArrowDown" ? 1 : n - 1)) % n]?.focus();
    }
  });

  const el = h("span", { class: "cw-party" }, button, menu, callStatus, hangUp);
  return {
    el,
    callOrMail,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      setText(button, `${L.partyAction} ▾`);
      const contact = s.contact ?? { name: "", phones: [], emails: [] };
      const perms = s.permissions ?? { call_contact: true, email_contact: true, push_urls: false };
      const items: HTMLElement[] = [];
      if (perms.call_contact) {
        for (const p of contact.phones) {
          const it = h("button", { role: "menuitem", type: "button", class: "cw-menuitem", "data-testid": "call-contact" }, `📞 ${L.call} ${p}`);
          it.addEventListener("click", () => callOrMail("phone", p));
          items.push(it);
        }
      }
      if (perms.email_contact) {
        for (const e of contact.emails) {
          const it = h("button", { role: "menuitem", type: "button", class: "cw-menuitem", "data-testid": "email-contact" }, `✉ ${L.email} ${e}`);
          it.addEventListener("click", () => callOrMail("email", e));
          items.push(it);
        }
      }
      menu.replaceChildren(...items);
      el.hidden = !["accepted", "contact_left", "ended"].includes(s.state);
      button.disabled = items.length === 0;
      const call = s.call ?? { state: "none", number: null };
      callStatus.dataset.call = call.state;
      const key = CALL_LABEL[call.state];
      setText(callStatus, key ? `${L[key]} ${call.number ?? ""}`.trim() : "");
      hangUp.hidden = !(call.state === "dialing" || call.state === "connected");
      setText(hangUp, L.hangUp);
    },
  };
}
