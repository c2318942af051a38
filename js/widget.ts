import type { RenderProps } from "@anywidget/types";
import { mountClockControls } from "./clockControls";
import { mountComposer } from "./composer";
import { makeCtx, type Part } from "./context";
import { h, setText } from "./dom";
import { mountHeader } from "./header";
import { mountOffer } from "./offer";
import { mountPartyMenu } from "./partyMenu";
import { mountTranscript } from "./transcript";
import { mountTypingIndicator } from "./typingIndicator";
import type { EntriesMessage, WidgetModel } from "./types";
import { mountWrapUp } from "./wrapUp";

/** anywidget entry point: one chat's interaction view. All state lives in the model. */
function render({ model, el }: RenderProps<WidgetModel>): () => void {
  const ctx = makeCtx(model);
  const party = mountPartyMenu(ctx);
  const transcript = mountTranscript(ctx, (kind, value) => party.callOrMail(kind, value));
  const waiting = h("div", { class: "cw-waiting", "data-testid": "waiting" });
  const error = h("div", { class: "cw-error", "data-testid": "error", role: "alert" });
  const parts: Part[] = [
    mountClockControls(ctx),
    mountOffer(ctx),
    mountHeader(ctx, party.el),
    party,
    transcript,
    mountTypingIndicator(ctx),
    mountComposer(ctx),
    mountWrapUp(ctx),
  ];
  const root = h("div", { class: "chat-widget", role: "region" }, waiting, error);
  for (const p of parts) if (p !== party) root.append(p.el);
  el.append(root);

  let sessionId: string | null = null;
  function update(): void {
    const s = ctx.state();
    const L = ctx.labels();
    root.setAttribute("lang", model.get("locale"));
    root.setAttribute("aria-label", s.contact ? `${L.transcript}: ${s.contact.name}` : L.waiting);
    root.dataset.state = s.state;
    waiting.hidden = s.state !== "waiting";
    setText(waiting, L.waiting);
    const err = model.get("error");
    error.hidden = !err;
    setText(error, err ?? "");
    if (s.session_id !== sessionId) {
      sessionId = s.session_id;
      transcript.reset();
      if (sessionId !== null) model.send({ type: "snapshot", from_index: 0 });
    }
    for (const p of parts) p.update();
  }

  function onMessage(msg: unknown): void {
    const m = msg as EntriesMessage;
    if (m && m.type === "entries") {
      const gap = transcript.applyDelta(m.first_index, m.entries);
      if (gap !== null) model.send({ type: "snapshot", from_index: gap });
    }
  }

  let frame = 0;
  function loop(): void {
    for (const p of parts) p.tick?.();
    frame = requestAnimationFrame(loop);
  }

  model.on("change:state", update);
  model.on("change:clock", update);
  model.on("change:locale", update);
  model.on("change:error", update);
  model.on("change:virtual_clock", update);
  model.on("msg:custom", onMessage);
  update();
  frame = requestAnimationFrame(loop);

  return () => {
    cancelAnimationFrame(frame);
    for (const p of parts) p.destroy?.();
    model.off("change:state", update);
    model.off("change:clock", update);
    model.off("change:locale", update);
    model.off("change:error", update);
    model.off("change:virtual_clock", update);
    model.off("msg:custom", onMessage);
  };
}

export default { render };
