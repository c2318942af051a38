/** Keyboard logic of the URL history menu (F17), free of the DOM so it can be unit-tested.
 *  Up/Down highlight, Left/Right select (insert into the push-URL field),
 *  Enter pushes the highlighted URL, Escape closes. */

export type NavResult =
  | { action: "none" }
  | { action: "highlight"; index: number }
  | { action: "insert"; url: string }
  | { action: "push"; url: string }
  | { action: "close" };

export class UrlHistoryNav {
  highlighted = -1;

  constructor(public items: string[]) {}

  key(key: string): NavResult {
    const n = this.items.length;
    if (key === "Escape") return { action: "close" };
    if (n === 0) return { action: "none" };
    switch (key) {
      case "ArrowDown":
        this.highlighted = (this.highlighted + 1) % n;
        return { action: "highlight", index: this.highlighted };
      case "ArrowUp":
        this.highlighted = this.highlighted <= 0 ? n - 1 : this.highlighted - 1;
        return { action: "highlight", index: this.highlighted };
      case "ArrowLeft":
      case "ArrowRight":
        return this.highlighted >= 0 ? { action: "insert", url: this.items[this.highlighted]! } : { action: "none" };
      case "Enter":
        return this.highlighted >= 0 ? { action: "push", url: this.items[this.highlighted]! } : { action: "none" };
      default:
        return { action: "none" };
    }
  }
}
