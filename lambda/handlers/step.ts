/**
 * The Step task of the rollout state machine: one turn of a stored rollout (lambda/core/turn.ts), then the
 * move the state machine makes next: wait, wait for approval, hand off to the next execution, or done.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { TurnOutput } from '../core/sfn-moves';
import type { ExecutedStep } from '../core/stepper';
import { runTurn } from '../core/turn';
import { turnInput } from './inputs';
import { logger, metrics } from './observability';
import { takeApiRetries, wired } from './wiring';

/** A turn stops stepping when less than this is left of the Lambda's time (one step may take a minute). */
const RESERVE_MS = 90_000;

export async function handler(event: unknown, context: Context): Promise<TurnOutput> {
  const input = turnInput(event);
  const { env, portsFor, regions } = wired();
  try {
    const { output, steps, ended } = await runTurn(portsFor(input.region), env.config, input, {
      hasTime: () => context.getRemainingTimeInMillis() >= RESERVE_MS,
      onExecuted: countApprovalTimeouts,
      onLostRace: () => logger.warn('another run stored this step first; reloading', { ...input }),
    });
    if (ended) {
      const halted = ended.status === 'halted' ? { reason: ended.reason ?? 'halted' } : undefined;
      await regions.finish(input.region, input.rolloutId, halted);
      if (halted) metrics.addMetric('RolloutsHalted', MetricUnit.Count, 1);
      logger.info('rollout ended', { rolloutId: input.rolloutId, ...ended });
    }
    logger.info('turn', { rolloutId: input.rolloutId, batch: input.batch, steps, next: output.next });
    metrics.addMetric('RolloutSteps', MetricUnit.Count, steps);
    return output;
  } finally {
    metrics.addMetric('ApiRetries', MetricUnit.Count, takeApiRetries());
    metrics.publishStoredMetrics();
  }
}

/** An approval the operator let time out halts the rollout; the ApprovalTimedOut alarm watches this. */
function countApprovalTimeouts(executed: ExecutedStep): void {
  const n = executed.commands.filter(
    (c) => c.kind === 'record' && c.entry.kind === 'approval-timed-out',
  ).length;
  if (n > 0) metrics.addMetric('ApprovalsTimedOut', MetricUnit.Count, n);
}
