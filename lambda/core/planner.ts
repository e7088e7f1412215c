/**
 * planRollout: notices + facts + config + now → Plan. Pure and deterministic (inputs are sorted first; no
 * clock read). It runs in phases: unitsFromNotices (one unit per instance: remedy, wave), timeUnits (when
 * each unit may start), pullWavesAhead, then scheduleWave cuts each config wave into batches (fillBatch).
 * The rules it keeps (DESIGN.md "Planner rules"):
 * - every batch ends (slot + verification timeout, + the event window for rescheduled events, since AWS may
 *   act anywhere in it) by each of its items' deadline minus deadlineMargin;
 * - batches never overlap, so the per-group limit, counted against the whole group, holds at every instant;
 * - a batch holds reschedules or remedies Forestall applies, never both (so the latter may start early);
 * - a batch holds no more remedies than EC2's API admits within its verification timeout (batchApiCaps);
 * - slots are whole minutes; a reschedule slot leaves the call 60 min + RESCHEDULE_CALL_MARGIN (AWS-FACTS §10);
 * - config waves run in order; inside a wave, earliest deadline first, ties spread across groups;
 * - a batch starts inside a window unless none exists before the deadline (`outside-window` reason);
 * - every notice lands in exactly one of batches, skipped, infeasible.
 */
import { createHash } from 'node:crypto';
import {
  MIGRATION_FALLBACK_SHARE,
  maxRebootsWithin,
  maxReschedulesWithin,
  maxStopStartsPerBatch,
  STOP_START_WORK,
} from './api-limits';
import { type Config, isOptedIn, resolveLimit, waveIndexOf } from './config';
import { MinHeap } from './heap';
import { chooseRemedy } from './remedy';
import {
  RESCHEDULE_CALL_MARGIN,
  RESCHEDULE_FREEZE,
  RESCHEDULE_MIN_LEAD,
  RESCHEDULE_SPREAD_MAX,
} from './reschedule-timing';
import { ceilMinute, floorMinute, formatDuration, formatRelative, iso, isoSeconds, MINUTE } from './time';
import type {
  ActiveRemedy,
  InfeasibleNotice,
  InstanceFacts,
  Notice,
  Plan,
  PlanBatch,
  PlanItem,
  SkippedNotice,
} from './types';
import { isActiveRemedy, isEventCode } from './types';
import { WindowCalendar } from './windows';

export { RESCHEDULE_CALL_MARGIN, RESCHEDULE_FREEZE, RESCHEDULE_MIN_LEAD } from './reschedule-timing';

/** Group labels of an instance for the configured `groupBy` keys (`asg`, `az`, `tag:KEY`); absent keys omitted. */
export function groupsOf(facts: InstanceFacts, groupBy: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of groupBy) {
    const value = key === 'asg' ? facts.asgName : key === 'az' ? facts.az : facts.tags[key.slice(4)];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export function groupIds(groups: Readonly<Record<string, string>>): string[] {
  return Object.entries(groups).map(([k, v]) => `${k}=${v}`);
}

/** Limit per group id, counting every instance in `facts` (the whole group, not only affected members). */
export function groupLimits(
  facts: readonly InstanceFacts[],
  config: Pick<Config, 'groupBy' | 'maxUnavailablePerGroup'>,
): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const f of facts) {
    for (const g of groupIds(groupsOf(f, config.groupBy))) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  }
  const limits = new Map<string, number>();
  for (const [g, size] of sizes) limits.set(g, resolveLimit(config.maxUnavailablePerGroup, size));
  return limits;
}

/** One instance to act on: its notices share one remedy and one slot. */
interface Unit {
  readonly instanceId: string;
  readonly notices: readonly Notice[];
  readonly remedy: ActiveRemedy;
  readonly groups: Record<string, string>;
  /** Indexes into the planner's group table (interned group ids, for speed). */
  readonly groupIdx: readonly number[];
  /** Units with the same groups share a bucket (and the same fate against group limits). */
  bucket: number;
  /** Position in instance-id order: a cheap, deterministic tie-breaker. */
  readonly order: number;
  readonly waveIndex: number;
  readonly deadline: number;
  /**
   * How long the unit may be out of service from its slot: the verification timeout, plus for a
   * rescheduled event the event's window (AWS may perform it anywhere between NotBefore and NotAfter).
   */
  span: number;
  latest: number;
  earliest: number;
  anytime: boolean;
  reason?: string;
  rank: number;
}

