import { h, setAttr, setHidden, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import { icon } from "../core/icons";
import { entryText, type Labels } from "../core/labels";
import { splitParts } from "./linkify";
import { mailtoHref } from "./partyMenu";
import { formatClockTime } from "../core/timer";
import { TranscriptStore } from "../core/transcriptStore";
import type { EntryView } from "../core/types";

const NEAR_BOTTOM_PX = 40;
const CHUNK_SIZE = 100;
const raf = (f: () => void): number =>
  typeof requestAnimationFrame === "function" ? requestAnimationFrame(f) : Number(setTimeout(f, 16));

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
  // "(You)" in its own span, so a locale switch can relabel drawn entries
  // in a replay nobody watching is the historic agent
  const mine = e.r === "agent" && e.n === s.agent?.name && !s.replaying;
  const who = mine ? [e.n, h("span", { class: "cw-you" }, ` (${L.you})`)] : [e.n];
  const body = h("span", { class: "cw-text" });
  // F8 setting: the contact's phone numbers / e-mail addresses become actions (when permitted)
  const clickable = e.r === "contact" && Boolean(s.clickable_contact_details);
  const perms = s.permissions ?? { call_contact: true, email_contact: true, push_urls: false };
  for (const part of splitParts(entryText(e, L), clickable)) {
    if (part.kind === "text") body.append(document.createTextNode(part.text));
    else if (part.kind === "url")
      body.append(h("a", { href: part.href, target: "_blank", rel: "noopener noreferrer" }, part.text));
    else if (part.kind === "phone" && perms.call_contact) {
      const btn = h("button", { type: "button", class: "cw-detail", "data-testid": "chat-phone", title: L.callThis }, part.text);
      btn.addEventListener("click", () => onContactDetail?.("phone", part.text));
      body.append(btn);
    } else if (part.kind === "email" && perms.email_contact) {
      const link = h("a", { class: "cw-detail", "data-testid": "chat-email", href: mailtoHref(part.text), title: L.emailThis }, part.text);
      link.addEventListener("click", () => ctx.act("email", { address: part.text })); // the transcript notes it
      body.append(link);
    } else body.append(document.createTextNode(part.text));
  }
  if (e.k === "push_url" && e.u && /^https?:\/\//i.test(e.u)) {
    body.append(" ", h("a", { href: e.u, target: "_blank", rel: "noopener noreferrer", class: "cw-pushed", "data-testid": "pushed-url", "aria-label": L.pushedUrl, title: e.u }, icon("link")));
  }
  const el = h(
    "div",
    {
      class: `cw-entry cw-${e.k} cw-from-${e.r}`,
      "data-testid": "entry",
      "data-kind": e.k,
      "data-sender-role": e.r,
      "data-index": String(e.i),
      "data-code": e.c || undefined,
      role: "article",
    },
    h("span", { class: "cw-meta" }, h("time", { datetime: isoTime(e.t) }, formatClockTime(e.t)), " ", e.k === "notice" ? "" : h("span", { class: "cw-sender" }, ...who), e.k === "coaching" ? coachingLabel(L) : null),
    body,
  );
  if ((s.pending ?? []).includes(e.i)) setPending(el, true, L.sending);
  if ((s.refused ?? []).includes(e.i)) setRefused(el, L.notDelivered);
  return el;
}

/** Issue 14: a coaching entry says it is a whisper between agent and supervisor, never
 *  seen by the contact (the label redraws on a locale switch). */
function coachingLabel(L: Labels): HTMLElement {
  return h("span", { class: "cw-coaching-label", "data-testid": "coaching-label", title: L.coachingHidden }, L.coaching);
}

/** An agent's entry the server refused shows "not delivered" (data-refused="true"). */
export function setRefused(el: HTMLElement, label: string): void {
  el.dataset.refused = "true";
  const mark = el.querySelector<HTMLElement>(":scope > .cw-refused");
  if (mark) setText(mark, label);
  else el.append(h("span", { class: "cw-refused", "data-testid": "entry-refused", role: "status" }, label));
}

/** An agent's entry not yet acknowledged shows "sending…" (data-pending="true"). */
export function setPending(el: HTMLElement, on: boolean, label: string): void {
  const mark = el.querySelector<HTMLElement>(":scope > .cw-pending");
  if (!on) {
    el.removeAttribute("data-pending");
    mark?.remove();
    return;
  }
  el.dataset.pending = "true";
  if (mark) setText(mark, label);
  else el.append(h("span", { class: "cw-pending", "data-testid": "entry-pending" }, label));
}

