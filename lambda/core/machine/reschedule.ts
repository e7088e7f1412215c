/**
 * Reschedules, made just in time (AWS-FACTS §3, §10): ModifyInstanceEventStartTime for a later batch's
 * events is called as late as AWS allows with a margin, so a halt before then leaves AWS its own schedule.
 * A call is not made while earlier failures still out of service would push one of the instance's groups
 * over its limit at the slot (AWS acts at the slot whatever preflight then finds).
 */
import { RESCHEDULE_MIN_LEAD } from '../reschedule-timing';
import { admitted, nextAdmission, spend } from './pacing';
import type { RescheduleCall, RolloutState } from './state';
import type { Step } from './step';

export function downByGroup(s: RolloutState): Map<string, number> {
  const used = new Map<string, number>();
  for (const groups of Object.values(s.down)) for (const g of groups) used.set(g, (used.get(g) ?? 0) + 1);
  return used;
}

const COST = { mutate: 1 } as const;
/**
 * Calls the API has not yet admitted are made in groups of this many (5 s of the mutating bucket's refill),
 * not one per wake: at AWS every wake is a Step Functions transition and a Lambda invocation.
 */
export const RESCHEDULE_CALLS_PER_WAKE = 25;

/** Settles the outcomes of last step's calls, then makes the calls now due, as the API admits them. */
export function runReschedules(step: Step): void {
  const { s } = step;
  settleReschedules(step);
  if (s.haltRequested !== undefined || s.haltReason !== undefined) {
    cancelReschedules(step);
    return;
  }
  for (const call of s.reschedules.filter((c) => c.issued === undefined && isTooLate(step, c)))
    skipCall(
      step,
      call,
      "too-late: its batch has started or the slot is within 60 minutes; AWS keeps the event's own time",
    );
  const due = s.reschedules.filter((c) => c.issued === undefined && c.callAt <= step.now);
  const n = admitted(s, step.now, due.length, COST);
  const used = downByGroup(s);
  for (const call of due.slice(0, n)) {
    const moved = s.moved[call.batch] ?? {};
    s.moved[call.batch] = moved;
    const full = call.groupIds.find((g) => (used.get(g) ?? 0) + (moved[g] ?? 0) >= (s.limits[g] ?? 1));
    if (full !== undefined) {
      skipCall(
        step,
        call,
        `group-capacity: ${full} has earlier failures still out of service; AWS keeps the event's own time`,
      );
      continue;
    }
    for (const g of call.groupIds) moved[g] = (moved[g] ?? 0) + 1; // counted now: AWS may act at the slot
    call.issued = step.issue({
      kind: 'reschedule',
      instanceId: call.instanceId,
      eventId: call.eventId,
      notBefore: call.slot,
    });
  }
  spend(s, step.now, { mutate: n });
  if (due.length > n)
    step.wakeAt(nextAdmission(s, step.now, { mutate: Math.min(due.length - n, RESCHEDULE_CALLS_PER_WAKE) }));
  const next = s.reschedules.find((c) => c.issued === undefined && c.callAt > step.now);
  if (next) step.wakeAt(next.callAt);
}

/** A call that can no longer work: its batch already read EC2, or AWS would refuse the slot. */
function isTooLate(step: Step, call: RescheduleCall): boolean {
  const { s } = step;
  const started = call.batch < s.batch || (call.batch === s.batch && s.current !== undefined);
  return started || step.now > call.slot - RESCHEDULE_MIN_LEAD;
}

/** After a halt no reschedule is made: AWS keeps those events' own times. */
export function cancelReschedules(step: Step): void {
  const { s } = step;
  const left = s.reschedules.filter((c) => c.issued === undefined);
  if (left.length === 0) return;
  step.record('reschedules-cancelled', {
    detail: { count: left.length, reason: s.haltReason ?? s.haltRequested },
  });
  s.reschedules = s.reschedules.filter((c) => c.issued !== undefined);
}

function skipCall(step: Step, call: RescheduleCall, reason: string): void {
  const { s } = step;
  s.reschedules = s.reschedules.filter((c) => c !== call);
  step.record('reschedule-skipped', {
    batchIndex: call.batch,
    instanceId: call.instanceId,
    detail: { reason },
  });
  step.emit('Notice Skipped', { ...callDetail(call), reason });
}

function callDetail(call: RescheduleCall) {
  return {
    batchIndex: call.batch,
    instanceId: call.instanceId,
    eventId: call.eventId,
    code: call.code,
    remedy: 'reschedule',
    deadline: new Date(call.deadline).toISOString(),
  };
}

function settleReschedules(step: Step): void {
  const { s } = step;
  const settled = new Set<RescheduleCall>();
  for (const call of s.reschedules) {
    if (call.issued === undefined) continue;
    const outcome = step.outcomesById.get(call.issued)?.[0];
    if (!outcome) continue;
    settled.add(call);
    const at = { batchIndex: call.batch, instanceId: call.instanceId };
    const notBefore = new Date(call.slot).toISOString();
    if (outcome.ok) step.record('rescheduled', { ...at, detail: { eventId: call.eventId, notBefore } });
    else if (outcome.retryable) {
      settled.delete(call);
      delete call.issued;
      const moved = s.moved[call.batch] ?? {};
      for (const g of call.groupIds) moved[g] = Math.max(0, (moved[g] ?? 0) - 1);
    } else if (outcome.ambiguous)
      // Preflight re-reads EC2: the event is at the slot or it is not. The group count stays, to be safe.
      step.record('reschedule-ambiguous', { ...at, detail: { eventId: call.eventId, error: outcome.error } });
    else {
      const moved = s.moved[call.batch] ?? {};
      for (const g of call.groupIds) moved[g] = Math.max(0, (moved[g] ?? 0) - 1);
      step.record('reschedule-failed', { ...at, detail: { eventId: call.eventId, error: outcome.error } });
      step.emit('Instance Remedy Failed', {
        ...callDetail(call),
        reason: `ModifyInstanceEventStartTime failed: ${outcome.error ?? 'unknown error'}; AWS keeps the event's own time`,
      });
    }
  }
  if (settled.size > 0) s.reschedules = s.reschedules.filter((c) => !settled.has(c));
}
