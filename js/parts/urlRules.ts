/** Pushed-URL rules (F15, SPEC 8), the same as src/chat_widget/model/urls.py: the view refuses
 *  what Python would refuse, before anything is sent. Browsers strip tabs and newlines inside a
 *  URL and ignore the scheme's case (`JAVA\tSCRIPT:` is `javascript:`), so any whitespace or
 *  control character anywhere is refused; then the scheme must be http or https with a host. */

export const MAX_URL_LENGTH = 2048;

export type UrlProblem = "empty" | "tooLong" | "scheme" | "malformed";

// eslint-disable-next-line no-control-regex
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f\u2028\u2029\u00a0\ufeff]/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/** The URL to push (trimmed), or why it may not be pushed. */
export function checkPushUrl(raw: string): { url: string } | { problem: UrlProblem } {
  const url = raw.trim();
  if (url === "") return { problem: "empty" };
  if (url.length > MAX_URL_LENGTH) return { problem: "tooLong" };
  if (CONTROL_OR_SPACE.test(url)) return { problem: "malformed" };
  const colon = url.indexOf(":");
  const scheme = colon > 0 ? url.slice(0, colon) : "";
  if (!SCHEME.test(scheme)) return { problem: "malformed" };
  if (!["http", "https"].includes(scheme.toLowerCase())) return { problem: "scheme" };
  if (!url.slice(colon + 1).startsWith("//")) return { problem: "malformed" };
  try {
    if (new URL(url).hostname === "") return { problem: "malformed" };
  } catch {
    return { problem: "malformed" };
  }
  return { url };
}
