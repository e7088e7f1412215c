/**
 * A failed remedy falls back to the next remedy the operator allowed for the item's codes, but only when it
 * fits: a stop-start must end before the item's verification deadline plus its wave's bake (batches still
 * never overlap; the next one may start up to the bake late) and before the event's deadline − margin. A
 * failed reboot migration with a NotBeforeDeadline is rescheduled into a window after the planned rollout,
 * group limits permitting.
 */
import { STOP_START_WORK } from '../api-limits';
import { RESCHEDULE_CALL_MARGIN, RESCHEDULE_MIN_LEAD } from '../reschedule-timing';
import { iso, MINUTE } from '../time';
import type { ConfigurableRemedy } from '../types';
import { isEventCode } from '../types';
import { WindowCalendar } from '../windows';
import { startsAdmittedBy } from './pacing';
import { downByGroup } from './reschedule';
import type { BatchState, ItemState } from './state';
import { type Step, waveOf } from './step';

/** The remedies allowed for every code of the item, in the operator's order for its first code. */
function allowedRemedies(step: Step, item: ItemState): ConfigurableRemedy[] {
  const lists = item.codes.map((c) => (isEventCode(c) ? step.config.remedies[c] : []));
  const [first = [], ...rest] = lists;
  return first.filter((r) => rest.every((l) => l.includes(r)));
}

export function fallBack(step: Step, b: BatchState, item: ItemState, why: string): void {
  item.tried.push(item.remedy);
  const halted = step.s.haltRequested ?? step.s.haltReason;
  if (halted !== undefined) {
    step.fail(item, b.index, `${why}; no fallback after the halt (${halted})`);
    return;
  }
  const tried = new Set<string>(item.tried);
  const rejected: string[] = [];
  for (const next of allowedRemedies(step, item)) {
    if (tried.has(next) || next === 'report-only' || next === 'reboot-migrate') continue;
    const objection =
      next === 'stop-start' ? stopStartObjection(step, b, item) : rescheduleObjection(step, item);
    if (objection === undefined) {
      step.recordItem(item, b.index, 'fallback', { from: item.remedy, to: next, why });
      item.reason = `${why}; falling back to ${next}`;
      item.remedy = next;
      if (next === 'stop-start') {
        item.phase = 'pending';
        item.verifyBy = stopStartLimit(step, b, item);
      } else {
        delete item.slot;
        issueFallbackReschedule(step, b, item);
      }
      return;
    }
    rejected.push(`${next}: ${objection}`);
  }
  step.fail(item, b.index, rejected.length > 0 ? `${why}; no fallback fits (${rejected.join('; ')})` : why);
}

/**
 * When a fallback stop-start must be verified: by the item's verification deadline plus its wave's bake, and
 * by the deadline − margin. A failed reboot migration is known only once the instance is back healthy
 * (reboot + status checks), so a stop-start after it rarely fits the timeout alone; running into the bake
 * delays the batch's end, and so the next batch's start, by at most the bake.
 */
function stopStartLimit(step: Step, b: BatchState, item: ItemState): number {
  const bake = waveOf(step, b)?.bake ?? 0;
  return Math.min((item.verifyBy ?? step.now) + bake, item.deadline - step.config.deadlineMargin);
}

/** Stop-starts of the batch not yet started: StartInstances admits a fallback's start only after theirs. */
function startsQueued(b: BatchState): number {
  const waiting = new Set<ItemState['phase']>(['pending', 'acting', 'stopping']);
  return b.items.filter(
    (i) =>
      i.remedy === 'stop-start' &&
      (waiting.has(i.phase) || (i.phase === 'starting' && i.seenStopped === true)),
  ).length;
}

function stopStartObjection(step: Step, b: BatchState, item: ItemState): string | undefined {
  if (item.canStopStart !== true) return 'not allowed or not possible for this instance';
  const queued = startsQueued(b);
  const startFrom = startsAdmittedBy(step.s, step.now, queued + 1);
  const end = startFrom + STOP_START_WORK;
  const limit = stopStartLimit(step, b, item);
  if (end > limit) {
    const paced = startFrom > step.now ? `; StartInstances admits it after ${queued} queued start(s)` : '';
    return `would end ${iso(end)}, after ${iso(limit)} (verification deadline + the wave's bake, or deadline − margin${paced})`;
  }
  return undefined;
}

