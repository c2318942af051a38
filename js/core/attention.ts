/**
 * F13: the reply reminder reaches an agent who looks elsewhere.
 *
 * While any registered source has a reply pending (any timer colour but idle)
 * and the page is hidden or the window is not focused, the browser tab's title
 * flashes (once a second) and the favicon shows a dot in the most urgent timer
 * colour. When the user returns, or the reply is sent, exactly what the page
 * (JupyterLab) had set is restored at once. JupyterLab rewrites the title and
 * favicon itself (tab switches, busy kernel): whatever it sets while we flash
 * becomes what we restore.
 *
 * One controller per window, shared by every widget bundle on the page.
 *
 * Test hook (headless chromium never loses focus or visibility):
 *   window.chatWidgetAttention.emulate({ hidden: true })   // or { blurred: true }
 *   window.chatWidgetAttention.emulate({ hidden: false, blurred: false })
 *   window.chatWidgetAttention.state()  // { away, flashing, colour, savedTitle }
 * `emulate({hidden})` overrides document.hidden/visibilityState and dispatches
 * `visibilitychange`; `emulate({blurred})` dispatches `blur`/`focus` on window,
 * so the code under test takes the same path as in a real browser.
 */
import type { TimerColour } from "./timer";

export interface AttentionSource {
  /** Most urgent timer colour of the pending replies ("idle": nothing pending). */
  colour(): TimerColour;
  /** Text for the flashing title, e.g. "Reply pending – Maria Weber". */
  title(): string;
  /** False once the view is gone: removed from the page, or its kernel is gone
   *  (a notebook's widgets stay on the page after their kernel shut down). */
  live?(): boolean;
}

/** Jupyter widgets mark a view whose model lost its kernel connection with this class. */
const DISCONNECTED = "jupyter-widgets-disconnected";

interface KernelLike {
  status?: string;
  isDisposed?: boolean;
}

/** Is the kernel behind an anywidget model still there? JupyterLab's widget manager sets its
 *  `kernel` to null when the kernel is shut down, and reports "dead" when it died; hosts
 *  without that information (other front ends) count as alive. */
export function kernelAlive(model: unknown): () => boolean {
  const wm = (model as { widget_manager?: unknown } | null | undefined)?.widget_manager as
    | { kernel?: KernelLike | null; isDisposed?: boolean }
    | undefined;
  return () => {
    if (!wm || typeof wm !== "object") return true;
    if (wm.isDisposed === true) return false;
    if (!("kernel" in wm)) return true;
    const k = wm.kernel;
    if (k === null) return false;
    return !(k?.isDisposed === true || k?.status === "dead");
  };
}

/** Liveness of a widget view: `el` is the view's element (what anywidget renders into),
 *  `root` our root inside it. Dead: disposed, detached, or its model's comm is not live. */
export function liveView(el: HTMLElement, root: HTMLElement, disposed: () => boolean = () => false): () => boolean {
  return () => !disposed() && root.isConnected && el.closest(`.${DISCONNECTED}`) === null;
}

export const ATTENTION_COLOURS: Record<Exclude<TimerColour, "idle">, string> = {
  green: "#1e8e3e",
  yellow: "#f2b600",
  red: "#d93025",
};
const RANK: Record<TimerColour, number> = { idle: 0, green: 1, yellow: 2, red: 3 };
const CHECK_MS = 250;
const FLASH_MS = 1000;

