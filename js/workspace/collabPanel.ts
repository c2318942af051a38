import type { Part } from "../core/context";
import { h, setText } from "../core/dom";
import { icon, type IconName } from "../core/icons";
import { fillTemplate, type LabelKey } from "../core/labels";
import { formatDuration } from "../core/timer";
import type { ConsultationView, WsCtx } from "./types";

export interface CollabPanel extends Part {}

const ROLE_LABEL: Record<string, LabelKey> = {
  owner: "roleOwner",
  contact: "roleContact",
  conference: "roleConference",
  consultant: "roleConsultant",
};

export function consultStateLabel(c: ConsultationView): LabelKey {
  if (c.state === "requested") return c.medium === "voice" ? "consultDialing" : "consultRequested";
  if (c.state === "active") return c.medium === "voice" ? "consultConnected" : "consultJoined";
  const map: Record<string, LabelKey> = {
    ringing: "consultRinging",
    on_hold: "consultOnHold",
    ended: "consultEnded",
    declined: "consultDeclined",
  };
  return map[c.state] ?? "consultRequested";
}

/** Who is in the chat, and transfer (F5), conference (F6) and consultation (F7) for it. */
/** An SVG icon (js/core/icons.ts, the one icon set) and a text; redrawn only when either changes. */
export function withIcon(el: HTMLElement, name: IconName, text: string): void {
  const key = `${name}|${text}`;
  if (el.dataset.iconText === key) return;
  el.dataset.iconText = key;
  el.replaceChildren(icon(name), ` ${text}`);
}

