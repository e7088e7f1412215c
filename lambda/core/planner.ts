/**
 * planRollout: notices + facts + config + now → Plan. Pure and deterministic (inputs are sorted first; no
 * clock read). The rules it keeps (DESIGN.md "Planner rules"):
 * - every planned entry ends (slot + verification timeout, + the event window for rescheduled events, since
 *   AWS may act anywhere in it) by each of its items' deadline minus deadlineMargin;
 * - entries never overlap, so the per-group limit, counted against the whole group, holds at every instant;
 * - config waves run in order; inside a wave, earliest deadline first, ties spread across groups;
 * - an entry starts inside a window unless none exists before the deadline (`outside-window` reason);
 * - every notice lands in exactly one of waves, skipped, infeasible.
 */
import { createHash } from 'node:crypto';
import { type Config, resolveLimit } from './config';
import { MinHeap } from './heap';
import { chooseRemedy } from './remedy';
import { formatDuration, iso, MINUTE } from './time';
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

/** ModifyInstanceEventStartTime: the new start must be at least 60 minutes away (AWS-FACTS §3). */
export const RESCHEDULE_MIN_LEAD = 60 * MINUTE;
/** ...and the event must not start within 5 minutes of the call. */
export const RESCHEDULE_FREEZE = 5 * MINUTE;

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

