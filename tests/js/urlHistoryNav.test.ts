import { describe, expect, it } from "vitest";
import { UrlHistoryNav } from "../../js/parts/urlHistoryNav";

describe("UrlHistoryNav", () => {
  const urls = ["https://a.example", "https://b.example", "https://c.example"];
  it("Up/Down highlight with wrap-around", () => {
    const nav = new UrlHistoryNav(urls);
    expect(nav.key("ArrowDown")).toEqual({ action: "highlight", index: 0 });
    expect(nav.key("ArrowDown")).toEqual({ action: "highlight", index: 1 });
    expect(nav.key("ArrowUp")).toEqual({ action: "highlight", index: 0 });
    expect(nav.key("ArrowUp")).toEqual({ action: "highlight", index: 2 });
  });
  it("Left/Right insert the highlighted URL, Enter pushes it, Escape closes", () => {
    const nav = new UrlHistoryNav(urls);
    expect(nav.key("ArrowRight")).toEqual({ action: "none" });
    nav.key("ArrowDown");
    nav.key("ArrowDown");
    expect(nav.key("ArrowLeft")).toEqual({ action: "insert", url: "https://b.example" });
    expect(nav.key("ArrowRight")).toEqual({ action: "insert", url: "https://b.example" });
    expect(nav.key("Enter")).toEqual({ action: "push", url: "https://b.example" });
    expect(nav.key("Escape")).toEqual({ action: "close" });
  });
  it("does nothing on an empty history but still closes", () => {
    const nav = new UrlHistoryNav([]);
    expect(nav.key("ArrowDown")).toEqual({ action: "none" });
    expect(nav.key("Escape")).toEqual({ action: "close" });
  });
});
