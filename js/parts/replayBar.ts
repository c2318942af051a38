import { replaySliderKey } from "../core/a11y";
import { showPlayPause } from "./clockControls";
import type { Ctx, Part } from "../core/context";
import { h, setText } from "../core/dom";
import { formatClockTime } from "../core/timer";

/** What Python sends for a replay (chat_widget.replay.ReplayBackend.view_state). */
export interface ReplayView {
  conversation_id: string;
  session_id: string | null;
  start_ms: number;
  end_ms: number;
  marks: { t_ms: number; kind: string }[];
  rates: number[];
}

/** Slider position: clock time clamped to the conversation. */
export function replayPosition(replay: ReplayView, nowMs: number): number {
  return Math.min(Math.max(nowMs, replay.start_ms), replay.end_ms);
}

/** Replay strip (issue 7): timeline slider, play/pause, speed. Seeking goes to Python,
 *  which rebuilds the chat as it was; the view then shows that chat's colours itself. */
export function mountReplayBar(ctx: Ctx, replay: () => ReplayView | null): Part {
  const play = h("button", { class: "cw-btn", "data-testid": "replay-play", type: "button" });
  const rate = h("select", { class: "cw-select", "data-testid": "replay-rate" });
  const slider = h("input", { class: "cw-replay-slider", "data-testid": "replay-slider", type: "range", step: "1000" });
  const time = h("span", { class: "cw-replay-time", "data-testid": "replay-time" });
  const title = h("span", { class: "cw-clock-title" });
  let dragging = false;

  play.addEventListener("click", () => {
    const paused = ctx.clock()?.paused ?? true;
    ctx.act(paused ? "replay_play" : "replay_pause");
  });
  rate.addEventListener("change", () => ctx.act("replay_rate", { rate: Number(rate.value) }));
  slider.addEventListener("input", () => {
    dragging = true;
    setText(time, formatClockTime(Number(slider.value)));
  });
  slider.addEventListener("change", () => {
    dragging = false;
    ctx.act("replay_seek", { t_ms: Number(slider.value) });
  });
  slider.addEventListener("keydown", (ev) => {
    const r = replay();
    if (!r) return;
    const next = replaySliderKey(ev, Number(slider.value), Number(slider.min), Number(slider.max));
    if (next === null) return;
    ev.preventDefault();
    ev.stopPropagation();
    slider.value = String(next);
    const text = formatClockTime(next);
    setText(time, text);
    slider.setAttribute("aria-valuetext", text);
    ctx.act("replay_seek", { t_ms: next });
  });

  const el = h("div", { class: "cw-clock cw-replay", "data-testid": "replay-bar", role: "group" }, title, play, rate, slider, time);

  function tick(): void {
    const r = replay();
    if (!r || dragging) return;
    const pos = replayPosition(r, ctx.now());
    const value = String(Math.round(pos));
    if (slider.value !== value) slider.value = value;
    const text = formatClockTime(pos);
    setText(time, text);
    slider.setAttribute("aria-valuetext", text);
  }

  return {
    el,
    tick,
    update() {
      const r = replay();
      const L = ctx.labels();
      el.hidden = !r;
      if (!r) return;
      setText(title, L.replay);
      el.setAttribute("aria-label", L.replay);
      slider.min = String(Math.floor(r.start_ms));
      slider.max = String(Math.ceil(r.end_ms));
      slider.setAttribute("aria-label", L.replayPosition);
      const paused = ctx.clock()?.paused ?? true;
      showPlayPause(play, paused, L);
      const wanted = r.rates.map(String);
      if ([...rate.options].map((o) => o.value).join() !== wanted.join()) {
        rate.replaceChildren(...r.rates.map((x) => h("option", { value: String(x) }, `${x}×`)));
      }
      rate.value = String(ctx.clock()?.rate ?? 1);
      rate.setAttribute("aria-label", L.speed);
      tick();
    },
  };
}
