/**
 * How the Step Functions driver moves between turns of a rollout (DESIGN.md "Bounded history"). One state
 * machine runs a rollout as a chain of short executions: each covers one batch (its wait for the slot,
 * preflight, approval, drain, act, verify loop, undrain, bake, gate) and hands off to the next execution
 * when the batch index moves on, or after MAX_TURNS turns (a long verify loop, many just-in-time reschedules),
 * so no execution's history grows with the rollout. Execution names are deterministic: a start retried, or
 * a second start of the same hand-off, is refused by Step Functions as a duplicate and changes nothing.
 */

/** What a Step task gets (the execution's input, carried along). */
export interface TurnInput {
  readonly rolloutId: string;
  readonly region: string;
  /** The batch this execution covers. */
  readonly batch: number;
  /** Hand-offs within the same batch so far (long batches). */
  readonly part: number;
  /** Step tasks this execution has run. */
  readonly turns: number;
}

export type WaitMove =
  /** Wait until `wakeAt` (a Wait state), then step again. */
  | { readonly next: 'wait'; readonly wakeAt: string }
  /** Wait for the operator (a `.waitForTaskToken` state), then step again. */
  | { readonly next: 'approval'; readonly approvalBatch: number };

export type Move =
  | WaitMove
  /** Step again at once (the Lambda ran out of its time budget mid-way). */
  | { readonly next: 'continue' }
  /** Start the execution named `nextName` with `nextInput` and end this one. */
  | { readonly next: 'handoff'; readonly nextName: string; readonly nextInput: TurnInput }
  /** The rollout ended. */
  | { readonly next: 'done'; readonly status: 'completed' | 'halted' };

export type TurnOutput = TurnInput & Move;

/**
 * Step tasks per execution before it hands off. A turn costs at most 9 history events (Task 5, Choice 2,
 * Wait 2; an approval wait 6 instead of the Wait), so an execution stays under 200 × 9 + a few ≈ 1,800
 * events, whatever the rollout's size (Standard executions fail at 25,000).
 */
export const MAX_TURNS = 200;

/** Step Functions names: ≤ 80 characters of [A-Za-z0-9-_]. */
export function executionName(input: Pick<TurnInput, 'rolloutId' | 'batch' | 'part'>): string {
  const name = `${input.rolloutId}-b${input.batch}-p${input.part}`;
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new Error(`not a valid execution name: ${name}`);
  return name;
}

/** The first execution of a rollout. */
export function firstTurn(rolloutId: string, region: string): TurnInput {
  return { rolloutId, region, batch: 0, part: 0, turns: 0 };
}

/**
 * A hand-off is due when the rollout moved to another batch than this execution covers, or this execution
 * has run MAX_TURNS turns. Undefined when this execution goes on.
 */
export function handoff(input: TurnInput, rolloutBatch: number): Move | undefined {
  if (rolloutBatch !== input.batch) {
    const nextInput = { ...input, batch: rolloutBatch, part: 0, turns: 0 };
    return { next: 'handoff', nextName: executionName(nextInput), nextInput };
  }
  if (input.turns + 1 >= MAX_TURNS) {
    const nextInput = { ...input, part: input.part + 1, turns: 0 };
    return { next: 'handoff', nextName: executionName(nextInput), nextInput };
  }
  return undefined;
}

/**
 * History events Step Functions writes, per state visited (the state machine in lib/rollout.ts; AWS's
 * history event types): a Lambda Task 5 (TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted,
 * LambdaFunctionSucceeded, TaskStateExited) and 3 more per failed attempt retried; a service-integration
 * Task (the approval wait, the next execution's start) 6 (TaskStateEntered, TaskScheduled, TaskStarted,
 * TaskSubmitted, TaskSucceeded, TaskStateExited); a Choice, Wait or Succeed 2; the execution 2 (started,
 * succeeded). The end-to-end suite counts the same events on its runs and checks them against this.
 */
export const HISTORY_EVENTS = {
  execution: 2,
  lambdaTask: 5,
  retriedAttempt: 3,
  integrationTask: 6,
  flowState: 2,
} as const;

/** The turns an execution took, as the history bound needs them. */
export interface ExecutionShape {
  /** Whether this execution planned the rollout (the first one). */
  readonly planned: boolean;
  readonly turns: number;
  readonly waits: number;
  readonly approvals: number;
  /** Ended by starting the next execution (else: the rollout ended). */
  readonly handedOff: boolean;
  /** Failed Lambda attempts retried by the state machine. */
  readonly retries?: number;
}

/** The history events of one execution of that shape. */
export function historyEvents(e: ExecutionShape): number {
  const h = HISTORY_EVENTS;
  const start = h.flowState + (e.planned ? h.lambdaTask : 0); // the Start choice, then Plan
  const turns = e.turns * (h.lambdaTask + h.flowState); // Step, then the Next choice
  const waits = e.waits * h.flowState + e.approvals * h.integrationTask;
  const end = (e.handedOff ? h.integrationTask : 0) + h.flowState; // StartNext, then HandedOff or Done
  return h.execution + start + turns + waits + end + (e.retries ?? 0) * h.retriedAttempt;
}
