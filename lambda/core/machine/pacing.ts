/**
 * Pacing: the machine keeps a model of EC2's token buckets as its own calls drain them (AWS-FACTS §6) and
 * issues no more than they admit, so a large batch is spread over seconds instead of being throttled.
 * Other callers in the account share the buckets: a call throttled anyway comes back retryable.
 */
import { ACTION_BATCH, type BucketName, EC2_BUCKETS } from '../api-limits';
import type { RolloutState } from './state';

function level(s: RolloutState, name: BucketName, now: number): number {
  const b = EC2_BUCKETS[name];
  const st = s.buckets[name] ?? { tokens: b.capacity, at: now };
  return Math.min(b.capacity, st.tokens + (Math.max(0, now - st.at) / 1000) * b.refillPerSecond);
}

/** How many of `want` units the buckets admit now (each unit costs `cost[bucket]` tokens). */
export function admitted(
  s: RolloutState,
  now: number,
  want: number,
  cost: Partial<Record<BucketName, number>>,
): number {
  let n = want;
  for (const [name, per] of Object.entries(cost) as Array<[BucketName, number]>) {
    if (per > 0) n = Math.min(n, Math.floor(level(s, name, now) / per));
  }
  return Math.max(0, n);
}

export function spend(s: RolloutState, now: number, cost: Partial<Record<BucketName, number>>): void {
  for (const [name, n] of Object.entries(cost) as Array<[BucketName, number]>) {
    s.buckets[name] = { tokens: level(s, name, now) - n, at: now };
  }
}

/** When the buckets will admit one more unit of `cost`. */
export function nextAdmission(
  s: RolloutState,
  now: number,
  cost: Partial<Record<BucketName, number>>,
): number {
  let t = now;
  for (const [name, per] of Object.entries(cost) as Array<[BucketName, number]>) {
    const missing = per - level(s, name, now);
    if (missing > 0) t = Math.max(t, now + Math.ceil((missing / EC2_BUCKETS[name].refillPerSecond) * 1000));
  }
  return t;
}

/**
 * When EC2 will have admitted `starts` more starts (StartInstances' request and resource buckets, from their
 * level now at their refill rates): a stop-start queued behind them cannot start earlier.
 */
export function startsAdmittedBy(s: RolloutState, now: number, starts: number): number {
  const wait = (name: BucketName, n: number) =>
    Math.max(0, n - level(s, name, now)) / EC2_BUCKETS[name].refillPerSecond;
  const seconds = Math.max(wait('startResource', starts), wait('start', Math.ceil(starts / ACTION_BATCH)));
  return now + Math.ceil(seconds * 1000);
}
