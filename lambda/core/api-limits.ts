/**
 * EC2's API throughput (AWS-FACTS §6), shared by the planner (which sizes batches so that their calls fit)
 * and the rollout machine (which paces its calls). Buckets are per account, per Region, per action; other
 * callers in the account draw on them too, so Forestall plans with a share of each, not all of it.
 */
import { MINUTE } from './time';

export interface Bucket {
  /** Tokens when full (the burst). */
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export const EC2_BUCKETS = {
  /** Non-mutating Describe* calls (filtered or paginated). */
  describe: { capacity: 100, refillPerSecond: 20 },
  /** Mutating calls: RebootInstances, StopInstances, ModifyInstanceEventStartTime (calls, not instances). */
  mutate: { capacity: 50, refillPerSecond: 5 },
  /** StartInstances requests. */
  start: { capacity: 5, refillPerSecond: 2 },
  /** Instances stopped (resource bucket). */
  stopResource: { capacity: 1000, refillPerSecond: 20 },
  /** Instances started (resource bucket): the tightest of all, 1,000 and then 2 a second. */
  startResource: { capacity: 1000, refillPerSecond: 2 },
} as const satisfies Record<string, Bucket>;

export type BucketName = keyof typeof EC2_BUCKETS;

/** The share of each bucket Forestall plans to use, leaving the rest to the account's other callers. */
export const API_SHARE = 0.5;

/** Instance ids per RebootInstances / StopInstances / StartInstances call (EC2 documents no maximum). */
export const ACTION_BATCH = 50;
/** Instance ids per DescribeInstanceStatus / DescribeInstances call (DescribeInstanceStatus allows 100). */
export const DESCRIBE_BATCH = 100;
/** Instance ids per EnterStandby / ExitStandby call (AWS-FACTS §9). */
export const STANDBY_BATCH = 20;

/**
 * The share of a batch's reboot migrations for which it keeps StartInstances capacity: a migration that fails
 * falls back to a stop-start (AWS-FACTS §1), but most succeed, so reserving a start for every one halved the
 * batches of a reboot-heavy fleet. A fallback the buckets cannot start in time is not sent: it goes to a
 * reschedule, or fails with that reason (fallback.ts).
 */
export const MIGRATION_FALLBACK_SHARE = 0.25;

/**
 * What a stop-start takes besides waiting for API tokens: stop (1–2 min), start (~1 min), boot and both
 * status checks (2–10 min, AWS-FACTS §5). The planner leaves this much of the verification timeout to it.
 */
export const STOP_START_WORK = 12 * MINUTE;

/** Tokens of `bucket` Forestall may plan to spend within `ms`, starting from a full bucket, at API_SHARE. */
export function plannedTokensWithin(bucket: Bucket, ms: number): number {
  return Math.floor(API_SHARE * (bucket.capacity + bucket.refillPerSecond * Math.max(0, ms / 1000)));
}

/** Time from a full bucket until Forestall's share of it has admitted `tokens`: plannedTokensWithin's inverse. */
export function timeForPlannedTokens(bucket: Bucket, tokens: number): number {
  const beyondBurst = tokens / API_SHARE - bucket.capacity;
  return beyondBurst <= 0 ? 0 : Math.ceil((beyondBurst / bucket.refillPerSecond) * 1000);
}

/**
 * Most stop-starts one batch may hold so that every StartInstances fits inside the verification timeout
 * (StartInstances' resource bucket is the bottleneck; AWS-FACTS §6). At least 1.
 */
export function maxStopStartsPerBatch(verificationTimeout: number): number {
  const forStarts = verificationTimeout - STOP_START_WORK;
  return Math.max(
    1,
    Math.min(
      plannedTokensWithin(EC2_BUCKETS.startResource, forStarts),
      plannedTokensWithin(EC2_BUCKETS.stopResource, forStarts),
      plannedTokensWithin(EC2_BUCKETS.start, forStarts) * ACTION_BATCH,
    ),
  );
}

/** Most reboots one batch may hold so that every RebootInstances call is made within `ms`. */
export function maxRebootsWithin(ms: number): number {
  return Math.max(1, plannedTokensWithin(EC2_BUCKETS.mutate, ms) * ACTION_BATCH);
}

/** Most ModifyInstanceEventStartTime calls (one event each) that fit within `ms`. */
export function maxReschedulesWithin(ms: number): number {
  return Math.max(1, plannedTokensWithin(EC2_BUCKETS.mutate, ms));
}
