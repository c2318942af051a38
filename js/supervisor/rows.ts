import { timerColour, type TimerColour } from "../core/timer";
import type { ViewState } from "../core/types";
import type { ChatRow } from "./types";

export type SortBy = "red" | "agent" | "waiting";
export const SORTS: SortBy[] = ["red", "agent", "waiting"];
const URGENCY: Record<TimerColour, number> = { red: 0, yellow: 1, green: 2, idle: 3 };

/** The row's reply-reminder colour at clock time `nowMs` (the agent view's rule). */
export function rowColour(row: ChatRow, th: { yellow: number; red: number } | undefined, nowMs: number): TimerColour {
  if (row.state !== "active") return "idle";
  const state: ViewState = { session_id: row.id, state: "accepted", pending_since_ms: row.pending_since_ms, thresholds_ms: th };
  return timerColour(state, nowMs);
}

const waitStart = (r: ChatRow): number => r.pending_since_ms ?? Number.POSITIVE_INFINITY;

/** Rows in the chosen order: red first (then longest reply wait), by agent, or by waiting. */
export function sortRows(rows: ChatRow[], by: SortBy, th: { yellow: number; red: number } | undefined, nowMs: number): ChatRow[] {
  const byCreated = (a: ChatRow, b: ChatRow) => a.created_ms - b.created_ms || a.id.localeCompare(b.id);
  const byWait = (a: ChatRow, b: ChatRow) => waitStart(a) - waitStart(b) || byCreated(a, b);
  const out = [...rows];
  if (by === "agent") {
    const name = (r: ChatRow) => r.agent_name ?? "\uffff"; // queued chats (no agent) last
    out.sort((a, b) => name(a).localeCompare(name(b)) || byCreated(a, b));
  } else if (by === "waiting") out.sort(byWait);
  else out.sort((a, b) => URGENCY[rowColour(a, th, nowMs)] - URGENCY[rowColour(b, th, nowMs)] || byWait(a, b));
  return out;
}

/** Only `agent`'s chats ("" = everyone's). */
export function filterRows(rows: ChatRow[], agent: string): ChatRow[] {
  return agent ? rows.filter((r) => r.agent_id === agent || r.members.includes(agent)) : rows;
}

/** Clock ms a row's chat has run: since accepted (queued: since created). */
export function chatTime(row: ChatRow, nowMs: number): number {
  return nowMs - (row.accepted_at_ms ?? row.created_ms);
}
