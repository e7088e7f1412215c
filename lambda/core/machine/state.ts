/**
 * The rollout machine's state: plain JSON, versioned, validated by zod whenever it is loaded. Everything the
 * rollout knows between two steps is here (DESIGN.md "Data flow"): a driver that reloads it after a crash
 * resumes exactly where the last stored step left off. Times are epoch milliseconds.
 */
import { z } from 'zod';
import { compileFastParse, NOT_PLAIN } from './fast-parse';

export const STATE_VERSION = 1;

const ACTIVE_REMEDIES = ['reboot-migrate', 'stop-start', 'reschedule'] as const;

export const ITEM_PHASES = [
  'pending',
  'acting',
  'stopping',
  'starting',
  'verifying',
  'verified',
  'failed',
  'dropped',
  'dry-run',
  'moved',
] as const;
export type ItemPhase = (typeof ITEM_PHASES)[number];

/** Item phases that need no more work in this batch. */
export const FINAL_PHASES: readonly ItemPhase[] = ['verified', 'failed', 'dropped', 'dry-run', 'moved'];

/** One instance in one batch; its planned events share one remedy. */
export const itemSchema = z.object({
  instanceId: z.string(),
  eventIds: z.array(z.string()),
  codes: z.array(z.string()),
  remedy: z.enum(ACTIVE_REMEDIES),
  /** Remedies already tried for this item, in order (a failed one falls back to the next allowed). */
  tried: z.array(z.enum(ACTIVE_REMEDIES)),
  /** Earliest deadline of its events (NotBefore, or NotBeforeDeadline for a reschedule). */
  deadline: z.number(),
  /** Earliest NotBefore of its events when planned. */
  notBefore: z.number(),
  /** NotBeforeDeadline of its events, when every one has one (a failed remedy may reschedule). */
  notBeforeDeadline: z.number().optional(),
  groupIds: z.array(z.string()),
  phase: z.enum(ITEM_PHASES),
  reason: z.string().optional(),
  /** Longest event window (NotAfter − NotBefore) of its events, read at preflight. */
  eventWindow: z.number().optional(),
  /** Reschedule: the slot its events were moved to, and the latest NotAfter (AWS may act until then). */
  slot: z.number().optional(),
  windowEnd: z.number().optional(),
  actedAt: z.number().optional(),
  verifyBy: z.number().optional(),
  verifiedAt: z.number().optional(),
  /** When verification first read a status check `impaired` (running), since it last read none. */
  impairedSince: z.number().optional(),
  /** EC2 last showed it stopped: to be started as the API admits. */
  seenStopped: z.boolean().optional(),
  /** Forestall stopped it: it is started again on every path. */
  stopIssued: z.boolean().optional(),
  /** The call's outcome was ambiguous (timeout, 5xx): settled by re-reading EC2, never re-sent. */
  ambiguous: z.boolean().optional(),
  /** Drain: the Auto Scaling group it was put in Standby in, and target groups it was deregistered from. */
  standbyIn: z.string().optional(),
  deregisteredFrom: z.array(z.string()).optional(),
  /** Facts read at preflight: its Auto Scaling group, and whether a stop-start is allowed and possible. */
  asg: z.string().optional(),
  canStopStart: z.boolean().optional(),
});
export type ItemState = z.infer<typeof itemSchema>;

export const BATCH_STAGES = [
  'preflight',
  'approval',
  'drain',
  'draining',
  'act',
  'verify',
  'undrain',
  'bake',
  'gate',
] as const;
export type BatchStage = (typeof BATCH_STAGES)[number];

export const batchSchema = z.object({
  index: z.number().int(),
  wave: z.string(),
  startAt: z.number(),
  endBy: z.number(),
  stage: z.enum(BATCH_STAGES),
  startedAt: z.number().optional(),
  verifyBy: z.number().optional(),
  drainedUntil: z.number().optional(),
  drainAttempts: z.number().int().optional(),
  drainWaits: z.number().int().optional(),
  undrainAttempts: z.number().int().optional(),
  bakeUntil: z.number().optional(),
  /** When verification last read EC2 (reads happen once per poll interval). */
  lastReadAt: z.number().optional(),
  approval: z
    .object({
      token: z.string(),
      requestedAt: z.number(),
      decision: z.enum(['approved', 'rejected']).optional(),
    })
    .optional(),
  items: z.array(itemSchema),
});
export type BatchState = z.infer<typeof batchSchema>;

