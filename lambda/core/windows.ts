/**
 * Maintenance windows as UTC intervals. Each window is local wall time in its IANA zone, so DST is handled
 * per day: a start that falls in a spring-forward gap moves to the first valid local time after it. A window
 * whose end is not after its start runs past midnight into the next day.
 */
import { DateTime } from 'luxon';
import type { WindowConfig } from './config';
import { DAY } from './time';

/**
 * The time zone to show an instant in beside UTC: that of a window containing it, else the one zone every
 * window shares; undefined without windows, or when they mix zones and none contains it.
 */
export function windowZoneAt(windows: readonly WindowConfig[], t: number): string | undefined {
  const containing = windows.find((w) => new WindowCalendar([w], t - DAY, t + DAY).contains(t));
  if (containing) return containing.timeZone;
  const zones = new Set(windows.map((w) => w.timeZone));
  return zones.size === 1 ? [...zones][0] : undefined;
}

/** `Wed 02:00-02:20` in `zone` (`Wed 23:50-Thu 00:10` across midnight), in English whatever the locale. */
export function localSpan(start: number, end: number, zone: string): string {
  const from = DateTime.fromMillis(start, { zone, locale: 'en-US' });
  const to = DateTime.fromMillis(end, { zone, locale: 'en-US' });
  return `${from.toFormat('ccc HH:mm')}-${to.toFormat(from.hasSame(to, 'day') ? 'HH:mm' : 'ccc HH:mm')}`;
}

const DAY_INDEX: Record<string, number> = { MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6, SUN: 7 };

export class WindowCalendar {
  /** Sorted, merged [start, end) intervals; null means no windows configured: always open. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly open: boolean;

  constructor(windows: readonly WindowConfig[], from: number, to: number) {
    this.open = windows.length === 0;
    if (this.open) return;
    const raw: Array<[number, number]> = [];
    for (const w of windows) {
      const days = new Set(w.days.map((d) => DAY_INDEX[d]));
      const [sh = 0, sm = 0] = w.start.split(':').map(Number);
      const [eh = 0, em = 0] = w.end.split(':').map(Number);
      const crossesMidnight = eh * 60 + em <= sh * 60 + sm;
      // One day of slack on each side: a window that began yesterday (local) may still be open at `from`.
      let day = DateTime.fromMillis(from, { zone: w.timeZone }).startOf('day').minus({ days: 1 });
      const last = DateTime.fromMillis(to, { zone: w.timeZone }).startOf('day').plus({ days: 1 });
      while (day <= last) {
        if (days.has(day.weekday)) {
          const start = day.set({ hour: sh, minute: sm });
          const endDay = crossesMidnight ? day.plus({ days: 1 }) : day;
          const end = endDay.set({ hour: eh, minute: em });
          if (end.toMillis() > start.toMillis()) raw.push([start.toMillis(), end.toMillis()]);
        }
        day = day.plus({ days: 1 });
      }
    }
    raw.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [s, e] of raw) {
      const n = this.ends.length;
      if (n > 0 && s <= (this.ends[n - 1] ?? 0)) this.ends[n - 1] = Math.max(this.ends[n - 1] ?? 0, e);
      else {
        this.starts.push(s);
        this.ends.push(e);
      }
    }
  }

  get alwaysOpen(): boolean {
    return this.open;
  }

  /** Index of the first interval whose end is after t. */
  private firstEndingAfter(t: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.ends[mid] ?? 0) > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  contains(t: number): boolean {
    if (this.open) return true;
    const i = this.firstEndingAfter(t);
    return i < this.starts.length && (this.starts[i] ?? Number.POSITIVE_INFINITY) <= t;
  }

  /** First instant >= t inside a window; +Infinity when none in the computed horizon. */
  nextOpen(t: number): number {
    if (this.open) return t;
    const i = this.firstEndingAfter(t);
    if (i >= this.starts.length) return Number.POSITIVE_INFINITY;
    return Math.max(t, this.starts[i] ?? Number.POSITIVE_INFINITY);
  }

  /** Start of the latest window time in [lower, upper): the latest earlier window; undefined when none. */
  latestWindowStartIn(lower: number, upper: number): number | undefined {
    if (this.open) return lower < upper ? lower : undefined;
    // Last interval starting before `upper`; it counts if it is still open after `lower`.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.starts[mid] ?? 0) < upper) lo = mid + 1;
      else hi = mid;
    }
    const j = lo - 1;
    if (j < 0 || (this.ends[j] ?? 0) <= lower) return undefined;
    return Math.max(lower, this.starts[j] ?? lower);
  }
}
