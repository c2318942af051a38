import { h, setAttr, setHidden, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import { icon } from "../core/icons";
import type { Labels } from "../core/labels";

/** Play/Pause button face (SVG icons: the ⏸ glyph is missing from many Linux fonts). */
export function showPlayPause(button: HTMLElement, paused: boolean, L: Labels): void {
  const face = paused ? `play:${L.play}` : `pause:${L.pause}`;
  if (button.dataset.face === face) return;
  button.dataset.face = face;
  button.replaceChildren(icon(paused ? "play" : "pause"), paused ? L.play : L.pause);
}

const SPEEDS = [1, 2, 5, 10];

/** Trainer's strip for the virtual clock: pause / play / speed / +10 s. */
export function mountClockControls(ctx: Ctx): Part {
  const playPause = h("button", { class: "cw-btn", "data-testid": "clock-play-pause", type: "button" });
  const speed = h("select", { class: "cw-select", "data-testid": "clock-speed" },
    ...SPEEDS.map((r) => h("option", { value: String(r) }, `${r}×`)));
  const step = h("button", { class: "cw-btn", "data-testid": "clock-step", type: "button" });
  const title = h("span", { class: "cw-clock-title" });
  playPause.addEventListener("click", () => ctx.act(ctx.clock()?.paused ? "clock_resume" : "clock_pause"));
  speed.addEventListener("change", () => ctx.act("clock_rate", { rate: Number(speed.value) }));
  step.addEventListener("click", () => ctx.act("clock_step", { seconds: 10 }));
  const el = h("div", { class: "cw-clock", "data-testid": "clock-controls", role: "group" }, title, playPause, speed, step);
  return {
    el,
    update() {
      const L = ctx.labels();
      const clock = ctx.clock();
      setHidden(el, !ctx.virtualClock());
      setAttr(el, "aria-label", L.clock);
      setText(title, L.clock);
      showPlayPause(playPause, clock?.paused ?? true, L);
      setAttr(speed, "aria-label", L.speed);
      if (clock) speed.value = String(clock.rate);
      setText(step, L.step10);
    },
  };
}
