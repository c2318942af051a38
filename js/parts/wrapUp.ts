import { h, setAttr, setHidden, setProp, setText } from "../core/dom";
import type { Ctx, Part } from "../core/context";
import { dispositionLabel } from "../core/labels";

let wrapUpCount = 0;

/** F9, F10: disposition code, note, End chat, then Mark done; with `disposition_required`
 *  the view refuses Done (and says why) until a code is chosen. */
export function mountWrapUp(ctx: Ctx): Part {
  const hintId = `cw-done-hint-${++wrapUpCount}`;
  const select = h("select", { class: "cw-select", "data-testid": "disposition" });
  const selectText = h("span", {});
  const selectLabel = h("label", { class: "cw-label" }, selectText);
  const note = h("input", { class: "cw-note", "data-testid": "note", type: "text" });
  const addNote = h("button", { class: "cw-btn", "data-testid": "add-note", type: "button" });
  const notes = h("ul", { class: "cw-notes", "data-testid": "notes" });
  const end = h("button", { class: "cw-btn cw-danger", "data-testid": "end", type: "button" });
  const done = h("button", { class: "cw-btn cw-primary", "data-testid": "done", type: "button" });
  const hint = h("span", { class: "cw-hint", "data-testid": "done-hint", role: "alert", id: hintId, hidden: true });
  const banner = h("div", { class: "cw-banner", "data-testid": "chat-status", role: "status", tabindex: "-1" });
  selectLabel.append(select);

  select.addEventListener("change", () => ctx.act("disposition", { code: select.value || null }));
  const submitNote = () => {
    const text = note.value.trim();
    if (!text) return;
    ctx.act("note", { text });
    setProp(note, "value", "");
  };
  addNote.addEventListener("click", submitNote);
  note.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      submitNote();
    }
  });
  end.addEventListener("click", () => ctx.act("end"));
  done.addEventListener("click", () => {
    const s = ctx.state();
    if (s.disposition_required && !s.disposition) {
      // refused in the view (Python refuses too): say why and go where it can be fixed
      setText(hint, ctx.labels().dispositionRequired);
      setHidden(hint, false);
      setAttr(select, "aria-invalid", "true");
      select.focus();
      return;
    }
    ctx.act("done");
  });

  const el = h(
    "div",
    { class: "cw-wrapup" },
    banner,
    h("div", { class: "cw-wrapup-row" }, selectLabel, note, addNote, h("span", { class: "cw-wrapup-actions" }, end, done)),
    hint,
    notes,
  );
  return {
    el,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      const st = s.state;
      setHidden(el, !["accepted", "contact_left", "ended", "done", "declined", "ignored"].includes(st));
      const editable = ["accepted", "contact_left", "ended"].includes(st);
      const codes = s.disposition_codes ?? [];
      const current = s.disposition ?? "";
      const wanted = ["", ...codes];
      const have = [...select.options].map((o) => o.value);
      const texts = wanted.map((c) => (c === "" ? L.noDisposition : dispositionLabel(c, L)));
      if (have.join("\u0000") !== wanted.join("\u0000") || [...select.options].some((o, i) => o.text !== texts[i])) {
        select.replaceChildren(...wanted.map((c, i) => h("option", { value: c }, texts[i])));
      }
      setProp(select, "value", current);
      setProp(select, "disabled", !editable);
      setAttr(select, "aria-label", L.disposition);
      setText(selectText, `${L.disposition} `);
      setProp(note, "placeholder", L.notePlaceholder);
      setAttr(note, "aria-label", L.note);
      setProp(note, "disabled", !editable);
      setProp(addNote, "disabled", !editable);
      setText(addNote, L.addNote);
      const noteTexts = s.notes ?? [];
      if ([...notes.children].map((li) => li.textContent).join("\u0000") !== noteTexts.join("\u0000") || notes.children.length !== noteTexts.length)
        notes.replaceChildren(...noteTexts.map((n) => h("li", {}, n)));
      setText(end, L.end);
      setText(done, L.done);
      setHidden(end, !(st === "accepted" || st === "contact_left"));
      setHidden(done, !(st === "ended" || st === "contact_left"));
      const blocked = Boolean(s.disposition_required) && !s.disposition;
      setAttr(done, "aria-disabled", String(blocked));
      if (blocked) done.setAttribute("aria-describedby", hintId);
      else done.removeAttribute("aria-describedby");
      if (!blocked) select.removeAttribute("aria-invalid");
      // say it before the click, not only after it
      const showHint = blocked && !done.hidden;
      setText(hint, showHint ? L.dispositionRequired : "");
      setHidden(hint, !showHint);
      selectLabel.classList.toggle("cw-required", Boolean(s.disposition_required));
      const bannerText =
        st === "ended" ? L.chatEnded : st === "done" ? L.chatDone : st === "declined" ? L.declined : st === "ignored" ? L.ignored : st === "contact_left" ? L.contactLeft : "";
      setText(banner, bannerText);
      setHidden(banner, bannerText === "");
      setAttr(banner, "data-state", st);
    },
  };
}
