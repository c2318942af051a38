import { describe, expect, it } from "vitest";
import { checkPushUrl } from "../../js/parts/urlRules";

// the same cases as tests/model/test_urls.py: the view refuses what Python refuses
const HOSTILE = [
  "javascript:alert(1)",
  "JAVASCRIPT:alert(1)",
  " javascript:alert(1)",
  "java\tscript:alert(1)",
  "java\nscript:alert(1)",
  "jav\u0000ascript:alert(1)",
  "data:text/html,<script>alert(1)</script>",
  "file:///etc/passwd",
  "vbscript:msgbox(1)",
  "ftp://example.com/file",
  "example.com",
  "//example.com",
  "http:/example.com",
  "http://",
  "https://exa mple.com",
  "https://example.com/\u2028x",
  "",
  "   ",
  "http://" + "a".repeat(3000) + ".com",
  "mailto:someone@example.com",
  "tel:+4930123",
];

describe("checkPushUrl", () => {
  it.each(HOSTILE)("refuses %j with a reason", (url) => {
    const r = checkPushUrl(url);
    expect("problem" in r).toBe(true);
  });
  it("names the problem", () => {
    expect(checkPushUrl("")).toEqual({ problem: "empty" });
    expect(checkPushUrl("javascript:alert(1)")).toEqual({ problem: "scheme" });
    expect(checkPushUrl("data:text/html,x")).toEqual({ problem: "scheme" });
    expect(checkPushUrl("http:/x.org")).toEqual({ problem: "malformed" });
    expect(checkPushUrl("https://" + "a".repeat(2100))).toEqual({ problem: "tooLong" });
  });
  it.each(["https://example.com", "http://example.com/a?b=c#d", "HTTPS://Example.com/x", "  https://x.org  "])(
    "passes %j trimmed",
    (url) => {
      expect(checkPushUrl(url)).toEqual({ url: url.trim() });
    },
  );
});
