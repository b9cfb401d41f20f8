// Calendar periods in UTC (day, ISO week from Monday 00:00, month) with their ids and reset times,
// and the UTC day names of usage buckets.
import type { BudgetPeriod } from "./types.js";

/** One UTC day in ms. */
export const DAY_MS = 86_400_000;

/** One calendar period: its id (a Redis key part) and its bounds, [start, resetAt). */
export interface PeriodSpan {
  /** "d2026-11-22", "w2026-11-16" (the ISO week's Monday), "m2026-11". */
  id: string;
  start: Date;
  /** The first instant of the next period. */
  resetAt: Date;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** "YYYY-MM-DD" of a UTC midnight (or any instant of that day). */
export function dayName(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** dayName with the last day remembered, for code that names a day per call. */
export class DayNames {
  private start = Number.NaN;
  private name = "";

  /** "YYYY-MM-DD" (UTC) of `ms`. */
  of(ms: number): string {
    if (!(ms >= this.start && ms < this.start + DAY_MS)) {
      this.start = dayStart(ms);
      this.name = dayName(ms);
    }
    return this.name;
  }
}

/** Epoch ms of the UTC midnight that starts the day of `ms`. */
export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The period of kind `period` that contains the instant `nowMs`. */
export function periodOf(period: BudgetPeriod, nowMs: number): PeriodSpan {
  const day = dayStart(nowMs);
  switch (period) {
    case "day":
      return { id: `d${dayName(day)}`, start: new Date(day), resetAt: new Date(day + DAY_MS) };
    case "week": {
      // getUTCDay: Sunday 0 .. Saturday 6; ISO weeks start on Monday.
      const monday = day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
      return { id: `w${dayName(monday)}`, start: new Date(monday), resetAt: new Date(monday + 7 * DAY_MS) };
    }
    case "month": {
      const d = new Date(day);
      const y = d.getUTCFullYear();
      const m = d.getUTCMonth();
      return {
        id: `m${pad(y, 4)}-${pad(m + 1)}`,
        start: new Date(Date.UTC(y, m, 1)),
        resetAt: new Date(Date.UTC(y, m + 1, 1)),
      };
    }
    default: {
      const exhaustive: never = period;
      throw new Error(`unknown budget period ${String(exhaustive)}`);
    }
  }
}