const byInstanceThenEvent = (
  a: { instanceId: string; eventId: string },
  b: { instanceId: string; eventId: string },
) =>
  a.instanceId < b.instanceId
    ? -1
    : a.instanceId > b.instanceId
      ? 1
      : a.eventId < b.eventId
        ? -1
        : a.eventId > b.eventId
          ? 1
          : 0;

const edfLess = (a: Unit, b: Unit): boolean =>
  a.latest !== b.latest
    ? a.latest < b.latest
    : a.rank !== b.rank
      ? a.rank < b.rank
      : a.instanceId < b.instanceId;

interface Bucket {
  readonly units: MinHeap<Unit>;
  /** The unit at the head when the bucket was last queued; a different head means a stale queue entry. */
  queuedHead?: Unit;
}

/**
 * Ready units by bucket: a heap of buckets ordered by their head unit (earliest deadline first), with lazy
 * removal of stale entries. Filling a batch costs O((batch + buckets) log buckets), not O(ready units).
 */
class ReadyQueue {
  private readonly buckets = new Map<number, Bucket>();
  private readonly heap = new MinHeap<{ bucket: Bucket; head: Unit }>((a, b) => edfLess(a.head, b.head));
  size = 0;

  push(u: Unit): void {
    let bucket = this.buckets.get(u.bucket);
    if (!bucket) {
      bucket = { units: new MinHeap<Unit>(edfLess) };
      this.buckets.set(u.bucket, bucket);
    }
    bucket.units.push(u);
    this.size++;
    if (bucket.units.peek() === u) this.enqueue(bucket, u);
  }

  private enqueue(bucket: Bucket, head: Unit): void {
    bucket.queuedHead = head;
    this.heap.push({ bucket, head });
  }

  private clean(): void {
    for (let top = this.heap.peek(); top && top.bucket.queuedHead !== top.head; top = this.heap.peek())
      this.heap.pop();
  }

  /** The ready unit with the earliest deadline. */
  peek(): Unit | undefined {
    this.clean();
    return this.heap.peek()?.head;
  }

  /** Takes the bucket of peek() out of the queue; give it back with requeue(). */
  popBucket(): Bucket {
    this.clean();
    const top = this.heap.pop();
    if (!top) throw new Error('popBucket on an empty ReadyQueue');
    top.bucket.queuedHead = undefined;
    return top.bucket;
  }

  /** Removes the head unit of a bucket taken with popBucket(). */
  take(bucket: Bucket): Unit | undefined {
    const u = bucket.units.pop();
    if (u) this.size--;
    return u;
  }

  requeue(bucket: Bucket): void {
    const head = bucket.units.peek();
    if (head) this.enqueue(bucket, head);
  }

  /** Removes every unit whose latest start is before t. */
  expire(t: number, onExpired: (u: Unit) => void): void {
    for (let u = this.peek(); u && u.latest < t; u = this.peek()) {
      const bucket = this.popBucket();
      this.take(bucket);
      onExpired(u);
      this.requeue(bucket);
    }
  }
}

function deadlineOf(n: Notice, remedy: ActiveRemedy): number {
  return remedy === 'reschedule' ? (n.notBeforeDeadline ?? n.notBefore) : n.notBefore;
}

/** Where notices that are not planned go: skipped (nothing to do) or infeasible (cannot be done in time). */
class Outcomes {
  readonly skipped: SkippedNotice[] = [];
  readonly infeasible: InfeasibleNotice[] = [];

  constructor(readonly isoOf: (t: number) => string) {}

  skip(n: Notice, reason: string): void {
    this.skipped.push({ instanceId: n.instanceId, eventId: n.eventId, code: n.code, reason });
  }

  fail(u: Unit, reason: string): void {
    const deadline = this.isoOf(u.deadline);
    for (const n of u.notices)
      this.infeasible.push({ instanceId: n.instanceId, eventId: n.eventId, code: n.code, reason, deadline });
  }

  /** Sorted so that the plan does not depend on the order in which the phases met the notices. */
  sort(): void {
    this.skipped.sort(byInstanceThenEvent);
    this.infeasible.sort(byInstanceThenEvent);
  }
}

