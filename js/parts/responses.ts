import { h, setAttr, setHidden, setProp, setText } from "../core/dom";
import type { Ctx } from "../core/context";
import type { Labels } from "../core/labels";
import type { ResponseView } from "../core/types";

/** Standard responses in the composer (issue 16): a list by category with search
 *  (`responses-toggle`, `responses-search`, `response-item`) and `/shortcut` suggestions
 *  while typing. Choosing one inserts its text (filled by Python for this chat and the
 *  view's language) into the composer for editing; nothing is ever sent from here. */

export const SEARCH_DEBOUNCE_MS = 150;

/** Responses whose name, category, shortcut or text contain every word of `query`. */
export function filterResponses(items: readonly ResponseView[], query: string): ResponseView[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return items.filter((r) => {
    const hay = `${r.name} ${r.category} ${r.shortcut} ${r.text}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Responses whose shortcut starts with `prefix` (any case), the exact match first. */
export function matchShortcut(items: readonly ResponseView[], prefix: string): ResponseView[] {
  const p = prefix.toLowerCase();
  const found = items.filter((r) => r.shortcut && r.shortcut.toLowerCase().startsWith(p));
  return [...found.filter((r) => r.shortcut.toLowerCase() === p), ...found.filter((r) => r.shortcut.toLowerCase() !== p)];
}

/** The `/word` the caret is at the end of (at the start or after a space), or null. */
export function shortcutAt(value: string, caret: number): { start: number; prefix: string } | null {
  const m = /(^|\s)\/([A-Za-z0-9_-]*)$/.exec(value.slice(0, caret));
  if (!m) return null;
  return { start: caret - m[2]!.length - 1, prefix: m[2]! };
}

/** Items grouped by category, categories in the order they first appear. */
export function byCategory(items: readonly ResponseView[]): [string, ResponseView[]][] {
  const groups = new Map<string, ResponseView[]>();
  for (const r of items) {
    const list = groups.get(r.category) ?? [];
    list.push(r);
    groups.set(r.category, list);
  }
  return [...groups];
}

/** Up/Down move the highlight (wrapping); the composer asks which item is highlighted. */
export class Highlight {
  index = -1;
  move(delta: 1 | -1, n: number): number {
    if (n === 0) return (this.index = -1);
    this.index = this.index < 0 ? (delta > 0 ? 0 : n - 1) : (this.index + delta + n) % n;
    return this.index;
  }
}

let listIds = 0;

/** One listbox of `response-item` options (the popup's and the suggestions' share it). */
class OptionList {
  readonly el: HTMLElement;
  items: ResponseView[] = [];
  readonly highlight = new Highlight();
  private options: HTMLElement[] = [];

  constructor(
    private readonly testid: string,
    private readonly grouped: boolean,
    private readonly choose: (r: ResponseView) => void,
  ) {
    this.el = h("div", { class: "cw-resp-options", role: "listbox", id: `cw-resp-${testid}-${++listIds}`, "data-testid": testid });
    // options are chosen by click; keep the focus where the keyboard user is (the input)
    this.el.addEventListener("mousedown", (ev) => ev.preventDefault());
  }

  show(items: ResponseView[], L: Labels): void {
    this.items = items;
    this.highlight.index = -1;
    this.options = [];
    const rows: HTMLElement[] = [];
    const option = (r: ResponseView): HTMLElement => {
      const el = h(
        "div",
        { class: "cw-resp-item", role: "option", id: `${this.el.id}-${this.options.length}`, "aria-selected": "false", "data-testid": "response-item", "data-response-id": r.id },
        h("span", { class: "cw-resp-name" }, r.name),
        r.shortcut ? h("span", { class: "cw-resp-shortcut" }, `/${r.shortcut}`) : null,
        h("span", { class: "cw-resp-text" }, r.text),
      );
      el.addEventListener("click", () => this.choose(r));
      this.options.push(el);
      return el;
    };
    if (this.grouped) {
      for (const [category, list] of byCategory(items)) {
        const head = h("div", { class: "cw-resp-category", role: "presentation" }, category || L.responsesUncategorised);
        const group = h("div", { role: "group", "aria-label": category || L.responsesUncategorised, "data-testid": "responses-category" }, head);
        for (const r of list) group.append(option(r));
        rows.push(group);
      }
    } else {
      for (const r of items) rows.push(option(r));
    }
    if (items.length === 0) rows.push(h("div", { class: "cw-resp-empty", role: "presentation" }, L.responsesNone));
    this.el.replaceChildren(...rows);
  }

  /** Move the highlight; returns the highlighted option's id (for aria-activedescendant). */
  move(delta: 1 | -1): string {
    const i = this.highlight.move(delta, this.items.length);
    this.options.forEach((o, n) => setAttr(o, "aria-selected", String(n === i)));
    const el = this.options[i];
    el?.scrollIntoView?.({ block: "nearest" });
    return el?.id ?? "";
  }

  /** The highlighted response, else the first (Enter on a search picks the best match). */
  current(): ResponseView | undefined {
    return this.items[this.highlight.index] ?? this.items[0];
  }
}

export interface ResponsesPart {
  /** The button that opens the list (`responses-toggle`). */
  toggle: HTMLButtonElement;
  /** The list popup (search + items by category) and the inline suggestions. */
  popup: HTMLElement;
  suggestions: HTMLElement;
  /** The composer's text changed (typing): offers `/shortcut` matches. */
  input(): void;
  /** A key in the composer: true if the suggestions used it (do not send). */
  keydown(ev: KeyboardEvent): boolean;
  close(): void;
  update(): void;
  destroy(): void;
}

/** `insert(text, id, from, to)`: put `text` into the composer in place of `from..to`. */
export function mountResponses(
  ctx: Ctx,
  textarea: HTMLTextAreaElement,
  insert: (text: string, id: string, from: number, to: number) => void,
): ResponsesPart {
  const items = (): ResponseView[] => ctx.state().responses ?? [];
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  let slash: { start: number; prefix: string } | null = null;
  let dismissedAt: string | null = null; // Escape hides suggestions until the text changes

  const list = new OptionList("responses-list", true, (r) => chooseFromList(r));
  const suggest = new OptionList("responses-suggestions", false, (r) => chooseSuggestion(r));
  const search = h("input", { class: "cw-url-input cw-resp-search", type: "search", role: "combobox", "aria-expanded": "true", "aria-autocomplete": "list", "aria-controls": list.el.id, "data-testid": "responses-search", autocomplete: "off" });
  const popup = h("div", { class: "cw-resp-popup", role: "dialog", id: `cw-resp-popup-${++listIds}`, "data-testid": "responses-popup" }, search, list.el);
  setHidden(popup, true);
  const toggle = h("button", { class: "cw-btn cw-resp-toggle", type: "button", "aria-expanded": "false", "aria-controls": popup.id, "aria-haspopup": "dialog", "data-testid": "responses-toggle" });
  const suggestions = h("div", { class: "cw-resp-suggest" }, suggest.el);
  setHidden(suggestions, true);
  setAttr(textarea, "aria-autocomplete", "list");
  setAttr(textarea, "aria-controls", suggest.el.id);

  function open(): void {
    hideSuggestions();
    setHidden(popup, false);
    setAttr(toggle, "aria-expanded", "true");
    toggle.classList.add("cw-open");
    setProp(search, "value", "");
    list.show(items(), ctx.labels());
    search.removeAttribute("aria-activedescendant");
    search.focus();
  }

  function close(): void {
    clearTimeout(searchTimer);
    setHidden(popup, true);
    setAttr(toggle, "aria-expanded", "false");
    toggle.classList.remove("cw-open");
  }

  function chooseFromList(r: ResponseView): void {
    close();
    const from = textarea.selectionStart ?? textarea.value.length;
    const to = textarea.selectionEnd ?? from;
    insert(r.text, r.id, from, to);
  }

  function chooseSuggestion(r: ResponseView): void {
    const at = slash;
    hideSuggestions();
    if (at) insert(r.text, r.id, at.start, at.start + 1 + at.prefix.length);
  }

  function hideSuggestions(): void {
    slash = null;
    setHidden(suggestions, true);
    textarea.removeAttribute("aria-activedescendant");
  }

  function runSearch(): void {
    list.show(filterResponses(items(), search.value), ctx.labels());
    search.removeAttribute("aria-activedescendant");
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, SEARCH_DEBOUNCE_MS);
  });
  search.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (searchTimer !== undefined) {
        clearTimeout(searchTimer);
        searchTimer = undefined;
        if (filterResponses(items(), search.value).length !== list.items.length) runSearch();
      }
      setAttr(search, "aria-activedescendant", list.move(ev.key === "ArrowDown" ? 1 : -1));
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      clearTimeout(searchTimer);
      if (list.highlight.index < 0) runSearch(); // typed, then Enter at once: the best match
      const r = list.current();
      if (r) chooseFromList(r);
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      close();
      toggle.focus();
    }
  });
  popup.addEventListener("focusout", (ev) => {
    const to = ev.relatedTarget as Node | null;
    if (to && !popup.contains(to) && to !== toggle) close();
  });
  toggle.addEventListener("click", () => (popup.hidden ? open() : close()));

  return {
    toggle,
    popup,
    suggestions,
    input() {
      const value = textarea.value;
      const at = items().length ? shortcutAt(value, textarea.selectionStart ?? value.length) : null;
      if (dismissedAt !== null && dismissedAt !== value) dismissedAt = null;
      const found = at && dismissedAt === null ? matchShortcut(items(), at.prefix) : [];
      if (!at || found.length === 0) {
        hideSuggestions();
        return;
      }
      slash = at;
      suggest.show(found, ctx.labels());
      setHidden(suggestions, false);
      // no aria-expanded: a textarea (role textbox) may not carry it (axe, ARIA in HTML);
      // the listbox it controls (aria-controls) says what is shown
      textarea.removeAttribute("aria-activedescendant");
    },
    keydown(ev) {
      if (suggestions.hidden || ev.isComposing) return false;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        setAttr(textarea, "aria-activedescendant", suggest.move(ev.key === "ArrowDown" ? 1 : -1));
      } else if ((ev.key === "Enter" && !ev.shiftKey) || ev.key === "Tab") {
        if (ev.key === "Tab" && suggest.highlight.index < 0) return false; // Tab moves on
        const r = suggest.current();
        if (!r) return false;
        chooseSuggestion(r);
      } else if (ev.key === "Escape") {
        dismissedAt = textarea.value;
        hideSuggestions();
      } else {
        return false;
      }
      ev.preventDefault();
      ev.stopPropagation();
      return true;
    },
    close() {
      close();
      hideSuggestions();
    },
    update() {
      const L = ctx.labels();
      const s = ctx.state();
      const has = items().length > 0;
      const active = s.state === "accepted";
      setHidden(toggle, !has);
      setProp(toggle, "disabled", !active);
      setText(toggle, L.responsesToggle);
      setAttr(toggle, "title", L.responsesToggleHint);
      setAttr(popup, "aria-label", L.responsesList);
      setAttr(list.el, "aria-label", L.responsesList);
      setAttr(suggest.el, "aria-label", L.responsesSuggestions);
      setProp(search, "placeholder", L.responsesSearch);
      setAttr(search, "aria-label", L.responsesSearch);
      if (!has || !active) {
        close();
        hideSuggestions();
      }
    },
    destroy() {
      clearTimeout(searchTimer);
    },
  };
}
