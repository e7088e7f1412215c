import { Duration } from 'luxon';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** Parses an ISO-8601 duration (`PT2H`, `P1DT30M`) to milliseconds; undefined when invalid or negative. */
export function parseIsoDuration(text: string): number | undefined {
  const d = Duration.fromISO(text);
  if (!d.isValid) return undefined;
  const ms = d.as('milliseconds');
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parses an AWS timestamp (ISO string from the CLI, Date from SDK v3) to epoch ms; undefined when invalid. */
export function parseAwsTime(value: unknown): number | undefined {
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof value === 'string' && value.length > 0) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** Human-readable duration for messages: `2h30m`, `45m`, `1d4h`. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let m = Math.round(Math.abs(ms) / MINUTE);
  const d = Math.floor(m / 1440);
  m -= d * 1440;
  const h = Math.floor(m / 60);
  m -= h * 60;
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m || (!d && !h) ? `${m}m` : ''];
  return sign + parts.join('');
}

export const DAY = 24 * HOUR;

/** Slots are whole minutes: the minute at or after `t`, and at or before it. */
export const ceilMinute = (t: number): number => Math.ceil(t / MINUTE) * MINUTE;
export const floorMinute = (t: number): number => Math.floor(t / MINUTE) * MINUTE;

/** An instant for people to read: UTC ISO-8601 to the second, `2026-12-01T02:00:00Z` (no `.000`). */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/**
 * `t` relative to `now`, as people say it: `in 2d4h`, `3h5m ago`, `now`. A day or more is rounded to the
 * hour (minutes would be noise), less to the minute.
 */
export function formatRelative(t: number, now: number): string {
  const unit = Math.abs(t - now) >= DAY ? HOUR : MINUTE;
  const rounded = Math.round(Math.abs(t - now) / unit) * unit;
  if (rounded === 0) return 'now';
  return t > now ? `in ${formatDuration(rounded)}` : `${formatDuration(rounded)} ago`;
}