/** Group ids interned to indexes: the batch loop checks limits with array reads, not string-keyed maps. */
class GroupTable {
  readonly limitOf: number[] = [];
  private readonly index = new Map<string, number>();

  constructor(private readonly limits: ReadonlyMap<string, number>) {}

  intern(g: string): number {
    let k = this.index.get(g);
    if (k === undefined) {
      k = this.limitOf.length;
      this.index.set(g, k);
      this.limitOf.push(this.limits.get(g) ?? 1);
    }
    return k;
  }
}

function indexFacts(facts: readonly InstanceFacts[]): Map<string, InstanceFacts> {
  const factsById = new Map<string, InstanceFacts>();
  for (const f of facts) {
    const seen = factsById.get(f.instanceId);
    // A listed-twice instance: keep one by content, not by input order, so the plan stays deterministic.
    if (!seen || JSON.stringify(f) < JSON.stringify(seen)) factsById.set(f.instanceId, f);
  }
  return factsById;
}

type Candidate = { readonly n: Notice; readonly remedy: ActiveRemedy };

/** The instance's distinct active notices that a remedy applies to; the rest are skipped with the reason. */
function candidatesOf(
  own: readonly Notice[],
  f: InstanceFacts | undefined,
  unreadable: string | undefined,
  config: Config,
  out: Outcomes,
): Candidate[] {
  const optIn = config.optInTag;
  const candidates: Candidate[] = [];
  for (const n of own) {
    if (n.state !== 'active') out.skip(n, `inactive: event ${n.state}`);
    else if (!f && unreadable !== undefined)
      out.skip(
        n,
        `malformed-instance: its describe-instances record could not be read (${unreadable}); AWS acts at NotBefore`,
      );
    else if (!f) out.skip(n, 'unknown-instance: not in the describe-instances data');
    else if (!isOptedIn(f.tags, config))
      out.skip(n, `not-opted-in: lacks tag ${optIn.key}=${optIn.value}; AWS acts at NotBefore`);
    else if (f.state !== 'running')
      out.skip(n, `instance-not-running: instance is ${f.state}; nothing to take out of service`);
    else if (!isEventCode(n.code))
      out.skip(n, `unsupported-code: "${n.code}" is not a documented event code; AWS acts at NotBefore`);
    else {
      const choice = chooseRemedy(n, f, config);
      if (choice.remedy === null) out.skip(n, `no-remedy: ${choice.reason}; AWS acts at NotBefore`);
      else if (!isActiveRemedy(choice.remedy)) out.skip(n, `${choice.remedy}: ${choice.reason}`);
      else candidates.push({ n, remedy: choice.remedy });
    }
  }
  return candidates;
}

/** One remedy for all of an instance's candidates (one slot per instance); candidates it cannot cover are skipped. */
function oneRemedy(candidates: readonly Candidate[], config: Config, out: Outcomes): readonly Candidate[] {
  if (candidates.every((c) => c.remedy === candidates[0]?.remedy)) return candidates;
  // Two events, two remedies: one stop-start clears both when it applies to both; else act on the first due.
  const allStop =
    candidates.every((c) => config.remedies[c.n.code as keyof Config['remedies']].includes('stop-start')) &&
    candidates.some((c) => c.remedy === 'stop-start');
  if (allStop) return candidates.map((c) => ({ n: c.n, remedy: 'stop-start' as const }));
  const first = [...candidates].sort(
    (a, b) => deadlineOf(a.n, a.remedy) - deadlineOf(b.n, b.remedy),
  )[0] as Candidate;
  for (const c of candidates) {
    if (c !== first)
      out.skip(
        c.n,
        `second-event: ${c.n.instanceId} is planned for ${first.n.eventId} first; the next poll plans this one`,
      );
  }
  return [first];
}