/** A reschedule Forestall will make just in time for a later batch (AWS-FACTS §3, §10). */
export const rescheduleCallSchema = z.object({
  batch: z.number().int(),
  instanceId: z.string(),
  eventId: z.string(),
  code: z.string(),
  deadline: z.number(),
  slot: z.number(),
  callAt: z.number(),
  groupIds: z.array(z.string()),
  /** Id of the command that made the call, until its outcome is settled. */
  issued: z.string().optional(),
});
export type RescheduleCall = z.infer<typeof rescheduleCallSchema>;

export const batchResultSchema = z.object({
  index: z.number().int(),
  wave: z.string(),
  verified: z.number().int(),
  failed: z.number().int(),
  dropped: z.number().int(),
  dryRun: z.number().int(),
  moved: z.number().int(),
  budget: z.number().int(),
  finishedAt: z.number(),
});
export type BatchResult = z.infer<typeof batchResultSchema>;

const bucketStateSchema = z.object({ tokens: z.number(), at: z.number() });

export const rolloutStateSchema = z.object({
  version: z.literal(STATE_VERSION),
  rolloutId: z.string(),
  region: z.string(),
  dryRun: z.boolean(),
  /** Bumped by every advance: the store's version-conditional write uses it. */
  step: z.number().int(),
  status: z.enum(['running', 'halted', 'completed']),
  haltRequested: z.string().optional(),
  haltReason: z.string().optional(),
  startedAt: z.number(),
  finishedAt: z.number().optional(),
  batchCount: z.number().int(),
  /** Index of the batch under way or next; `batchCount` when all have run. */
  batch: z.number().int(),
  /**
   * Per batch from the plan: start, endBy and instance count, so waiting needs no batch loaded; and the
   * earliest it may start once the batch before it is done (early-start.ts; its start when it may not move).
   */
  slots: z.array(z.tuple([z.number(), z.number(), z.number(), z.number()])),
  limits: z.record(z.string(), z.number()),
  /** Instances this rollout left out of service (failed), with their groups: they use group capacity. */
  down: z.record(z.string(), z.array(z.string())),
  /** Instances Forestall stopped and has not yet seen running again. */
  restart: z.array(z.string()),
  restartAttempts: z.number().int(),
  /** Reschedule calls not yet made, in callAt order. */
  reschedules: z.array(rescheduleCallSchema),
  /** Events moved into each batch so far, per group id (batch index → group → count). */
  moved: z.record(z.string(), z.record(z.string(), z.number())),
  /** The pacing model of EC2's token buckets (AWS-FACTS §6), as far as Forestall's own calls drain them. */
  buckets: z.record(z.string(), bucketStateSchema),
  /** Commands issued by the last step whose observations the next step expects. */
  awaiting: z.array(z.object({ id: z.string(), kind: z.string() })),
  current: batchSchema.optional(),
  /**
   * Items preflight found blocked by a full group (earlier failures still out of service, or the batch's own
   * items): they join the next batch of their wave, or a carry-over batch after the planned ones (preflight.ts).
   * Optional: states stored before it existed have none.
   */
  carried: z.array(z.object({ wave: z.string(), from: z.number().int(), item: itemSchema })).optional(),
  results: z.array(batchResultSchema),
  notRun: z.number().int(),
  /** Monotonic counter for deterministic command ids. */
  commandSeq: z.number().int(),
});
export type RolloutState = z.infer<typeof rolloutStateSchema>;

/** zod's parse of stored state, fast for plain input (fast-parse.ts); undefined if the schema outgrew it. */
export const fastParse = compileFastParse(rolloutStateSchema);

/** Parses stored state; a wrong version or shape is an error naming what is wrong, never a silent default. */
export function parseRolloutState(input: unknown): RolloutState {
  const plain = fastParse?.(input) ?? NOT_PLAIN;
  if (plain !== NOT_PLAIN) return plain;
  const r = rolloutStateSchema.safeParse(input);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new Error(
    `stored rollout state is invalid: ${first ? `${first.path.join('.')}: ${first.message}` : 'unknown'} (${r.error.issues.length} issue(s))`,
  );
}

/**
 * A deep copy of a state, for a step to change without touching its input. State is plain JSON data (the
 * schema admits nothing else), so a plain copy does what structuredClone did, several times faster: a large
 * batch's state is copied once per step.
 */
export function cloneState(state: RolloutState): RolloutState {
  return copyJson(state) as RolloutState;
}

function copyJson(x: unknown): unknown {
  if (typeof x !== 'object' || x === null) return x;
  if (Array.isArray(x)) {
    const out: unknown[] = new Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = copyJson(x[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(x)) {
    const value = copyJson((x as Record<string, unknown>)[key]);
    // A record key may be any string: `__proto__` must stay a key, not set the copy's prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

export function isFinal(item: ItemState): boolean {
  return FINAL_PHASES.includes(item.phase);
}
