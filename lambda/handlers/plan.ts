/**
 * The Plan task, first state of a rollout's first execution: plan the Region's due notices against the whole
 * fleet (the planner counts whole groups) and store the plan and the rollout's first step. Idempotent: a
 * retried Plan finds the rollout stored and plans nothing again.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { groupLimits, planRollout } from '../core/planner';
import { firstTurn, type TurnInput } from '../core/sfn-moves';
import { beginRollout } from '../core/stepper';
import { dueNotices } from '../core/trigger';
import { planInput } from './inputs';
import { logger, metrics } from './observability';
import { wired } from './wiring';

export async function handler(event: unknown): Promise<TurnInput> {
  const { rolloutId, region } = planInput(event);
  const { env, portsFor, ledger } = wired();
  const ports = portsFor(region);
  if (await ports.ledger.loadStep(rolloutId)) {
    logger.info('rollout already planned', { rolloutId });
    return firstTurn(rolloutId, region);
  }
  const now = ports.clock.now();
  const notices = dueNotices(await ledger.notices(region), now, env.config);
  const facts = await ports.fleet.describeFacts();
  const plan = { ...planRollout(notices, facts, env.config, now), rolloutId };
  const limits = groupLimits(facts, env.config);
  if (!(await beginRollout(plan, env.config, ports, { region, limits })))
    logger.info('rollout stored by another run', { rolloutId });
  const items = plan.batches.reduce((n, b) => n + b.items.length, 0);
  logger.info('planned', {
    rolloutId,
    region,
    notices: notices.length,
    batches: plan.batches.length,
    items,
    skipped: plan.skipped.length,
    infeasible: plan.infeasible.length,
  });
  metrics.addMetric('PlannedInstances', MetricUnit.Count, items);
  metrics.addMetric('InfeasibleNotices', MetricUnit.Count, plan.infeasible.length);
  metrics.publishStoredMetrics();
  return firstTurn(rolloutId, region);
}
