import type { ClockState } from "./types";

/** Current clock time in ms, extrapolated from the last synced anchor (SPEC 9). */
export function clockNow(clock: ClockState | undefined, wallNowMs: number): number {
  if (!clock || clock.clock_ms === undefined) return 0;
  if (clock.paused) return clock.clock_ms;
  return clock.clock_ms + Math.max(0, wallNowMs - clock.wall_anchor_ms) * clock.rate;
}
