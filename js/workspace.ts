import type { RenderProps } from "@anywidget/types";
import { containKeys } from "./core/a11y";
import { kernelAlive, liveView, watchAttention } from "./core/attention";
import { mountClockControls } from "./parts/clockControls";
import { h, setText } from "./core/dom";
import { errorText, labelsFor } from "./core/labels";
import { connectSync } from "./core/sync";
import { timerColour, type TimerColour } from "./core/timer";
import { mountChatHost, type ChatHost } from "./workspace/chatHost";
import { mountConsultedPanel } from "./workspace/consultedPanel";
import { mountDialog } from "./workspace/dialog";
import { mountInteractionBar } from "./workspace/interactionBar";
import { mountSidePanel } from "./workspace/sidePanel";
import type { WorkspaceModel } from "./workspace/types";

const RANK: Record<TimerColour, number> = { idle: 0, green: 1, yellow: 2, red: 3 };

/** anywidget entry point of WorkspaceWidget: all of one agent's chats, colleagues and IM. */
function render({ model, el }: RenderProps<WorkspaceModel>): () => void {
  const labels = () => labelsFor(model.get("locale"));
  const me = () => model.get("agent")?.id ?? "";
  const hosts = new Map<string, ChatHost>();
  // a delta for a chat without a pane yet is dropped: its pane asks for a snapshot when made
  const sync = connectSync(model, (sid) => (sid === null ? undefined : hosts.get(sid)));
  const wsCtx = sync.ctx(() => ({ session_id: null, state: "workspace" }));
  let selected: string | null = null;

  const clockStrip = mountClockControls(wsCtx);
  const error = h("div", { class: "cw-error", "data-testid": "workspace-error", role: "alert", hidden: true });
  const dialog = mountDialog(labels, () => model.get("directory") ?? {}, me, (sid, name, args) => sync.act(name, args, sid));
  const consulted = mountConsultedPanel(labels, () => model.get("consultations") ?? [], (name, args) => sync.act(name, args));
  const bar = mountInteractionBar(labels, (sid) => select(sid));
  const panes = h("div", { class: "cw-ws-panes" });
  const side = mountSidePanel(labels, () => model.get("directory") ?? {}, () => model.get("im") ?? {}, me, (name, args) => sync.act(name, args));
  const main = h("div", { class: "cw-ws-main" }, h("div", { class: "cw-ws-barwrap" }, bar.el, bar.preview), consulted.el, panes);
  const root = h("div", { class: "chat-widget cw-workspace", "data-testid": "workspace", role: "region", tabindex: "-1" },
    clockStrip.el, error, h("div", { class: "cw-ws-layout" }, main, side.el), dialog.el);
  containKeys(root);
  el.append(root);

  // a chat that leaves (Done, transfer) takes the focused control with it: focus stays on the
  // desk (the selected tab, else the workspace) instead of falling to the page
  let lastFocus: Element | null = null;
  root.addEventListener("focusin", (ev) => (lastFocus = ev.target as Element));
  function keepFocus(): void {
    const active = document.activeElement;
    if (!lastFocus || (active && active !== document.body)) return;
    if (lastFocus.isConnected && !lastFocus.closest("[hidden]")) return;
    lastFocus = null;
    (bar.el.querySelector<HTMLElement>('[aria-selected="true"]') ?? root).focus();
  }

  function select(sid: string): void {
    selected = sid;
    for (const [id, host] of hosts) host.show(id === sid);
    bar.update(model.get("order") ?? [], hosts, selected);
  }

  function update(): void {
    const L = labels();
    const order = model.get("order") ?? [];
    root.setAttribute("lang", model.get("locale"));
    root.setAttribute("aria-label", L.workspace);
    const err = errorText(model.get("error") ?? "", model.get("error_code"), L);
    error.hidden = !err;
    setText(error, err);
    // chats that left the desk (done, transferred) go; new offers come, without reload
    for (const [sid, host] of hosts) {
      if (!order.includes(sid)) {
        host.destroy();
        hosts.delete(sid);
      }
    }
    for (const sid of order) {
      if (!hosts.has(sid)) {
        const host = mountChatHost(model, sync, sid, (s, mode) => dialog.open(s, mode));
        host.show(false);
        hosts.set(sid, host);
        panes.append(host.pane);
        sync.snapshot(sid);
      }
    }
    if (selected === null || !hosts.has(selected)) selected = order[0] ?? null;
    for (const [sid, host] of hosts) host.show(sid === selected);
    for (const host of hosts.values()) host.update();
    clockStrip.update();
    bar.update(order, hosts, selected);
    keepFocus();
    side.update();
    consulted.update();
    dialog.update();
  }

  let frame = 0;
  function loop(): void {
    for (const host of hosts.values()) host.tick();
    bar.tick(hosts);
    consulted.tick(wsCtx.now());
    frame = requestAnimationFrame(loop);
  }

  // F13: the most urgent pending reply of all chats flashes the browser tab
  let disposed = false;
  const kernelOk = kernelAlive(model);
  const unwatchAttention = watchAttention({
    colour() {
      let worst: TimerColour = "idle";
      for (const host of hosts.values()) {
        if (host.ctx.state().state !== "accepted") continue;
        const c = timerColour(host.ctx.state(), host.ctx.now());
        if (RANK[c] > RANK[worst]) worst = c;
      }
      return worst;
    },
    title() {
      let worst: ChatHost | null = null;
      let rank = 0;
      for (const host of hosts.values()) {
        const r = host.ctx.state().state === "accepted" ? RANK[timerColour(host.ctx.state(), host.ctx.now())] : 0;
        if (r > rank) [worst, rank] = [host, r];
      }
      return `${labels().attentionTitle} – ${worst?.ctx.state().contact?.name ?? ""}`;
    },
    // only while this view is live: not once its kernel is gone (the view stays on the page)
    live: liveView(el, root, () => disposed || !kernelOk()),
  });

  const events = ["change:chats", "change:order", "change:clock", "change:locale", "change:error", "change:error_code", "change:virtual_clock", "change:directory", "change:im", "change:agent", "change:consultations"];
  for (const ev of events) model.on(ev, update);
  update();
  frame = requestAnimationFrame(loop);

  return () => {
    disposed = true;
    unwatchAttention();
    cancelAnimationFrame(frame);
    for (const host of hosts.values()) host.destroy();
    for (const ev of events) model.off(ev, update);
    sync.close();
    root.remove();
  };
}

export default { render };
