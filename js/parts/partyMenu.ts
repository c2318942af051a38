import { h, setAttr, setHidden, setProp, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import { icon } from "../core/icons";
import type { LabelKey } from "../core/labels";

const CALL_LABEL: Record<string, LabelKey> = {
  dialing: "callDialing",
  connected: "callConnected",
  ended: "callEnded",
};

/** A `mailto:` draft for one address (the address itself stays readable). */
export function mailtoHref(address: string): string {
  return `mailto:${encodeURIComponent(address).replace(/%40/g, "@")}`;
}

export interface PartyMenuPart extends Part {
  /** The simulated call's status and Hang up (placed by the header after the connection status). */
  callEl: HTMLElement;
  /** A phone number or e-mail address clicked in the transcript (F8 setting). */
  callOrMail(kind: "phone" | "email", value: string): void;
}

/** F8: call or e-mail the contact; lists every number and address of the contact record.
 *  Calls are simulated (dialing / connected / ended, with Hang up); e-mail opens a mailto draft. */
export function mountPartyMenu(ctx: Ctx): PartyMenuPart {
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
  // the menu is anchored to its button (it opens under it); the call's status and Hang up
  // sit in their own box, so a call never pushes the connection status away (F12)
  const el = h("span", { class: "cw-party" }, button, menu);
  const callEl = h("span", { class: "cw-call-box" }, callStatus, hangUp);
  let builtFor = "";

  function items(): HTMLElement[] {
    return [...menu.querySelectorAll<HTMLElement>("[role=menuitem]")];
  }

  function close(focusButton = false): void {
    if (menu.hidden) return;
    setHidden(menu, true);
    setAttr(button, "aria-expanded", "false");
    if (focusButton) button.focus();
  }

  function open(): void {
    setHidden(menu, false);
    setAttr(button, "aria-expanded", "true");
    items()[0]?.focus();
  }

  function callOrMail(kind: "phone" | "email", value: string): void {
    const call = ctx.state().call?.state;
    if (kind === "phone" && (call === "dialing" || call === "connected")) return; // one call at a time
    if (kind === "phone") ctx.act("call", { number: value });
    else {
      ctx.act("email", { address: value });
      window.open(mailtoHref(value), "_blank", "noopener,noreferrer");
    }
    close();
  }

  button.addEventListener("click", () => (menu.hidden ? open() : close()));
  button.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" && menu.hidden && !button.disabled) {
      ev.preventDefault();
      open();
    }
  });
  menu.addEventListener("keydown", (ev) => {
    const all = items();
    const i = all.indexOf(document.activeElement as HTMLElement);
    const n = all.length;
    if (ev.key === "Escape") {
      ev.preventDefault();
      close(true);
    } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      all[(i + (ev.key === "ArrowDown" ? 1 : n - 1)) % n]?.focus();
    } else if (ev.key === "Home" || ev.key === "End") {
      ev.preventDefault();
      all[ev.key === "Home" ? 0 : n - 1]?.focus();
    } else if (ev.key === "Tab") {
      close();
    }
  });
  // close when focus or a click goes elsewhere
  el.addEventListener("focusout", (ev) => {
    const to = ev.relatedTarget as Node | null;
    if (to && !el.contains(to)) close();
  });
  const onDocClick = (ev: MouseEvent): void => {
    if (!el.contains(ev.target as Node)) close();
  };
  document.addEventListener("click", onDocClick, true);

  function rebuild(): void {
    const s = ctx.state();
    const L = ctx.labels();
    const contact = s.contact ?? { name: "", phones: [], emails: [] };
    const perms = s.permissions ?? { call_contact: true, email_contact: true, push_urls: false };
    const call = s.call?.state ?? "none";
    // one call at a time: while a call is dialing or connected, Call is offered disabled
    const calling = call === "dialing" || call === "connected";
    const key = JSON.stringify([L.call, L.email, L.callBusy, contact.phones, contact.emails, perms.call_contact, perms.email_contact, calling]);
    if (key === builtFor) return; // keep focus on an open menu across unrelated updates
    builtFor = key;
    const list: HTMLElement[] = [];
    if (perms.call_contact) {
      for (const p of contact.phones) {
        const it = h("button", { role: "menuitem", type: "button", class: "cw-menuitem", "data-testid": "call-contact", tabindex: "-1" },
          icon("phone"), `${L.call} ${p}`);
        if (calling) {
          setAttr(it, "aria-disabled", "true");
          setProp(it, "title", L.callBusy);
        }
        it.addEventListener("click", () => {
          if (it.getAttribute("aria-disabled") !== "true") callOrMail("phone", p);
        });
        list.push(it);
      }
    }
    if (perms.email_contact) {
      for (const e of contact.emails) {
        // a real link, so the browser (or the test) sees the mailto: draft it opens
        const it = h("a", { role: "menuitem", class: "cw-menuitem", "data-testid": "email-contact", href: mailtoHref(e), tabindex: "-1" },
          icon("mail"), `${L.email} ${e}`);
        it.addEventListener("click", () => {
          ctx.act("email", { address: e }); // a trace in the transcript (agents only)
          close();
        });
        list.push(it);
      }
    }
    menu.replaceChildren(...list);
    setProp(button, "disabled", list.length === 0);
    setProp(button, "title", list.length === 0 ? L.noContactDetails : L.partyAction);
  }

  return {
    el,
    callEl,
    callOrMail,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      if (button.firstChild?.textContent !== L.partyAction) button.replaceChildren(L.partyAction, icon("down"));
      setAttr(menu, "aria-label", L.partyAction);
      rebuild();
      setHidden(el, !["accepted", "contact_left", "ended"].includes(s.state));
      setHidden(callEl, el.hidden);
      if (el.hidden) close();
      const call = s.call ?? { state: "none", number: null };
      setAttr(callStatus, "data-call", call.state);
      const key = CALL_LABEL[call.state];
      setText(callStatus, key ? `${L[key]} ${call.number ?? ""}`.trim() : "");
      setHidden(callStatus, !key);
      setHidden(hangUp, !(call.state === "dialing" || call.state === "connected"));
      setText(hangUp, L.hangUp);
    },
    destroy() {
      document.removeEventListener("click", onDocClick, true);
    },
  };
}
