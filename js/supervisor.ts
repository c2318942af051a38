import type { RenderProps } from "@anywidget/types";
import { containKeys } from "./core/a11y";
import { h, setAttr, setHidden, setText } from "./core/dom";
import { errorText, supervisorLabelsFor } from "./core/labels";
import { connectSync } from "./core/sync";
import type { ViewState } from "./core/types";
import { mountClockControls } from "./parts/clockControls";
import { mountBoard } from "./supervisor/board";
import { mountChatPane } from "./supervisor/chatPane";
import { mountLists } from "./supervisor/lists";
import type { SupervisorModel, TeamView } from "./supervisor/types";

/** anywidget entry point of SupervisorWidget: the team dashboard (issue 14). */
function render({ model, el }: RenderProps<SupervisorModel>): () => void {
  const team = (): TeamView => model.get("team") ?? {};
  const openId = (): string => model.get("open_chat") ?? "";
  const row = () => (team().chats ?? []).find((c) => c.id === openId());
  const sync = connectSync(model, (sid) => (sid !== null && sid === openId() ? pane : undefined));
  // the transcript draws from a chat state: nobody watching is the chat's agent ("(You)")
  const paneState = (): ViewState => ({ session_id: openId() || null, state: "accepted", thresholds_ms: team().thresholds_ms, replaying: true });
  const ctx = sync.ctx(paneState);
  const sl = () => supervisorLabelsFor(model.get("locale"));
  const open = (chat: string) => sync.act("open", { chat });
  const board = mountBoard({ team, labels: ctx.labels, sl, now: ctx.now, open, opened: openId });
  const lists = mountLists({ team, sl, now: ctx.now, act: (name, args) => sync.act(name, args), open });
  const pane = mountChatPane({ row, sl, ctx });
  const clock = mountClockControls(ctx);
  const status = h("span", { class: "cw-sup-status", "data-testid": "connection-status" });
  const error = h("div", { class: "cw-error", "data-testid": "supervisor-error", role: "alert", hidden: true });
  const title = h("h2", { class: "cw-sup-heading" });
  const root = h("div", { class: "chat-widget chat-supervisor", "data-testid": "supervisor", role: "region" },
    h("div", { class: "cw-sup-top" }, title, status, clock.el), error,
    h("div", { class: "cw-sup-layout" }, h("div", { class: "cw-sup-main" }, board.el, pane.el), lists.el));
  containKeys(root);
  el.append(root);

  function update(): void {
    const S = sl();
    const L = ctx.labels();
    setAttr(root, "lang", model.get("locale"));
    setAttr(root, "aria-label", S.dashboard);
    setText(title, S.dashboard);
    const connection = team().connection ?? "connected";
    setAttr(status, "data-status", connection);
    setText(status, connection === "connected" ? L.connected : connection === "reconnecting" ? L.reconnecting : L.disconnected);
    const err = errorText(model.get("error") ?? "", model.get("error_code"), L);
    setHidden(error, !err);
    setText(error, err);
    if (pane.show(openId()) && openId()) sync.snapshot(openId());
    board.update();
    lists.update();
    pane.update();
    clock.update();
  }

  let frame = 0;
  function loop(): void {
    board.tick();
    lists.tick();
    frame = requestAnimationFrame(loop);
  }
  const events = ["change:team", "change:clock", "change:locale", "change:error", "change:error_code", "change:open_chat", "change:virtual_clock"];
  for (const ev of events) model.on(ev, update);
  update();
  frame = requestAnimationFrame(loop);
  return () => {
    cancelAnimationFrame(frame);
    for (const ev of events) model.off(ev, update);
    sync.close();
    root.remove();
  };
}

export default { render };