export function planRollout(
  notices: readonly Notice[],
  facts: readonly InstanceFacts[],
  config: Config,
  now: number,
): Plan {
  const skipped: SkippedNotice[] = [];
  const infeasible: InfeasibleNotice[] = [];
  const skip = (n: Notice, reason: string) =>
    skipped.push({ instanceId: n.instanceId, eventId: n.eventId, code: n.code, reason });
  const fail = (n: Notice, reason: string, deadline: number) =>
    infeasible.push({
      instanceId: n.instanceId,
      eventId: n.eventId,
      code: n.code,
      reason,
      deadline: iso(deadline),
    });

  const factsById = new Map<string, InstanceFacts>();
  for (const f of facts) {
    const seen = factsById.get(f.instanceId);
    // A listed-twice instance: keep one by content, not by input order, so the plan stays deterministic.
    if (!seen || JSON.stringify(f) < JSON.stringify(seen)) factsById.set(f.instanceId, f);
  }
  const limits = groupLimits([...factsById.values()], config);
  // Group ids interned to indexes: the batch loop checks limits with array reads, not string-keyed maps.
  const groupIndex = new Map<string, number>();
  const limitOf: number[] = [];
  const intern = (g: string): number => {
    let k = groupIndex.get(g);
    if (k === undefined) {
      k = limitOf.length;
      groupIndex.set(g, k);
      limitOf.push(limits.get(g) ?? 1);
    }
    return k;
  };
  const bucketIds = new Map<string, number>();
  const optIn = config.optInTag;
  const verify = config.verification.timeout;
  const margin = config.deadlineMargin;

  const waveMatchers = config.waves.map((w) => Object.entries(w.match.tags));

  // 1. Per instance: which notices need action, with which remedy.
  const sorted = [...notices].sort(byInstanceThenEvent);
  const units: Unit[] = [];
  let i = 0;
  while (i < sorted.length) {
    const instanceId = (sorted[i] as Notice).instanceId;
    const own: Notice[] = [];
    for (; i < sorted.length && (sorted[i] as Notice).instanceId === instanceId; i++) {
      const n = sorted[i] as Notice;
      const prev = own[own.length - 1];
      if (prev && prev.eventId === n.eventId) skip(n, 'duplicate: the same event was listed twice');
      else own.push(n);
    }
    const f = factsById.get(instanceId);
    const candidates: Array<{ n: Notice; remedy: ActiveRemedy }> = [];
    for (const n of own) {
      if (n.state !== 'active') skip(n, `inactive: event ${n.state}`);
      else if (!f) skip(n, 'unknown-instance: not in the describe-instances data');
      else if (f.tags[optIn.key] !== optIn.value)
        skip(n, `not-opted-in: lacks tag ${optIn.key}=${optIn.value}; AWS acts at NotBefore`);
      else if (f.state !== 'running')
        skip(n, `instance-not-running: instance is ${f.state}; nothing to take out of service`);
      else if (!isEventCode(n.code))
        skip(n, `unsupported-code: "${n.code}" is not a documented event code; AWS acts at NotBefore`);
      else {
        const choice = chooseRemedy(n, f, config);
        if (choice.remedy === null) skip(n, `no-remedy: ${choice.reason}; AWS acts at NotBefore`);
        else if (!isActiveRemedy(choice.remedy)) skip(n, `${choice.remedy}: ${choice.reason}`);
        else candidates.push({ n, remedy: choice.remedy });
      }
    }
    if (!f || candidates.length === 0) continue;
    let chosen = candidates;
    if (candidates.some((c) => c.remedy !== candidates[0]?.remedy)) {
      // Two events, two remedies: one stop-start clears both when it applies to both; else act on the first due.
      const allStop =
        candidates.every((c) =>
          config.remedies[c.n.code as keyof Config['remedies']].includes('stop-start'),
        ) && candidates.some((c) => c.remedy === 'stop-start');
      if (allStop) chosen = candidates.map((c) => ({ n: c.n, remedy: 'stop-start' as const }));
      else {
        const first = [...candidates].sort(
          (a, b) => deadlineOf(a.n, a.remedy) - deadlineOf(b.n, b.remedy),
        )[0] as (typeof candidates)[number];
        for (const c of candidates) {
          if (c !== first)
            skip(
              c.n,
              `second-event: ${instanceId} is planned for ${first.n.eventId} first; the next poll plans this one`,
            );
        }
        chosen = [first];
      }
    }
    const remedy = (chosen[0] as (typeof chosen)[number]).remedy;
    const waveIndex = waveMatchers.findIndex((tags) => tags.every(([k, v]) => f.tags[k] === v));
    if (waveIndex < 0) {
      for (const c of chosen) skip(c.n, 'no-wave-matched: no wave match selects this instance');
      continue;
    }
    const groups = groupsOf(f, config.groupBy);
    units.push({
      instanceId,
      notices: chosen.map((c) => c.n),
      remedy,
      groups,
      groupIdx: groupIds(groups).map(intern),
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

  // 2. Per unit: the span it may start in, and how it relates to the windows.
  let horizon = now;
  for (const u of units) horizon = Math.max(horizon, u.deadline);
  const calendar = new WindowCalendar(config.windows, now, horizon);
  const failUnit = (u: Unit, reason: string) => {
    for (const n of u.notices) fail(n, reason, u.deadline);
  };
  const timed: Unit[] = [];
  for (const u of units) {
    const lower = u.remedy === 'reschedule' ? now + RESCHEDULE_MIN_LEAD : now;
    const firstNotBefore = u.notices.reduce((m, n) => Math.min(m, n.notBefore), Number.POSITIVE_INFINITY);
    if (u.remedy === 'reschedule' && firstNotBefore <= now + RESCHEDULE_FREEZE) {
      failUnit(u, 'too-late-to-reschedule: the event starts within 5 minutes or has started');
      continue;
    }
    const eventWindow =
      u.remedy === 'reschedule'
        ? u.notices.reduce((m, n) => Math.max(m, n.notAfter === undefined ? 0 : n.notAfter - n.notBefore), 0)
        : 0;
    u.span = verify + eventWindow;
    u.latest = u.deadline - margin - u.span;
    if (u.latest < lower) {
      failUnit(
        u,
        `deadline-too-close: needs ${formatDuration(margin + u.span + (lower - now))} before the deadline (deadlineMargin + verification${eventWindow > 0 ? ' + event window' : ''}${u.remedy === 'reschedule' ? ' + 60m reschedule lead' : ''}), ${formatDuration(u.deadline - now)} left`,
      );
      continue;
    }
    const byLead = Math.min(Math.max(lower, firstNotBefore - config.leadTime), u.latest);
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
    const key = `${u.anytime ? 'A' : 'W'}|${u.groupIdx.join(',')}`;
    let bucket = bucketIds.get(key);
    if (bucket === undefined) {
      bucket = bucketIds.size;
      bucketIds.set(key, bucket);
    }
    u.bucket = bucket;
    timed.push(u);
  }

  // 2b. A wave must run before the waves after it: it may start as early as they could, ahead of leadTime.
  let laterEarliest = Number.POSITIVE_INFINITY;
  for (let w = config.waves.length - 1; w >= 0; w--) {
    const mine = timed.filter((u) => u.waveIndex === w);
    for (const u of mine) {
      if (u.anytime || laterEarliest >= u.earliest) continue;
      const lower = u.remedy === 'reschedule' ? now + RESCHEDULE_MIN_LEAD : now;
      const t = calendar.nextOpen(Math.max(lower, laterEarliest));
      if (t < u.earliest) {
        u.earliest = t;
        u.reason ??=
          'ahead-of-later-waves: planned before NotBefore - leadTime so that the waves after it can start in time';
      }
    }
    for (const u of mine) laterEarliest = Math.min(laterEarliest, u.earliest);
  }

  // 3. Schedule config waves in order; each batch is one plan entry, entries never overlap.
  const isoCache = new Map<number, string>(); // many events share a NotBefore
  const isoOf = (t: number): string => {
    let text = isoCache.get(t);
    if (text === undefined) {
      text = iso(t);
      isoCache.set(t, text);
    }
    return text;
  };
  const entries: PlanBatch[] = [];
  const used = new Int32Array(limitOf.length); // per batch, reset through `touched`
  let cursor = now;
  config.waves.forEach((wave, waveIndex) => {
    const mine = timed.filter((u) => u.waveIndex === waveIndex);
    if (mine.length === 0) return;
    // Rank inside each group combination, so equal deadlines interleave across groups.
    const rankKey = new Map<number, number>();
    for (const u of [...mine].sort((a, b) => a.latest - b.latest || a.order - b.order)) {
      const r = rankKey.get(u.bucket) ?? 0;
      u.rank = r;
      rankKey.set(u.bucket, r + 1);
    }
    const maxParallel = resolveLimit(wave.maxParallel, mine.length);
    const byEarliest = (a: Unit, b: Unit) => a.earliest - b.earliest || a.order - b.order;
    const pendingW = mine.filter((u) => !u.anytime).sort(byEarliest);
    const pendingA = mine.filter((u) => u.anytime).sort(byEarliest);
    const readyW = new ReadyQueue();
    const readyA = new ReadyQueue();
    let pw = 0;
    let pa = 0;
    const noSlot = (u: Unit) =>
      failUnit(
        u,
        'no-slot: earlier waves, batches and group limits leave no slot in a window before the deadline',
      );

    for (;;) {
      // Earliest start a windowed unit can take.
      let tW = Number.POSITIVE_INFINITY;
      for (;;) {
        if (readyW.size > 0) {
          const t = calendar.nextOpen(cursor);
          readyW.expire(t, noSlot);
          if (readyW.size > 0) {
            tW = t;
            break;
          }
          continue;
        }
        const head = pendingW[pw];
        if (!head) break;
        const t = calendar.nextOpen(Math.max(cursor, head.earliest));
        if (t > head.latest) {
          noSlot(head);
          pw++;
          continue;
        }
        tW = t;
        break;
      }
      // Earliest start an anytime unit can take.
      let tA = Number.POSITIVE_INFINITY;
      readyA.expire(cursor, noSlot);
      if (readyA.size > 0) tA = cursor;
      else {
        for (let head = pendingA[pa]; head; head = pendingA[pa]) {
          const t = Math.max(cursor, head.earliest);
          if (t <= head.latest) {
            tA = t;
            break;
          }
          noSlot(head);
          pa++;
        }
      }
      const s = Math.min(tW, tA);
      if (s === Number.POSITIVE_INFINITY) break;
      for (let u = pendingW[pw]; u && u.earliest <= s; u = pendingW[++pw]) {
        if (u.latest < s) noSlot(u);
        else readyW.push(u);
      }
      for (let u = pendingA[pa]; u && u.earliest <= s; u = pendingA[++pa]) {
        if (u.latest < s) noSlot(u);
        else readyA.push(u);
      }
      const windowOpen = calendar.contains(s);

      // Fill the batch earliest-deadline-first within maxParallel and every group's limit. Units of one
      // bucket share their groups, so a bucket that does not fit is set aside whole for this batch.
      const touched: number[] = [];
      const batch: Unit[] = [];
      const setAside: Array<[ReadyQueue, Bucket]> = [];
      // The entry lasts as long as its longest unit; it must still end by every member's deadline - margin.
      let batchSpan = 0;
      let batchEndLimit = Number.POSITIVE_INFINITY;
      while (batch.length < maxParallel) {
        const w = windowOpen ? readyW.peek() : undefined;
        const a = readyA.peek();
        const queue =
          w !== undefined && (a === undefined || edfLess(w, a))
            ? readyW
            : a !== undefined
              ? readyA
              : undefined;
        if (!queue) break;
        const bucket = queue.popBucket();
        const u = bucket.units.peek() as Unit;
        const fitsTime = s + u.span <= batchEndLimit && s + batchSpan <= u.latest + u.span;
        if (fitsTime && u.groupIdx.every((g) => (used[g] ?? 0) < (limitOf[g] ?? 1))) {
          queue.take(bucket);
          queue.requeue(bucket);
          batch.push(u);
          batchSpan = Math.max(batchSpan, u.span);
          batchEndLimit = Math.min(batchEndLimit, u.latest + u.span);
          for (const g of u.groupIdx) {
            if (used[g] === 0) touched.push(g);
            used[g] = (used[g] ?? 0) + 1;
          }
        } else setAside.push([queue, bucket]);
      }
      for (const [queue, bucket] of setAside) queue.requeue(bucket);
      for (const g of touched) used[g] = 0;
      if (batch.length === 0) {
        cursor = s + MINUTE; // cannot happen with limits >= 1; never loop forever
        continue;
      }
      const end = s + batchSpan;
      const items: PlanItem[] = [];
      batch.sort((a, b) => a.order - b.order); // instance-id order; events of one instance are already sorted
      for (const u of batch) {
        for (const n of u.notices) {
          const item: PlanItem = {
            instanceId: u.instanceId,
            eventId: n.eventId,
            code: n.code,
            remedy: u.remedy,
            deadline: isoOf(deadlineOf(n, u.remedy)),
            groups: u.groups,
          };
          items.push(u.reason === undefined ? item : { ...item, reason: u.reason });
        }
      }
      entries.push({
        index: entries.length,
        wave: wave.name,
        startAt: iso(s),
        endBy: iso(end),
        items,
      });
      cursor = end + wave.bake;
    }
  });

  skipped.sort(byInstanceThenEvent);
  infeasible.sort(byInstanceThenEvent);
  // The id names the plan's content (what, how and when), so the same input gives the same rollout id.
  const hash = createHash('sha256').update(String(now));
  for (const e of entries) {
    hash.update(
      `|${e.wave}@${e.startAt}:${e.items.length}:${e.items[0]?.eventId}:${e.items[e.items.length - 1]?.eventId}`,
    );
  }
  hash.update(`|${skipped.length}:${skipped[0]?.eventId}|${infeasible.length}:${infeasible[0]?.eventId}`);
  const digest = hash.digest('hex').slice(0, 12);
  const stamp = iso(now).replace(/[-:]/g, '').slice(0, 13);
  return { rolloutId: `fs-${stamp}-${digest}`, generatedAt: iso(now), batches: entries, skipped, infeasible };
}