/** Phase 1. Per instance: which notices need action, with which remedy, in which config wave. */
function unitsFromNotices(
  notices: readonly Notice[],
  factsById: ReadonlyMap<string, InstanceFacts>,
  unreadable: ReadonlyMap<string, string>,
  config: Config,
  groupTable: GroupTable,
  out: Outcomes,
): Unit[] {
  const sorted = [...notices].sort(byInstanceThenEvent);
  const units: Unit[] = [];
  let i = 0;
  while (i < sorted.length) {
    const instanceId = (sorted[i] as Notice).instanceId;
    const own: Notice[] = [];
    for (; i < sorted.length && (sorted[i] as Notice).instanceId === instanceId; i++) {
      const n = sorted[i] as Notice;
      const prev = own[own.length - 1];
      if (prev && prev.eventId === n.eventId) out.skip(n, 'duplicate: the same event was listed twice');
      else own.push(n);
    }
    const f = factsById.get(instanceId);
    const candidates = candidatesOf(own, f, unreadable.get(instanceId), config, out);
    if (!f || candidates.length === 0) continue;
    const chosen = oneRemedy(candidates, config, out);
    const remedy = (chosen[0] as Candidate).remedy;
    const waveIndex = waveIndexOf(f.tags, config);
    if (waveIndex < 0) {
      for (const c of chosen) out.skip(c.n, 'no-wave-matched: no wave match selects this instance');
      continue;
    }
    const groups = groupsOf(f, config.groupBy);
    units.push({
      instanceId,
      notices: chosen.map((c) => c.n),
      remedy,
      groups,
      groupIdx: groupIds(groups).map((g) => groupTable.intern(g)),
      bucket: 0,
      order: units.length,
      waveIndex,
      deadline: chosen.reduce((m, c) => Math.min(m, deadlineOf(c.n, remedy)), Number.POSITIVE_INFINITY),
      span: 0,
      latest: 0,
      earliest: 0,
      anytime: false,
      rank: 0,
    });
  }
  return units;
}

/**
 * The earliest whole minute a unit's slot may be: now, or for a reschedule 60 minutes plus the call margin
 * on, so that the call (made at slot - 60 min - margin at the latest) is never due before now.
 */
function lowerBoundOf(u: Unit, now: number): number {
  return ceilMinute(u.remedy === 'reschedule' ? now + RESCHEDULE_MIN_LEAD + RESCHEDULE_CALL_MARGIN : now);
}

/** Why an event whose NotBefore has passed is not planned: AWS may perform it at any moment now. */
function startedReason(notBefore: number, now: number): string {
  return `already-started: started ${formatRelative(notBefore, now)} (NotBefore ${isoSeconds(notBefore)}); AWS performs it within its window, on its own schedule`;
}

/**
 * Phase 2. Per unit: the span of starts that meet its deadline, and how that span relates to the windows.
 * Units that cannot meet their deadline are reported infeasible; the rest are returned, each in a bucket.
 */
function timeUnits(
  units: readonly Unit[],
  config: Config,
  now: number,
  calendar: WindowCalendar,
  out: Outcomes,
): Unit[] {
  const margin = config.deadlineMargin;
  const bucketIds = new Map<string, number>();
  const timed: Unit[] = [];
  for (const u of units) {
    const lower = lowerBoundOf(u, now);
    const firstNotBefore = u.notices.reduce((m, n) => Math.min(m, n.notBefore), Number.POSITIVE_INFINITY);
    if (firstNotBefore <= now) {
      out.fail(u, startedReason(firstNotBefore, now));
      continue;
    }
    // The call must arrive more than 5 minutes before the event starts, with the call margin on top.
    if (u.remedy === 'reschedule' && firstNotBefore <= now + RESCHEDULE_FREEZE + RESCHEDULE_CALL_MARGIN) {
      out.fail(
        u,
        `too-late-to-reschedule: the event starts within ${formatDuration(RESCHEDULE_FREEZE + RESCHEDULE_CALL_MARGIN)} (AWS refuses within ${formatDuration(RESCHEDULE_FREEZE)}, plus the call margin)`,
      );
      continue;
    }
    const eventWindow =
      u.remedy === 'reschedule'
        ? u.notices.reduce((m, n) => Math.max(m, n.notAfter === undefined ? 0 : n.notAfter - n.notBefore), 0)
        : 0;
    u.span = config.verification.timeout + eventWindow;
    // Floored: starts are whole minutes, and the latest whole minute must still meet the deadline.
    u.latest = floorMinute(u.deadline - margin - u.span);
    if (u.latest < lower) {
      out.fail(
        u,
        `deadline-too-close: needs ${formatDuration(margin + u.span + (lower - now))} before the deadline (deadlineMargin + verification${eventWindow > 0 ? ' + event window' : ''}${u.remedy === 'reschedule' ? ` + ${formatDuration(RESCHEDULE_MIN_LEAD + RESCHEDULE_CALL_MARGIN)} reschedule lead` : ''}), ${formatDuration(u.deadline - now)} left`,
      );
      continue;
    }
    const byLead = Math.min(Math.max(lower, ceilMinute(firstNotBefore - config.leadTime)), u.latest);
    const inSpan = calendar.nextOpen(byLead);
    if (inSpan <= u.latest) u.earliest = inSpan;
    else {
      const earlier = calendar.latestWindowStartIn(lower, byLead);
      if (earlier !== undefined) {
        u.earliest = earlier;
        u.reason =
          'earlier-window: no allowed window between NotBefore - leadTime and the deadline; planned in the latest earlier window';
      } else {
        u.earliest = u.latest;
        u.anytime = true;
        u.reason = 'outside-window: no allowed window before the deadline; planned at the latest safe slot';
      }
    }
    // Units with the same groups, window status and kind (reschedule or not: a batch holds one kind) share a
    // bucket: the same fate against group limits.
    const key = `${u.anytime ? 'A' : 'W'}${u.remedy === 'reschedule' ? 'R' : 'X'}|${u.groupIdx.join(',')}`;
    let bucket = bucketIds.get(key);
    if (bucket === undefined) {
      bucket = bucketIds.size;
      bucketIds.set(key, bucket);
    }
    u.bucket = bucket;
    timed.push(u);
  }
  return timed;
}

