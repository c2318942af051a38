import { h, setAttr, setHidden, setText } from "../core/dom";
import { fillTemplate, type SupervisorLabels } from "../core/labels";
import { formatDuration } from "../core/timer";
import type { Act, ChatRow, TeamView } from "./types";

export interface ListsEnv {
  team(): TeamView;
  sl(): SupervisorLabels;
  now(): number;
  act: Act;
  open(chatId: string): void;
}

const PRESENCE_KEYS = ["ready", "not_ready", "away", "offline"] as const;

/** A list that redraws its items only when `key` changes; `live` texts follow the clock. */
function keyedList(testid: string) {
  const title = h("h3", { class: "cw-sup-title" });
  const list = h("ul", { class: "cw-sup-list", "data-testid": testid, role: "list" });
  const empty = h("p", { class: "cw-sup-empty" });
  const el = h("section", { class: `cw-sup-${testid}` }, title, list, empty);
  let key: string | null = null;
  return {
    el,
    draw(heading: string, emptyText: string, newKey: string, items: () => HTMLElement[]): void {
      setText(title, heading);
      setAttr(list, "aria-label", heading);
      setText(empty, emptyText);
      if (newKey !== key) {
        key = newKey;
        const focusedId = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
        list.replaceChildren(...items());
        if (focusedId) list.querySelector<HTMLElement>(`[data-focus-key="${focusedId}"]`)?.focus();
      }
      setHidden(empty, list.childElementCount > 0);
    },
  };
}

function button(testid: string, label: string, focusKey: string, onClick: () => void): HTMLButtonElement {
  const b = h("button", { type: "button", class: "cw-btn", "data-testid": testid, "data-focus-key": focusKey }, label);
  b.addEventListener("click", (ev) => {
    ev.stopPropagation();
    onClick();
  });
  return b;
}

/** The help requests (`help-flags`), the queue (`team-queue`) and the agents (`team-agents`). */
export function mountLists(env: ListsEnv) {
  const flags = keyedList("help-flags");
  const queue = keyedList("team-queue");
  const agents = keyedList("team-agents");
  const el = h("aside", { class: "cw-sup-side" }, flags.el, queue.el, agents.el);

  const chatsById = (): Map<string, ChatRow> => new Map((env.team().chats ?? []).map((c) => [c.id, c]));

  function update(): void {
    const team = env.team();
    const S = env.sl();
    const byId = chatsById();
    const flagged = (team.flags ?? []).map((id) => byId.get(id)).filter((c): c is ChatRow => Boolean(c?.flag));
    flags.draw(S.flags, S.noFlags, JSON.stringify([S.flags, flagged.map((c) => [c.id, c.flag, c.agent_name])]), () =>
      flagged.map((c) => {
        const age = h("span", { class: "cw-sup-age", "data-testid": "flag-age", "data-since": String(c.flag!.raised_at_ms) });
        const open = button("flag-open", `${c.agent_name ?? ""} – ${c.contact}`, `open:${c.id}`, () => env.open(c.id));
        // who and since when; what they need; what the supervisor can do (one line each)
        return h("li", { class: "cw-sup-flag-item", "data-testid": "help-flag-item", "data-chat": c.id, "data-agent": c.agent_id ?? "" },
          h("div", { class: "cw-sup-flag-head" }, open, age),
          h("span", { class: "cw-sup-flag-text", "data-testid": "flag-text" }, c.flag!.text ?? S.flagged),
          h("div", { class: "cw-sup-flag-actions" },
            button("barge-in", S.bargeIn, `barge:${c.id}`, () => {
              env.act("barge_in", { chat: c.id });
              env.open(c.id);
            }),
            button("lower-flag", S.lowerFlag, `lower:${c.id}`, () => env.act("lower_flag", { chat: c.id }))));
      }));
    const queued = (team.queue ?? []).map((id) => byId.get(id)).filter((c): c is ChatRow => Boolean(c));
    queue.draw(S.queue, S.queueEmpty, JSON.stringify([S.queue, queued.map((c) => [c.id, c.contact])]), () =>
      queued.map((c) =>
        h("li", { class: "cw-sup-queue-item", "data-testid": "queue-item", "data-chat": c.id },
          h("span", {}, c.contact), " ", h("span", { class: "cw-sup-age", "data-testid": "queue-waiting", "data-since": String(c.created_ms) }))));
    const members = team.agents ?? [];
    agents.draw(S.agents, "", JSON.stringify([S.agents, S.monitorNext, members]), () =>
      members.map((a) => {
        const presence = (PRESENCE_KEYS as readonly string[]).includes(a.presence) ? S[a.presence as (typeof PRESENCE_KEYS)[number]] : a.presence;
        const next = button("monitor-next", S.monitorNext, `next:${a.id}`, () => env.act("monitor_next", { agent: a.id, cancel: a.watch_next }));
        next.setAttribute("aria-pressed", String(a.watch_next));
        next.setAttribute("aria-label", `${S.monitorNext}: ${a.name}`);
        return h("li", { class: "cw-sup-agent-item", "data-testid": "team-agent", "data-agent": a.id, "data-presence": a.presence },
          h("span", { class: "cw-sup-agent-name" }, a.name), " ",
          h("span", { class: "cw-sup-presence", "data-testid": "agent-presence" }, presence), " · ",
          h("span", { class: "cw-sup-held", "data-testid": "agent-chats" }, fillTemplate(S.chatsHeld, { n: String(a.chats) })), next);
      }));
    tick();
  }

  function tick(): void {
    const S = env.sl();
    const now = env.now();
    for (const age of el.querySelectorAll<HTMLElement>("[data-since]")) {
      const template = age.dataset.testid === "flag-age" ? S.flagAge : S.waiting;
      setText(age, fillTemplate(template, { t: formatDuration(now - Number(age.dataset.since)) }));
    }
  }

  return { el, update, tick };
}
