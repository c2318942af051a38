/** Split message text into plain text and clickable parts (SPEC 8: http/https, tel, mailto). */

export type Part =
  | { kind: "text"; text: string }
  | { kind: "url"; text: string; href: string }
  | { kind: "phone"; text: string }
  | { kind: "email"; text: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/gi;
const EMAIL_RE = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
// numbers as people write them: international (+49 …) or national with a trunk 0 (040 …)
const PHONE_RE = /(?<![\w+])(?:\+\d|0)[\d /()-]{4,}\d(?!\w)/g;

interface Match {
  start: number;
  end: number;
  part: Part;
}

export function isHttpUrl(raw: string): boolean {
  try {
    const u = new URL(raw);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

export function splitParts(text: string, contactDetails: boolean): Part[] {
  const matches: Match[] = [];
  for (const m of text.matchAll(URL_RE)) {
    if (isHttpUrl(m[0])) {
      matches.push({ start: m.index!, end: m.index! + m[0].length, part: { kind: "url", text: m[0], href: m[0] } });
    }
  }
  if (contactDetails) {
    for (const m of text.matchAll(EMAIL_RE)) {
      matches.push({ start: m.index!, end: m.index! + m[0].length, part: { kind: "email", text: m[0] } });
    }
    for (const m of text.matchAll(PHONE_RE)) {
      const digits = m[0].replace(/\D/g, "").length;
      if (digits >= 7) {
        matches.push({ start: m.index!, end: m.index! + m[0].length, part: { kind: "phone", text: m[0] } });
      }
    }
  }
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  const parts: Part[] = [];
  let pos = 0;
  for (const m of matches) {
    if (m.start < pos) continue; // overlaps an earlier match
    if (m.start > pos) parts.push({ kind: "text", text: text.slice(pos, m.start) });
    parts.push(m.part);
    pos = m.end;
  }
  if (pos < text.length) parts.push({ kind: "text", text: text.slice(pos) });
  return parts;
}