/** Phase 2b. A wave must run before the waves after it: it may start as early as they could, ahead of leadTime. */
function pullWavesAhead(byWave: readonly (readonly Unit[])[], now: number, calendar: WindowCalendar): void {
  let laterEarliest = Number.POSITIVE_INFINITY;
  for (let w = byWave.length - 1; w >= 0; w--) {
    const mine = byWave[w] ?? [];
    for (const u of mine) {
      if (u.anytime || laterEarliest >= u.earliest) continue;
      const t = calendar.nextOpen(Math.max(lowerBoundOf(u, now), laterEarliest));
      if (t < u.earliest) {
        u.earliest = t;
        u.reason ??=
          'ahead-of-later-waves: planned before NotBefore - leadTime so that the waves after it can start in time';
      }
    }
    for (const u of mine) laterEarliest = Math.min(laterEarliest, u.earliest);
  }
}

/**
 * One wave's units on their way into batches: pending (sorted by earliest start) until their earliest start
 * comes, then ready (earliest deadline first). Windowed units start only inside a window; anytime units
 * (no window before their deadline) start whenever they fit.
 */
class WaveQueues {
  readonly readyW = new ReadyQueue();
  readonly readyA = new ReadyQueue();
  private pw = 0;
  private pa = 0;

  constructor(
    private readonly pendingW: readonly Unit[],
    private readonly pendingA: readonly Unit[],
    private readonly calendar: WindowCalendar,
    /** Called for a unit whose latest start passed before any batch could take it. */
    private readonly noSlot: (u: Unit) => void,
  ) {}

  /** The earliest start ≥ cursor that some unit can take; +Infinity when the wave is done. */
  nextStart(cursor: number): number {
    return Math.min(this.nextWindowed(cursor), this.nextAnytime(cursor));
  }

  private nextWindowed(cursor: number): number {
    for (;;) {
      if (this.readyW.size > 0) {
        const t = this.calendar.nextOpen(cursor);
        this.readyW.expire(t, this.noSlot);
        if (this.readyW.size > 0) return t;
        continue;
      }
      const head = this.pendingW[this.pw];
      if (!head) return Number.POSITIVE_INFINITY;
      const t = this.calendar.nextOpen(Math.max(cursor, head.earliest));
      if (t <= head.latest) return t;
      this.noSlot(head);
      this.pw++;
    }
  }

