import type { EntryView } from "./types";

export interface ApplyResult {
  /** Entries that are new to this view, in order. */
  appended: EntryView[];
  /** When the delta starts past what we have: ask for a snapshot from this index. */
  gapFrom: number | null;
}

/** Entries by index; applies `{first_index, entries}` deltas idempotently. */
export class TranscriptStore {
  readonly entries: EntryView[] = [];

  get length(): number {
    return this.entries.length;
  }

  apply(firstIndex: number, batch: EntryView[]): ApplyResult {
    if (firstIndex > this.entries.length) {
      return { appended: [], gapFrom: this.entries.length };
    }
    const skip = this.entries.length - firstIndex; // overlap already seen
    const appended = batch.slice(Math.max(0, skip));
    for (const e of appended) this.entries.push(e);
    return { appended, gapFrom: null };
  }

  clear(): void {
    this.entries.length = 0;
  }
}
