/**
 * Pure rollout decisions: what preflight keeps, whether an item is verified, whether a wave halts.
 * AWS-FACTS §1 is the rule here: a remedy counts only when EC2 shows the event gone (or [Completed] /
 * [Canceled]) AND the instance is running with both status checks ok. An API call that succeeded proves nothing.
 */
import { type CountOrPercent, resolveLimit } from './config';
import { formatDuration } from './time';
import type { ActiveRemedy, InstanceFacts, InstanceStatus } from './types';

export type ItemPhase =
  | 'pending'
  | 'stopping'
  | 'starting'
  | 'verifying'
  | 'verified'
  | 'failed'
  | 'dropped'
  | 'dry-run';

/** One instance in one plan entry (all of its planned events share the remedy). */
export interface WaveItemState {
  readonly instanceId: string;
  readonly eventIds: readonly string[];
  readonly codes: readonly string[];
  readonly remedy: ActiveRemedy;
  readonly deadline: number;
  readonly groupIds: readonly string[];
  phase: ItemPhase;
  reason?: string;
  /** Set by preflight for reboot-migrate items: stop-start when the migration does not clear the event. */
  fallback?: 'stop-start';
  /** Planned slot of a reschedule item (the event's new NotBefore). */
  slot?: number;
  /** Latest NotAfter of a reschedule item's events, read at preflight: AWS may act until then. */
  windowEnd?: number;
  /** When this item's verification times out (set by act). */
  verifyBy?: number;
  /** Forestall stopped this instance, and whether it started it again: it never leaves one stopped. */
  stopIssued?: boolean;
  startIssued?: boolean;
  actedAt?: number;
  verifiedAt?: number;
}

export interface WaveState {
  readonly rolloutId: string;
  readonly region: string;
  readonly waveIndex: number;
  readonly name: string;
  readonly plannedStart: number;
  startedAt: number;
  verifyBy: number;
  readonly items: WaveItemState[];
}

export const FINAL_PHASES: readonly ItemPhase[] = ['verified', 'failed', 'dropped', 'dry-run'];

export function isFinal(item: WaveItemState): boolean {
  return FINAL_PHASES.includes(item.phase);
}

function activeEventIds(status: InstanceStatus): Set<string> {
  return new Set(status.notices.filter((n) => n.state === 'active').map((n) => n.eventId));
}

/** Why preflight must not act on this item now, or undefined to go ahead. */
export function preflightObjection(
  item: WaveItemState,
  status: InstanceStatus | undefined,
  facts: InstanceFacts | undefined,
  optIn: { key: string; value: string },
  now: number,
  verifyTimeout: number,
  deadlineMargin: number,
): string | undefined {
  if (!status || !facts || status.state === 'terminated' || status.state === 'shutting-down')
    return 'terminated: the instance is gone';
  if (facts.tags[optIn.key] !== optIn.value)
    return `not-opted-in: the ${optIn.key} tag was removed since planning`;
  if (item.remedy === 'reschedule') {
    // AWS performs a rescheduled event at the slot, which is this entry's start: completed is expected here.
    const moved = status.notices.filter((n) => item.eventIds.includes(n.eventId));
    if (moved.length === 0) return 'already-cleared: EC2 no longer lists the event';
    const elsewhere = moved.find((n) => item.slot !== undefined && n.notBefore !== item.slot);
    if (elsewhere)
      return `not-rescheduled: the event starts ${new Date(elsewhere.notBefore).toISOString()}, not at the planned slot`;
    if (status.state !== 'running' && moved.some((n) => n.state === 'active'))
      return `instance-not-running: instance is ${status.state}`;
    return undefined;
  }
  const open = activeEventIds(status);
  if (!item.eventIds.some((id) => open.has(id)))
    return 'already-cleared: EC2 no longer lists the event as active';
  if (status.state !== 'running') return `instance-not-running: instance is ${status.state}`;
  if (now + verifyTimeout > item.deadline - deadlineMargin) {
    return `deadline-passed: remedy + verification would end after deadline - margin (${formatDuration(item.deadline - deadlineMargin - now)} left)`;
  }
  return undefined;
}

/** A reboot that should have migrated is judged only after this long (RebootInstances is asynchronous). */
export const MIGRATION_GRACE = 5 * 60_000;

/** Running with both status checks ok. */
export function isHealthy(status: InstanceStatus): boolean {
  return status.state === 'running' && status.instanceStatus === 'ok' && status.systemStatus === 'ok';
}

export type Assessment =
  | { readonly next: 'wait' }
  | { readonly next: 'fallback' }
  | { readonly next: 'start' }
  | { readonly next: 'verified' }
  | { readonly next: 'failed'; readonly reason: string };

/** Verification of one item against what EC2 reports now. */
export function assessItem(
  item: WaveItemState,
  status: InstanceStatus | undefined,
  now: number,
  verifyBy: number,
): Assessment {
  const timedOut = now >= verifyBy;
  if (!status || status.state === 'terminated' || status.state === 'shutting-down') {
    return { next: 'failed', reason: 'instance terminated or no longer described' };
  }
  if (item.phase === 'stopping') {
    // Start a stopped instance even after the timeout: Forestall never leaves behind one it stopped.
    if (status.state === 'stopped') return { next: 'start' };
    return timedOut
      ? { next: 'failed', reason: `did not stop before the verification timeout (state ${status.state})` }
      : { next: 'wait' };
  }
  const open = activeEventIds(status);
  const stillOpen = item.eventIds.filter((id) => open.has(id));
  const healthy =
    status.state === 'running' && status.instanceStatus === 'ok' && status.systemStatus === 'ok';
  if (stillOpen.length === 0 && healthy) return { next: 'verified' };
  if (
    healthy &&
    item.remedy === 'reboot-migrate' &&
    item.fallback &&
    item.phase === 'verifying' &&
    now >= (item.actedAt ?? now) + MIGRATION_GRACE
  ) {
    return { next: 'fallback' }; // rebooted in place, event still open: the migration did not happen
  }
  if (!timedOut) return { next: 'wait' };
  if (stillOpen.length > 0) {
    const why =
      item.remedy === 'reboot-migrate'
        ? ' (the reboot did not migrate the instance; a user reboot leaves the event open)'
        : item.remedy === 'reschedule'
          ? ' (AWS has not performed the rescheduled event yet)'
          : '';
    return {
      next: 'failed',
      reason: `event still open after the verification timeout: ${stillOpen.join(', ')}${why}`,
    };
  }
  return {
    next: 'failed',
    reason: `event cleared but not healthy: state ${status.state}, instance status ${status.instanceStatus}, system status ${status.systemStatus}`,
  };
}

export interface GateResult {
  readonly halt: boolean;
  readonly failures: number;
  readonly budget: number;
  readonly acted: number;
}

/** Failures over the wave's budget halt the rollout. A percent budget is of the items acted on (floor). */
export function gateWave(items: readonly WaveItemState[], failureBudget: CountOrPercent): GateResult {
  const acted = items.filter((i) => i.phase !== 'dropped').length;
  const failures = items.filter((i) => i.phase === 'failed').length;
  const budget = resolveLimit(failureBudget, acted, 0);
  return { halt: failures > budget, failures, budget, acted };
}
