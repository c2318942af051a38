import { h, setText } from "./dom";
import type { Ctx, Part } from "./context";
import { TypingDebounce } from "./typingDebounce";
import { mountUrlEditor } from "./urlEditor";

/** Text area, Send, and (when permitted) the URL editor under it (F15–F17). */
export function mountComposer(ctx: Ctx): Part {
  const textarea = h("textarea", { class: "cw-input", "data-testid": "composer", rows: "2" });
  const send = h("button", { class: "cw-btn cw-primary", "data-testid": "send", type: "button" });
  const urlToggle = h("button", {
    class: "cw-btn cw-icon",
    "data-testid": "url-editor-toggle",
    type: "button",
    "aria-expanded": "false",
  }, "▾");
  const urlEditor = mountUrlEditor(ctx);
  const typing = new TypingDebounce((t) => ctx.act("typing", { typing: t }));

  function submit(): void {
    const text = textarea.value.trim();
    if (!text || ctx.state().state !== "accepted") return;
    ctx.act("send", { text });
    textarea.value = "";
    typing.reset();
  }

  textarea.addEventListener("input", () => typing.input(textarea.value.trim() === ""));
  textarea.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submit();
    }
  });
  send.addEventListener("click", submit);
  urlToggle.addEventListener("click", () => {
    const open = urlEditor.el.hidden;
    urlEditor.el.hidden = !open;
    urlToggle.setAttribute("aria-expanded", String(open));
    if (open) urlEditor.focus();
  });

  const el = h(
    "div",
    { class: "cw-composer" },
    h("div", { class: "cw-composer-row" }, textarea, h("div", { class: "cw-send-col" }, send, urlToggle)),
    urlEditor.el,
  );

  return {
    el,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      const active = s.state === "accepted";
      el.hidden = !["accepted", "contact_left", "ended"].includes(s.state);
      textarea.disabled = !active;
      send.disabled = !active;
      textarea.placeholder = L.composerPlaceholder;
      textarea.setAttribute("aria-label", L.composer);
      setText(send, L.send);
      const mayPush = Boolean(s.permissions?.push_urls);
      urlToggle.hidden = !mayPush;
      urlToggle.disabled = !active;
      urlToggle.setAttribute("aria-label", L.urlEditorToggle);
      urlToggle.title = L.urlEditorToggle;
      if (!mayPush) urlEditor.el.hidden = true;
      urlEditor.update();
    },
    destroy() {
      typing.reset();
    },
  };
}
