import { describe, expect, it } from "vitest";
import { clockNow } from "../../js/core/clock";
import { formatDuration, nextColourChange, timerColour } from "../../js/core/timer";
import type { ViewState } from "../../js/core/types";

const state = (since: number | null): ViewState => ({
  session_id: "c",
  state: "accepted",
  pending_since_ms: since,
  thresholds_ms: { yellow: 30_000, red: 60_000 },
});

describe("clockNow", () => {
  it("stays put while paused and extrapolates at the rate while running", () => {
    const clock = { clock_ms: 1_000, wall_anchor_ms: 50_000, rate: 1, paused: true };
    expect(clockNow(clock, 90_000)).toBe(1_000);
    expect(clockNow({ ...clock, paused: false }, 52_000)).toBe(3_000);
    expect(clockNow({ ...clock, paused: false, rate: 10 }, 52_000)).toBe(21_000);
  });
});

describe("timerColour", () => {
  it("is idle without a pending reply", () => {
    expect(timerColour(state(null), 5_000)).toBe("idle");
  });
  it("turns exactly at the thresholds, like the Python model", () => {
    const s = state(0);
    expect(timerColour(s, 29_999)).toBe("green");
    expect(timerColour(s, 30_000)).toBe("yellow");
    expect(timerColour(s, 59_999)).toBe("yellow");
    expect(timerColour(s, 60_000)).toBe("red");
  });
  it("follows a paused clock stepped from Python", () => {
    const clock = { clock_ms: 31_000, wall_anchor_ms: 0, rate: 1, paused: true };
    expect(timerColour(state(0), clockNow(clock, 1e12))).toBe("yellow");
  });
  it("knows when the colour changes next", () => {
    expect(nextColourChange(state(0), 10_000)).toBe(30_000);
    expect(nextColourChange(state(0), 45_000)).toBe(60_000);
    expect(nextColourChange(state(0), 61_000)).toBeNull();
  });
});

describe("formatDuration", () => {
  it("formats minutes and hours", () => {
    expect(formatDuration(65_000)).toBe("1:05");
    expect(formatDuration(3_725_000)).toBe("1:02:05");
    expect(formatDuration(-5)).toBe("0:00");
  });
});
