/** A rollout with one large batch, for the storage bounds: its plan and the steps that hold the most. */
import type { Config } from '../../lambda/core/config';
import { advance } from '../../lambda/core/machine/advance';
import type { Observation } from '../../lambda/core/machine/commands';
import { startRollout } from '../../lambda/core/machine/init';
import type { StoredStep } from '../../lambda/core/machine/storage';
import type { Plan, PlanBatch } from '../../lambda/core/types';

export const BIG_NOW = Date.parse('2026-12-01T00:00:00Z');

export function bigPlan(size: number, rolloutId = 'fs-test'): Plan {
  const items = Array.from({ length: size }, (_, k) => {
    const id = `i-${k.toString(16).padStart(17, '0')}`;
    return {
      instanceId: id,
      eventId: `instance-event-${k.toString(16).padStart(17, '0')}`,
      code: k % 2 ? 'system-reboot' : 'instance-reboot',
      remedy: k % 2 ? ('reboot-migrate' as const) : ('reschedule' as const),
      deadline: '2026-12-08T00:00:00.000Z',
      notBefore: '2026-12-04T00:00:00.000Z',
      groups: { asg: `service-with-a-long-name-${k % 40}`, az: `us-east-1${'abc'[k % 3]}` },
    };
  });
  const batch: PlanBatch = {
    index: 0,
    wave: 'main',
    startAt: '2026-12-02T00:00:00.000Z',
    endBy: '2026-12-02T02:20:00.000Z',
    items,
  };
  return {
    rolloutId,
    generatedAt: '2026-12-01T00:00:00.000Z',
    batches: [batch],
    skipped: [],
    infeasible: [],
  };
}

/**
 * Three consecutive steps of a rollout of one `size`-item batch: the first (every reschedule pending), the
 * preflight with the batch loaded (its describes are the write-ahead commands), and the step after it in
 * which no instance was described, so every item is dropped (an event and a record each, in one step).
 */
export function bigSteps(size: number, config: Config): [StoredStep, StoredStep, StoredStep] {
  const plan = bigPlan(size);
  const limits = new Map(Array.from({ length: 40 }, (_, k) => [`asg=service-with-a-long-name-${k}`, 50]));
  const first = startRollout({ plan, config, region: 'us-east-1', limits, now: BIG_NOW });
  const loaded = advance(first.state, [], Date.parse('2026-12-02T00:00:00Z'), config);
  const id = loaded.commands.find((c) => c.kind === 'load-batch')?.id ?? '';
  const preflight = advance(
    loaded.state,
    [{ kind: 'batch', id, batch: plan.batches[0] as PlanBatch }],
    Date.parse('2026-12-02T00:00:00Z'),
    config,
  );
  const answers = preflight.commands.flatMap((c): Observation[] =>
    c.kind === 'describe-status'
      ? [{ kind: 'statuses', id: c.id, statuses: [] }]
      : c.kind === 'describe-facts'
        ? [{ kind: 'facts', id: c.id, facts: [] }]
        : [],
  );
  const dropped = advance(preflight.state, answers, Date.parse('2026-12-02T00:00:01Z'), config);
  return [first, preflight, dropped];
}
