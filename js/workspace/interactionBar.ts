import { h, setText } from "../core/dom";
import { entryText, type Labels } from "../core/labels";
import { formatDuration, timerColour } from "../core/timer";
import type { ChatHost } from "./chatHost";

const PREVIEW_LINES = 3;

export interface InteractionBar {
  el: HTMLElement;
  preview: HTMLElement;
  /** Rebuild the tabs for the chats in `order`. */
  update(order: string[], hosts: Map<string, ChatHost>, selected: string | null): void;
  tick(hosts: Map<string, ChatHost>): void;
}

/** F11: one tab per chat with its own timer colour and contact; hover shows elapsed time
 *  and the last lines of the transcript. */
export function mountInteractionBar(labels: () => Labels, select: (sid: string) => void): InteractionBar {
  const el = h("div", { class: "cw-ws-bar", role: "tablist", "data-testid": "interaction-bar" });
  const empty = h("div", { class: "cw-ws-muted cw-ws-empty", "data-testid": "no-chats" });
  const previewTitle = h("strong", {});
  const previewElapsed = h("span", { class: "cw-elapsed", "data-testid": "tab-preview-elapsed" });
  const previewLines = h("div", { class: "cw-ws-preview-lines" });
  const preview = h("div", { class: "cw-ws-preview", "data-testid": "tab-preview", role: "tooltip", hidden: true },
    h("div", { class: "cw-ws-row" }, previewTitle, h("span", { class: "cw-spacer" }), previewElapsed), previewLines);
  const tabs = new Map<string, { tab: HTMLButtonElement; dot: HTMLElement; name: HTMLElement; badge: HTMLElement }>();
  let hovered: string | null = null;
  let hostsRef: Map<string, ChatHost> = new Map();
  let previewLabels: Labels | null = null;

  function showPreview(sid: string): void {
    hovered = sid;
    const t = tabs.get(sid);
    if (!t) return;
    preview.hidden = false;
    preview.dataset.sessionId = sid;
    preview.style.left = `${t.tab.offsetLeft}px`;
    preview.style.top = `${t.tab.offsetTop + t.tab.offsetHeight + 4}px`;
    fillPreview();
  }
  function hidePreview(sid: string): void {
    if (hovered === sid) {
      hovered = null;
      preview.hidden = true;
    }
  }
  function fillPreview(): void {
    const host = hovered ? hostsRef.get(hovered) : undefined;
    if (!host) return;
    const s = host.ctx.state();
    const L = labels();
    setText(previewTitle, s.contact?.name ?? "");
    const now = host.ctx.now();
    const start = s.accepted_at_ms ?? s.offered_at_ms ?? now;
    setText(previewElapsed, `${L.elapsed}: ${formatDuration((s.ended_at_ms ?? now) - start)}`);
    const lines = host.tail.filter((e) => e.v === "all" || e.k === "consult").slice(-PREVIEW_LINES);
    const key = lines.map((e) => e.i).join(",");
    if (previewLines.dataset.key !== key || previewLabels !== L) {
      previewLines.dataset.key = key;
      previewLabels = L; // notices are drawn in the locale: a switch redraws them
      previewLines.replaceChildren(
        ...lines.map((e) =>
          h("div", { class: `cw-ws-preview-line cw-from-${e.r}`, "data-testid": "tab-preview-line", "data-kind": e.k },
            e.k === "notice" ? entryText(e, L) : `${e.n}: ${entryText(e, L)}`),
        ),
      );
    }
  }

  return {
    el,
    preview,
    update(order, hosts, selected) {
      hostsRef = hosts;
      const L = labels();
      el.setAttribute("aria-label", L.interactions);
      for (const [sid, t] of tabs) {
        if (!order.includes(sid)) {
          t.tab.remove();
          tabs.delete(sid);
          hidePreview(sid);
        }
      }
      for (const sid of order) {
        let t = tabs.get(sid);
        if (!t) {
          const dot = h("span", { class: "cw-ws-tab-dot", "aria-hidden": "true" });
          const name = h("span", { class: "cw-ws-tab-name", "data-testid": "tab-contact" });
          const badge = h("span", { class: "cw-ws-badge cw-ws-new" });
          const tab = h("button", { class: "cw-ws-tab", type: "button", role: "tab", "data-testid": "interaction-tab", "data-session-id": sid }, dot, name, badge);
          tab.addEventListener("click", () => select(sid));
          tab.addEventListener("mouseenter", () => showPreview(sid));
          tab.addEventListener("mouseleave", () => hidePreview(sid));
          tab.addEventListener("focus", () => showPreview(sid));
          tab.addEventListener("blur", () => hidePreview(sid));
          t = { tab, dot, name, badge };
          tabs.set(sid, t);
        }
        el.append(t.tab); // keeps the order
        const s = hosts.get(sid)?.ctx.state();
        setText(t.name, s?.contact?.name ?? sid);
        t.tab.dataset.state = s?.state ?? "waiting";
        t.tab.setAttribute("aria-selected", String(sid === selected));
        t.tab.tabIndex = sid === selected ? 0 : -1;
        t.badge.hidden = s?.state !== "offered";
        setText(t.badge, L.offeredTab);
      }
      empty.hidden = order.length > 0;
      setText(empty, L.noChats);
      if (!empty.isConnected) el.append(empty);
      else el.append(empty);
    },
    tick(hosts) {
      const L = labels();
      for (const [sid, t] of tabs) {
        const host = hosts.get(sid);
        if (!host) continue;
        const colour = timerColour(host.ctx.state(), host.ctx.now());
        if (t.tab.dataset.color !== colour) {
          t.tab.dataset.color = colour;
          t.tab.dataset.blink = String(colour === "red");
          const label = `${host.ctx.state().contact?.name ?? ""}, ${L.replyTimer}: ${colour}`;
          t.tab.setAttribute("aria-label", label);
        }
      }
      if (hovered) fillPreview();
    },
  };
}
