/**
 * Honest measurements of a simulated run, from the plan, the rollout's per-item outcomes and what the
 * simulated Region recorded. Each figure is defined so that it can be recomputed from the output: the
 * notice counts add up to the active notices, the reasons AWS performed events add up to `performedByAws`,
 * and the peaks follow from the outage timeline.
 */
import type { ItemOutcome, RolloutResult } from '../lambda/core/local-driver';
import type { Notice, Plan } from '../lambda/core/types';
import type { Cause, Outage } from './ec2';

/**
 * Why AWS performed an event on its own schedule. `unexpected` is the only bucket that means Forestall
 * missed a deadline it had planned to meet without saying why; it must stay 0.
 */
export const AWS_REASONS = ['notPlanned', 'afterFailure', 'afterHalt', 'dryRun', 'unexpected'] as const;
export type AwsReason = (typeof AWS_REASONS)[number];
export type AwsBreakdown = Record<AwsReason, number>;

/** The fields of `SimEc2.eventResolutions()` the classification reads. */
export interface Resolution {
  readonly instanceId: string;
  readonly eventId: string;
  readonly resolvedBy?: string;
}

/**
 * The machine drops the items a halt (failure budget, operator flag, rejected approval) leaves pending with
 * this reason prefix (lambda/core/machine/batch.ts `applyHalt`); every other drop is preflight's verdict.
 */
const HALT_DROP = 'halted:';

/** Why AWS performed one planned event, given the outcome of its instance in the rollout. */
function reasonFor(item: ItemOutcome | undefined, rollout: RolloutResult, dryRun: boolean): AwsReason {
  // A dry run applies nothing, so every planned event is left to AWS whatever preflight would have said.
  if (dryRun) return 'dryRun';
  if (item === undefined) return rollout.halted ? 'afterHalt' : 'unexpected'; // its batch never ran
  switch (item.outcome) {
    case 'failed':
      return 'afterFailure';
    case 'dropped':
      return item.reason?.startsWith(HALT_DROP) ? 'afterHalt' : 'afterFailure';
    case 'dry-run':
      return 'dryRun';
    default:
      return 'unexpected'; // verified or moved, yet AWS performed it on its own time
  }
}

/** Each event AWS performed on its own schedule, with why: per event id, in resolution order. */
export function classifyAwsPerformed(
  plan: Plan,
  rollout: RolloutResult,
  resolutions: readonly Resolution[],
  dryRun: boolean,
): Map<string, AwsReason> {
  const plannedOn = new Map<string, string>(); // planned event id → its instance
  for (const b of plan.batches) for (const i of b.items) plannedOn.set(i.eventId, i.instanceId);
  const items = new Map(rollout.items.map((i) => [i.instanceId, i]));
  const out = new Map<string, AwsReason>();
  for (const r of resolutions) {
    if (r.resolvedBy !== 'aws') continue;
    const instanceId = plannedOn.get(r.eventId);
    out.set(
      r.eventId,
      instanceId === undefined ? 'notPlanned' : reasonFor(items.get(instanceId), rollout, dryRun),
    );
  }
  return out;
}

export function countReasons(reasons: ReadonlyMap<string, AwsReason>): AwsBreakdown {
  const counts: AwsBreakdown = { notPlanned: 0, afterFailure: 0, afterHalt: 0, dryRun: 0, unexpected: 0 };
  for (const r of reasons.values()) counts[r]++;
  return counts;
}

/** The poll's notices against the plan, each a count of distinct event ids: notices = planned + skipped + infeasible. */
export interface NoticeCounts {
  /** Active notices the poll saw. */
  readonly notices: number;
  readonly planned: number;
  /** Active notices the planner skipped (not opted in, report-only, second event…). */
  readonly skipped: number;
  readonly infeasible: number;
  /** `[Completed]`/`[Canceled]` notices: history, skipped as `inactive`, not counted in `notices`. */
  readonly inactive: number;
}

export function noticeCounts(notices: readonly Notice[], plan: Plan): NoticeCounts {
  const active = new Set(notices.filter((n) => n.state === 'active').map((n) => n.eventId));
  const inactive = new Set(
    notices.filter((n) => n.state !== 'active' && !active.has(n.eventId)).map((n) => n.eventId),
  );
  const planned = new Set(plan.batches.flatMap((b) => b.items.map((i) => i.eventId)));
  const infeasible = new Set(plan.infeasible.map((i) => i.eventId));
  // A notice listed twice is skipped as `duplicate` once it is planned: count each active event once.
  const skipped = new Set(
    plan.skipped
      .map((s) => s.eventId)
      .filter((id) => active.has(id) && !planned.has(id) && !infeasible.has(id)),
  );
  return {
    notices: active.size,
    planned: planned.size,
    skipped: skipped.size,
    infeasible: infeasible.size,
    inactive: inactive.size,
  };
}

