/**
 * Core domain types. Times are epoch milliseconds (UTC) inside the core; ISO-8601 strings only at the edges.
 */

/** The event codes EC2 documents for InstanceStatusEvent.Code. */
export const EVENT_CODES = [
  'instance-reboot',
  'system-reboot',
  'system-maintenance',
  'instance-retirement',
  'instance-stop',
] as const;
export type EventCode = (typeof EVENT_CODES)[number];

export function isEventCode(code: string): code is EventCode {
  return (EVENT_CODES as readonly string[]).includes(code);
}

/** `active` events still need action; `[Completed]` and `[Canceled]` ones are history. */
export type NoticeState = 'active' | 'completed' | 'canceled';

export interface Notice {
  readonly instanceId: string;
  readonly region: string;
  readonly eventId: string;
  /** A documented EventCode, or whatever new code EC2 sends (kept, then skipped as unsupported). */
  readonly code: string;
  readonly description: string;
  readonly notBefore: number;
  readonly notAfter?: number;
  readonly notBeforeDeadline?: number;
  readonly source: 'poll' | 'health';
  readonly state: NoticeState;
}

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
export type CheckStatus = 'ok' | 'impaired' | 'insufficient-data' | 'not-applicable' | 'initializing';

/** What DescribeInstanceStatus says about one instance right now. */
export interface InstanceStatus {
  readonly instanceId: string;
  readonly state: InstanceState;
  readonly instanceStatus: CheckStatus;
  readonly systemStatus: CheckStatus;
  readonly notices: readonly Notice[];
}

/**
 * Instance-store knowledge: `present`/`none` when known (DescribeInstanceTypes, or the type name's `d`
 * attribute); `unknown` otherwise, which the planner never treats as `none`.
 */
export type InstanceStoreKnowledge = 'present' | 'none' | 'unknown';

export interface InstanceFacts {
  readonly instanceId: string;
  readonly region: string;
  readonly instanceType: string;
  readonly az: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly rootDevice: 'ebs' | 'instance-store';
  readonly instanceStore: InstanceStoreKnowledge;
  readonly lifecycle: 'on-demand' | 'spot' | 'other';
  readonly asgName?: string;
  readonly rebootMigration: 'default' | 'disabled' | 'unknown';
  readonly state: InstanceState;
}

/** Remedies Forestall applies (first three), or outcomes it reports without acting (last two). */
export const REMEDIES = [
  'reboot-migrate',
  'stop-start',
  'reschedule',
  'report-only',
  'needs-replacement',
] as const;
export type Remedy = (typeof REMEDIES)[number];
export type ActiveRemedy = 'reboot-migrate' | 'stop-start' | 'reschedule';
/** Remedies an operator may list in `remedies` (needs-replacement is an outcome, not a choice). */
export const CONFIGURABLE_REMEDIES = ['reboot-migrate', 'stop-start', 'reschedule', 'report-only'] as const;
export type ConfigurableRemedy = (typeof CONFIGURABLE_REMEDIES)[number];

export function isActiveRemedy(r: Remedy): r is ActiveRemedy {
  return r === 'reboot-migrate' || r === 'stop-start' || r === 'reschedule';
}

export interface PlanItem {
  readonly instanceId: string;
  readonly eventId: string;
  readonly code: string;
  readonly remedy: ActiveRemedy;
  /**
   * ISO time: the event's NotBefore when planned. A reschedule is called at
   * rescheduleCallAt(notBefore, startAt, generatedAt) without re-reading the event.
   */
  readonly notBefore: string;
  /** ISO time: the event's NotBefore, or its NotBeforeDeadline for a `reschedule` item. */
  readonly deadline: string;
  readonly groups: Readonly<Record<string, string>>;
  /** Why this item is planned unusually (outside a window, earlier than leadTime). */
  readonly reason?: string;
}

/** A batch: the planner's cut of one config wave, the unit that runs at once. */
export interface PlanBatch {
  readonly index: number;
  /** The config wave (operator's) this batch belongs to. */
  readonly wave: string;
  readonly startAt: string;
  readonly endBy: string;
  /**
   * Present when EC2's API throughput, not maxParallel nor a group limit, ended the batch: more of the wave
   * was ready, but its calls would not fit the verification timeout (api-limits.ts).
   */
  readonly limitedBy?: 'api';
  readonly items: readonly PlanItem[];
}

export interface SkippedNotice {
  readonly instanceId: string;
  readonly eventId: string;
  readonly code: string;
  readonly reason: string;
}

export interface InfeasibleNotice extends SkippedNotice {
  readonly deadline: string;
}

export interface Plan {
  readonly rolloutId: string;
  readonly generatedAt: string;
  readonly batches: readonly PlanBatch[];
  readonly skipped: readonly SkippedNotice[];
  readonly infeasible: readonly InfeasibleNotice[];
}
