import { h, setAttr, setHidden, setText } from "../core/dom";
import { fillTemplate, type Labels, type SupervisorLabels } from "../core/labels";
import { formatDuration } from "../core/timer";
import { chatTime, filterRows, rowColour, sortRows, SORTS, type SortBy } from "./rows";
import type { ChatRow, TeamView } from "./types";

export interface BoardEnv {
  team(): TeamView;
  labels(): Labels;
  sl(): SupervisorLabels;
  now(): number;
  open(chatId: string): void;
  opened(): string;
}

interface RowEl {
  el: HTMLElement;
  agent: HTMLElement;
  contact: HTMLElement;
  state: HTMLElement;
  elapsed: HTMLElement;
  timer: HTMLElement;
  flag: HTMLElement;
  mode: HTMLElement;
}

const MODE_LABEL = { silent: "modeSilent", coach: "modeCoach", barge_in: "modeBargeIn" } as const;
const STATE_LABEL: Record<string, keyof SupervisorLabels> = { queued: "stateQueued", active: "stateActive", ended: "stateEnded" };

/** The team's chats as `supervised-chat` rows, with sort and filter; click or Enter opens. */
export function mountBoard(env: BoardEnv) {
  const sortSel = h("select", { class: "cw-select", "data-testid": "sort-by" });
  const filterSel = h("select", { class: "cw-select", "data-testid": "filter-agent" });
  const sortLabel = h("label", { class: "cw-sup-control" }, h("span", {}), sortSel);
  const filterLabel = h("label", { class: "cw-sup-control" }, h("span", {}), filterSel);
  // a group of row buttons (a list may only hold list items, and a row is a button)
  const list = h("div", { class: "cw-sup-rows", "data-testid": "supervised-chats", role: "group" });
  const empty = h("p", { class: "cw-sup-empty", "data-testid": "no-chats" });
  const title = h("h3", { class: "cw-sup-title" });
  // column names over the rows (each row also carries its whole meaning in aria-label)
  const heads = ["agent", "contact", "state", "elapsed", "timer", "flag", "mode"].map((k) => h("span", { class: `cw-sup-col-${k}` }));
  const head = h("div", { class: "cw-sup-row cw-sup-row-head", "data-testid": "rows-head", "aria-hidden": "true" }, ...heads);
  const el = h("section", { class: "cw-sup-board" }, title, h("div", { class: "cw-sup-controls" }, sortLabel, filterLabel), head, list, empty);
  const rows = new Map<string, RowEl>();
  let order = "";
  let optionsKey = "";
  sortSel.addEventListener("change", () => update());
  filterSel.addEventListener("change", () => update());

  function makeRow(row: ChatRow): RowEl {
    const parts = {
      agent: h("span", { class: "cw-sup-agent", "data-testid": "row-agent" }),
      contact: h("span", { class: "cw-sup-contact", "data-testid": "row-contact" }),
      state: h("span", { class: "cw-sup-state", "data-testid": "row-state" }),
      elapsed: h("span", { class: "cw-sup-elapsed", "data-testid": "row-elapsed" }),
      timer: h("span", { class: "cw-timer cw-sup-timer", "data-testid": "row-timer" }),
      flag: h("span", { class: "cw-sup-flag", "data-testid": "row-flag", hidden: true }, "⚑"),
      mode: h("span", { class: "cw-sup-mode", "data-testid": "row-mode" }),
    };
    const el = h("div", { class: "cw-sup-row", "data-testid": "supervised-chat", "data-chat": row.id, tabindex: "0", role: "button" },
      parts.agent, parts.contact, parts.state, parts.elapsed, parts.timer, parts.flag, parts.mode);
    el.addEventListener("click", () => env.open(row.id));
    el.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        env.open(row.id);
      }
    });
    return { el, ...parts };
  }

  function drawRow(r: RowEl, row: ChatRow): void {
    const L = env.labels();
    const S = env.sl();
    const now = env.now();
    const th = env.team().thresholds_ms;
    const colour = rowColour(row, th, now);
    setAttr(r.el, "data-agent", row.agent_id ?? "");
    setAttr(r.el, "data-color", colour);
    setAttr(r.el, "data-blink", String(colour === "red"));
    setAttr(r.el, "data-state", row.state);
    setAttr(r.el, "aria-current", String(env.opened() === row.id));
    setText(r.agent, row.agent_name ?? "—");
    setText(r.contact, row.contact);
    setText(r.state, S[STATE_LABEL[row.state] ?? "stateActive"]);
    setText(r.elapsed, formatDuration(chatTime(row, now)));
    setAttr(r.elapsed, "title", S.chatTime);
    setAttr(r.timer, "data-color", colour);
    setAttr(r.timer, "data-blink", String(colour === "red"));
    const waiting = row.pending_since_ms !== null && row.state === "active";
    setText(r.timer, waiting ? formatDuration(now - (row.pending_since_ms ?? now)) : "–");
    const timerWord = { idle: L.timerIdle, green: L.timerGreen, yellow: L.timerYellow, red: L.timerRed }[colour];
    setAttr(r.timer, "aria-label", `${L.replyTimer}: ${timerWord}`);
    setHidden(r.flag, row.flag === null);
    setAttr(r.flag, "aria-label", S.flagged);
    setAttr(r.flag, "title", row.flag?.text ?? S.flagged);
    setAttr(r.mode, "data-mode", row.my_mode ?? "none");
    setText(r.mode, row.my_mode ? S[MODE_LABEL[row.my_mode]] : "");
    const name = `${row.contact}, ${row.agent_name ?? S.stateQueued}, ${timerWord}${row.flag ? `, ${S.flagged}` : ""}`;
    setAttr(r.el, "aria-label", `${S.open}: ${name}`);
  }

  function drawOptions(team: TeamView): void {
    const S = env.sl();
    const agents = team.agents ?? [];
    const key = JSON.stringify([S.sortRed, agents.map((a) => [a.id, a.name])]);
    if (key === optionsKey) return;
    optionsKey = key;
    const sortWords: Record<SortBy, string> = { red: S.sortRed, agent: S.sortAgent, waiting: S.sortWaiting };
    const sortNow = sortSel.value || "red";
    sortSel.replaceChildren(...SORTS.map((s) => h("option", { value: s }, sortWords[s])));
    sortSel.value = sortNow;
    const filterNow = filterSel.value;
    filterSel.replaceChildren(h("option", { value: "" }, S.allAgents), ...agents.map((a) => h("option", { value: a.id }, a.name)));
    filterSel.value = agents.some((a) => a.id === filterNow) ? filterNow : "";
  }

  function update(): void {
    const team = env.team();
    const S = env.sl();
    drawOptions(team);
    setText(title, S.chats);
    setText(sortLabel.firstElementChild!, S.sortBy);
    setText(filterLabel.firstElementChild!, S.filterAgent);
    setAttr(list, "aria-label", S.chats);
    const words = [S.filterAgent, S.colContact, S.colState, S.chatTime, S.colReply, "", S.colMode];
    heads.forEach((span, i) => setText(span, words[i] ?? ""));
    const all = team.chats ?? [];
    for (const [id, r] of rows) {
      if (!all.some((c) => c.id === id)) {
        r.el.remove();
        rows.delete(id);
      }
    }
    const shown = sortRows(filterRows(all, filterSel.value), (sortSel.value || "red") as SortBy, team.thresholds_ms, env.now());
    for (const row of shown) {
      let r = rows.get(row.id);
      if (!r) rows.set(row.id, (r = makeRow(row)));
      drawRow(r, row);
    }
    const key = shown.map((c) => c.id).join("|");
    if (key !== order || list.childElementCount !== shown.length) {
      order = key;
      const focused = document.activeElement;
      list.replaceChildren(...shown.map((c) => rows.get(c.id)!.el));
      if (focused instanceof HTMLElement && list.contains(focused)) focused.focus();
    }
    setText(empty, S.noChats);
    setHidden(empty, shown.length > 0);
    setHidden(head, shown.length === 0);
  }

  return { el, update, tick: update, sortSel, filterSel };
}

export function ago(template: string, ms: number): string {
  return fillTemplate(template, { t: formatDuration(ms) });
}
