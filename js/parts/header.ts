import { h, setAttr, setHidden, setProp, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import type { LabelKey } from "../core/labels";
import { formatDuration, timerColour } from "../core/timer";

const TIMER_LABEL: Record<string, LabelKey> = {
  idle: "timerIdle",
  green: "timerGreen",
  yellow: "timerYellow",
  red: "timerRed",
};

const STATUS_LABEL: Record<string, LabelKey> = {
  connected: "connected",
  reconnecting: "reconnecting",
  disconnected: "disconnected",
  contact_left: "contactLeft",
};

/** Contact name, reply-reminder timer (F2), chat time, connection status (F12);
 *  `extras` (supervision: the monitored indicator, the help flag) sit before Party Action. */
export function mountHeader(ctx: Ctx, partyMenu: HTMLElement, callBox?: HTMLElement, extras: HTMLElement[] = []): Part {
  const name = h("h3", { class: "cw-contact-name", "data-testid": "contact-name" });
  const timer = h("span", {
    class: "cw-timer",
    "data-testid": "reply-timer",
    role: "timer",
    "data-color": "idle",
    "data-blink": "false",
  });
  const elapsed = h("span", { class: "cw-elapsed", "data-testid": "elapsed" });
  const status = h("span", { class: "cw-status", "data-testid": "connection-status", role: "status" });
  const elapsedLabel = h("span", { class: "cw-sr-only" });
  const el = h(
    "div",
    { class: "cw-header" },
    timer,
    name,
    elapsedLabel,
    elapsed,
    h("span", { class: "cw-spacer" }),
    ...extras,
    // F12: the connection status stays next to Party Action (they never wrap apart)
    h("span", { class: "cw-party-group" }, partyMenu, status),
    ...(callBox ? [callBox] : []),
  );
  const nameParts = [timer, name, elapsedLabel, elapsed];

  function tick(): void {
    const s = ctx.state();
    const L = ctx.labels();
    const now = ctx.now();
    const colour = timerColour(s, now);
    if (timer.dataset.color !== colour) timer.dataset.color = colour;
    const blink = colour === "red" ? "true" : "false";
    if (timer.dataset.blink !== blink) timer.dataset.blink = blink;
    const label = `${L.replyTimer}: ${L[TIMER_LABEL[colour] ?? "timerIdle"]}`;
    if (timer.getAttribute("aria-label") !== label) {
      setAttr(timer, "aria-label", label);
      setProp(timer, "title", label);
    }
    const since = s.pending_since_ms;
    setText(timer, since === null || since === undefined ? "–:––" : formatDuration(now - since));
    // the chat's elapsed time: since the offer while offered, since accept afterwards
    const start = s.accepted_at_ms ?? (s.state === "offered" ? s.offered_at_ms : null);
    const stop = s.ended_at_ms ?? now;
    setText(elapsed, start !== null && start !== undefined ? formatDuration(stop - start) : "");
    if (elapsed.title !== L.elapsed) elapsed.title = L.elapsed;
  }

  return {
    el,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      // while waiting for a chat the header shows the connection status only
      const waiting = s.state === "waiting";
      for (const part of nameParts) setHidden(part, waiting);
      setText(name, s.contact?.name ?? "");
      // "Contact left" stays through End and Done (the contact does not come back)
      const left = s.state === "contact_left" || Boolean(s.contact_left);
      const st = left ? "contact_left" : (s.connection ?? "connected");
      setAttr(status, "data-status", st);
      const text = L[STATUS_LABEL[st] ?? "connected"];
      setText(status, text);
      setAttr(status, "aria-label", `${L.connection}: ${text}`);
      setText(elapsedLabel, `${L.elapsed}:`);
      tick();
    },
    tick,
  };
}
