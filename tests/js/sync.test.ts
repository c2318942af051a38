import type { AnyModel } from "@anywidget/types";
import { describe, expect, it } from "vitest";
import { connectSync, type DeltaTarget } from "../../js/core/sync";
import { TranscriptStore } from "../../js/core/transcriptStore";
import type { EntryView, ViewState } from "../../js/core/types";

type Listener = (...args: unknown[]) => void;

/** Just enough of an anywidget model: attributes, events, and what the view sent. */
function fakeModel(attrs: Record<string, unknown> = {}) {
  const listeners = new Map<string, Listener[]>();
  const sent: Record<string, unknown>[] = [];
  const changes: string[] = [];
  const model = {
    get: (key: string) => attrs[key],
    set: (key: string, value: unknown) => {
      attrs[key] = value;
      changes.push(key);
      for (const f of listeners.get(`change:${key}`) ?? []) f();
    },
    on: (ev: string, f: Listener) => listeners.set(ev, [...(listeners.get(ev) ?? []), f]),
    off: (ev: string, f: Listener) => listeners.set(ev, (listeners.get(ev) ?? []).filter((g) => g !== f)),
    send: (msg: Record<string, unknown>) => sent.push(msg),
  };
  const fromPython = (msg: unknown) => {
    for (const f of listeners.get("msg:custom") ?? []) f(msg);
  };
  return { model: model as unknown as AnyModel<{ locale: string; clock: never; virtual_clock: boolean }>, sent, changes, fromPython };
}

const entry = (i: number): EntryView => ({ i, t: i * 1000, k: "message", r: "contact", n: "Maria", x: `m${i}`, u: null, v: "all" });
const entries = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => entry(from + k));

function storeTarget(store: TranscriptStore): DeltaTarget {
  return { applyDelta: (first, batch) => store.apply(first, batch).gapFrom };
}

describe("connectSync: the {first_index, entries} protocol (SPEC 9)", () => {
  it("applies deltas in order and asks for a snapshot from the index it has on a gap", () => {
    const { model, sent, fromPython } = fakeModel();
    const store = new TranscriptStore();
    connectSync(model, () => storeTarget(store));
    fromPython({ type: "entries", first_index: 0, entries: entries(0, 3) });
    fromPython({ type: "entries", first_index: 2, entries: entries(2, 4) }); // overlap: idempotent
    expect(store.entries.map((e) => e.i)).toEqual([0, 1, 2, 3]);
    expect(sent).toEqual([]);
    fromPython({ type: "entries", first_index: 7, entries: entries(7, 8) }); // 4..6 were lost
    expect(sent).toEqual([{ type: "snapshot", from_index: 4 }]);
    expect(store.length).toBe(4);
  });

  it("routes a workspace delta to its chat and names the chat in the snapshot request", () => {
    const { model, sent, fromPython } = fakeModel();
    const stores = new Map([["chat-2", new TranscriptStore()]]);
    connectSync(model, (sid) => {
      const store = sid === null ? undefined : stores.get(sid);
      return store && storeTarget(store);
    });
    fromPython({ type: "entries", session_id: "chat-9", first_index: 5, entries: entries(5, 6) }); // no pane yet
    fromPython({ type: "entries", session_id: "chat-2", first_index: 2, entries: entries(2, 3) });
    expect(sent).toEqual([{ type: "snapshot", session_id: "chat-2", from_index: 0 }]);
  });

  it("a fresh view asks from 0; actions carry the chat they are for", () => {
    const { model, sent } = fakeModel({ locale: "de" });
    const sync = connectSync(model, () => undefined);
    sync.snapshot("chat-1");
    const ctx = sync.ctx(() => ({ session_id: "chat-1", state: "accepted" }), "chat-1");
    ctx.act("send", { text: "Hallo" });
    sync.act("im_read", { colleague_id: "c-lena" });
    expect(ctx.labels().send).not.toBe(undefined);
    expect(sent).toEqual([
      { type: "snapshot", session_id: "chat-1", from_index: 0 },
      { type: "action", session_id: "chat-1", name: "send", args: { text: "Hallo" } },
      { type: "action", name: "im_read", args: { colleague_id: "c-lena" } },
    ]);
  });

  it("a chat message replaces only that chat, once for several views, never one that left", () => {
    const one: ViewState = { session_id: "chat-1", state: "accepted" };
    const two: ViewState = { session_id: "chat-2", state: "offered" };
    const { model, changes, fromPython } = fakeModel({ chats: { "chat-1": one, "chat-2": two } });
    const first = connectSync(model, () => undefined);
    connectSync(model, () => undefined); // a second view of the same model
    const typing = { ...one, contact_typing_until_ms: 5000 };
    fromPython({ type: "chat", session_id: "chat-1", chat: typing });
    expect(model.get("chats" as never)).toEqual({ "chat-1": typing, "chat-2": two });
    expect(changes).toEqual(["chats"]);
    fromPython({ type: "chat", session_id: "chat-3", chat: { session_id: "chat-3", state: "done" } });
    expect(changes).toEqual(["chats"]);
    first.close();
  });
});
