import type { AnyModel } from "@anywidget/types";
import { mountChatView, type ChatView } from "../parts/chatView";
import { h } from "../core/dom";
import type { Sync } from "../core/sync";
import type { EntryView } from "../core/types";
import { mountCollabPanel, type CollabPanel } from "./collabPanel";
import type { WorkspaceChat, WorkspaceModel, WsCtx } from "./types";

const TAIL = 5;

/** One chat inside the workspace: its own Ctx and chat view, kept alive while hidden
 *  (so the draft stays), with its scroll position saved across switches. */
export interface ChatHost {
  sid: string;
  ctx: WsCtx;
  view: ChatView;
  collab: CollabPanel;
  pane: HTMLElement;
  /** The last few entries, for the interaction bar's hover preview. */
  tail: EntryView[];
  applyDelta(first: number, entries: EntryView[]): number | null;
  show(visible: boolean): void;
  update(): void;
  tick(): void;
  destroy(): void;
}

export function mountChatHost(
  model: AnyModel<WorkspaceModel>,
  sync: Sync,
  sid: string,
  openDialog: (sid: string, mode: "transfer" | "conference" | "consult") => void,
): ChatHost {
  const ctx = sync.ctx((): WorkspaceChat => model.get("chats")?.[sid] ?? { session_id: sid, state: "waiting" }, sid);
  const view = mountChatView(ctx, { clockControls: false });
  const collab = mountCollabPanel(ctx, (mode) => openDialog(sid, mode));
  const pane = h("div", { class: "cw-ws-pane", "data-testid": "chat-pane", "data-session-id": sid, role: "tabpanel" }, collab.el, view.el);
  const tail: EntryView[] = [];
  let nextIndex = 0;
  let saved: { top: number; bottom: boolean } | null = null;
  let visible = true;

  function transcriptEl(): HTMLElement | null {
    return pane.querySelector<HTMLElement>(".cw-transcript");
  }

  return {
    sid,
    ctx,
    view,
    collab,
    pane,
    tail,
    applyDelta(first, entries) {
      const gap = view.applyDelta(first, entries);
      if (gap !== null) return gap;
      for (const e of entries) {
        if (e.i < nextIndex) continue;
        nextIndex = e.i + 1;
        tail.push(e);
      }
      if (tail.length > TAIL) tail.splice(0, tail.length - TAIL);
      return null;
    },
    show(v) {
      if (v === visible) return;
      const list = transcriptEl();
      if (!v && list) {
        saved = { top: list.scrollTop, bottom: list.scrollHeight - list.scrollTop - list.clientHeight < 40 };
      }
      visible = v;
      pane.hidden = !v;
      if (v && list && saved) {
        list.scrollTop = saved.bottom ? list.scrollHeight : saved.top;
      }
    },
    update() {
      view.update();
      collab.update();
    },
    tick() {
      view.tick?.();
      collab.tick?.();
    },
    destroy() {
      view.destroy?.();
      pane.remove();
    },
  };
}
