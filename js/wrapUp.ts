import { h, setText } from "./dom";
import type { Ctx, Part } from "./context";

/** F9, F10: disposition code, note, End chat, Mark done. */
export function mountWrapUp(ctx: Ctx): Part {
  const select = h("select", { class: "cw-select", "data-testid": "disposition" });
  const selectText = h("span", {});
  const selectLabel = h("label", { class: "cw-label" }, selectText);
  const note = h("input", { class: "cw-note", "data-testid": "note", type: "text" });
  const addNote = h("button", { class: "cw-btn", "data-testid": "add-note", type: "button" });
  const notes = h("ul", { class: "cw-notes", "data-testid": "notes" });
  const end = h("button", { class: "cw-btn cw-danger", "data-testid": "end", type: "button" });
  const done = h("button", { class: "cw-btn cw-primary", "data-testid": "done", type: "button" });
  const hint = h("span", { class: "cw-hint", "data-testid": "done-hint" });
  const banner = h("div", { class: "cw-banner", "data-testid": "chat-status", role: "status" });
  selectLabel.append(select);

  select.addEventListener("change", () => ctx.act("disposition", { code: select.value || null }));
  const submitNote = () => {
    const text = note.value.trim();
    if (!text) return;
    ctx.act("note", { text });
    note.value = "";
  };
  addNote.addEventListener("click", submitNote);
  note.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      submitNote();
    }
  });
  end.addEventListener("click", () => ctx.act("end"));
  done.addEventListener("click", () => ctx.act("done"));

  const el = h(
    "div",
    { class: "cw-wrapup" },
    banner,
    h("div", { class: "cw-wrapup-row" }, selectLabel, note, addNote, h("span", { class: "cw-spacer" }), end, done),
    hint,
    notes,
  );
  return {
    el,
    update() {
      const s = ctx.state();
      const L = ctx.labels();
      const st = s.state;
      el.hidden = !["accepted", "contact_left", "ended", "done", "declined", "ignored"].includes(st);
      const editable = ["accepted", "contact_left", "ended"].includes(st);
      const codes = s.disposition_codes ?? [];
      const current = s.disposition ?? "";
      const wanted = ["", ...codes];
      const have = [...select.options].map((o) => o.value);
      if (have.join("\u0000") !== wanted.join("\u0000") || select.options[0]?.text !== L.noDisposition) {
        select.replaceChildren(...wanted.map((c) => h("option", { value: c }, c === "" ? L.noDisposition : c)));
      }
      select.value = current;
      select.disabled = !editable;
      select.setAttribute("aria-label", L.disposition);
      setText(selectText, `${L.disposition} `);
      note.placeholder = L.notePlaceholder;
      note.setAttribute("aria-label", L.note);
      note.disabled = !editable;
      addNote.disabled = !editable;
      setText(addNote, L.addNote);
      notes.replaceChildren(...(s.notes ?? []).map((n) => h("li", {}, n)));
      setText(end, L.end);
      setText(done, L.done);
      end.hidden = !(st === "accepted" || st === "contact_left");
      done.hidden = !(st === "ended" || st === "contact_left");
      const blocked = Boolean(s.disposition_required) && !s.disposition;
      done.setAttribute("aria-disabled", String(blocked));
      setText(hint, blocked && !done.hidden ? L.dispositionRequired : "");
      const bannerText =
        st === "ended" ? L.chatEnded : st === "done" ? L.chatDone : st === "declined" ? L.declined : st === "ignored" ? L.ignored : st === "contact_left" ? L.contactLeft : "";
      setText(banner, bannerText);
      banner.hidden = bannerText === "";
      banner.dataset.state = st;
    },
  };
}
