import type { Labels } from "./labels";
import type { ClockState, ViewState } from "./types";

/** What every view part needs: one chat's state, labels, clock time, and a way to act.
 *  Independent of the anywidget model so the workspace can show several chats;
 *  built by `connectSync(...).ctx` (core/sync.ts). */
export interface Ctx {
  state(): ViewState;
  labels(): Labels;
  clock(): ClockState | undefined;
  /** True when trainers may pause/step/speed the clock (mock backends). */
  virtualClock(): boolean;
  /** Current clock time in ms (extrapolated in JS; Python never ticks the view). */
  now(): number;
  act(name: string, args?: Record<string, unknown>): void;
}

/** A mounted part of the view. */
export interface Part {
  el: HTMLElement;
  /** Redraw from the synced state. */
  update(): void;
  /** Redraw what depends on clock time only (runs every animation frame). */
  tick?(): void;
  destroy?(): void;
}