export function faviconFor(colour: Exclude<TimerColour, "idle">): string {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">` +
    `<circle cx="8" cy="8" r="7" fill="${ATTENTION_COLOURS[colour]}"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

export interface AttentionState {
  away: boolean;
  flashing: boolean;
  colour: TimerColour;
  savedTitle: string | null;
}

class AttentionController {
  private sources = new Set<AttentionSource>();
  private blurred = false;
  private flashing = false;
  private colour: TimerColour = "idle";
  private savedTitle: string | null = null;
  private writtenTitle: string | null = null;
  private savedIcons = new Map<HTMLLinkElement, string | null>();
  private createdIcon: HTMLLinkElement | null = null;
  private iconHref = "";
  private interval: number | undefined;
  private readonly onVisibility = () => this.check();
  private readonly onBlur = () => {
    this.blurred = true;
    this.check();
  };
  private readonly onFocus = () => {
    this.blurred = false;
    this.check();
  };

  constructor(private readonly win: Window) {}

  register(source: AttentionSource): () => void {
    this.sources.add(source);
    if (this.sources.size === 1) this.start();
    this.check();
    return () => {
      this.sources.delete(source);
      this.check();
      if (this.sources.size === 0) this.stop();
    };
  }

  away(): boolean {
    return this.win.document.hidden || this.blurred;
  }

  state(): AttentionState {
    return { away: this.away(), flashing: this.flashing, colour: this.colour, savedTitle: this.savedTitle };
  }

  emulate(opts: { hidden?: boolean; blurred?: boolean }): void {
    const doc = this.win.document;
    if (opts.hidden !== undefined) {
      if (opts.hidden) {
        Object.defineProperty(doc, "hidden", { configurable: true, get: () => true });
        Object.defineProperty(doc, "visibilityState", { configurable: true, get: () => "hidden" });
      } else {
        delete (doc as unknown as Record<string, unknown>).hidden;
        delete (doc as unknown as Record<string, unknown>).visibilityState;
      }
      doc.dispatchEvent(new Event("visibilitychange"));
    }
    if (opts.blurred !== undefined) this.win.dispatchEvent(new Event(opts.blurred ? "blur" : "focus"));
  }

  /** Re-evaluate now (a reply was sent, a colour changed). */
  check(): void {
    let colour: TimerColour = "idle";
    let title = "";
    for (const s of this.sources) {
      if (s.live && !s.live()) continue; // a dead view's timer runs on and never ends
      const c = s.colour();
      if (RANK[c] > RANK[colour]) {
        colour = c;
        title = s.title();
      }
    }
    this.colour = colour;
    const want = colour !== "idle" && this.away();
    if (!want) {
      if (this.flashing) this.restore();
      return;
    }
    if (!this.flashing) this.begin();
    this.flash(colour as Exclude<TimerColour, "idle">, title);
  }

  private start(): void {
    this.win.document.addEventListener("visibilitychange", this.onVisibility);
    this.win.addEventListener("blur", this.onBlur);
    this.win.addEventListener("focus", this.onFocus);
    this.interval = this.win.setInterval(() => this.check(), CHECK_MS);
  }

  private stop(): void {
    if (this.flashing) this.restore();
    this.win.document.removeEventListener("visibilitychange", this.onVisibility);
    this.win.removeEventListener("blur", this.onBlur);
    this.win.removeEventListener("focus", this.onFocus);
    if (this.interval !== undefined) this.win.clearInterval(this.interval);
    this.interval = undefined;
  }

  private icons(): HTMLLinkElement[] {
    return Array.from(this.win.document.querySelectorAll<HTMLLinkElement>('link[rel~="icon"]'));
  }

  private begin(): void {
    this.flashing = true;
    this.savedTitle = this.win.document.title;
    this.writtenTitle = null;
    this.savedIcons.clear();
    for (const link of this.icons()) this.savedIcons.set(link, link.getAttribute("href"));
    if (this.savedIcons.size === 0) {
      const link = this.win.document.createElement("link");
      link.rel = "icon";
      this.win.document.head.append(link);
      this.createdIcon = link;
      this.savedIcons.set(link, null);
    }
  }

  private flash(colour: Exclude<TimerColour, "idle">, title: string): void {
    const doc = this.win.document;
    // the page changed the title itself while we flash: that is what to restore
    if (doc.title !== this.writtenTitle && doc.title !== this.savedTitle) this.savedTitle = doc.title;
    const on = Math.floor(Date.now() / FLASH_MS) % 2 === 0;
    const text = on ? `● ${title}` : (this.savedTitle ?? "");
    if (doc.title !== text) doc.title = text;
    this.writtenTitle = text;
    const href = faviconFor(colour);
    for (const link of this.icons()) {
      const current = link.getAttribute("href");
      if (!this.savedIcons.has(link)) this.savedIcons.set(link, current);
      else if (current !== this.iconHref && current !== href) this.savedIcons.set(link, current);
      if (current !== href) link.setAttribute("href", href);
      link.dataset.cwAttention = colour;
    }
    this.iconHref = href;
  }

  private restore(): void {
    this.flashing = false;
    const doc = this.win.document;
    if (this.savedTitle !== null && (doc.title === this.writtenTitle || doc.title === this.savedTitle)) {
      doc.title = this.savedTitle;
    }
    for (const [link, href] of this.savedIcons) {
      delete link.dataset.cwAttention;
      if (link === this.createdIcon) continue;
      if (link.getAttribute("href") !== this.iconHref) continue; // the page set a new one: keep it
      if (href === null) link.removeAttribute("href");
      else link.setAttribute("href", href);
    }
    this.createdIcon?.remove();
    this.createdIcon = null;
    this.savedIcons.clear();
    this.savedTitle = null;
    this.writtenTitle = null;
    this.iconHref = "";
  }
}

interface AttentionWindow extends Window {
  __chatWidgetAttentionController?: AttentionController;
  chatWidgetAttention?: {
    emulate(opts: { hidden?: boolean; blurred?: boolean }): void;
    state(): AttentionState;
    check(): void;
  };
}

/** The page's one controller (created on first use, shared by all widget bundles). */
export function attentionController(win: Window = window): AttentionController {
  const w = win as AttentionWindow;
  if (!w.__chatWidgetAttentionController) {
    const ctl = new AttentionController(win);
    w.__chatWidgetAttentionController = ctl;
    w.chatWidgetAttention = {
      emulate: (opts) => ctl.emulate(opts),
      state: () => ctl.state(),
      check: () => ctl.check(),
    };
  }
  return w.__chatWidgetAttentionController;
}

/** Register a source of pending replies; returns the function that unregisters it. */
export function watchAttention(source: AttentionSource, win: Window = window): () => void {
  return attentionController(win).register(source);
}
