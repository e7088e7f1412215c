/** The state a rollout starts from, built once from its plan (the plan handler, or the local driver). */
import type { Config } from '../config';
import { groupIds } from '../planner';
import { rescheduleCallAt, rescheduleSpread } from '../reschedule-timing';
import type { Plan } from '../types';
import type { Command } from './commands';
import { earliestStart } from './early-start';
import { type RescheduleCall, type RolloutState, STATE_VERSION } from './state';
import { Step } from './step';

export interface RolloutStart {
  readonly plan: Plan;
  readonly config: Config;
  readonly region: string;
  /** Limit per group id, from the whole fleet at plan time. */
  readonly limits: ReadonlyMap<string, number>;
  readonly now: number;
}

export function initialState({ plan, config, region, limits, now }: RolloutStart): RolloutState {
  return {
    version: STATE_VERSION,
    rolloutId: plan.rolloutId,
    region,
    dryRun: config.dryRun,
    step: 0,
    status: 'running',
    startedAt: now,
    batchCount: plan.batches.length,
    batch: 0,
    slots: plan.batches.map((b) => [
      Date.parse(b.startAt),
      Date.parse(b.endBy),
      new Set(b.items.map((i) => i.instanceId)).size,
      earliestStart(b, config),
    ]),
    limits: Object.fromEntries([...limits].sort(([a], [b]) => (a < b ? -1 : 1))),
    down: {},
    restart: [],
    restartAttempts: 0,
    reschedules: config.dryRun ? [] : rescheduleCallsOf(plan, now),
    moved: {},
    buckets: {},
    awaiting: [],
    results: [],
    notRun: 0,
    commandSeq: 0,
  };
}

/**
 * The state and the first commands of a rollout: it announces the plan (Rollout Planned, each skipped and
 * infeasible notice). The driver stores both before running anything, like every later step.
 */
export function startRollout(start: RolloutStart): { state: RolloutState; commands: Command[] } {
  const state = initialState(start);
  const step = new Step(state, start.config, start.now, [], []);
  const { plan } = start;
  step.emit('Rollout Planned', {
    batches: plan.batches.length,
    items: plan.batches.reduce((n, b) => n + b.items.length, 0),
    skipped: plan.skipped.length,
    infeasible: plan.infeasible.length,
    dryRun: start.config.dryRun,
  });
  for (const s of plan.skipped) step.emit('Notice Skipped', { ...s });
  for (const s of plan.infeasible) step.emit('Plan Infeasible', { ...s });
  return { state, commands: step.commands };
}

/**
 * Every ModifyInstanceEventStartTime call of a plan, in the order they fall due: as late as AWS's rules
 * allow with the margin, earlier by the batch's spread when it holds more calls than the margin fits.
 */
export function rescheduleCallsOf(plan: Plan, now: number): RescheduleCall[] {
  const calls: RescheduleCall[] = [];
  for (const batch of plan.batches) {
    const slot = Date.parse(batch.startAt);
    const spread = rescheduleSpread(batch.items.filter((i) => i.remedy === 'reschedule').length);
    for (const it of batch.items) {
      if (it.remedy !== 'reschedule') continue;
      const notBefore = Date.parse(it.notBefore);
      calls.push({
        batch: batch.index,
        instanceId: it.instanceId,
        eventId: it.eventId,
        code: it.code,
        deadline: Date.parse(it.deadline),
        slot,
        callAt: Math.max(now, rescheduleCallAt(notBefore, slot, now) - spread),
        groupIds: groupIds(it.groups),
      });
    }
  }
  return calls.sort(
    (a, b) => a.callAt - b.callAt || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0),
  );
}
