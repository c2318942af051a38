import { h, setAttr, setHidden, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import { dispositionLabel, type Labels } from "../core/labels";
import type { HistoryItemView, ViewState } from "../core/types";
import { renderEntry } from "./transcript";

/** "20 Nov 2026, 10:15" in the reader's locale (clock times are UTC-based, like the
 *  transcript's times). */
export function historyDate(ms: number, L: Labels): string {
  try {
    return new Intl.DateTimeFormat(L.historyDateLocale, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(ms);
  } catch {
    return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  }
}

/** Issue 16: the contact's earlier chats beside the transcript (date, agent, disposition,
 *  notes), each transcript shown on demand (read-only, drawn like the live transcript).
 *  Hidden when the contact has no history: it takes no room then. */
export function mountHistory(ctx: Ctx): Part {
  const toggle = h("button", { type: "button", class: "cw-history-toggle", "data-testid": "contact-history-toggle", "aria-expanded": "true" });
  const list = h("ul", { class: "cw-history-list", "data-testid": "history-list" });
  const el = h("section", { class: "cw-history", "data-testid": "contact-history", hidden: true }, toggle, list);
  const open = new Set<string>(); // conversations whose transcript the agent opened
  let collapsed = false;
  let drawn = "";

  toggle.addEventListener("click", () => {
    collapsed = !collapsed;
    drawn = "";
    draw();
  });

  // the history's entries are read-only: not the live chat's pending/refused marks, no
  // contact-detail actions
  const readOnly: Ctx = {
    ...ctx,
    state: (): ViewState => ({ ...ctx.state(), pending: [], refused: [], clickable_contact_details: false }),
  };

  function row(item: HistoryItemView, L: Labels): HTMLElement {
    const isOpen = open.has(item.conversation);
    const button = h("button", {
      type: "button",
      class: "cw-btn cw-history-open",
      "data-testid": "history-open",
      "aria-expanded": isOpen ? "true" : "false",
    }, isOpen ? L.historyHide : L.historyShow);
    button.addEventListener("click", () => {
      if (open.has(item.conversation)) open.delete(item.conversation);
      else {
        open.add(item.conversation);
        if (item.entries === null && !item.loading) ctx.act("history_open", { conversation: item.conversation });
      }
      drawn = "";
      draw();
    });
    const note = item.notes.join(" · ");
    const head = h(
      "div",
      { class: "cw-history-head" },
      h("time", { class: "cw-history-date", "data-testid": "history-date", datetime: new Date(item.created_ms).toISOString() }, historyDate(item.created_ms, L)),
      h("span", { class: "cw-history-agent", "data-testid": "history-agent" }, item.agent ?? L.historyNoAgent),
      h("span", { class: "cw-history-disposition", "data-testid": "history-disposition" }, item.disposition ? dispositionLabel(item.disposition, L) : L.historyNoDisposition),
      button,
    );
    const li = h("li", { class: "cw-history-item", "data-testid": "history-item", "data-conversation": item.conversation }, head);
    if (note) li.append(h("div", { class: "cw-history-note", "data-testid": "history-note", title: L.historyNotes }, note));
    if (isOpen) {
      const box = h("div", { class: "cw-history-transcript", "data-testid": "history-transcript", role: "log", "aria-label": L.historyTranscript, tabindex: "0" });
      if (item.entries === null) box.append(h("div", { class: "cw-history-loading", role: "status" }, L.historyLoading));
      else if (item.entries.length === 0) box.append(h("div", { class: "cw-history-loading" }, L.historyEmpty));
      else for (const e of item.entries) box.append(renderEntry(e, readOnly));
      li.append(box);
    }
    return li;
  }

  function draw(): void {
    const items = ctx.state().history ?? [];
    const L = ctx.labels();
    const key = JSON.stringify([items, L.historyTitle, collapsed, [...open]]);
    if (key === drawn) return;
    drawn = key;
    setHidden(el, items.length === 0);
    setText(toggle, `${collapsed ? "▸" : "▾"} ${L.historyTitle} (${items.length})`);
    setAttr(toggle, "aria-expanded", collapsed ? "false" : "true");
    setHidden(list, collapsed);
    for (const c of [...open]) if (!items.some((i) => i.conversation === c)) open.delete(c);
    list.replaceChildren(...items.map((item) => row(item, L)));
  }

  return { el, update: draw };
}
