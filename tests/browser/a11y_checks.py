"""Accessibility checks run inside the page (issue 12): axe-core and our own colour contrast.

axe-core comes from npm (``node_modules/axe-core``, a dev dependency) and is injected with
playwright's ``add_script_tag``. Inside JupyterLab axe evaluates no text node for colour
contrast, so ``contrast_failures`` measures every text-bearing element itself: the effective
foreground over the effective background (walking up the ancestors, compositing translucent
layers), WCAG relative luminance, 4.5:1 (3:1 for large text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

_AXE_JS = """
async (sel) => {
  const r = await window.axe.run(sel, { resultTypes: ['violations'] });
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}
"""

_CONTRAST_JS = r"""
(sel) => {
  const parse = (c) => {
    let m = c.match(/^rgba?\(([^)]+)\)/);
    if (m) {
      const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    m = c.match(/^color\(srgb ([^)]+)\)/);
    if (m) {
      const p = m[1].split(/[ /]+/).filter(Boolean).map(Number);
      return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
    }
    throw new Error('unparsed colour ' + c);
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = parse(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let base = [255, 255, 255, 1];
    for (const layer of layers.reverse()) base = over(layer, base);
    return base;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  };
  const out = [];
  for (const root of document.querySelectorAll(sel)) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const text = [...el.childNodes].filter((n) => n.nodeType === 3)
        .map((n) => n.textContent).join('').trim();
      if (!text || ['OPTION', 'SCRIPT', 'STYLE'].includes(el.tagName)) continue;
      const r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) continue; // hidden or screen-reader only
      if (!el.checkVisibility({ visibilityProperty: true })) continue;
      // inactive controls are exempt (WCAG 1.4.3): disabled, aria-disabled, inert
      if (el.closest(':disabled, [aria-disabled="true"], [inert]')) continue;
      const cs = getComputedStyle(el);
      const bg = background(el);
      const fgRaw = parse(cs.color);
      const fg = over([fgRaw[0], fgRaw[1], fgRaw[2], fgRaw[3] * opacity(el)], bg);
      const [a, b] = [lum(fg), lum(bg)];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(cs.fontSize);
      const bold = Number(cs.fontWeight) >= 700;
      const large = size >= 24 || (bold && size >= 18.66);
      const testid = el.closest('[data-testid]')?.getAttribute('data-testid') ?? '';
      out.push({ text: text.slice(0, 40), cls: String(el.className || el.tagName), testid,
                 ratio: Math.round(ratio * 100) / 100, need: large ? 3 : 4.5,
                 fg: fg.slice(0, 3).map(Math.round), bg: bg.slice(0, 3).map(Math.round) });
    }
  }
  return out;
}
"""


def inject_axe(page: Page) -> None:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))


def axe_violations(page: Page, selector: str) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations inside ``selector``."""
    inject_axe(page)
    result: list[dict[str, Any]] = page.evaluate(_AXE_JS, selector)
    return result


def contrast_measurements(page: Page, selector: str) -> list[dict[str, Any]]:
    """Contrast of every visible text-bearing element inside ``selector``."""
    result: list[dict[str, Any]] = page.evaluate(_CONTRAST_JS, selector)
    return result


def contrast_failures(page: Page, selector: str) -> list[dict[str, Any]]:
    measured = contrast_measurements(page, selector)
    assert measured, f"no text measured in {selector}"
    return [m for m in measured if m["ratio"] < m["need"]]


def check_page(page: Page, selector: str, where: str) -> list[dict[str, Any]]:
    """axe (serious/critical) and our contrast check; returns the measurements."""
    violations = axe_violations(page, selector)
    assert not violations, f"{where}: axe: {violations}"
    measured = contrast_measurements(page, selector)
    assert measured, f"{where}: no text measured in {selector}"
    low = [m for m in measured if m["ratio"] < m["need"]]
    assert not low, f"{where}: contrast below WCAG AA: {low}"
    return measured