/** Peak concurrent outages per group id, over outages of the given causes (intervals are [from, to)). */
export function peakByGroup(
  outages: readonly Outage[],
  groupsById: ReadonlyMap<string, readonly string[]>,
  causes: readonly Cause[],
): Record<string, number> {
  const deltas: Array<[number, number, string]> = [];
  for (const o of outages) {
    if (!causes.includes(o.cause) || o.to <= o.from) continue;
    for (const g of groupsById.get(o.instanceId) ?? []) deltas.push([o.from, 1, g], [o.to, -1, g]);
  }
  // An outage that ends when another starts does not overlap it: ends sort first.
  deltas.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const live = new Map<string, number>();
  const peak: Record<string, number> = {};
  for (const [, d, g] of deltas) {
    const n = (live.get(g) ?? 0) + d;
    live.set(g, n);
    if (n > (peak[g] ?? 0)) peak[g] = n;
  }
  return Object.fromEntries(Object.entries(peak).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** One group's limit and the most of its instances out of service at once, three ways. */
export interface GroupPeaks {
  readonly limit: number;
  /** All outages in the run with Forestall (its own, and AWS performing the events it left). */
  readonly peakWithForestall: number;
  /** Only Forestall's outages (its remedies, and events it rescheduled): what `limit` bounds. */
  readonly peakCausedByForestall: number;
  /** The same fleet where nobody acts: AWS's own schedule. */
  readonly peakAwsAlone: number;
}

export function groupPeaks(
  limits: ReadonlyMap<string, number>,
  outages: readonly Outage[],
  awsAlone: readonly Outage[],
  groupsById: ReadonlyMap<string, readonly string[]>,
): Record<string, GroupPeaks> {
  const all = peakByGroup(outages, groupsById, ['forestall', 'aws']);
  const own = peakByGroup(outages, groupsById, ['forestall']);
  const alone = peakByGroup(awsAlone, groupsById, ['aws']);
  const groups = [...new Set([...limits.keys(), ...Object.keys(all), ...Object.keys(alone)])].sort();
  return Object.fromEntries(
    groups.map((g) => [
      g,
      {
        // Every group in the fleet has a limit (planner.groupLimits); the fallback is the strictest.
        limit: limits.get(g) ?? 0,
        peakWithForestall: all[g] ?? 0,
        peakCausedByForestall: own[g] ?? 0,
        peakAwsAlone: alone[g] ?? 0,
      },
    ]),
  );
}

/** Groups whose peak of Forestall-caused outages exceeded their limit. */
export function limitViolations(peaks: Readonly<Record<string, GroupPeaks>>): number {
  return Object.values(peaks).filter((p) => p.peakCausedByForestall > p.limit).length;
}

/** Instances taken down both by Forestall and by AWS during the simulated span, sorted. */
export function doubleOutages(outages: readonly Outage[]): string[] {
  const by = new Map<string, Set<Cause>>();
  for (const o of outages) {
    const causes = by.get(o.instanceId) ?? new Set<Cause>();
    causes.add(o.cause);
    by.set(o.instanceId, causes);
  }
  return [...by]
    .filter(([, c]) => c.has('forestall') && c.has('aws'))
    .map(([id]) => id)
    .sort();
}

/** One outage as printed by `--timeline`: enough to recompute every peak and limit. */
export interface TimelineEntry {
  readonly instanceId: string;
  readonly from: string;
  readonly to: string;
  readonly cause: Cause;
  readonly groups: readonly string[];
}

export function timeline(
  outages: readonly Outage[],
  groupsById: ReadonlyMap<string, readonly string[]>,
): TimelineEntry[] {
  return [...outages]
    .sort((a, b) => a.from - b.from || a.to - b.to || (a.instanceId < b.instanceId ? -1 : 1))
    .map((o) => ({
      instanceId: o.instanceId,
      from: new Date(o.from).toISOString(),
      to: new Date(o.to).toISOString(),
      cause: o.cause,
      groups: groupsById.get(o.instanceId) ?? [],
    }));
}
