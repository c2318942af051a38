import { h, setAttr, setHidden, setProp, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import { icon } from "../core/icons";
import type { LabelKey } from "../core/labels";
import { UrlHistoryNav } from "./urlHistoryNav";
import { checkPushUrl, type UrlProblem } from "./urlRules";

export interface UrlEditorPart extends Part {
  focus(): void;
  /** Called when Escape closes the editor (the composer puts focus back on its toggle). */
  onClose?: () => void;
}

const PROBLEM_LABEL: Record<UrlProblem, LabelKey> = {
  empty: "urlEmpty",
  tooLong: "urlTooLong",
  scheme: "urlInvalid",
  malformed: "urlMalformed",
};

let editorCount = 0;

/** F15–F17: URL field, check link (new tab), Send, and the history menu of sent URLs.
 *  Keyboard: in the field Enter pushes, Down opens the history, Escape closes the editor;
 *  in the history Up/Down highlight, Left/Right insert into the field, Enter (or a click)
 *  pushes, Escape closes the history. Invalid URLs are refused here before anything is sent. */
export function mountUrlEditor(ctx: Ctx): UrlEditorPart {
  const uid = `cw-url-${++editorCount}`;
  const input = h("input", {
    class: "cw-url-input",
    "data-testid": "url-input",
    type: "url",
    spellcheck: "false",
    autocomplete: "off",
    "aria-describedby": `${uid}-error`,
  });
  const check = h("a", {
    class: "cw-btn cw-icon",
    "data-testid": "url-check",
    target: "_blank",
    rel: "noopener noreferrer",
    role: "button",
    tabindex: "0",
  }, icon("link"));
  const historyToggle = h("button", {
    class: "cw-btn cw-icon",
    "data-testid": "url-history-toggle",
    type: "button",
    "aria-haspopup": "listbox",
    "aria-expanded": "false",
    "aria-controls": `${uid}-history`,
  }, icon("down"));
  const send = h("button", { class: "cw-btn cw-primary", "data-testid": "url-send", type: "button" });
  const menu = h("ul", {
    class: "cw-url-history",
    role: "listbox",
    "data-testid": "url-history",
    id: `${uid}-history`,
    tabindex: "-1",
    hidden: true,
  });
  const error = h("div", { class: "cw-url-error", "data-testid": "url-error", id: `${uid}-error`, role: "alert", hidden: true });
  const nav = new UrlHistoryNav([]);

  function history(): string[] {
    return ctx.state().url_history ?? [];
  }

  function showError(msg: string): void {
    setHidden(error, msg === "");
    setText(error, msg);
    if (msg) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  /** Push a URL if the rules allow it; otherwise say why and send nothing. */
  function push(raw: string): boolean {
    const checked = checkPushUrl(raw);
    if ("problem" in checked) {
      showError(ctx.labels()[PROBLEM_LABEL[checked.problem]]);
      input.focus();
      return false;
    }
    if (ctx.state().state !== "accepted") return false;
    showError("");
    ctx.act("push_url", { url: checked.url });
    setProp(input, "value", "");
    refreshCheck();
    closeMenu();
    return true;
  }

  function refreshCheck(): void {
    const checked = checkPushUrl(input.value);
    if ("url" in checked) {
      setAttr(check, "href", checked.url);
      check.removeAttribute("aria-disabled");
      setAttr(check, "tabindex", "0");
    } else {
      check.removeAttribute("href");
      setAttr(check, "aria-disabled", "true");
      setAttr(check, "tabindex", "-1"); // nothing to check yet: no tab stop
    }
  }

  function renderMenu(): void {
    const items = history();
    nav.items = items;
    if (nav.highlighted >= items.length) nav.highlighted = items.length - 1;
    menu.replaceChildren(
      ...items.map((url, i) => {
        const li = h("li", {
          role: "option",
          class: "cw-url-item",
          "data-testid": "url-history-item",
          id: `${uid}-opt-${i}`,
          "aria-selected": i === nav.highlighted ? "true" : "false",
        }, url);
        li.addEventListener("mousedown", (ev) => ev.preventDefault());
        li.addEventListener("click", () => {
          push(url);
          input.focus();
        });
        return li;
      }),
    );
    if (nav.highlighted >= 0) menu.setAttribute("aria-activedescendant", `${uid}-opt-${nav.highlighted}`);
    else menu.removeAttribute("aria-activedescendant");
  }

  function openMenu(): void {
    if (history().length === 0) return;
    nav.highlighted = -1;
    renderMenu();
    setHidden(menu, false);
    setAttr(historyToggle, "aria-expanded", "true");
    menu.focus();
  }

  function closeMenu(): void {
    if (menu.hidden) return;
    setHidden(menu, true);
    setAttr(historyToggle, "aria-expanded", "false");
  }

  function handleMenuKey(key: string): boolean {
    const r = nav.key(key);
    switch (r.action) {
      case "highlight":
        renderMenu();
        const li = menu.querySelectorAll("li")[r.index];
        if (li && typeof li.scrollIntoView === "function") li.scrollIntoView({ block: "nearest" });
        return true;
      case "insert":
        setProp(input, "value", r.url);
        refreshCheck();
        showError("");
        closeMenu();
        input.focus();
        return true;
      case "push":
        push(r.url);
        input.focus();
        return true;
      case "close":
        closeMenu();
        input.focus();
        return true;
      default:
        return false;
    }
  }

  input.addEventListener("input", () => {
    refreshCheck();
    if (!error.hidden) showError("");
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.isComposing) return;
    if (ev.key === "Enter") {
      ev.preventDefault();
      push(input.value);
    } else if (ev.key === "ArrowDown" && history().length > 0) {
      ev.preventDefault();
      openMenu();
      handleMenuKey("ArrowDown");
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      part.onClose?.();
    }
  });
  check.addEventListener("click", (ev) => {
    const checked = checkPushUrl(input.value);
    if ("problem" in checked) {
      ev.preventDefault();
      showError(ctx.labels()[PROBLEM_LABEL[checked.problem]]);
    }
  });
  check.addEventListener("keydown", (ev) => {
    if (ev.key === " ") {
      ev.preventDefault();
      check.click();
    }
  });
  historyToggle.addEventListener("click", () => (menu.hidden ? openMenu() : closeMenu()));
  historyToggle.addEventListener("keydown", (ev) => {
    // a menu button: Down/Up open the history at its first/last URL (never the notebook's)
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    ev.preventDefault();
    ev.stopPropagation();
    if (menu.hidden) openMenu();
    handleMenuKey(ev.key);
  });
  send.addEventListener("click", () => push(input.value));
  menu.addEventListener("keydown", (ev) => {
    if (handleMenuKey(ev.key)) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  });
  menu.addEventListener("focusout", (ev) => {
    const to = ev.relatedTarget as Node | null;
    if (to && !menu.contains(to) && to !== historyToggle) closeMenu();
  });

  const el = h(
    "div",
    { class: "cw-url-editor", "data-testid": "url-editor", id: `${uid}-editor`, hidden: true },
    h("div", { class: "cw-url-row" }, input, check, historyToggle, send),
    menu,
    error,
  );
  refreshCheck();

  const part: UrlEditorPart = {
    el,
    focus: () => input.focus(),
    update() {
      const L = ctx.labels();
      const active = ctx.state().state === "accepted";
      setProp(input, "placeholder", L.urlPlaceholder);
      setAttr(input, "aria-label", L.urlInput);
      setProp(input, "disabled", !active);
      setProp(send, "disabled", !active);
      setAttr(check, "aria-label", L.urlCheck);
      setProp(check, "title", L.urlCheck);
      setAttr(historyToggle, "aria-label", L.urlHistory);
      setProp(historyToggle, "title", L.urlHistory);
      setHidden(historyToggle, history().length === 0);
      if (historyToggle.hidden) closeMenu();
      setAttr(menu, "aria-label", L.urlHistory);
      setText(send, L.urlSend);
      if (!menu.hidden) renderMenu();
    },
  };
  return part;
}
