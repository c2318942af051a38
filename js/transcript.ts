import { h } from "./dom";
import type { Ctx, Part } from "./context";
import { splitParts } from "./linkify";
import { formatClockTime } from "./timer";
import { TranscriptStore } from "./transcriptStore";
import type { EntryView } from "./types";

const NEAR_BOTTOM_PX = 40;

export interface TranscriptPart extends Part {
  store: TranscriptStore;
  /** Apply a delta; returns the index to request a snapshot from when there is a gap. */
  applyDelta(firstIndex: number, entries: EntryView[]): number | null;
  reset(): void;
}

/** Render one entry; message text only ever becomes text nodes (SPEC 8). */
export function renderEntry(e: EntryView, ctx: Ctx, onContactDetail?: (kind: "phone" | "email", value: string) => void): HTMLElement {
  const s = ctx.state();
  const L = ctx.labels();
  const who = e.r === "agent" && e.n === s.agent?.name ? `${e.n} (${L.you})` : e.n;
  const body = h("span", { class: "cw-text" });
  const clickable = e.r === "contact" && Boolean(s.clickable_contact_details);
  for (const part of splitParts(e.x, clickable)) {
    if (part.kind === "text") body.append(document.createTextNode(part.text));
    else if (part.kind === "url")
      body.append(h("a", { href: part.href, target: "_blank", rel: "noopener noreferrer" }, part.text));
    else {
      const btn = h("button", { type: "button", class: "cw-detail", "data-testid": `chat-${part.kind}` }, part.text);
      btn.addEventListener("click", () => onContactDetail?.(part.kind as "phone" | "email", part.text));
      body.append(btn);
    }
  }
  if (e.k === "push_url" && e.u) {
    body.append(" ", h("a", { href: e.u, target: "_blank", rel: "noopener noreferrer", class: "cw-pushed", "data-testid": "pushed-url" }, "🔗"));
  }
  return h(
    "div",
    {
      class: `cw-entry cw-${e.k} cw-from-${e.r}`,
      "data-testid": "entry",
      "data-kind": e.k,
      "data-sender-role": e.r,
      "data-index": String(e.i),
      role: "article",
    },
    h("span", { class: "cw-meta" }, h("time", {}, formatClockTime(e.t)), " ", e.k === "notice" ? "" : h("span", { class: "cw-sender" }, who)),
    body,
  );
}

/** F3: the transcript, auto-scrolling unless the user scrolled up to review. */
export function mountTranscript(ctx: Ctx, onContactDetail?: (kind: "phone" | "email", value: string) => void): TranscriptPart {
  const store = new TranscriptStore();
  const list = h("div", { class: "cw-transcript", "data-testid": "transcript", role: "log", tabindex: "0" });
  const live = h("div", { class: "cw-sr-only", "aria-live": "polite", "data-testid": "live-region" });
  const more = h("button", { type: "button", class: "cw-new-messages", "data-testid": "new-messages", hidden: true });
  const el = h("div", { class: "cw-transcript-wrap" }, list, more, live);
  let pinned = true;

  list.addEventListener("scroll", () => {
    pinned = list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
    if (pinned) more.hidden = true;
  });
  more.addEventListener("click", () => {
    list.scrollTop = list.scrollHeight;
    pinned = true;
    more.hidden = true;
  });

  function applyDelta(firstIndex: number, entries: EntryView[]): number | null {
    const { appended, gapFrom } = store.apply(firstIndex, entries);
    if (gapFrom !== null) return gapFrom;
    if (appended.length === 0) return null;
    const frag = document.createDocumentFragment();
    for (const e of appended) frag.append(renderEntry(e, ctx, onContactDetail));
    list.append(frag);
    const last = appended[appended.length - 1]!;
    if (last.v === "all" || last.k !== "consult") live.textContent = `${last.n}: ${last.x}`.slice(0, 300);
    if (pinned) list.scrollTop = list.scrollHeight;
    else more.hidden = false;
    return null;
  }

  return {
    el,
    store,
    applyDelta,
    reset() {
      store.clear();
      list.replaceChildren();
      pinned = true;
      more.hidden = true;
    },
    update() {
      const L = ctx.labels();
      list.setAttribute("aria-label", L.transcript);
      more.textContent = L.newMessages;
      el.hidden = ctx.state().state === "waiting";
    },
  };
}
