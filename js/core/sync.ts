import type { AnyModel } from "@anywidget/types";
import { clockNow } from "./clock";
import type { Ctx } from "./context";
import { labelsFor } from "./labels";
import type { ClockState, EntryView, ViewState } from "./types";

/** Python ↔ JS sync (SPEC 9), the one place both entry points (widget.ts, workspace.ts)
 *  talk to Python through. Python sends batched `{first_index, entries}` deltas (with a
 *  `session_id` in the workspace) and, in the workspace, one changed chat's state as a
 *  `chat` message; the view sends actions and asks for a snapshot from the index it has
 *  when it sees a gap or shows a chat afresh. */

/** What every widget model carries for its views. */
export interface SyncedModel {
  locale: string;
  clock: ClockState;
  virtual_clock: boolean;
}

/** A transcript delta (`session_id` only in the workspace). */
export interface EntriesMessage {
  type: "entries";
  session_id?: string;
  first_index: number;
  entries: EntryView[];
}

/** One workspace chat's new state (the others did not change). */
export interface ChatMessage {
  type: "chat";
  session_id: string;
  chat: ViewState;
}

/** Where a chat's deltas go: returns the index to ask a snapshot from on a gap, else null. */
export interface DeltaTarget {
  applyDelta(firstIndex: number, entries: EntryView[]): number | null;
}

export interface Sync {
  /** A context on this model: `state` is the chat drawn; actions carry `sessionId` when given. */
  ctx<S extends ViewState>(state: () => S, sessionId?: string | null): Ctx & { state(): S };
  /** Send a view action (`sessionId`: the workspace chat it is for). */
  act(name: string, args?: Record<string, unknown>, sessionId?: string | null): void;
  /** Ask for a chat's transcript from `fromIndex` (a fresh view, another chat, or a gap). */
  snapshot(sessionId: string | null, fromIndex?: number): void;
  /** Stop listening to Python. */
  close(): void;
}

/** Listen to `model`'s custom messages; `target(sessionId)` is the view of that chat
 *  (null: the single chat of ChatWidget), undefined while it has none (it asks for a
 *  snapshot when it gets one). */
export function connectSync<M extends SyncedModel>(
  model: AnyModel<M>,
  target: (sessionId: string | null) => DeltaTarget | undefined,
): Sync {
  const withSession = (sessionId: string | null | undefined) => (sessionId ? { session_id: sessionId } : {});
  const sync: Sync = {
    ctx: (state, sessionId) => ({
      state,
      labels: () => labelsFor(model.get("locale")),
      clock: () => model.get("clock"),
      virtualClock: () => Boolean(model.get("virtual_clock")),
      now: () => clockNow(model.get("clock"), Date.now()),
      act: (name, args = {}) => sync.act(name, args, sessionId),
    }),
    act: (name, args = {}, sessionId = null) => model.send({ type: "action", ...withSession(sessionId), name, args }),
    snapshot: (sessionId, fromIndex = 0) => model.send({ type: "snapshot", ...withSession(sessionId), from_index: fromIndex }),
    close: () => model.off("msg:custom", onMessage),
  };

  function onMessage(msg: unknown): void {
    const m = msg as EntriesMessage | ChatMessage | null;
    if (m?.type === "entries") {
      const sessionId = m.session_id ?? null;
      const gap = target(sessionId)?.applyDelta(m.first_index, m.entries) ?? null;
      if (gap !== null) sync.snapshot(sessionId, gap);
    } else if (m?.type === "chat") {
      patchChat(model as unknown as AnyModel<ChatsModel>, m.session_id, m.chat);
    }
  }

  model.on("msg:custom", onMessage);
  return sync;
}

interface ChatsModel {
  chats: Record<string, ViewState>;
}

/** Put one chat's new state into the model's `chats` (locally: it fires `change:chats`
 *  for every view, and Python already has it). Several views of one model each get
 *  the message: only the first one changes anything. */
function patchChat(model: AnyModel<ChatsModel>, sessionId: string, chat: ViewState): void {
  const chats = model.get("chats") ?? {};
  if (!(sessionId in chats)) return; // it left: the whole `chats` came after this message
  if (JSON.stringify(chats[sessionId]) === JSON.stringify(chat)) return;
  model.set("chats", { ...chats, [sessionId]: chat });
}