/** F3: the transcript, auto-scrolling unless the user scrolled up to review. */
export function mountTranscript(ctx: Ctx, onContactDetail?: (kind: "phone" | "email", value: string) => void): TranscriptPart {
  const store = new TranscriptStore();
  const list = h("div", { class: "cw-transcript", "data-testid": "transcript", role: "log", tabindex: "0" });
  const live = h("div", { class: "cw-sr-only", "aria-live": "polite", "data-testid": "live-region" });
  const more = h("button", { type: "button", class: "cw-new-messages", "data-testid": "new-messages", hidden: true });
  const el = h("div", { class: "cw-transcript-wrap" }, list, more, live);
  let pinned = true;
  let youLabel = ctx.labels().you;
  let drawnLabels = ctx.labels();
  let pendingKey = "";
  let detailsKey = "";
  // entries live in chunks of CHUNK_SIZE: appending one re-lays out the last chunk and a
  // few cached chunk boxes, not every entry, so the cost stays flat as the transcript grows
  let chunk: HTMLElement | null = null;
  function appendEntries(nodes: HTMLElement[]): void {
    let i = 0;
    while (i < nodes.length) {
      if (chunk === null || chunk.childElementCount >= CHUNK_SIZE) {
        chunk?.classList.add("cw-chunk-full");
        chunk = h("div", { class: "cw-chunk", role: "presentation" });
        list.append(chunk);
      }
      const room = CHUNK_SIZE - chunk.childElementCount;
      chunk.append(...nodes.slice(i, i + room));
      i += room;
    }
  }
  let unseen = 0;
  const scrollToEnd = (): void => {
    list.scrollTop = list.scrollHeight;
  };
  // at most one scroll (one layout) per frame, however many deltas arrive in it
  let scrollFrame = 0;
  const scrollSoon = (): void => {
    if (scrollFrame !== 0) return;
    scrollFrame = raf(() => {
      scrollFrame = 0;
      if (pinned) scrollToEnd();
    });
  };

  list.addEventListener("scroll", () => {
    pinned = list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
    if (pinned) {
      setHidden(more, true);
      unseen = 0;
    }
  });
  more.addEventListener("click", () => {
    scrollToEnd();
    pinned = true;
    unseen = 0;
    setHidden(more, true);
    list.focus();
  });

  function applyDelta(firstIndex: number, entries: EntryView[]): number | null {
    const { appended, gapFrom } = store.apply(firstIndex, entries);
    if (gapFrom !== null) return gapFrom;
    if (appended.length === 0) return null;
    appendEntries(appended.map((e) => renderEntry(e, ctx, onContactDetail)));
    // the live region announces what others wrote (not our own lines), the latest only
    for (let j = appended.length - 1; j >= 0; j--) {
      const e = appended[j]!;
      if (e.r !== "agent" || e.n !== ctx.state().agent?.name) {
        const text = entryText(e, ctx.labels());
        const said = e.k === "notice" ? text : `${e.n}: ${text}`;
        live.textContent = (e.k === "coaching" ? `${ctx.labels().coaching} – ${said}` : said).slice(0, 300);
        break;
      }
    }
    if (pinned) scrollSoon();
    else {
      // the user is reviewing older lines: do not yank them down, offer a way back instead
      unseen += appended.length;
      setHidden(more, false);
      more.textContent = `${ctx.labels().newMessages} (${unseen})`;
    }
    return null;
  }

  return {
    el,
    store,
    applyDelta,
    reset() {
      store.clear();
      list.replaceChildren();
      chunk = null;
      pinned = true;
      unseen = 0;
      setHidden(more, true);
    },
    update() {
      const L = ctx.labels();
      if (L.you !== youLabel) {
        youLabel = L.you;
        for (const span of list.querySelectorAll(".cw-you")) setText(span, ` (${L.you})`);
      }
      if (L !== drawnLabels) {
        // notices are stored as a code: a locale switch redraws them in the new language
        drawnLabels = L;
        for (const label of list.querySelectorAll<HTMLElement>(".cw-coaching-label")) {
          setText(label, L.coaching);
          label.title = L.coachingHidden;
        }
        for (const old of list.querySelectorAll<HTMLElement>("[data-code]")) {
          const e = store.entries[Number(old.dataset.index)];
          if (e) old.replaceWith(renderEntry(e, ctx, onContactDetail));
        }
      }
      const s = ctx.state();
      // messages sent while disconnected stay "sending…" until acknowledged
      const pending = s.pending ?? [];
      const refused = s.refused ?? [];
      const pk = `${L.sending}|${pending.join(",")}|${L.notDelivered}|${refused.join(",")}`;
      if (pk !== pendingKey) {
        pendingKey = pk;
        const want = new Set(pending);
        for (const node of list.querySelectorAll<HTMLElement>("[data-pending]"))
          if (!want.has(Number(node.dataset.index))) setPending(node, false, L.sending);
        for (const i of want) {
          const node = list.querySelector<HTMLElement>(`[data-testid=entry][data-index="${i}"]`);
          if (node) setPending(node, true, L.sending);
        }
        for (const i of refused) {
          const node = list.querySelector<HTMLElement>(`[data-testid=entry][data-index="${i}"]`);
          if (node) setRefused(node, L.notDelivered);
        }
      }
      // F8 setting or permissions changed (reconfigure): redraw the contact's entries'
      // phone numbers and e-mail addresses as actions or as plain text
      const perms = s.permissions ?? { call_contact: true, email_contact: true, push_urls: false };
      const dk = JSON.stringify([Boolean(s.clickable_contact_details), perms.call_contact, perms.email_contact]);
      if (dk !== detailsKey) {
        const first = detailsKey === "";
        detailsKey = dk;
        if (!first) {
          for (const node of list.querySelectorAll<HTMLElement>("[data-testid=entry][data-sender-role=contact]")) {
            const entry = store.entries[Number(node.dataset.index)];
            if (entry && entry.i === Number(node.dataset.index)) node.replaceWith(renderEntry(entry, ctx, onContactDetail));
          }
        }
      }
      setAttr(list, "aria-label", L.transcript);
      setText(more, `${L.newMessages} (${unseen})`);
      const wasHidden = el.hidden;
      setHidden(el, ["waiting", "offered", "declined", "ignored"].includes(ctx.state().state));
      if (wasHidden && !el.hidden && pinned) scrollToEnd();
    },
  };
}

/** The entry's clock time as ISO 8601 for ``<time datetime>`` ("" if out of range). */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}
