import { h, setAttr, setHidden, setProp, setText } from "../core/dom";
import type { Labels, LabelKey } from "../core/labels";
import { formatClockTime, formatDuration } from "../core/timer";
import { isoTime } from "../parts/transcript";
import type { IncomingConsultationView } from "./types";

const STATE: Record<IncomingConsultationView["state"], LabelKey> = {
  requested: "consultRequested",
  ringing: "consultRinging",
  active: "consultConnected",
  on_hold: "consultOnHold",
  ended: "consultEnded",
  declined: "consultDeclined",
};

const WAITING = new Set(["requested", "ringing"]);
const OVER = new Set(["ended", "declined"]);

/** Seconds left to answer a colleague's consultation, as "m:ss" ("" once answered or without a deadline). */
export function consultCountdown(c: IncomingConsultationView, nowMs: number): string {
  if (!WAITING.has(c.state) || c.expires_at_ms === null) return "";
  return formatDuration(Math.max(0, c.expires_at_ms - nowMs) + 999);
}

export interface ConsultedPanel {
  el: HTMLElement;
  update(): void;
  tick(nowMs: number): void;
}

interface Card {
  el: HTMLElement;
  update(c: IncomingConsultationView): void;
  tick(nowMs: number): void;
}

/** F7, the consulted side: a colleague asks this agent about their chat. Answer or
 *  decline within the countdown, reply by chat (never seen by the contact), hang up,
 *  and close the card once it is over. One card per consultation, oldest first. */
export function mountConsultedPanel(
  labels: () => Labels,
  consultations: () => IncomingConsultationView[],
  act: (name: string, args: Record<string, unknown>) => void,
): ConsultedPanel {
  const el = h("section", { class: "cw-ws-consulted", "data-testid": "consulted", hidden: true });
  const cards = new Map<string, Card>();

  function update(): void {
    const list = consultations();
    setHidden(el, list.length === 0);
    setAttr(el, "aria-label", labels().consultIncoming);
    const ids = new Set(list.map((c) => c.id));
    for (const [id, card] of cards) {
      if (!ids.has(id)) {
        card.el.remove();
        cards.delete(id);
      }
    }
    for (const c of list) {
      let card = cards.get(c.id);
      if (!card) {
        card = mountCard(labels, c.id, act);
        cards.set(c.id, card);
        el.append(card.el);
      }
      card.update(c);
    }
  }

  return {
    el,
    update,
    tick(nowMs) {
      for (const card of cards.values()) card.tick(nowMs);
    },
  };
}

function mountCard(
  labels: () => Labels,
  id: string,
  act: (name: string, args: Record<string, unknown>) => void,
): Card {
  const args = { consultation_id: id };
  const kind = h("span", { class: "cw-offer-title", "data-testid": "offer-kind", "data-kind": "consultation" });
  const from = h("strong", { "data-testid": "offer-from" });
  const about = h("span", { class: "cw-ws-muted", "data-testid": "consult-about" });
  const state = h("span", { class: "cw-ws-consult-state", "data-testid": "consult-state" });
  const countdown = h("span", { class: "cw-offer-countdown", "data-testid": "offer-countdown", role: "timer", hidden: true });
  const hidden = h("span", { class: "cw-ws-muted" });
  const answer = h("button", { class: "cw-btn cw-primary", type: "button", "data-testid": "consult-answer" });
  const decline = h("button", { class: "cw-btn", type: "button", "data-testid": "consult-decline" });
  const hangUp = h("button", { class: "cw-btn", type: "button", "data-testid": "consult-hang-up" });
  const close = h("button", { class: "cw-btn", type: "button", "data-testid": "consult-close" });
  const messages = h("div", { class: "cw-ws-im-messages", "data-testid": "consult-messages", role: "log", "aria-live": "polite" });
  const input = h("input", { class: "cw-url-input", type: "text", "data-testid": "consult-composer" });
  const send = h("button", { class: "cw-btn cw-primary", type: "button", "data-testid": "consult-send" });
  const composer = h("div", { class: "cw-url-row", "data-testid": "consult-reply" }, input, send);
  const el = h(
    "div",
    { class: "cw-ws-consult-card", "data-testid": "incoming-consultation", "data-consultation-id": id, role: "group" },
    h("div", { class: "cw-offer-line" }, kind, from, about, state, countdown),
    hidden,
    messages,
    composer,
    h("div", { class: "cw-offer-buttons" }, answer, decline, hangUp, close),
  );

  function submit(): void {
    const text = input.value.trim();
    if (!text) return;
    act("incoming_reply", { ...args, text });
    input.value = "";
  }
  answer.addEventListener("click", () => act("incoming_answer", args));
  decline.addEventListener("click", () => act("incoming_decline", args));
  hangUp.addEventListener("click", () => act("incoming_hang_up", args));
  close.addEventListener("click", () => act("incoming_dismiss", args));
  send.addEventListener("click", submit);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      submit();
    }
  });

  let current: IncomingConsultationView | null = null;

  function tick(nowMs: number): void {
    if (!current) return;
    const text = consultCountdown(current, nowMs);
    setHidden(countdown, text === "");
    setText(countdown, text);
    setAttr(countdown, "aria-label", `${labels().offerCountdown}: ${text}`);
  }

  function update(c: IncomingConsultationView): void {
    const wasWaiting = current !== null && WAITING.has(current.state);
    current = c;
    const L = labels();
    const waiting = WAITING.has(c.state);
    const active = c.state === "active" || c.state === "on_hold";
    setAttr(el, "data-state", c.state);
    setAttr(el, "data-medium", c.medium);
    setAttr(el, "aria-label", `${L.consultIncoming}: ${c.from_name}`);
    setText(kind, `${c.medium === "voice" ? L.consultCall : L.consultation}: `);
    setText(from, c.from_name);
    setText(about, c.contact_name ? `${L.consultAbout} ${c.contact_name}` : "");
    setText(state, L[STATE[c.state]]);
    setText(hidden, L.consultHidden);
    setText(answer, L.consultAnswer);
    setText(decline, L.consultDecline);
    setText(hangUp, L.consultHangUp);
    setText(close, L.consultClose);
    setText(send, L.consultSend);
    setHidden(answer, !waiting);
    setHidden(decline, !waiting);
    setHidden(hangUp, !active);
    setHidden(close, !OVER.has(c.state));
    // replies by chat while connected; a voice consultation has only the call
    const chat = c.medium === "chat";
    setHidden(composer, !(chat && active));
    setHidden(messages, !chat || c.messages.length === 0);
    input.placeholder = L.consultReplyComposer;
    input.setAttribute("aria-label", `${L.consultReplyComposer}: ${c.from_name}`);
    setProp(input, "disabled", !active);
    const key = c.messages.map((m) => `${m.t}:${m.mine ? 1 : 0}`).join(",");
    if (messages.dataset.key !== key) {
      messages.dataset.key = key;
      messages.replaceChildren(
        ...c.messages.map((m) =>
          h(
            "div",
            { class: `cw-entry ${m.mine ? "cw-from-agent" : "cw-from-contact"}`, "data-testid": "consult-message", "data-from": m.mine ? "me" : "them" },
            h("span", { class: "cw-meta" }, h("time", { datetime: isoTime(m.t) }, formatClockTime(m.t)), " ", h("span", { class: "cw-sender" }, m.mine ? L.you : m.from)),
            h("span", { class: "cw-text" }, m.text),
          ),
        ),
      );
      messages.scrollTop = messages.scrollHeight;
    }
    if (wasWaiting && active && chat) input.focus(); // just answered: the reply goes here
  }

  return { el, update, tick };
}
