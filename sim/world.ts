/**
 * What every simulated service in the Region shares: the simulated clock and its timers, the seeded RNG,
 * and the API token buckets (AWS-FACTS §6) with the count of calls made and throttled.
 */
import { EC2_BUCKETS } from '../lambda/core/api-limits';
import { MinHeap } from '../lambda/core/heap';
import type { SimBehaviour } from './behaviour';
import type { Rng } from './rng';

export type Cause = 'forestall' | 'aws';

export class SimApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'SimApiError';
  }
}

class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  take(n: number, now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** Per account and Region; each service keeps its own (AWS-FACTS §6). */
const BUCKETS = {
  ...EC2_BUCKETS,
  /** Unfiltered and unpaginated DescribeInstances / DescribeInstanceStatus (AWS-FACTS §6). */
  describeUnfiltered: { capacity: 50, refillPerSecond: 10 },
  /** Auto Scaling publishes no figures: one bucket for all its calls, an assumption. */
  autoscaling: { capacity: 40, refillPerSecond: 10 },
  /** ELB API version 2, non-mutating calls (as documented). */
  elbDescribe: { capacity: 40, refillPerSecond: 10 },
  /** ELB API version 2, RegisterTargets / DeregisterTargets: an assumption, tighter than Describe. */
  elbMutate: { capacity: 20, refillPerSecond: 2 },
} as const;

export type BucketName = keyof typeof BUCKETS;

interface Timer {
  readonly t: number;
  readonly seq: number;
  readonly run: () => void;
}

export class SimWorld {
  private nowMs: number;
  private readonly timers = new MinHeap<Timer>((a, b) => (a.t !== b.t ? a.t < b.t : a.seq < b.seq));
  private seq = 0;
  private readonly buckets: Record<BucketName, TokenBucket>;
  readonly apiCalls: Record<string, number> = {};
  throttled = 0;

  constructor(
    readonly start: number,
    readonly behaviour: SimBehaviour,
    readonly rng: Rng,
  ) {
    this.nowMs = start;
    const buckets: Partial<Record<BucketName, TokenBucket>> = {};
    for (const [name, b] of Object.entries(BUCKETS) as Array<[BucketName, (typeof BUCKETS)[BucketName]]>)
      buckets[name] = new TokenBucket(b.capacity, b.refillPerSecond, start);
    this.buckets = buckets as Record<BucketName, TokenBucket>;
  }

  get now(): number {
    return this.nowMs;
  }

  /** Runs every timer due up to t, in time order, then sets the clock to t. */
  advanceTo(t: number): void {
    for (let next = this.timers.peek(); next && next.t <= t; next = this.timers.peek()) {
      this.timers.pop();
      this.nowMs = Math.max(this.nowMs, next.t);
      next.run();
    }
    this.nowMs = Math.max(this.nowMs, t);
  }

  at(t: number, run: () => void): void {
    this.timers.push({ t, seq: this.seq++, run });
  }

  /** Uniform integer in [lo, hi]. */
  between([lo, hi]: readonly [number, number]): number {
    return lo + Math.floor(this.rng.next() * (hi - lo + 1));
  }

  /**
   * Counts the call and takes a token (and `resources` tokens of a resource bucket); throws `throttleCode`
   * when a bucket is empty. EC2 says RequestLimitExceeded, Auto Scaling Throttling, ELB ThrottlingException.
   */
  call(
    action: string,
    bucket: BucketName,
    resourceBucket?: BucketName,
    resources = 0,
    throttleCode = 'RequestLimitExceeded',
  ): void {
    this.apiCalls[action] = (this.apiCalls[action] ?? 0) + 1;
    if (!this.behaviour.throttling) return;
    const ok =
      this.buckets[bucket].take(1, this.nowMs) &&
      (resourceBucket === undefined || this.buckets[resourceBucket].take(resources, this.nowMs));
    if (!ok) {
      this.throttled++;
      throw new SimApiError(throttleCode, `Request limit exceeded (${action}).`);
    }
  }
}
