import type { AnyModel } from "@anywidget/types";
import { clockNow } from "./clock";
import { labelsFor, type Labels } from "./labels";
import type { ClockState, ViewState, WidgetModel } from "./types";

/** What every view part needs: one chat's state, labels, clock time, and a way to act.
 *  Independent of the anywidget model so the workspace can show several chats. */
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

/** The context of the single-chat widget (ChatWidget). */
export function makeCtx(model: AnyModel<WidgetModel>): Ctx {
  return {
    state: () => model.get("state") ?? { session_id: null, state: "waiting" },
    labels: () => labelsFor(model.get("locale")),
    clock: () => model.get("clock"),
    virtualClock: () => Boolean(model.get("virtual_clock")),
    now: () => clockNow(model.get("clock"), Date.now()),
    act: (name, args = {}) => model.send({ type: "action", name, args }),
  };
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
