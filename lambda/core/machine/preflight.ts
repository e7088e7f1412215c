/**
 * Batch start: load the batch from the plan, re-read its instances, and keep only those still safe and
 * useful to act on (DESIGN.md "preflight"). Earlier failures still out of service use group capacity.
 */
import { DESCRIBE_BATCH } from '../api-limits';
import { type Config, isOptedIn } from '../config';
import { groupIds } from '../planner';
import { whyNotStopStart } from '../remedy';
import { isHealthy } from '../rollout';
import { formatDuration, iso } from '../time';
import { type InstanceFacts, type InstanceStatus, isEventCode, type PlanBatch } from '../types';
import { carryItem, withCarried } from './carry';
import { downByGroup } from './reschedule';
import { sweepRestarts } from './restart';
import type { BatchState, ItemState } from './state';
import { chunks, type Step } from './step';

/** Batch items, one per instance (its planned events share the remedy). */
export function itemsOf(batch: PlanBatch): ItemState[] {
  const byInstance = new Map<string, ItemState>();
  for (const it of batch.items) {
    const prev = byInstance.get(it.instanceId);
    const deadline = Date.parse(it.deadline);
    const notBefore = Date.parse(it.notBefore);
    if (prev) {
      prev.eventIds.push(it.eventId);
      prev.codes.push(it.code);
      prev.deadline = Math.min(prev.deadline, deadline);
      prev.notBefore = Math.min(prev.notBefore, notBefore);
      continue;
    }
    byInstance.set(it.instanceId, {
      instanceId: it.instanceId,
      eventIds: [it.eventId],
      codes: [it.code],
      remedy: it.remedy,
      tried: [],
      deadline,
      notBefore,
      groupIds: groupIds(it.groups),
      phase: 'pending',
      ...(it.remedy === 'reschedule' ? { slot: Date.parse(batch.startAt) } : {}),
    });
  }
  return [...byInstance.values()];
}

/** Loads the batch when its slot comes; returns true once it is loaded and preflight can read. */
export function loadBatch(step: Step): boolean {
  const { s } = step;
  if (s.current) return true;
  const plan = step.batches.find((b) => b.index === s.batch);
  if (!plan) {
    step.issue({ kind: 'load-batch', batch: s.batch });
    return false;
  }
  s.current = {
    index: plan.index,
    wave: plan.wave,
    startAt: Date.parse(plan.startAt),
    endBy: Date.parse(plan.endBy),
    stage: 'preflight',
    items: withCarried(step, plan.wave, itemsOf(plan)),
  };
  return true;
}

export function runPreflight(step: Step, b: BatchState): 'yield' | 'next' {
  const { s } = step;
  if (!step.answered.has('describe-status')) {
    const ids = b.items.map((i) => i.instanceId);
    const others = [...new Set([...Object.keys(s.down), ...s.restart])];
    for (const c of chunks([...ids, ...others], DESCRIBE_BATCH))
      step.issue({ kind: 'describe-status', instanceIds: c });
    for (const c of chunks(ids, DESCRIBE_BATCH)) step.issue({ kind: 'describe-facts', instanceIds: c });
    return 'yield';
  }
  sweepRestarts(step);
  for (const id of Object.keys(s.down)) {
    const st = step.statuses.get(id);
    if (st && isHealthy(st)) delete s.down[id]; // recovered: frees its groups' capacity
  }
  admitItems(step, b);
  return 'next';
}

