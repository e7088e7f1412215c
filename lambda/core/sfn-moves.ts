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
 * Wait 2; an approval wait 6 instead of the Wait), so an execution stays under 400 × 9 + a few ≈ 3,600
 * events, whatever the rollout's size (Standard executions fail at 25,000).
 */
export const MAX_TURNS = 400;

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