const SLOT_TRIES = 200;

/** A slot for a failed item's events: in a window, after the planned rollout, with room in every group. */
function fallbackSlot(step: Step, item: ItemState): number | undefined {
  const { s, config, now } = step;
  if (item.notBeforeDeadline === undefined) return undefined;
  const span = (item.eventWindow ?? 0) + config.verification.timeout;
  const latest = item.notBeforeDeadline - config.deadlineMargin - span;
  const planEnd = s.slots.reduce((m, [, end]) => Math.max(m, end), now);
  const earliest =
    Math.ceil(Math.max(now + RESCHEDULE_MIN_LEAD + RESCHEDULE_CALL_MARGIN, planEnd) / MINUTE) * MINUTE;
  if (earliest > latest) return undefined;
  const calendar = new WindowCalendar(config.windows, now, item.notBeforeDeadline);
  const down = downByGroup(s);
  let t = earliest;
  for (let i = 0; i < SLOT_TRIES && t <= latest; i++) {
    const slot = Math.ceil(calendar.nextOpen(t) / MINUTE) * MINUTE;
    if (slot > latest) return undefined;
    const moved = fallbacksOverlapping(step, slot, slot + span);
    if (item.groupIds.every((g) => (down.get(g) ?? 0) + (moved.get(g) ?? 0) < (s.limits[g] ?? 1)))
      return slot;
    t = slot + Math.max(span, MINUTE); // the next slot after this one's outage
  }
  return undefined;
}

/** Fallback reschedules already made whose outage span [slot, end) overlaps [from, to), per group. */
function fallbacksOverlapping(step: Step, from: number, to: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, groups] of Object.entries(step.s.moved)) {
    const m = /^fallback@(\d+)@(\d+)$/.exec(key);
    if (!m || Number(m[1]) >= to || Number(m[2]) <= from) continue;
    for (const [g, n] of Object.entries(groups)) out.set(g, (out.get(g) ?? 0) + n);
  }
  return out;
}

function rescheduleObjection(step: Step, item: ItemState): string | undefined {
  if (item.notBeforeDeadline === undefined) return 'the event has no NotBeforeDeadline';
  if (item.eventIds.length !== 1) return 'more than one event on the instance';
  return fallbackSlot(step, item) === undefined
    ? 'no window with room before NotBeforeDeadline − margin'
    : undefined;
}

function issueFallbackReschedule(step: Step, b: BatchState, item: ItemState): void {
  // A retry keeps the slot it already counted; a first call takes a slot and counts it over its span.
  const retry = item.slot !== undefined;
  const slot = item.slot ?? fallbackSlot(step, item);
  if (slot === undefined) {
    step.fail(item, b.index, `${item.reason ?? ''}; no reschedule slot is left`);
    return;
  }
  if (!retry) {
    const key = `fallback@${slot}@${slot + (item.eventWindow ?? 0) + step.config.verification.timeout}`;
    const moved = step.s.moved[key] ?? {};
    step.s.moved[key] = moved;
    for (const g of item.groupIds) moved[g] = (moved[g] ?? 0) + 1;
  }
  item.slot = slot;
  item.phase = 'acting';
  step.issue({
    kind: 'reschedule',
    instanceId: item.instanceId,
    eventId: item.eventIds[0] as string,
    notBefore: slot,
  });
}

/** Outcome of a fallback reschedule: moved (AWS performs it at the slot) or failed. */
export function settleFallbackReschedule(step: Step, b: BatchState): void {
  for (const o of step.outcomesOf('reschedule')) {
    const item = b.items.find(
      (i) => i.instanceId === o.instanceId && i.phase === 'acting' && i.remedy === 'reschedule',
    );
    if (!item) continue;
    if (o.ok || o.ambiguous) {
      item.phase = 'moved';
      item.reason = `${item.reason ?? ''}: rescheduled to ${iso(item.slot ?? 0)}; AWS performs it then`;
      step.recordItem(item, b.index, 'moved', { slot: iso(item.slot ?? 0), ambiguous: o.ambiguous === true });
    } else if (o.retryable) issueFallbackReschedule(step, b, item);
    else
      step.fail(
        item,
        b.index,
        `${item.reason ?? ''}; ModifyInstanceEventStartTime failed: ${o.error ?? 'unknown'}`,
      );
  }
}
