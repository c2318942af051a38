/** Shapes synced by src/chat_widget/widget/workspace.py (model/collaboration.py, directory.py, team_im.py). */
import type { Ctx } from "../core/context";
import type { ClockState, EntryView, ViewState } from "../core/types";

export interface ParticipantView {
  id: string;
  name: string;
  role: "owner" | "contact" | "conference" | "consultant";
  kind: "agent" | "contact" | "external";
}

export interface ConsultationView {
  id: string;
  target_kind: "agent" | "external";
  target_id: string;
  target_name: string;
  medium: "chat" | "voice";
  state: "requested" | "ringing" | "active" | "on_hold" | "ended" | "declined";
  started_at_ms: number;
  connected_at_ms: number | null;
  ended_at_ms: number | null;
}

export interface CollabView {
  owner: ParticipantView | null;
  participants: ParticipantView[];
  conference: ParticipantView | null;
  invite: { target_id: string; target_name: string; requested_at_ms: number } | null;
  transfer: { target_kind: string; target_id: string; target_name: string; note: string | null; requested_at_ms: number } | null;
  consultation: ConsultationView | null;
}

/** A colleague's consultation of this agent (model/collaboration.py IncomingConsultation.to_dict). */
export interface IncomingConsultationView {
  id: string;
  session_id: string;
  from_id: string;
  from_name: string;
  contact_name: string;
  medium: "chat" | "voice";
  state: "requested" | "ringing" | "active" | "on_hold" | "ended" | "declined";
  messages: { from: string; text: string; t: number; mine: boolean }[];
  offered_at_ms: number | null;
  expires_at_ms: number | null;
  connected_at_ms: number | null;
  ended_at_ms: number | null;
}

export interface WorkspaceChat extends ViewState {
  collab?: CollabView;
}

export interface ColleagueView {
  id: string;
  name: string;
  skills: string[];
  presence: "available" | "busy" | "away" | "offline";
}
export interface QueueView {
  id: string;
  name: string;
  skill: string;
}
export interface ExternalView {
  id: string;
  name: string;
  phone: string;
  organisation: string;
}
export interface DirectoryView {
  agents?: ColleagueView[];
  queues?: QueueView[];
  externals?: ExternalView[];
}

export interface ImMessageView {
  i: number;
  t: number;
  from: string;
  n: string;
  x: string;
}
export interface ImView {
  total_unread?: number;
  threads?: Record<string, { name: string; unread: number; messages: ImMessageView[] }>;
}

export interface WorkspaceModel {
  chats: Record<string, WorkspaceChat>;
  order: string[];
  directory: DirectoryView;
  im: ImView;
  consultations: IncomingConsultationView[];
  agent: { name: string; id: string };
  clock: ClockState;
  locale: string;
  virtual_clock: boolean;
  error: string;
  /** The error's code when Python knows it (shown in the locale), else "". */
  error_code?: string;
}

/** A chat's Ctx inside the workspace: its state carries who is in the chat. */
export interface WsCtx extends Ctx {
  state(): WorkspaceChat;
}
