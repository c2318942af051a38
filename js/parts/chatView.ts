import { FOCUS_AFTER } from "../core/a11y";
import { mountClockControls } from "./clockControls";
import { mountComposer } from "./composer";
import type { Ctx, Part } from "../core/context";
import { h, setAttr, setHidden, setText } from "../core/dom";
import { mountHeader } from "./header";
import { mountHistory } from "./history";
import { mountOffer } from "./offer";
import { mountPartyMenu } from "./partyMenu";
import { mountReplayBar, type ReplayView } from "./replayBar";
import { mountSupervision } from "./supervision";
import { mountTranscript } from "./transcript";
import { mountTypingIndicator } from "./typingIndicator";
import type { Labels } from "../core/labels";
import type { EntryView } from "../core/types";
import { mountWrapUp } from "./wrapUp";

export interface ChatView extends Part {
  /** Apply a transcript delta; returns the index to request a snapshot from on a gap. */
  applyDelta(firstIndex: number, entries: EntryView[]): number | null;
  /** Forget the transcript (another chat is shown); the caller asks for a snapshot. */
  resetTranscript(): void;
  /** Show an error from Python ("" hides it). */
  setError(message: string): void;
}

export interface ChatViewOptions {
  /** Show the trainer's clock strip (the single-chat widget does; a workspace has one of its own). */
  clockControls?: boolean;
  /** The replay being shown, if any: a timeline strip replaces the clock strip and the
   *  agent's controls become inert (Python refuses agent actions in a replay too). */
  replay?: () => ReplayView | null;
}

/** "1 more chat offered" / "3 more chats offered" ("" for none). */
export function moreOffersText(count: number, L: Labels): string {
  if (count <= 0) return "";
  return count === 1 ? L.moreOffersOne : L.moreOffersMany.replace("{n}", String(count));
}

/** One chat's complete interaction view, mounted on a Ctx (single widget or workspace tab). */
export function mountChatView(ctx: Ctx, options: ChatViewOptions = {}): ChatView {
  const party = mountPartyMenu(ctx);
  const transcript = mountTranscript(ctx, (kind, value) => party.callOrMail(kind, value));
  const waiting = h("div", { class: "cw-waiting", "data-testid": "waiting" });
  const moreOffers = h("div", { class: "cw-more-offers", "data-testid": "more-offers", role: "status", hidden: true });
  const error = h("div", { class: "cw-error", "data-testid": "error", role: "alert", hidden: true });
  const replay = options.replay ?? (() => null);
  const offer = mountOffer(ctx);
  const composer = mountComposer(ctx);
  const wrapUp = mountWrapUp(ctx);
  // supervision (issue 14): indicator and flag in the header, the flag's line under it,
  // the answer-the-coach field above the composer (supervision.update draws all three)
  const supervision = mountSupervision(ctx);
  const coachBar: Part = { el: supervision.coachBar, update: () => undefined };
  const clockStrip = options.clockControls === false ? [] : [mountClockControls(ctx)];
  const parts: Part[] = [
    ...clockStrip,
    ...(options.replay ? [mountReplayBar(ctx, replay)] : []),
    offer,
    mountHeader(ctx, party.el, party.callEl, [supervision.indicator, supervision.flagButton]),
    supervision,
    mountHistory(ctx),
    transcript,
    mountTypingIndicator(ctx),
    coachBar,
    composer,
    wrapUp,
  ];
  const el = h("div", { class: "cw-chat-view" }, waiting, moreOffers, error, ...parts.map((p) => p.el));
  const all = [...parts, party];
  // focus follows the agent's own Accept, End and Done: the button pressed disappears with
  // the state it leads to, so focus goes where the work continues (not to the page)
  let focusNext: { from: string; state: string; target: string } | null = null;
  el.addEventListener("click", (ev) => {
    const testid = (ev.target as Element | null)?.closest?.("button[data-testid]")?.getAttribute("data-testid") ?? "";
    const after = FOCUS_AFTER[testid];
    if (after) focusNext = { from: ctx.state().state, ...after };
  });
  function moveFocus(state: string): void {
    if (!focusNext || state === focusNext.from) return;
    const target = state === focusNext.state ? el.querySelector<HTMLElement>(`[data-testid="${focusNext.target}"]`) : null;
    focusNext = null;
    if (target && !target.closest("[hidden]")) target.focus();
  }

  return {
    el,
    applyDelta: (first, entries) => transcript.applyDelta(first, entries),
    resetTranscript: () => transcript.reset(),
    setError(message: string) {
      setHidden(error, !message);
      setText(error, message);
    },
    update() {
      const s = ctx.state();
      setAttr(el, "data-state", s.state);
      setHidden(waiting, s.state !== "waiting");
      setText(waiting, ctx.labels().waiting);
      const more = s.others_offered ?? 0;
      setHidden(moreOffers, more <= 0);
      setText(moreOffers, moreOffersText(more, ctx.labels()));
      for (const p of all) p.update();
      const replaying = replay() !== null;
      for (const p of [offer, party, composer, wrapUp, supervision, coachBar]) p.el.inert = replaying;
      supervision.flagButton.inert = replaying;
      for (const p of clockStrip) if (replaying) setHidden(p.el, true);
      moveFocus(s.state);
    },
    tick() {
      for (const p of all) p.tick?.();
    },
    destroy() {
      for (const p of all) p.destroy?.();
    },
  };
}
