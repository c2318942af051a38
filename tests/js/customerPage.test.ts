// The customer page (src/chat_widget/server/static/customer.js), run as the browser runs
// it: its HTML, the script evaluated as is, a scripted WebSocket. What is checked is
// where the page connects (?servers=, the scheme rule) and what it sends on reconnect.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import html from "../../src/chat_widget/server/static/customer.html?raw";
import script from "../../src/chat_widget/server/static/customer.js?raw";

type Frame = Record<string, unknown>;

class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Frame[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((msg: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;

  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text) as Frame);
  }
  close(): void {
    this.drop(1000);
  }
  // -- the server's side ----------------------------------------------------------
  open(): void {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  receive(frame: Frame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}

const jsdom = (globalThis as unknown as { jsdom: { reconfigure(o: { url: string }): void } }).jsdom;
const socket = (n: number): FakeSocket => {
  const s = FakeSocket.all[n];
  if (!s) throw new Error(`no connection #${n} (only ${FakeSocket.all.length})`);
  return s;
};
const latest = (): FakeSocket => socket(FakeSocket.all.length - 1);
const urls = (): string[] => FakeSocket.all.map((s) => s.url);
const el = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** The page at ``url``, its script run once (as a page load). */
function loadPage(url: string): void {
  jsdom.reconfigure({ url });
  document.documentElement.innerHTML = html.replace(/^[\s\S]*?<html[^>]*>/, "").replace(/<\/html>\s*$/, "");
  new Function(script)();
}

function startChat(): void {
  el<HTMLInputElement>("nickname").value = "Carla";
  el<HTMLFormElement>("start").requestSubmit();
}

function say(text: string): void {
  el<HTMLTextAreaElement>("message").value = text;
  el<HTMLFormElement>("composer").requestSubmit();
}

/** The connection is cut; the page's backoff (at most 15 s) runs out; it connects again. */
function dropAndReconnect(): FakeSocket {
  const before = FakeSocket.all.length;
  latest().drop();
  vi.advanceTimersByTime(15_000);
  expect(FakeSocket.all.length).toBe(before + 1);
  return latest();
}

let warn: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
  vi.stubGlobal("WebSocket", FakeSocket);
  sessionStorage.clear();
  warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
  vi.spyOn(console, "info").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("customer page: where it connects", () => {
  it("connects to its own host by default, every time", () => {
    loadPage("http://shop.example:8765/");
    startChat();
    dropAndReconnect();
    dropAndReconnect();
    expect(urls()).toEqual(Array(3).fill("ws://shop.example:8765/ws"));
    expect(warn).not.toHaveBeenCalled();
  });

  it("?servers= starts on the first and moves to the next on every reconnect", () => {
    loadPage("http://shop.example/?servers=a.example:8001,b.example:8002,10.0.0.3:8003");
    startChat();
    for (let i = 0; i < 4; i++) dropAndReconnect();
    expect(urls()).toEqual([
      "ws://a.example:8001/ws",
      "ws://b.example:8002/ws",
      "ws://10.0.0.3:8003/ws",
      "ws://a.example:8001/ws",
      "ws://b.example:8002/ws",
    ]);
    expect(warn).not.toHaveBeenCalled();
  });

  it("uses wss on an https page, for its own host and for listed servers", () => {
    loadPage("https://shop.example/?servers=a.example:8001,[::1]:8002");
    startChat();
    dropAndReconnect();
    expect(urls()).toEqual(["wss://a.example:8001/ws", "wss://[::1]:8002/ws"]);
    FakeSocket.all = [];
    loadPage("https://shop.example/");
    startChat();
    expect(urls()).toEqual(["wss://shop.example/ws"]);
  });

  it("ignores bad entries with a warning and keeps the good ones", () => {
    const bad = ["http://x.example/", "b.example:99999", "user@c.example:1", "d.example:1/ws", "e .example"];
    const list = ["a.example:8001", ...bad, "", "f.example:8006", ""].join(",");
    loadPage(`http://shop.example/?servers=${encodeURIComponent(list)}`);
    startChat();
    dropAndReconnect();
    dropAndReconnect();
    expect(urls()).toEqual(["ws://a.example:8001/ws", "ws://f.example:8006/ws", "ws://a.example:8001/ws"]);
    const warned = warn.mock.calls.map((call: unknown[]) => String(call[0]));
    expect(warned).toHaveLength(bad.length);
    bad.forEach((entry, i) => expect(warned[i]).toContain(JSON.stringify(entry)));
  });

  it("falls back to its own host when no entry is usable", () => {
    loadPage("http://shop.example:8765/?servers=ftp://x,:80");
    startChat();
    expect(urls()).toEqual(["ws://shop.example:8765/ws"]);
    expect(warn).toHaveBeenCalledTimes(3); // two entries, then the fallback
    expect(String(warn.mock.calls[2]?.[0])).toContain("using shop.example:8765");
  });
});

describe("customer page: moving to another server resumes the chat", () => {
  it("resumes from the last seq and resends what was not acknowledged, same ids", () => {
    loadPage("http://shop.example/?servers=a.example:8001,b.example:8002");
    startChat();
    const a = socket(0);
    a.open();
    const request = a.sent[0] ?? {};
    expect(request).toMatchObject({ type: "RequestChat", nickname: "Carla" });
    a.receive({ v: 1, type: "ChatStarted", id: request.id, conversation: "c1", token: "tok", participantId: "customer" });
    const from = { type: "Client", nickname: "Carla", participantId: "customer" };
    a.receive({ v: 1, type: "ParticipantJoined", conversation: "c1", seq: 1, utcTime: 1, from });
    say("first");
    say("second");
    const sent = a.sent.filter((f) => f.type === "SendMessage");
    expect(sent.map((f) => f.text)).toEqual(["first", "second"]);
    a.receive({ v: 1, type: "Ack", id: sent[0]?.id, conversation: "c1", seq: 2 });
    a.receive({ v: 1, type: "Message", conversation: "c1", seq: 2, utcTime: 2, from, text: "first", clientId: sent[0]?.id });

    const b = dropAndReconnect(); // "second" was never acknowledged
    expect(b.url).toBe("ws://b.example:8002/ws");
    b.open();
    expect(b.sent).toHaveLength(1);
    expect(b.sent[0]).toMatchObject({ type: "ResumeChat", conversation: "c1", token: "tok", lastSeq: 2 });
    b.receive({ v: 1, type: "ChatStarted", id: b.sent[0]?.id, conversation: "c1", token: "tok", participantId: "customer", resumed: true });
    expect(b.sent.slice(1)).toEqual([sent[1]]); // resent as it was: the server stores it once
    b.receive({ v: 1, type: "Ack", id: sent[1]?.id, conversation: "c1", seq: 3 });
    b.receive({ v: 1, type: "Message", conversation: "c1", seq: 3, utcTime: 3, from, text: "second", clientId: sent[1]?.id });
    const shown = [...document.querySelectorAll("#transcript li.message .text")].map((n) => n.textContent);
    expect(shown).toEqual(["first", "second"]);
    expect(document.querySelectorAll("#transcript li.pending")).toHaveLength(0);
    expect(JSON.parse(sessionStorage.getItem("chat-widget-customer") ?? "{}")).toMatchObject({ lastSeq: 3, outbox: [] });

    // an event seen before the move is not shown twice when the next server replays it
    const a2 = dropAndReconnect();
    expect(a2.url).toBe("ws://a.example:8001/ws");
    a2.open();
    expect(a2.sent[0]).toMatchObject({ type: "ResumeChat", lastSeq: 3 });
    a2.receive({ v: 1, type: "ChatStarted", id: a2.sent[0]?.id, conversation: "c1", token: "tok", participantId: "customer", resumed: true });
    a2.receive({ v: 1, type: "Message", conversation: "c1", seq: 3, utcTime: 3, from, text: "second", clientId: sent[1]?.id });
    expect(a2.sent).toHaveLength(1); // nothing left to resend
    expect(document.querySelectorAll("#transcript li.message")).toHaveLength(2);
  });
});
