/** Shapes synced from Python (src/chat_widget/widget/supervisor.py team_view_state). */
import type { ClockState } from "../core/types";

export type Mode = "silent" | "coach" | "barge_in";

export interface FlagView {
  agent: string;
  text: string | null;
  raised_at_ms: number;
}

export interface ChatRow {
  id: string;
  contact: string;
  state: "queued" | "active" | "ended" | string;
  agent_id: string | null;
  agent_name: string | null;
  members: string[];
  created_ms: number;
  accepted_at_ms: number | null;
  pending_since_ms: number | null;
  flag: FlagView | null;
  my_mode: Mode | null;
  monitors: Record<string, Mode>;
  entries: number;
}

export interface AgentView {
  id: string;
  name: string;
  presence: string;
  chats: number;
  watch_next: boolean;
}

export interface TeamView {
  me?: { id: string; name: string };
  connection?: string;
  announce_monitoring?: boolean;
  thresholds_ms?: { yellow: number; red: number };
  agents?: AgentView[];
  chats?: ChatRow[];
  queue?: string[];
  flags?: string[];
}

export interface SupervisorModel {
  team: TeamView;
  clock: ClockState;
  locale: string;
  virtual_clock: boolean;
  error: string;
  error_code?: string;
  open_chat: string;
}

/** Send an action to Python (`sync.act`). */
export type Act = (name: string, args?: Record<string, unknown>) => void;