  private nextAnytime(cursor: number): number {
    this.readyA.expire(cursor, this.noSlot);
    if (this.readyA.size > 0) return cursor;
    for (let head = this.pendingA[this.pa]; head; head = this.pendingA[this.pa]) {
      const t = Math.max(cursor, head.earliest);
      if (t <= head.latest) return t;
      this.noSlot(head);
      this.pa++;
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Moves every pending unit whose earliest start is ≤ s into the ready queues. */
  admit(s: number): void {
    for (let u = this.pendingW[this.pw]; u && u.earliest <= s; u = this.pendingW[++this.pw]) {
      if (u.latest < s) this.noSlot(u);
      else this.readyW.push(u);
    }
    for (let u = this.pendingA[this.pa]; u && u.earliest <= s; u = this.pendingA[++this.pa]) {
      if (u.latest < s) this.noSlot(u);
      else this.readyA.push(u);
    }
  }
}

/** Units of each remedy one batch may hold so that its EC2 calls fit the API's throughput (AWS-FACTS §6). */
export interface BatchApiCaps {
  /**
   * Stop-starts, counting each reboot-migrate as MIGRATION_FALLBACK_SHARE of one: a migration that fails
   * falls back to a stop-start.
   */
  readonly stopStart: number;
  /** Reboot-migrates, whose RebootInstances calls must all be made before the stop-start work would start. */
  readonly reboot: number;
  /** Reschedules of one batch fall due together; each call must be made within the call margin. */
  readonly reschedule: number;
}

export function batchApiCaps(verificationTimeout: number): BatchApiCaps {
  return {
    stopStart: maxStopStartsPerBatch(verificationTimeout),
    reboot: maxRebootsWithin(Math.max(verificationTimeout - STOP_START_WORK, MINUTE)),
    reschedule: maxReschedulesWithin(RESCHEDULE_CALL_MARGIN),
  };
}

/** What one batch being filled has used of its API caps. */
export class ApiBudget {
  /** Starts reserved: one per stop-start, MIGRATION_FALLBACK_SHARE per reboot-migrate (exact in binary). */
  private starts = 0;
  private reboots = 0;
  private reschedules = 0;

  constructor(private readonly caps: BatchApiCaps) {}

  /** `calls`: a reschedule makes one call per event of the instance. */
  fits(remedy: ActiveRemedy, calls = 1): boolean {
    switch (remedy) {
      case 'stop-start':
        return this.starts + 1 <= this.caps.stopStart;
      case 'reboot-migrate':
        return (
          this.reboots < this.caps.reboot && this.starts + MIGRATION_FALLBACK_SHARE <= this.caps.stopStart
        );
      case 'reschedule':
        return this.reschedules + calls <= this.caps.reschedule;
    }
  }

  add(remedy: ActiveRemedy, calls = 1): void {
    if (remedy === 'reschedule') this.reschedules += calls;
    else if (remedy === 'stop-start') this.starts++;
    else {
      this.starts += MIGRATION_FALLBACK_SHARE;
      this.reboots++;
    }
  }
}

interface ScheduleContext {
  readonly config: Config;
  readonly now: number;
  readonly apiCaps: BatchApiCaps;
  readonly calendar: WindowCalendar;
  readonly limitOf: readonly number[];
  /** Per-group count in the batch being filled; fillBatch leaves it all zero again. */
  readonly used: Int32Array;
  readonly out: Outcomes;
  readonly isoOf: (t: number) => string;
  readonly batches: PlanBatch[];
}

interface Filled {
  readonly units: Unit[];
  /** The batch lasts as long as its longest unit. */
  readonly span: number;
  /** A unit that fit maxParallel, its groups and its deadline was left out for the API caps alone. */
  readonly limitedByApi: boolean;
}

/**
 * Fills the batch starting at s earliest-deadline-first within maxParallel, every group's limit and the API
 * caps. Units of one bucket share their groups, so a bucket that does not fit is set aside whole for this batch.
 */
function fillBatch(s: number, q: WaveQueues, maxParallel: number, ctx: ScheduleContext): Filled {
  const { used, limitOf } = ctx;
  const windowOpen = ctx.calendar.contains(s);
  const touched: number[] = [];
  const units: Unit[] = [];
  const setAside: Array<[ReadyQueue, Bucket]> = [];
  const api = new ApiBudget({ ...ctx.apiCaps, reschedule: rescheduleCapAt(s, ctx) });
  let apiRefused = false;
  // The batch lasts as long as its longest unit; it must still end by every member's deadline - margin.
  let span = 0;
  let endLimit = Number.POSITIVE_INFINITY;
  // A batch holds reschedules or remedies Forestall applies, never both: AWS fixes a reschedule's time, so a
  // batch holding one cannot start early, and it keeps its groups out for the whole event window.
  let reschedules: boolean | undefined;
  while (units.length < maxParallel) {
    const w = windowOpen ? q.readyW.peek() : undefined;
    const a = q.readyA.peek();
    const queue =
      w !== undefined && (a === undefined || edfLess(w, a))
        ? q.readyW
        : a !== undefined
          ? q.readyA
          : undefined;
    if (!queue) break;
    const bucket = queue.popBucket();
    const u = bucket.units.peek() as Unit;
    if (reschedules !== undefined && reschedules !== (u.remedy === 'reschedule')) {
      setAside.push([queue, bucket]);
      continue;
    }
    const fitsTime = s + u.span <= endLimit && s + span <= u.latest + u.span;
    const fitsGroups = fitsTime && u.groupIdx.every((g) => (used[g] ?? 0) < (limitOf[g] ?? 1));
    // Checked last, so that the batch says it was cut by the API only when nothing else held the unit back.
    const fitsApi = fitsGroups && api.fits(u.remedy, u.notices.length);
    if (fitsGroups && !fitsApi) apiRefused = true;
    if (fitsApi) {
      queue.take(bucket);
      queue.requeue(bucket);
      units.push(u);
      reschedules = u.remedy === 'reschedule';
      api.add(u.remedy, u.notices.length);
      span = Math.max(span, u.span);
      endLimit = Math.min(endLimit, u.latest + u.span);
      for (const g of u.groupIdx) {
        if (used[g] === 0) touched.push(g);
        used[g] = (used[g] ?? 0) + 1;
      }
    } else setAside.push([queue, bucket]);
  }
  for (const [queue, bucket] of setAside) queue.requeue(bucket);
  for (const g of touched) used[g] = 0;
  return { units, span, limitedByApi: apiRefused && units.length < maxParallel };
}

/**
 * Reschedules a batch starting at s may hold: the calls that fit the call margin, plus those the time before
 * their latest call time allows (RESCHEDULE_SPREAD_MAX at most), counted from the plan's making or from when
 * the previous reschedule batch's calls are done, whichever is later: two batches' calls never overlap.
 */
function rescheduleCapAt(s: number, ctx: ScheduleContext): number {
  let free = ctx.now;
  for (let k = ctx.batches.length - 1; k >= 0; k--) {
    const b = ctx.batches[k];
    if (b?.items[0]?.remedy !== 'reschedule') continue;
    free = Math.max(free, Date.parse(b.startAt) - RESCHEDULE_MIN_LEAD);
    break;
  }
  const latestCall = s - RESCHEDULE_MIN_LEAD - RESCHEDULE_CALL_MARGIN;
  const spread = Math.min(RESCHEDULE_SPREAD_MAX, Math.max(0, latestCall - free));
  return maxReschedulesWithin(RESCHEDULE_CALL_MARGIN + spread);
}

/** The plan batch for filled units: items in instance-id order, each event of an instance its own item. */
function toBatch(index: number, wave: string, s: number, filled: Filled, ctx: ScheduleContext): PlanBatch {
  const items: PlanItem[] = [];
  filled.units.sort((a, b) => a.order - b.order); // events of one instance are already sorted
  for (const u of filled.units) {
    for (const n of u.notices) {
      const item: PlanItem = {
        instanceId: u.instanceId,
        eventId: n.eventId,
        code: n.code,
        remedy: u.remedy,
        notBefore: ctx.isoOf(n.notBefore),
        deadline: ctx.isoOf(deadlineOf(n, u.remedy)),
        groups: u.groups,
      };
      items.push(u.reason === undefined ? item : { ...item, reason: u.reason });
    }
  }
  const batch = { index, wave, startAt: iso(s), endBy: iso(s + filled.span) };
  // limitedBy only when true, so that a batch the API did not cut has the same JSON as before.
  return filled.limitedByApi ? { ...batch, limitedBy: 'api', items } : { ...batch, items };
}

/** Phase 3. Cuts one config wave into batches from `cursor` on; returns the cursor for the next wave. */
function scheduleWave(
  waveIndex: number,
  mine: readonly Unit[],
  cursor: number,
  ctx: ScheduleContext,
): number {
  const wave = ctx.config.waves[waveIndex];
  if (!wave || mine.length === 0) return cursor;
  // Rank inside each group combination, so equal deadlines interleave across groups.
  const rankKey = new Map<number, number>();
  for (const u of [...mine].sort((a, b) => a.latest - b.latest || a.order - b.order)) {
    const r = rankKey.get(u.bucket) ?? 0;
    u.rank = r;
    rankKey.set(u.bucket, r + 1);
  }
  const maxParallel = resolveLimit(wave.maxParallel, mine.length);
  const byEarliest = (a: Unit, b: Unit) => a.earliest - b.earliest || a.order - b.order;
  const q = new WaveQueues(
    mine.filter((u) => !u.anytime).sort(byEarliest),
    mine.filter((u) => u.anytime).sort(byEarliest),
    ctx.calendar,
    (u) =>
      ctx.out.fail(
        u,
        'no-slot: earlier waves and batches, group limits and EC2 API throughput leave no slot in a window before the deadline',
      ),
  );
  for (;;) {
    const s = q.nextStart(cursor);
    if (s === Number.POSITIVE_INFINITY) return cursor;
    q.admit(s);
    const filled = fillBatch(s, q, maxParallel, ctx);
    if (filled.units.length === 0) {
      cursor = s + MINUTE; // cannot happen with limits >= 1; never loop forever
      continue;
    }
    ctx.batches.push(toBatch(ctx.batches.length, wave.name, s, filled, ctx));
    cursor = ceilMinute(s + filled.span + wave.bake); // the next batch's slot is a whole minute too
  }
}

/** The id names the plan's content (what, how and when), so the same input gives the same rollout id. */
function rolloutIdOf(now: number, batches: readonly PlanBatch[], out: Outcomes): string {
  const { skipped, infeasible } = out;
  const hash = createHash('sha256').update(String(now));
  for (const e of batches) {
    hash.update(
      `|${e.wave}@${e.startAt}:${e.items.length}:${e.items[0]?.eventId}:${e.items[e.items.length - 1]?.eventId}`,
    );
  }
  hash.update(`|${skipped.length}:${skipped[0]?.eventId}|${infeasible.length}:${infeasible[0]?.eventId}`);
  const digest = hash.digest('hex').slice(0, 12);
  const stamp = iso(now).replace(/[-:]/g, '').slice(0, 13);
  return `fs-${stamp}-${digest}`;
}

/** A cache of ISO strings: many events share a NotBefore. */
function isoMemo(): (t: number) => string {
  const cache = new Map<number, string>();
  return (t) => {
    let text = cache.get(t);
    if (text === undefined) {
      text = iso(t);
      cache.set(t, text);
    }
    return text;
  };
}

/**
 * `unreadable`: instance id → why its describe-instances record could not be read (where and what), so that
 * its notices say so rather than that the instance is missing from the data.
 */
export function planRollout(
  notices: readonly Notice[],
  facts: readonly InstanceFacts[],
  config: Config,
  now: number,
  unreadable: ReadonlyMap<string, string> = new Map(),
): Plan {
  const isoOf = isoMemo();
  const out = new Outcomes(isoOf);
  const factsById = indexFacts(facts);
  const groupTable = new GroupTable(groupLimits([...factsById.values()], config));
  const units = unitsFromNotices(notices, factsById, unreadable, config, groupTable, out);

  let horizon = now;
  for (const u of units) horizon = Math.max(horizon, u.deadline);
  const calendar = new WindowCalendar(config.windows, now, horizon);
  const timed = timeUnits(units, config, now, calendar, out);
  const byWave = config.waves.map((_w, w) => timed.filter((u) => u.waveIndex === w));
  pullWavesAhead(byWave, now, calendar);

  const ctx: ScheduleContext = {
    config,
    now,
    apiCaps: batchApiCaps(config.verification.timeout),
    calendar,
    limitOf: groupTable.limitOf,
    used: new Int32Array(groupTable.limitOf.length),
    out,
    isoOf,
    batches: [],
  };
  let cursor = now; // no rounding needed: every unit's earliest start is >= ceilMinute(now) (lowerBoundOf)
  byWave.forEach((mine, w) => {
    cursor = scheduleWave(w, mine, cursor, ctx);
  });

  out.sort();
  return {
    rolloutId: rolloutIdOf(now, ctx.batches, out),
    generatedAt: iso(now),
    batches: ctx.batches,
    skipped: out.skipped,
    infeasible: out.infeasible,
  };
}