export function mountCollabPanel(
  ctx: WsCtx,
  open: (mode: "transfer" | "conference" | "consult") => void,
): CollabPanel {
  const btn = (testid: string, onClick: () => void, cls = "cw-btn") => {
    const b = h("button", { class: cls, type: "button", "data-testid": testid });
    b.addEventListener("click", onClick);
    return b;
  };
  const people = h("ul", { class: "cw-ws-participants", "data-testid": "participants" });
  const transferBtn = btn("transfer-open", () => open("transfer"));
  const conferenceBtn = btn("conference-open", () => open("conference"));
  const consultBtn = btn("consult-open", () => open("consult"));
  const leaveBtn = btn("leave-conference", () => ctx.act("leave_conference"));
  const actions = h("div", { class: "cw-ws-collab-actions", role: "group" }, transferBtn, conferenceBtn, consultBtn, leaveBtn);

  const pendingText = h("span", {});
  const cancelTransfer = btn("transfer-cancel", () => ctx.act("cancel_transfer"));
  const pending = h("div", { class: "cw-ws-pending", "data-testid": "transfer-status", role: "status" }, pendingText, cancelTransfer);

  // consultation box
  const cTitle = h("strong", {});
  const cState = h("span", { class: "cw-ws-consult-state", "data-testid": "consultation-state" });
  const cTime = h("span", { class: "cw-elapsed", "data-testid": "consultation-time" });
  const cHidden = h("span", { class: "cw-ws-muted" });
  const cInput = h("input", { class: "cw-url-input", "data-testid": "consult-composer", type: "text" });
  const cSend = btn("consult-send", () => sendConsult(), "cw-btn cw-primary");
  const cToConf = btn("consult-to-conference", () => ctx.act("consult_to_conference"));
  const cToTransfer = btn("consult-to-transfer", () => ctx.act("consult_to_transfer"));
  const cEnd = btn("consult-end", () => ctx.act("consult_end"), "cw-btn cw-danger");
  const cRow = h("div", { class: "cw-url-row" }, cInput, cSend);
  const consultBox = h(
    "div",
    { class: "cw-ws-consult", "data-testid": "consultation", role: "region" },
    h("div", { class: "cw-ws-row" }, cTitle, cState, cTime, cHidden),
    cRow,
    h("div", { class: "cw-ws-row" }, cToConf, cToTransfer, h("span", { class: "cw-spacer" }), cEnd),
  );
  function sendConsult(): void {
    const text = cInput.value.trim();
    if (!text) return;
    ctx.act("consult_send", { text });
    cInput.value = "";
  }
  cInput.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      sendConsult();
    }
  });

  const el = h("div", { class: "cw-ws-collab", "data-testid": "collab" }, people, actions, pending, consultBox);

  function tick(): void {
    const c = ctx.state().collab?.consultation;
    if (!c) return;
    const since = c.connected_at_ms ?? c.started_at_ms;
    const until = c.ended_at_ms ?? ctx.now();
    setText(cTime, formatDuration(until - since));
  }

  return {
    el,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      const co = s.collab;
      el.hidden = s.state !== "accepted" && s.state !== "contact_left";
      // participants
      const rows = (co?.participants ?? []).map((p) =>
        h("li", { class: `cw-ws-participant cw-ws-${p.role}`, "data-testid": "participant", "data-role": p.role, "data-participant-id": p.id },
          h("span", { class: "cw-ws-name" }, p.id === s.agent?.id ? `${p.name} (${L.you})` : p.name),
          " ",
          h("span", { class: "cw-ws-muted" }, L[ROLE_LABEL[p.role] ?? "roleContact"])),
      );
      people.replaceChildren(...rows);
      people.setAttribute("aria-label", L.participants);
      const busy = Boolean(co?.transfer || co?.invite);
      const consulting = Boolean(co?.consultation && !["ended", "declined"].includes(co.consultation.state));
      const active = s.state === "accepted";
      withIcon(transferBtn, "transfer", L.transfer);
      withIcon(conferenceBtn, "conference", L.conference);
      withIcon(consultBtn, "phone", L.consult);
      setText(leaveBtn, L.leaveConference);
      transferBtn.disabled = !active || busy || Boolean(co?.conference);
      conferenceBtn.disabled = !active || busy || Boolean(co?.conference);
      // only the chat's owner hands over or consults (the server refuses the guest)
      const owner = !co?.owner || co.owner.id === s.agent?.id;
      consultBtn.disabled = !active || consulting || !owner;
      leaveBtn.hidden = !co?.conference;
      leaveBtn.disabled = !active;
      // pending transfer / invitation
      pending.hidden = !busy;
      if (co?.transfer) {
        pending.dataset.state = "transfer";
        setText(pendingText, fillTemplate(L.transferPending, { name: co.transfer.target_name }));
      } else if (co?.invite) {
        pending.dataset.state = "invite";
        setText(pendingText, `${L.invitePending}: ${co.invite.target_name}…`);
      }
      cancelTransfer.hidden = !co?.transfer;
      setText(cancelTransfer, L.cancelTransfer);
      // consultation
      const c = co?.consultation;
      consultBox.hidden = !c;
      if (c) {
        const live = !["ended", "declined"].includes(c.state);
        consultBox.dataset.medium = c.medium;
        consultBox.dataset.state = c.state;
        consultBox.setAttribute("aria-label", L.consultation);
        withIcon(cTitle, c.medium === "voice" ? "phone" : "chat", `${L.consultation}: ${c.target_name}`);
        setText(cState, L[consultStateLabel(c)]);
        cState.dataset.state = c.state;
        setText(cHidden, `(${L.consultHidden})`);
        cRow.hidden = c.medium !== "chat" || !live;
        cInput.placeholder = L.consultComposer;
        cInput.setAttribute("aria-label", L.consultComposer);
        setText(cSend, L.consultSend);
        const colleague = c.target_kind === "agent" && live && active;
        cToConf.hidden = cToTransfer.hidden = !colleague;
        cToConf.disabled = Boolean(co?.conference) || busy;
        cToTransfer.disabled = Boolean(co?.conference) || busy;
        setText(cToConf, L.consultToConference);
        setText(cToTransfer, L.consultToTransfer);
        cEnd.hidden = !live;
        if (c.medium === "voice") withIcon(cEnd, "phone", L.consultHangUp);
        else setText(cEnd, L.consultEnd);
      }
      tick();
    },
    tick,
  };
}