function admitItems(step: Step, b: BatchState): void {
  const { s, config, now } = step;
  const down = downByGroup(s);
  const used = new Map(down);
  const carried = new Set<ItemState>();
  // Rescheduled events happen at the slot regardless: count them first, then admit the rest within limits.
  // Only pending items: preflight runs again after a long approval wait, and what it dropped stays dropped.
  const pending = b.items.filter((i) => i.phase === 'pending');
  const ordered = [
    ...pending.filter((i) => i.remedy === 'reschedule'),
    ...pending.filter((i) => i.remedy !== 'reschedule'),
  ];
  for (const item of ordered) {
    const status = step.statuses.get(item.instanceId);
    const facts = step.facts.get(item.instanceId);
    let reason = objection(item, status, facts, config, now, s.dryRun);
    const full =
      reason === undefined && item.remedy !== 'reschedule'
        ? item.groupIds.find((g) => (used.get(g) ?? 0) >= (s.limits[g] ?? 1))
        : undefined;
    if (full !== undefined) {
      reason = `group-capacity: ${full} already has ${used.get(full)} instance(s) out of service`;
      // A later batch may find room: the planned ones always might (failures can recover), a carry-over
      // batch only when this batch's own items, not failures alone, fill the group.
      if (b.index < s.batchCount || (down.get(full) ?? 0) < (s.limits[full] ?? 1)) {
        carryItem(step, b.index, b.wave, item, reason);
        carried.add(item);
        continue;
      }
    }
    if (reason !== undefined) {
      step.drop(item, b.index, reason);
      continue;
    }
    for (const g of item.groupIds) used.set(g, (used.get(g) ?? 0) + 1);
    const own = status?.notices.filter((n) => item.eventIds.includes(n.eventId)) ?? [];
    item.eventWindow = own.reduce((m, n) => Math.max(m, (n.notAfter ?? n.notBefore) - n.notBefore), 0);
    if (item.remedy === 'reschedule')
      item.windowEnd = own.reduce((m, n) => Math.max(m, n.notAfter ?? n.notBefore), now);
    const deadlines = own.map((n) => n.notBeforeDeadline);
    if (deadlines.length > 0 && deadlines.every((d) => d !== undefined))
      item.notBeforeDeadline = Math.min(...(deadlines as number[]));
    if (facts?.asgName !== undefined) item.asg = facts.asgName;
    if (facts) item.canStopStart = stopStartAllowed(item, facts, config);
  }
  if (carried.size > 0) b.items = b.items.filter((i) => !carried.has(i));
}

/** Stop-start as a fallback: allowed by the policy for every code of the item, and possible. */
function stopStartAllowed(item: ItemState, facts: InstanceFacts, config: Config): boolean {
  const allowed = item.codes.every((c) => isEventCode(c) && config.remedies[c].includes('stop-start'));
  return allowed && whyNotStopStart(facts, config) === undefined;
}

const sameSecond = (a: number, b: number) => Math.floor(a / 1000) === Math.floor(b / 1000);

/** Why preflight must not act on this item now, or undefined to go ahead. */
export function objection(
  item: ItemState,
  status: InstanceStatus | undefined,
  facts: InstanceFacts | undefined,
  config: Config,
  now: number,
  dryRun: boolean,
): string | undefined {
  if (!status || !facts || status.state === 'terminated' || status.state === 'shutting-down')
    return 'terminated: the instance is gone';
  const optIn = config.optInTag;
  if (!isOptedIn(facts.tags, config)) return `not-opted-in: the ${optIn.key} tag was removed since planning`;
  if (item.remedy === 'reschedule') {
    // AWS performs a rescheduled event at the slot, which is this batch's start: completed is expected here.
    const own = status.notices.filter((n) => item.eventIds.includes(n.eventId));
    if (own.length === 0) return 'already-cleared: EC2 no longer lists the event';
    // AWS reports NotBefore to the second; in a dry run nothing was moved.
    const elsewhere = dryRun
      ? undefined
      : own.find((n) => item.slot !== undefined && !sameSecond(n.notBefore, item.slot));
    if (elsewhere)
      return `not-rescheduled: the event starts ${iso(elsewhere.notBefore)}, not at the planned slot`;
    if (status.state !== 'running' && own.some((n) => n.state === 'active'))
      return `instance-not-running: instance is ${status.state}`;
    return undefined;
  }
  const open = new Set(status.notices.filter((n) => n.state === 'active').map((n) => n.eventId));
  if (!item.eventIds.some((id) => open.has(id)))
    return 'already-cleared: EC2 no longer lists the event as active';
  if (status.state !== 'running') return `instance-not-running: instance is ${status.state}`;
  const timeout = config.verification.timeout;
  if (now + timeout > item.deadline - config.deadlineMargin)
    return `deadline-passed: remedy + verification would end after deadline - margin (${formatDuration(item.deadline - config.deadlineMargin - now)} left)`;
  return undefined;
}
