// Calendar periods in UTC: days end at midnight UTC, ISO weeks start on Monday 00:00 UTC (also across
// a year's end), months end on their last day (February of a leap year has 29), and the ids are stable.
import { describe, expect, it } from "vitest";
import { dayName, periodOf } from "../../src/billing/index.js";

const at = (iso: string): number => Date.parse(iso);
const span = (p: ReturnType<typeof periodOf>) => [p.id, p.start.toISOString(), p.resetAt.toISOString()];

describe("periodOf", () => {
  it("day: UTC midnight to midnight, whatever the local zone", () => {
    expect(span(periodOf("day", at("2026-11-22T00:00:00.000Z")))).toEqual([
      "d2026-11-22",
      "2026-11-22T00:00:00.000Z",
      "2026-11-23T00:00:00.000Z",
    ]);
    expect(periodOf("day", at("2026-11-22T23:59:59.999Z")).id).toBe("d2026-11-22");
    expect(periodOf("day", at("2026-11-23T00:00:00.000Z")).id).toBe("d2026-11-23");
    // 23:30 in New York on the 22nd is the 23rd in UTC.
    expect(periodOf("day", at("2026-11-22T23:30:00-05:00")).id).toBe("d2026-11-23");
  });

  it("week: ISO weeks from Monday 00:00 UTC", () => {
    // 2026-11-22 is a Sunday: its week began on Monday the 16th.
    expect(span(periodOf("week", at("2026-11-22T23:59:59.999Z")))).toEqual([
      "w2026-11-16",
      "2026-11-16T00:00:00.000Z",
      "2026-11-23T00:00:00.000Z",
    ]);
    expect(periodOf("week", at("2026-11-23T00:00:00.000Z")).id).toBe("w2026-11-23");
    expect(periodOf("week", at("2026-11-16T00:00:00.000Z")).id).toBe("w2026-11-16");
    expect(periodOf("week", at("2026-11-15T23:59:59.999Z")).id).toBe("w2026-11-09");
    // Across a year's end: Thursday 2027-01-01 belongs to the week of Monday 2026-12-28.
    expect(span(periodOf("week", at("2027-01-01T12:00:00Z")))).toEqual([
      "w2026-12-28",
      "2026-12-28T00:00:00.000Z",
      "2027-01-04T00:00:00.000Z",
    ]);
  });

  it("month: first of the month to the first of the next, leap years included", () => {
    expect(span(periodOf("month", at("2026-11-30T23:59:59.999Z")))).toEqual([
      "m2026-11",
      "2026-11-01T00:00:00.000Z",
      "2026-12-01T00:00:00.000Z",
    ]);
    expect(span(periodOf("month", at("2026-12-31T23:59:59.999Z")))).toEqual([
      "m2026-12",
      "2026-12-01T00:00:00.000Z",
      "2027-01-01T00:00:00.000Z",
    ]);
    // 2028 is a leap year: Feb 29 is in February, which resets on March 1.
    expect(span(periodOf("month", at("2028-02-29T12:00:00Z")))).toEqual([
      "m2028-02",
      "2028-02-01T00:00:00.000Z",
      "2028-03-01T00:00:00.000Z",
    ]);
    expect(periodOf("month", at("2027-02-28T23:59:59.999Z")).resetAt.toISOString()).toBe(
      "2027-03-01T00:00:00.000Z",
    );
    expect(periodOf("day", at("2028-02-29T00:00:00Z")).id).toBe("d2028-02-29");
    expect(periodOf("month", at("2028-03-01T00:00:00Z")).id).toBe("m2028-03");
  });

  it("names usage days YYYY-MM-DD in UTC", () => {
    expect(dayName(at("2026-01-05T23:59:59.999Z"))).toBe("2026-01-05");
    expect(dayName(at("2026-01-06T00:00:00Z"))).toBe("2026-01-06");
  });
});
