/**
 * Early start: the planner reserves each batch its whole verification timeout, but most batches are
 * verified well before it runs out. When a batch is done, the next one starts at once instead of at its
 * planned start, if nothing the planner honoured forbids it: its remedies are not reschedules (AWS acts at
 * the slot, so that time is fixed), no item was placed by an exception (outside-window, earlier-window,
 * ahead-of-later-waves), it is not before any item's NotBefore − leadTime, and a window is open now.
 * Starting earlier only moves every deadline further away; batches still run one after another, so the
 * group limits hold as planned.
 */
import type { Config } from '../config';
import { ceilMinute, DAY } from '../time';
import type { PlanBatch } from '../types';
import { WindowCalendar } from '../windows';

/** The earliest a batch may start once the one before it is done (its planned start when it may not move). */
export function earliestStart(batch: PlanBatch, config: Pick<Config, 'leadTime'>): number {
  const planned = Date.parse(batch.startAt);
  let earliest = Number.NEGATIVE_INFINITY;
  for (const it of batch.items) {
    if (it.remedy === 'reschedule' || it.reason !== undefined) return planned;
    earliest = Math.max(earliest, ceilMinute(Date.parse(it.notBefore) - config.leadTime));
  }
  // A batch with no items (none planned) keeps its slot: -Infinity would not survive the state's JSON.
  return batch.items.length === 0 ? planned : Math.min(planned, earliest);
}

/** A window search horizon around now: windows are at most a day long and recur at least weekly. */
const HORIZON = 8 * DAY;

/**
 * When the batch of `slot` may start, seen from `now` (before its planned start): now, a later moment
 * (the earliest it may start, or the next window), or its planned start, whichever comes first.
 */
export function earlyStartAt(
  slot: readonly [number, number, number, number],
  now: number,
  config: Pick<Config, 'windows'>,
): number {
  const [planned, , , earliest] = slot;
  if (earliest >= planned) return planned;
  const from = Math.max(now, earliest);
  const calendar = new WindowCalendar(config.windows, from, Math.min(planned, from + HORIZON));
  return Math.min(planned, calendar.nextOpen(from));
}
