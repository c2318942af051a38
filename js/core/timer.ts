import type { ViewState } from "./types";

export type TimerColour = "idle" | "green" | "yellow" | "red";

/** Reply-reminder colour at clock time `nowMs`: the same rule as model/reply_timer.py. */
export function timerColour(state: ViewState, nowMs: number): TimerColour {
  const since = state.pending_since_ms;
  const th = state.thresholds_ms;
  if (since === null || since === undefined || !th) return "idle";
  const elapsed = nowMs - since;
  if (elapsed < th.yellow) return "green";
  if (elapsed < th.red) return "yellow";
  return "red";
}

/** Clock ms at which the colour next changes, or null if it never will by itself. */
export function nextColourChange(state: ViewState, nowMs: number): number | null {
  const since = state.pending_since_ms;
  const th = state.thresholds_ms;
  if (since === null || since === undefined || !th) return null;
  for (const edge of [since + th.yellow, since + th.red]) if (edge > nowMs) return edge;
  return null;
}

/** "m:ss" (or "h:mm:ss") of a duration in ms. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** "HH:MM:SS" in UTC of a clock time in ms (clock times are UTC-based). */
export function formatClockTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
