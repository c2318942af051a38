import { h, setAttr, setHidden, setProp, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import { fillTemplate, type LabelKey } from "../core/labels";

/** The agent's side of supervision (issue 14): who monitors, the help flag, answering
 *  the coach. Hooks: `monitored-indicator` (data-mode), `help-flag` (aria-pressed),
 *  `help-flag-form` / `help-flag-note` / `help-flag-send`, `coach-answer` /
 *  `coach-answer-send`. Coaching entries themselves are drawn by the transcript. */
export interface SupervisionPart extends Part {
  /** For the header: the monitored indicator and the help-flag button. */
  indicator: HTMLElement;
  flagButton: HTMLButtonElement;
  /** Under the header: the optional line asked for when the flag goes up. */
  flagForm: HTMLElement;
  /** Above the composer: the answer-the-coach field, while a coach is there. */
  coachBar: HTMLElement;
}

const MODE_LABEL: Record<string, LabelKey> = {
  silent: "monitoredSilent",
  coach: "monitoredCoach",
  barge_in: "monitoredBargeIn",
};
const COACH_MODES = ["coach", "barge_in"];
const FLAG_STATES = ["accepted", "contact_left"];
const COACH_STATES = ["accepted", "contact_left", "ended"];

export function mountSupervision(ctx: Ctx): SupervisionPart {
  const indicator = h("span", { class: "cw-monitored", "data-testid": "monitored-indicator", role: "status", hidden: true });
  const flagButton = h("button", {
    type: "button",
    class: "cw-btn cw-help-flag",
    "data-testid": "help-flag",
    "aria-pressed": "false",
  });
  const note = h("input", { type: "text", class: "cw-input cw-help-note", "data-testid": "help-flag-note", maxlength: "500" });
  const noteLabel = h("label", { class: "cw-help-note-label" });
  const send = h("button", { type: "button", class: "cw-btn cw-primary", "data-testid": "help-flag-send" });
  const cancel = h("button", { type: "button", class: "cw-btn", "data-testid": "help-flag-cancel" });
  note.id = `cw-help-note-${Math.random().toString(36).slice(2, 10)}`;
  noteLabel.htmlFor = note.id;
  const flagForm = h("div", { class: "cw-help-form", "data-testid": "help-flag-form", role: "group", hidden: true }, noteLabel, note, send, cancel);

  const answer = h("textarea", { class: "cw-input cw-coach-input", "data-testid": "coach-answer", rows: "1" });
  const answerSend = h("button", { type: "button", class: "cw-btn cw-coach-send", "data-testid": "coach-answer-send" });
  const answerLabel = h("span", { class: "cw-coach-label" });
  const coachBar = h("div", { class: "cw-coach-bar", "data-testid": "coach-bar", role: "group", hidden: true }, answerLabel, h("div", { class: "cw-composer-row" }, answer, answerSend));

  const raised = (): boolean => Boolean(ctx.state().help_flag);

  function closeForm(focusButton: boolean): void {
    setHidden(flagForm, true);
    setProp(note, "value", "");
    if (focusButton) flagButton.focus();
  }

  function raise(): void {
    if (raised() || !FLAG_STATES.includes(ctx.state().state)) return;
    const text = note.value.trim();
    ctx.act("raise_flag", text ? { text } : {});
    closeForm(true);
  }

  flagButton.addEventListener("click", () => {
    if (raised()) {
      ctx.act("lower_flag");
      return;
    }
    // raising asks for the optional line first
    const open = flagForm.hidden;
    setHidden(flagForm, !open);
    if (open) note.focus();
  });
  note.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      raise();
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      closeForm(true);
    }
  });
  send.addEventListener("click", raise);
  cancel.addEventListener("click", () => closeForm(true));

  function sendAnswer(): void {
    const text = answer.value.trim();
    if (!text || !coached()) return;
    ctx.act("answer_coach", { text });
    setProp(answer, "value", "");
  }
  function coached(): boolean {
    const s = ctx.state();
    return COACH_MODES.includes(s.monitored?.mode ?? "") && COACH_STATES.includes(s.state);
  }
  answer.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      sendAnswer();
    }
  });
  answerSend.addEventListener("click", sendAnswer);

  return {
    el: flagForm,
    indicator,
    flagButton,
    flagForm,
    coachBar,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      const m = s.monitored ?? null;
      const name = m?.by ?? "";
      setHidden(indicator, m === null);
      if (m !== null) {
        setAttr(indicator, "data-mode", m.mode);
        setText(indicator, fillTemplate(L[MODE_LABEL[m.mode] ?? "monitoredSilent"], { name }));
        setProp(indicator, "title", L.monitoredTitle);
      } else indicator.removeAttribute("data-mode");

      const up = raised();
      const canFlag = FLAG_STATES.includes(s.state);
      setHidden(flagButton, !canFlag && !up);
      setAttr(flagButton, "aria-pressed", String(up));
      setProp(flagButton, "disabled", !canFlag && !up);
      setText(flagButton, `⚑ ${up ? L.helpFlagRaised : L.helpFlagRaise}`);
      const title = up ? (s.help_flag?.text ? `${L.helpFlagLower}: ${s.help_flag.text}` : L.helpFlagLower) : L.helpFlagRaise;
      setProp(flagButton, "title", title);
      setAttr(flagButton, "aria-label", up ? L.helpFlagLower : L.helpFlagRaise);
      if (up || !canFlag) setHidden(flagForm, true);
      setText(noteLabel, L.helpFlagNote);
      setText(send, L.helpFlagSend);
      setText(cancel, L.cancel);

      const coach = coached();
      setHidden(coachBar, !coach);
      if (!coach) setProp(answer, "value", "");
      setText(answerLabel, L.coachAnswer);
      setAttr(answer, "aria-label", L.coachAnswer);
      setProp(answer, "placeholder", fillTemplate(L.coachAnswerPlaceholder, { name }));
      setText(answerSend, L.coachAnswerSend);
    },
  };
}
