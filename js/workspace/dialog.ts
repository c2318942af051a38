import { h, setText } from "../core/dom";
import type { Labels, LabelKey } from "../core/labels";
import type { DirectoryView } from "./types";

export type DialogMode = "transfer" | "conference" | "consult";

export interface Target {
  kind: "agent" | "queue" | "external";
  id: string;
  name: string;
  detail: string;
  presence?: string;
}

const PRESENCE: Record<string, LabelKey> = {
  available: "presenceAvailable",
  busy: "presenceBusy",
  away: "presenceAway",
  offline: "presenceOffline",
};

/** Who may be chosen (F5: agent or queue; F6: agent; F7: chat → agent, voice → agent or external). */
export function targetsFor(mode: DialogMode, medium: "chat" | "voice", dir: DirectoryView, me: string, L: Labels): Target[] {
  const agents: Target[] = (dir.agents ?? [])
    .filter((a) => a.id !== me && a.presence !== "offline")
    .map((a) => ({ kind: "agent", id: a.id, name: a.name, presence: a.presence, detail: [L[PRESENCE[a.presence] ?? "presenceAvailable"], a.skills.join(", ")].filter(Boolean).join(" · ") }));
  if (mode === "conference") return agents;
  if (mode === "transfer")
    return [...agents, ...(dir.queues ?? []).map((q): Target => ({ kind: "queue", id: q.id, name: q.name, detail: `${L.queues} · ${q.skill}` }))];
  if (medium === "chat") return agents;
  return [...agents, ...(dir.externals ?? []).map((x): Target => ({ kind: "external", id: x.id, name: x.name, detail: `${x.organisation} · ${x.phone}` }))];
}

export interface Dialog {
  el: HTMLElement;
  open(sid: string, mode: DialogMode): void;
  close(): void;
  update(): void;
}

/** The transfer / conference / consultation dialog, inside the widget (no browser popups). */
export function mountDialog(
  labels: () => Labels,
  directory: () => DirectoryView,
  me: () => string,
  act: (sid: string, name: string, args: Record<string, unknown>) => void,
): Dialog {
  const title = h("h4", { class: "cw-ws-dialog-title" });
  const mediumLabel = h("span", {});
  const medium = h("select", { class: "cw-select", "data-testid": "consult-medium" },
    h("option", { value: "chat" }), h("option", { value: "voice" }));
  const mediumRow = h("label", { class: "cw-ws-row" }, mediumLabel, medium);
  const list = h("div", { class: "cw-ws-targets", role: "radiogroup", "data-testid": "target-list" });
  const empty = h("div", { class: "cw-ws-muted" });
  const note = h("textarea", { class: "cw-note", "data-testid": "transfer-note", rows: "2" });
  const confirm = h("button", { class: "cw-btn cw-primary", type: "button", "data-testid": "dialog-confirm" });
  const cancel = h("button", { class: "cw-btn", type: "button", "data-testid": "dialog-cancel" });
  // a transfer takes the chat away: the first Confirm asks, the second transfers
  const question = h("div", { class: "cw-ws-confirm", "data-testid": "transfer-confirm-question", role: "alert", hidden: true });
  const box = h("div", { class: "cw-ws-dialog", role: "dialog", "aria-modal": "true", "data-testid": "collab-dialog" },
    title, mediumRow, list, empty, note, question, h("div", { class: "cw-ws-row cw-ws-end" }, cancel, confirm));
  const el = h("div", { class: "cw-ws-overlay", hidden: true }, box);
  let sid = "";
  let mode: DialogMode = "transfer";
  let chosen: Target | null = null;
  let asking = false; // the transfer's confirmation question is shown

  function render(): void {
    const L = labels();
    const titles: Record<DialogMode, LabelKey> = { transfer: "dialogTransfer", conference: "dialogConference", consult: "dialogConsult" };
    setText(title, L[titles[mode]]);
    box.dataset.mode = mode;
    box.setAttribute("aria-label", L[titles[mode]]);
    mediumRow.hidden = mode !== "consult";
    setText(mediumLabel, `${L.medium}: `);
    const [optChat, optVoice] = Array.from(medium.options);
    if (optChat) setText(optChat, L.mediumChat);
    if (optVoice) setText(optVoice, L.mediumVoice);
    note.hidden = mode !== "transfer";
    note.placeholder = L.transferNote;
    note.setAttribute("aria-label", L.transferNote);
    const targets = targetsFor(mode, medium.value as "chat" | "voice", directory(), me(), L);
    if (chosen && !targets.some((t) => t.id === chosen?.id && t.kind === chosen.kind)) chosen = null;
    list.replaceChildren(
      ...targets.map((t) => {
        const input = h("input", { type: "radio", name: "cw-ws-target", value: `${t.kind}:${t.id}` });
        input.checked = chosen?.id === t.id && chosen.kind === t.kind;
        input.addEventListener("change", () => {
          chosen = t;
          asking = false;
          renderConfirm(); // not render(): the radio keeps focus
        });
        return h("label", { class: "cw-ws-target", "data-testid": "target-option", "data-target-kind": t.kind, "data-target-id": t.id, "data-presence": t.presence },
          input, h("span", { class: `cw-ws-dot cw-ws-${t.presence ?? t.kind}` }), h("strong", {}, t.name), " ", h("span", { class: "cw-ws-muted" }, t.detail));
      }),
    );
    empty.hidden = targets.length > 0;
    setText(empty, L.noTargets);
    setText(cancel, L.cancel);
    renderConfirm();
  }

  function renderConfirm(): void {
    const L = labels();
    const ask = asking && mode === "transfer" && chosen !== null;
    question.hidden = !ask;
    setText(question, ask && chosen ? L.transferConfirmQuestion.replace("{name}", chosen.name) : "");
    box.dataset.confirming = String(ask);
    setText(confirm, ask ? L.transferConfirmYes : L.confirm);
    confirm.disabled = chosen === null;
  }

  medium.addEventListener("change", render);
  cancel.addEventListener("click", () => close());
  el.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") close();
  });
  confirm.addEventListener("click", () => {
    if (!chosen) return;
    if (mode === "transfer" && !asking) {
      asking = true;
      renderConfirm();
      confirm.focus();
      return;
    }
    if (mode === "transfer") act(sid, "transfer", { target_kind: chosen.kind, target_id: chosen.id, note: note.value });
    else if (mode === "conference") act(sid, "invite", { target_id: chosen.id });
    else act(sid, "consult", { target_kind: chosen.kind, target_id: chosen.id, medium: medium.value });
    close();
  });

  function close(): void {
    el.hidden = true;
  }

  return {
    el,
    open(s, m) {
      sid = s;
      mode = m;
      chosen = null;
      asking = false;
      note.value = "";
      medium.value = "chat";
      render();
      el.hidden = false;
      (list.querySelector("input") as HTMLInputElement | null)?.focus();
    },
    close,
    update() {
      if (!el.hidden) render();
    },
  };
}
