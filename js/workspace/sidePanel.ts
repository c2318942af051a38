import { icon } from "../core/icons";
import { h, setText } from "../core/dom";
import type { Labels, LabelKey } from "../core/labels";
import { formatClockTime } from "../core/timer";
import type { DirectoryView, ImView } from "./types";

const PRESENCE: Record<string, LabelKey> = {
  available: "presenceAvailable",
  busy: "presenceBusy",
  away: "presenceAway",
  offline: "presenceOffline",
};

export interface SidePanel {
  el: HTMLElement;
  update(): void;
}

/** Directory of colleagues, queues and external contacts, and team IM (F14) with unread counts. */
export function mountSidePanel(
  labels: () => Labels,
  directory: () => DirectoryView,
  im: () => ImView,
  me: () => string,
  act: (name: string, args: Record<string, unknown>) => void,
): SidePanel {
  const dirTab = h("button", { class: "cw-ws-sidetab", type: "button", role: "tab", "data-testid": "directory-toggle" });
  const imTabText = h("span", {});
  const totalBadge = h("span", { class: "cw-ws-badge", "data-testid": "im-total-unread" });
  const imTab = h("button", { class: "cw-ws-sidetab", type: "button", role: "tab", "data-testid": "im-toggle" }, imTabText, totalBadge);
  const tabs = h("div", { class: "cw-ws-sidetabs", role: "tablist" }, dirTab, imTab);

  // directory
  const dirList = h("div", { class: "cw-ws-directory", "data-testid": "directory", role: "tabpanel" });
  // IM
  const threads = h("ul", { class: "cw-ws-threads", "data-testid": "im-threads" });
  const convTitle = h("strong", { "data-testid": "im-title" });
  const messages = h("div", { class: "cw-ws-im-messages", "data-testid": "im-messages", role: "log", "aria-live": "polite" });
  const input = h("input", { class: "cw-url-input", type: "text", "data-testid": "im-composer" });
  const send = h("button", { class: "cw-btn cw-primary", type: "button", "data-testid": "im-send" });
  const conv = h("div", { class: "cw-ws-im-conv" }, convTitle, messages, h("div", { class: "cw-url-row" }, input, send));
  const choose = h("div", { class: "cw-ws-muted" });
  const imPanel = h("div", { class: "cw-ws-im", "data-testid": "im-panel", role: "tabpanel", hidden: true }, threads, choose, conv);
  const el = h("aside", { class: "cw-ws-side", "data-testid": "side-panel" }, tabs, dirList, imPanel);

  let view: "directory" | "im" = "directory";
  let open: string | null = null;
  let lastReadRequest = "";

  function show(v: "directory" | "im"): void {
    view = v;
    update();
  }
  function openThread(id: string): void {
    open = id;
    view = "im";
    update();
    input.focus();
  }
  function submit(): void {
    const text = input.value.trim();
    if (!text || !open) return;
    act("im_send", { colleague_id: open, text });
    input.value = "";
  }
  dirTab.addEventListener("click", () => show("directory"));
  imTab.addEventListener("click", () => show("im"));
  send.addEventListener("click", submit);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      submit();
    }
  });

  function update(): void {
    const L = labels();
    const dir = directory();
    const state = im();
    const all = state.threads ?? {};
    setText(dirTab, L.directory);
    setText(imTabText, L.teamIm);
    dirTab.setAttribute("aria-selected", String(view === "directory"));
    imTab.setAttribute("aria-selected", String(view === "im"));
    const total = state.total_unread ?? 0;
    totalBadge.hidden = total === 0;
    setText(totalBadge, String(total));
    totalBadge.title = `${total} ${L.imUnread}`;
    dirList.hidden = view !== "directory";
    imPanel.hidden = view !== "im";

    // directory
    // a heading only over something (the live server has no queues or external contacts)
    const section = (title: string, rows: HTMLElement[]) => (rows.length ? [h("h5", { class: "cw-ws-section" }, title), ...rows] : []);
    const agents = (dir.agents ?? []).filter((a) => a.id !== me());
    const imButton = (id: string) => {
      const b = h("button", { class: "cw-btn cw-icon", type: "button", "data-testid": "directory-im", title: L.imWith, "aria-label": `${L.imWith}` }, icon("chat"));
      b.addEventListener("click", () => openThread(id));
      return b;
    };
    dirList.replaceChildren(
      ...section(L.colleagues, agents.map((a) =>
        h("div", { class: "cw-ws-dir-row", "data-testid": "directory-agent", "data-agent-id": a.id, "data-presence": a.presence },
          h("span", { class: `cw-ws-dot cw-ws-${a.presence}`, title: L[PRESENCE[a.presence] ?? "presenceAvailable"] }),
          h("span", { class: "cw-ws-dir-main" }, h("strong", {}, a.name), h("span", { class: "cw-ws-muted" }, [L[PRESENCE[a.presence] ?? "presenceAvailable"], a.skills.length ? `${L.skills}: ${a.skills.join(", ")}` : ""].filter(Boolean).join(" · "))),
          imButton(a.id)))),
      ...section(L.queues, (dir.queues ?? []).map((q) =>
        h("div", { class: "cw-ws-dir-row", "data-testid": "directory-queue", "data-queue-id": q.id },
          h("span", { class: "cw-ws-dot cw-ws-queue" }), h("span", { class: "cw-ws-dir-main" }, h("strong", {}, q.name), h("span", { class: "cw-ws-muted" }, q.skill))))),
      ...section(L.externals, (dir.externals ?? []).map((x) =>
        h("div", { class: "cw-ws-dir-row", "data-testid": "directory-external", "data-external-id": x.id },
          h("span", { class: "cw-ws-dot cw-ws-external" }), h("span", { class: "cw-ws-dir-main" }, h("strong", {}, x.name), h("span", { class: "cw-ws-muted" }, `${x.organisation} · ${x.phone}`))))),
    );

    // IM threads: every colleague, plus anyone who wrote
    const ids = [...agents.map((a) => a.id), ...Object.keys(all).filter((id) => !agents.some((a) => a.id === id))];
    threads.replaceChildren(
      ...ids.map((id) => {
        const t = all[id];
        const agent = agents.find((a) => a.id === id);
        const unread = t?.unread ?? 0;
        const badge = h("span", { class: "cw-ws-badge", "data-testid": "im-unread", hidden: unread === 0 }, String(unread));
        badge.title = `${unread} ${L.imUnread}`;
        const b = h("button", { class: "cw-ws-thread", type: "button", "data-testid": "im-thread", "data-colleague-id": id, "aria-pressed": String(open === id) },
          h("span", { class: `cw-ws-dot cw-ws-${agent?.presence ?? "offline"}` }), h("span", { class: "cw-ws-tab-name" }, agent?.name ?? t?.name ?? id), badge);
        b.addEventListener("click", () => openThread(id));
        return h("li", {}, b);
      }),
    );
    choose.hidden = open !== null;
    setText(choose, L.imChoose);
    conv.hidden = open === null;
    if (open) {
      const t = all[open];
      const name = agents.find((a) => a.id === open)?.name ?? t?.name ?? open;
      setText(convTitle, name);
      const msgs = t?.messages ?? [];
      const key = `${open}:${msgs.map((m) => m.i).join(",")}`;
      if (messages.dataset.key !== key) {
        messages.dataset.key = key;
        messages.replaceChildren(
          ...msgs.map((m) =>
            h("div", { class: `cw-entry ${m.from === me() ? "cw-from-agent" : "cw-from-contact"}`, "data-testid": "im-message", "data-from": m.from === me() ? "me" : "them" },
              h("span", { class: "cw-meta" }, h("time", {}, formatClockTime(m.t)), " ", h("span", { class: "cw-sender" }, m.from === me() ? L.you : m.n)),
              h("span", { class: "cw-text" }, m.x)),
          ),
        );
        messages.scrollTop = messages.scrollHeight;
      }
      input.placeholder = L.imPlaceholder;
      input.setAttribute("aria-label", `${L.imWith}: ${name}`);
      setText(send, L.imSend);
      // the thread is on screen: what arrived is read
      const unread = t?.unread ?? 0;
      const req = `${open}:${msgs.length}`;
      if (view === "im" && unread > 0 && req !== lastReadRequest) {
        lastReadRequest = req;
        act("im_read", { colleague_id: open });
      }
    }
  }

  return { el, update };
}
