/**
 * The Step task of the rollout state machine: one turn of a stored rollout. Runs the stored step's commands,
 * advances the machine and stores the next step, as long as no wait is due and the Lambda has time; then
 * tells the state machine what comes next (lambda/core/sfn-moves.ts): wait until a time, wait for an
 * operator's approval, hand off to the next execution, or done.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { handoff, type TurnInput, type TurnOutput, type WaitMove } from '../core/sfn-moves';
import type { ExecutedStep } from '../core/stepper';
import { advanceStoredStep, executeStoredStep } from '../core/stepper';
import { turnInput } from './inputs';
import { logger, metrics } from './observability';
import { takeApiRetries, wired } from './wiring';

/** Shorter waits are not worth a Wait state: the turn goes on in this invocation. */
const MIN_WAIT_MS = 1_000;
/** A turn stops stepping when less than this is left of the Lambda's time (a step may take a minute). */
const RESERVE_MS = 90_000;

export async function handler(event: unknown, context: Context): Promise<TurnOutput> {
  const input = turnInput(event);
  const { env, portsFor, regions } = wired();
  const ports = portsFor(input.region);
  const turn: TurnInput = { ...input, turns: input.turns + 1 };
  try {
    for (;;) {
      const executed = await executeStoredStep(ports, input.rolloutId);
      const { state } = executed;
      countApprovalTimeouts(executed);
      if (state.status !== 'running') {
        const halted = state.status === 'halted' ? { reason: state.haltReason ?? 'halted' } : undefined;
        await regions.finish(input.region, input.rolloutId, halted);
        if (halted) metrics.addMetric('RolloutsHalted', MetricUnit.Count, 1);
        logger.info('rollout ended', { rolloutId: input.rolloutId, status: state.status, ...halted });
        return { ...turn, next: 'done', status: state.status };
      }
      const move = handoff(input, state.batch);
      if (move) return { ...turn, ...move };
      const waiting = await waitingMove(executed, ports.clock.now(), () =>
        ports.ledger.haltRequested(input.rolloutId),
      );
      if (waiting) return { ...turn, ...waiting };
      if (!(await advanceStoredStep(ports, env.config, executed)))
        logger.warn('another run stored this step first; reloading', { rolloutId: input.rolloutId });
      if (context.getRemainingTimeInMillis() < RESERVE_MS) return { ...turn, next: 'continue' };
    }
  } finally {
    metrics.addMetric('ApiRetries', MetricUnit.Count, takeApiRetries());
    metrics.publishStoredMetrics();
  }
}

/**
 * The wait an executed step ends with, if the state machine should do it: an approval nobody answered yet
 * (unless an operator asked to halt: the machine then acts on the halt now), or a wake-up time ahead.
 */
async function waitingMove(
  executed: ExecutedStep,
  now: number,
  haltRequested: () => Promise<string | undefined>,
): Promise<WaitMove | undefined> {
  if (executed.awaitingApproval && (await haltRequested()) === undefined)
    return { next: 'approval', approvalBatch: executed.awaitingApproval.batch };
  const answered = executed.observations.some((o) => o.kind === 'approval');
  if (!answered && executed.waitUntil !== undefined && executed.waitUntil - now >= MIN_WAIT_MS)
    return { next: 'wait', wakeAt: new Date(executed.waitUntil).toISOString() };
  return undefined;
}

/** An approval the operator let time out halts the rollout; the ApprovalsTimedOut alarm watches this. */
function countApprovalTimeouts(executed: ExecutedStep): void {
  const n = executed.commands.filter(
    (c) => c.kind === 'record' && c.entry.kind === 'approval-timed-out',
  ).length;
  if (n > 0) metrics.addMetric('ApprovalsTimedOut', MetricUnit.Count, n);
}
