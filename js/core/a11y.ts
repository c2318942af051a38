/** Keyboard and focus rules of the view (issue 12, accessibility), free of the DOM where
 *  they can be, so they can be unit-tested. */

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
}

const NAV_KEYS = new Set([
  "Enter",
  " ",
  "Escape",
  "ArrowUp",
  "ArrowDown",
  "ArrowLeft",
  "ArrowRight",
  "Home",
  "End",
  "PageUp",
  "PageDown",
]);

/** Whether a key pressed inside the widget is the widget's own, so it must not reach the
 *  notebook's shortcuts (JupyterLab's command mode turns Enter, arrows, "a", "b", "d d" … into
 *  notebook commands; Shift+Enter runs the cell). Shortcuts with Ctrl, Meta or Alt (save,
 *  command palette) and Tab pass on. In a text field every other key is typing or editing;
 *  elsewhere only the keys controls act on. */
export function widgetOwnsKey(ev: KeyLike, inTextField: boolean): boolean {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return false;
  if (ev.key === "Tab") return false;
  return inTextField || NAV_KEYS.has(ev.key);
}

/** Is this element one where keys are typing (text input, textarea, contenteditable)? */
export function isTextField(el: Element | null): boolean {
  if (!el) return false;
  if (el instanceof HTMLTextAreaElement) return true;
  if (el instanceof HTMLInputElement) return !["button", "checkbox", "radio", "range", "submit", "reset", "file", "color"].includes(el.type);
  return (el as HTMLElement).isContentEditable === true;
}

/** Stop the widget's own keys at its root: they reach its controls first, never the
 *  notebook's shortcuts (bubbling phase, so the controls still see every key). */
export function containKeys(root: HTMLElement): void {
  root.addEventListener("keydown", (ev) => {
    if (widgetOwnsKey(ev, isTextField(ev.target as Element | null))) ev.stopPropagation();
  });
}

/** Where the replay slider goes on a key (ms), or null for keys it does not handle.
 *  Arrows step by `step` (Shift: ten steps), Page Up/Down by a tenth of the range,
 *  Home and End to the start and the end of the conversation. */
export function replaySliderKey(ev: KeyLike, value: number, min: number, max: number, step = 1000): number | null {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return null;
  const big = Math.max(step, Math.round((max - min) / 10));
  const s = ev.shiftKey ? step * 10 : step;
  let next: number;
  switch (ev.key) {
    case "ArrowRight":
    case "ArrowUp":
      next = value + s;
      break;
    case "ArrowLeft":
    case "ArrowDown":
      next = value - s;
      break;
    case "PageUp":
      next = value + big;
      break;
    case "PageDown":
      next = value - big;
      break;
    case "Home":
      next = min;
      break;
    case "End":
      next = max;
      break;
    default:
      return null;
  }
  return Math.min(max, Math.max(min, next));
}

/** After the agent's own Accept, End or Done, where focus goes once the chat is in the
 *  state that action leads to (the button pressed has disappeared by then). */
export const FOCUS_AFTER: Record<string, { state: string; target: string }> = {
  accept: { state: "accepted", target: "composer" },
  end: { state: "ended", target: "done" },
  done: { state: "done", target: "chat-status" },
};
