import { h, setText } from "./dom";
import type { Ctx, Part } from "./context";
import { isHttpUrl } from "./linkify";
import { UrlHistoryNav } from "./urlHistoryNav";

export interface UrlEditorPart extends Part {
  focus(): void;
}

/** F15–F17: URL field, check link, Send, and the history menu of sent URLs. */
export function mountUrlEditor(ctx: Ctx): UrlEditorPart {
  const input = h("input", { class: "cw-url-input", "data-testid": "url-input", type: "url", spellcheck: "false" });
  const check = h("a", {
    class: "cw-btn cw-icon",
    "data-testid": "url-check",
    target: "_blank",
    rel: "noopener noreferrer",
    role: "button",
  }, "🔗");
  const historyToggle = h("button", {
    class: "cw-btn cw-icon",
    "data-testid": "url-history-toggle",
    type: "button",
    "aria-haspopup": "listbox",
    "aria-expanded": "false",
  }, "▾");
  const send = h("button", { class: "cw-btn cw-primary", "data-testid": "url-send", type: "button" });
  const menu = h("ul", { class: "cw-url-history", role: "listbox", "data-testid": "url-history", hidden: true });
  const error = h("div", { class: "cw-url-error", "data-testid": "url-error", role: "alert", hidden: true });
  const nav = new UrlHistoryNav([]);

  function showError(msg: string): void {
    error.hidden = msg === "";
    setText(error, msg);
  }

  function push(raw: string): void {
    const url = raw.trim();
    if (!isHttpUrl(url) || /[\s\u0000-\u001f]/.test(url)) {
      showError(ctx.labels().urlInvalid);
      input.setAttribute("aria-invalid", "true");
      return;
    }
    showError("");
    input.removeAttribute("aria-invalid");
    ctx.act("push_url", { url });
    input.value = "";
    closeMenu();
  }

  function refreshCheck(): void {
    const url = input.value.trim();
    if (isHttpUrl(url)) {
      check.setAttribute("href", url);
      check.removeAttribute("aria-disabled");
    } else {
      check.removeAttribute("href");
      check.setAttribute("aria-disabled", "true");
    }
  }

  function renderMenu(): void {
    const items = ctx.state().url_history ?? [];
    nav.items = items;
    menu.replaceChildren(
      ...items.map((url, i) => {
        const li = h("li", {
          role: "option",
          class: "cw-url-item",
          "data-testid": "url-history-item",
          id: `cw-url-opt-${i}`,
          "aria-selected": i === nav.highlighted ? "true" : "false",
        }, url);
        li.addEventListener("mousedown", (ev) => ev.preventDefault());
        li.addEventListener("click", () => push(url));
        return li;
      }),
    );
  }

  function openMenu(): void {
    nav.highlighted = -1;
    renderMenu();
    menu.hidden = false;
    historyToggle.setAttribute("aria-expanded", "true");
    menu.tabIndex = -1;
    menu.focus();
  }

  function closeMenu(): void {
    menu.hidden = true;
    historyToggle.setAttribute("aria-expanded", "false");
  }

  input.addEventListener("input", () => {
    refreshCheck();
    if (!error.hidden) showError("");
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      push(input.value);
    } else if (ev.key === "ArrowDown" && (ctx.state().url_history ?? []).length > 0) {
      ev.preventDefault();
      openMenu();
      handleMenuKey("ArrowDown");
    }
  });
  check.addEventListener("click", (ev) => {
    if (!isHttpUrl(input.value.trim())) {
      ev.preventDefault();
      showError(ctx.labels().urlInvalid);
    }
  });
  historyToggle.addEventListener("click", () => (menu.hidden ? openMenu() : closeMenu()));
  send.addEventListener("click", () => push(input.value));

  function handleMenuKey(key: string): boolean {
    const r = nav.key(key);
    switch (r.action) {
      case "highlight":
        renderMenu();
        menu.setAttribute("aria-activedescendant", `cw-url-opt-${r.index}`);
        menu.querySelectorAll("li")[r.index]?.scrollIntoView({ block: "nearest" });
        return true;
      case "insert":
        input.value = r.url;
        refreshCheck();
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
  menu.addEventListener("keydown", (ev) => {
    if (handleMenuKey(ev.key)) ev.preventDefault();
  });

  const el = h(
    "div",
    { class: "cw-url-editor", "data-testid": "url-editor", hidden: true },
    h("div", { class: "cw-url-row" }, input, check, historyToggle, send),
    menu,
    error,
  );
  refreshCheck();

  return {
    el,
    focus: () => input.focus(),
    update() {
      const L = ctx.labels();
      input.placeholder = L.urlPlaceholder;
      input.setAttribute("aria-label", L.urlInput);
      check.setAttribute("aria-label", L.urlCheck);
      check.title = L.urlCheck;
      historyToggle.setAttribute("aria-label", L.urlHistory);
      historyToggle.title = L.urlHistory;
      historyToggle.hidden = (ctx.state().url_history ?? []).length === 0;
      menu.setAttribute("aria-label", L.urlHistory);
      setText(send, L.urlSend);
      if (!menu.hidden) renderMenu();
    },
  };
}
