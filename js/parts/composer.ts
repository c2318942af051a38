import { h, setAttr, setHidden, setProp, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import { icon } from "../core/icons";
import { mountResponses } from "./responses";
import { TypingDebounce } from "./typingDebounce";
import { mountUrlEditor } from "./urlEditor";

/** Text area, Send, and (when permitted) the URL editor under it (F15–F17).
 *  Enter sends, Shift+Enter is a new line; our typing goes to the contact (F4).
 *  Standard responses (issue 16, responses.ts) insert their text here to edit; the send
 *  then carries the response's id (forgotten when the text is emptied). */
export function mountComposer(ctx: Ctx): Part {
  const textarea = h("textarea", { class: "cw-input", "data-testid": "composer", rows: "2" });
  const send = h("button", { class: "cw-btn cw-primary", "data-testid": "send", type: "button" });
  const urlEditor = mountUrlEditor(ctx);
  const urlToggle = h("button", {
    class: "cw-btn cw-icon",
    "data-testid": "url-editor-toggle",
    type: "button",
    "aria-expanded": "false",
    "aria-controls": urlEditor.el.id,
  }, icon("down"));
  const typing = new TypingDebounce((t) => ctx.act("typing", { typing: t }));
  let response: string | null = null; // the standard response the text started from

  const responses = mountResponses(ctx, textarea, (text, id, from, to) => {
    const before = textarea.value.slice(0, from);
    const after = textarea.value.slice(to);
    const value = before + text + after;
    textarea.value = value;
    response = id;
    textarea.focus();
    const caret = before.length + text.length;
    textarea.setSelectionRange(caret, caret);
    typing.input(value.trim() === "");
  });

  function submit(): void {
    const text = textarea.value.trim();
    if (!text || ctx.state().state !== "accepted") return;
    ctx.act("send", response ? { text, response } : { text });
    setProp(textarea, "value", "");
    response = null;
    responses.close();
    typing.reset();
  }

  function setEditorOpen(open: boolean): void {
    setHidden(urlEditor.el, !open);
    setAttr(urlToggle, "aria-expanded", String(open));
    urlToggle.classList.toggle("cw-open", open);
  }

  textarea.addEventListener("input", () => {
    typing.input(textarea.value.trim() === "");
    if (textarea.value.trim() === "") response = null;
    responses.input();
  });
  textarea.addEventListener("blur", () => typing.stop());
  textarea.addEventListener("keydown", (ev) => {
    if (responses.keydown(ev)) return;
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submit();
    }
  });
  send.addEventListener("click", submit);
  urlToggle.addEventListener("click", () => {
    const open = urlEditor.el.hidden;
    setEditorOpen(open);
    if (open) urlEditor.focus();
  });
  urlEditor.onClose = () => {
    setEditorOpen(false);
    urlToggle.focus();
  };

  const el = h(
    "div",
    { class: "cw-composer" },
    responses.popup,
    responses.suggestions,
    h("div", { class: "cw-composer-row" }, textarea, h("div", { class: "cw-send-col" }, send, urlToggle, responses.toggle)),
    urlEditor.el,
  );

  return {
    el,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      const active = s.state === "accepted";
      setHidden(el, !["accepted", "contact_left"].includes(s.state));
      setProp(textarea, "disabled", !active);
      setProp(send, "disabled", !active);
      if (!active) {
        typing.reset();
        response = null;
      }
      setProp(textarea, "placeholder", L.composerPlaceholder);
      setAttr(textarea, "aria-label", L.composer);
      setText(send, L.send);
      const mayPush = Boolean(s.permissions?.push_urls);
      setHidden(urlToggle, !mayPush);
      setProp(urlToggle, "disabled", !active);
      setAttr(urlToggle, "aria-label", L.urlEditorToggle);
      setProp(urlToggle, "title", L.urlEditorToggle);
      if (!mayPush || !active) setEditorOpen(false);
      urlEditor.update();
      responses.update();
    },
    destroy() {
      responses.destroy();
      typing.reset();
    },
  };
}
