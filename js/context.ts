import type { AnyModel } from "@anywidget/types";
import { clockNow } from "./clock";
import { labelsFor, type Labels } from "./labels";
import type { ViewState, WidgetModel } from "./types";

/** What every view part needs: current state, labels, clock time, and a way to act. */
export interface Ctx {
  model: AnyModel<WidgetModel>;
  state(): ViewState;
  labels(): Labels;
  /** Current clock time in ms (extrapolated in JS; Python never ticks the view). */
  now(): number;
  act(name: string, args?: Record<string, unknown>): void;
}

export function makeCtx(model: AnyModel<WidgetModel>): Ctx {
  return {
    model,
    state: () => model.get("state") ?? { session_id: null, state: "waiting" },
    labels: () => labelsFor(model.get("locale")),
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
