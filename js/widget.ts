import type { RenderProps } from "@anywidget/types";
import { containKeys } from "./core/a11y";
import { kernelAlive, liveView, watchAttention } from "./core/attention";
import { mountChatView } from "./parts/chatView";
import type { ReplayView } from "./parts/replayBar";
import { h, setAttr } from "./core/dom";
import { errorText } from "./core/labels";
import { timerColour } from "./core/timer";
import { connectSync } from "./core/sync";
import type { WidgetModel } from "./core/types";

/** anywidget entry point of ChatWidget: one chat. All state lives in the model. */
function render({ model, el }: RenderProps<WidgetModel>): () => void {
  const sync = connectSync(model, () => view); // messages come after render
  const ctx = sync.ctx(() => model.get("state") ?? { session_id: null, state: "waiting" });
  const view = mountChatView(ctx, {
    replay: () => {
      const r = model.get("replay");
      return r && Object.keys(r).length > 0 ? (r as unknown as ReplayView) : null;
    },
  });
  const root = h("div", { class: "chat-widget", role: "region" }, view.el);
  containKeys(root);
  el.append(root);

  let sessionId: string | null = null;
  function update(): void {
    const s = ctx.state();
    const L = ctx.labels();
    setAttr(root, "lang", model.get("locale"));
    setAttr(root, "aria-label", s.contact ? `${L.transcript}: ${s.contact.name}` : L.waiting);
    setAttr(root, "data-state", s.state);
    view.setError(errorText(model.get("error") ?? "", model.get("error_code"), L));
    if (s.session_id !== sessionId) {
      // a fresh view (or another chat): ask for the transcript from what we have
      sessionId = s.session_id;
      view.resetTranscript();
      if (sessionId !== null) sync.snapshot(null);
    }
    view.update();
  }

  let frame = 0;
  function loop(): void {
    view.tick?.();
    frame = requestAnimationFrame(loop);
  }

  const events = ["change:state", "change:clock", "change:locale", "change:error", "change:error_code", "change:virtual_clock", "change:replay"];
  for (const ev of events) model.on(ev, update);
  update();
  frame = requestAnimationFrame(loop);
  // F13: flash the browser tab while a reply is pending and the page is not looked at
  // only while this view is live: not once its kernel is gone (the view stays on the page)
  let disposed = false;
  const kernelOk = kernelAlive(model);
  const unwatchAttention = watchAttention({
    colour: () => (ctx.state().state === "accepted" ? timerColour(ctx.state(), ctx.now()) : "idle"),
    title: () => `${ctx.labels().attentionTitle} – ${ctx.state().contact?.name ?? ""}`,
    live: liveView(el, root, () => disposed || !kernelOk()),
  });

  return () => {
    disposed = true;
    unwatchAttention();
    cancelAnimationFrame(frame);
    view.destroy?.();
    for (const ev of events) model.off(ev, update);
    sync.close();
    root.remove();
  };
}

export default { render };
