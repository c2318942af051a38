/** Shapes synced from Python (see src/chat_widget/widget/view_state.py and sync.py). */

export interface ClockState {
  clock_ms: number;
  wall_anchor_ms: number;
  rate: number;
  paused: boolean;
}

export interface EntryView {
  i: number; // index
  t: number; // clock ms
  k: "message" | "notice" | "push_url" | "consult" | "coaching";
  r: "contact" | "agent" | "system" | "external" | "supervisor";
  n: string; // sender name
  x: string; // text (always rendered as text)
  u: string | null; // pushed URL
  v: "all" | "agents";
  c?: string; // notice code (language-neutral; js/core/labels.ts NOTICES_*), only when set
  p?: Record<string, string>; // the notice's parameters
}

/** A standard response (issue 16), filled by Python for this chat and the view's language. */
export interface ResponseView {
  id: string;
  name: string;
  category: string;
  shortcut: string;
  text: string;
}

export interface ContactView {
  name: string;
  phones: string[];
  emails: string[];
}

export interface ViewState {
  session_id: string | null;
  state: string;
  contact?: ContactView;
  agent?: { name: string; id: string };
  permissions?: { push_urls: boolean; call_contact: boolean; email_contact: boolean };
  thresholds_ms?: { yellow: number; red: number };
  pending_since_ms?: number | null;
  offered_at_ms?: number | null;
  /** How the chat reaches the agent (SPEC 6 offer-kind) and until when it waits. */
  offer?: {
    kind: "new" | "transfer" | "conference" | "consultation";
    from: string | null;
    note: string | null;
    expires_at_ms: number | null;
  };
  /** Offers on the desk besides the chat shown (ChatWidget follows the agent's chats). */
  others_offered?: number;
  accepted_at_ms?: number | null;
  ended_at_ms?: number | null;
  contact_typing_until_ms?: number | null;
  connection?: string;
  /** The contact left this chat (stays true through End and Done). */
  contact_left?: boolean;
  /** Indices of the agent's entries not yet acknowledged (sent while disconnected). */
  pending?: number[];
  /** indices of the agent's messages the server refused (not delivered) */
  refused?: number[];
  /** A stored transcript is replayed: nobody watching is "(You)". */
  replaying?: boolean;
  disposition?: string | null;
  disposition_codes?: string[];
  disposition_required?: boolean;
  notes?: string[];
  call?: { state: string; number: string | null };
  clickable_contact_details?: boolean;
  url_history?: string[];
  /** Supervision (issue 14): the mode a supervisor monitors in, as far as this agent may
   *  know ("silent", "coach", "barge_in"), and by whom; null when nobody is. */
  monitored?: { mode: "silent" | "coach" | "barge_in"; by: string | null } | null;
  /** The agent's raised help flag, with its optional line; null when down. */
  help_flag?: { text: string | null; raised_at_ms: number } | null;
  /** Standard responses (issue 16) the composer offers, filled for this chat. */
  responses?: ResponseView[];
  /** The contact's earlier chats, newest first (issue 16). */
  history?: HistoryItemView[];
}

/** One earlier chat of the contact; ``entries`` once its transcript was fetched. */
export interface HistoryItemView {
  conversation: string;
  created_ms: number;
  state: string;
  agent: string | null;
  disposition: string | null;
  notes: string[];
  loading: boolean;
  entries: EntryView[] | null;
}

export interface WidgetModel {
  state: ViewState;
  clock: ClockState;
  locale: string;
  virtual_clock: boolean;
  error: string;
  /** The error's code when Python knows it (shown in the locale), else "". */
  error_code?: string;
  /** Non-empty while the widget replays a stored transcript (see replayBar.ts). */
  replay: Record<string, unknown>;
}
