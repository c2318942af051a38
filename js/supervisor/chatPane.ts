import type { Ctx } from "../core/context";
import { h, setAttr, setHidden, setText } from "../core/dom";
import { fillTemplate, type SupervisorLabels } from "../core/labels";
import type { EntryView } from "../core/types";
import { mountTranscript } from "../parts/transcript";
import type { ChatRow } from "./types";

/** Agent-side notices that say "you" to the coached agent, as the supervisor reads them. */
const SUPERVISOR_NOTICES: Record<string, keyof SupervisorLabels> = {
  monitor_coach: "noticeCoach",
  monitor_coach_ended: "noticeCoachEnded",
};

/** The entry as the supervisor reads it: "Tess is coaching you" is the agent's wording. */
export function asSupervisorSees(e: EntryView, S: SupervisorLabels): EntryView {
  const key = e.c ? SUPERVISOR_NOTICES[e.c] : undefined;
  if (key === undefined || e.p?.name === undefined) return e;
  return { ...e, c: undefined, x: fillTemplate(S[key], e.p) };
}

export interface PaneEnv {
  /** The open chat's row, or undefined when none is open (or it went). */
  row(): ChatRow | undefined;
  sl(): SupervisorLabels;
  /** The transcript's context: labels, clock, and actions to Python. */
  ctx: Ctx;
}

/** The open chat: its transcript live (the agent view's component), the supervisor's
 *  buttons (monitor, coach, barge-in, leave, stop, close) and a composer that sends
 *  coaching in coach mode and a message to everyone in barge-in mode. */
export function mountChatPane(env: PaneEnv) {
  const { ctx } = env;
  const transcript = mountTranscript(ctx);
  const title = h("h3", { class: "cw-sup-title", "data-testid": "open-chat-title" });
  const mode = h("span", { class: "cw-sup-mode", "data-testid": "open-chat-mode" });
  const chatId = () => env.row()?.id ?? "";
  const btn = (testid: string, action: string, args: Record<string, unknown> = {}) => {
    const b = h("button", { type: "button", class: "cw-btn", "data-testid": testid });
    b.addEventListener("click", () => ctx.act(action, { chat: chatId(), ...args }));
    return b;
  };
  const buttons = {
    monitor: btn("monitor", "monitor", { mode: "silent" }),
    coach: btn("coach", "coach"),
    bargeIn: btn("barge-in", "barge_in"),
    leave: btn("leave", "leave"),
    stop: btn("stop", "stop"),
    close: btn("close-chat", "close"),
  };
  const bar = h("div", { class: "cw-sup-actions", role: "toolbar" }, ...Object.values(buttons));
  const input = h("textarea", { class: "cw-input", "data-testid": "composer", rows: "2" });
  const send = h("button", { type: "button", class: "cw-btn cw-primary", "data-testid": "send" });
  const composer = h("div", { class: "cw-sup-composer" }, input, send);
  const el = h("section", { class: "cw-sup-pane", "data-testid": "open-chat", role: "region" }, h("div", { class: "cw-sup-pane-head" }, title, mode), bar, transcript.el, composer);

  function submit(): void {
    const text = input.value.trim();
    if (!text || !chatId()) return;
    ctx.act("send", { chat: chatId(), text });
    input.value = "";
  }
  send.addEventListener("click", submit);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      submit();
    }
  });

  let shown = "";
  return {
    el,
    /** Where the open chat's deltas go (gap: the index to ask a snapshot from). */
    applyDelta(firstIndex: number, entries: EntryView[]): number | null {
      const S = env.sl();
      return transcript.applyDelta(firstIndex, entries.map((e) => asSupervisorSees(e, S)));
    },
    /** Another chat (or none) is open: start its transcript afresh. True if it changed. */
    show(id: string): boolean {
      if (id === shown) return false;
      shown = id;
      transcript.reset();
      return true;
    },
    update(): void {
      const row = env.row();
      const S = env.sl();
      setHidden(el, !row);
      if (!row) return;
      const m = row.my_mode;
      setAttr(el, "data-chat", row.id);
      setAttr(el, "data-mode", m ?? "none");
      setAttr(el, "aria-label", fillTemplate(S.transcriptOf, { contact: row.contact, agent: row.agent_name ?? "—" }));
      setText(title, `${row.contact} · ${row.agent_name ?? S.stateQueued}`);
      setText(mode, m === "silent" ? S.modeSilent : m === "coach" ? S.modeCoach : m === "barge_in" ? S.modeBargeIn : S.modeNone);
      const words: Record<keyof typeof buttons, string> = { monitor: S.monitor, coach: S.coach, bargeIn: S.bargeIn, leave: S.leave, stop: S.stop, close: S.close };
      for (const [k, b] of Object.entries(buttons) as [keyof typeof buttons, HTMLButtonElement][]) setText(b, words[k]);
      setAttr(buttons.monitor, "aria-pressed", String(m === "silent"));
      setAttr(buttons.coach, "aria-pressed", String(m === "coach"));
      setAttr(buttons.bargeIn, "aria-pressed", String(m === "barge_in"));
      buttons.leave.disabled = m === null;
      buttons.stop.disabled = m === null;
      const speaking = m === "coach" || m === "barge_in";
      setHidden(composer, !speaking);
      setAttr(composer, "data-mode", m ?? "none");
      const label = m === "barge_in" ? S.composerBargeIn : S.composerCoach;
      setAttr(input, "aria-label", label);
      setAttr(input, "placeholder", label);
      setText(send, S.send);
      transcript.update();
    },
  };
}
