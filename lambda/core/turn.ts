/**
 * One Step Functions turn of a rollout, as the step handler runs it (and tests run it against the
 * simulator): step the stored rollout (execute, advance, store) while no wait is due and time is left, then
 * say what the state machine does next (lambda/core/sfn-moves.ts). No clock reads: `now` and the time budget
 * come from the ports and the caller.
 */
import type { Config } from './config';
import { APPROVAL_TIMEOUT } from './machine/batch';
import type { Ports } from './ports';
import { handoff, type TurnInput, type TurnOutput, type WaitMove } from './sfn-moves';
import { advanceStoredStep, type ExecutedStep, executeStoredStep } from './stepper';

/** Shorter waits are not worth a Wait state (two history events and a transition): step on at once. */
export const MIN_WAIT_MS = 1_000;

export interface TurnHooks {
  /** Whether the invocation still has time for another step; false makes the turn end with `continue`. */
  readonly hasTime: () => boolean;
  /** Told about each executed step (metrics), before the turn decides what next. */
  readonly onExecuted?: (executed: ExecutedStep) => void;
  /** Told when another run stored a step first (the turn reloads and goes on). */
  readonly onLostRace?: () => void;
}

export interface TurnResult {
  readonly output: TurnOutput;
  /** Machine steps advanced in this turn. */
  readonly steps: number;
  /** The rollout's status and halt reason when the turn ends with `done`. */
  readonly ended?: { readonly status: 'completed' | 'halted'; readonly reason?: string };
}

export async function runTurn(
  ports: Ports,
  config: Config,
  input: TurnInput,
  hooks: TurnHooks,
): Promise<TurnResult> {
  const turn: TurnInput = { ...input, turns: input.turns + 1 };
  for (let steps = 0; ; steps++) {
    const executed = await executeStoredStep(ports, input.rolloutId);
    hooks.onExecuted?.(executed);
    const { state } = executed;
    if (state.status !== 'running') {
      const status = state.status === 'halted' ? 'halted' : 'completed';
      return {
        output: { ...turn, next: 'done', status },
        steps,
        ended: { status, ...(state.haltReason === undefined ? {} : { reason: state.haltReason }) },
      };
    }
    const move = handoff(input, state.batch) ?? (await waitingMove(ports, executed));
    if (move) return { output: { ...turn, ...move }, steps };
    // A wake-up too close for a Wait state is slept here: advancing before it would only ask for it again.
    // (A longer wake-up is not slept: the halt of an approval wait, a timed-out approval, go on at once.)
    const short = executed.waitUntil;
    const ahead = short === undefined ? 0 : short - ports.clock.now();
    if (short !== undefined && ahead > 0 && ahead < MIN_WAIT_MS && !answered(executed))
      await ports.clock.sleepUntil(short);
    if (!(await advanceStoredStep(ports, config, executed))) hooks.onLostRace?.();
    if (!hooks.hasTime()) return { output: { ...turn, next: 'continue' }, steps: steps + 1 };
  }
}

/** An operator's answer came back: the machine reads it now, not at the step's wake-up time. */
const answered = (executed: ExecutedStep) => executed.observations.some((o) => o.kind === 'approval');

/**
 * The wait an executed step ends with, if the state machine should do it: an approval nobody answered yet
 * (unless an operator asked to halt: the machine then acts on the halt now), or a wake-up time ahead.
 */
async function waitingMove(ports: Ports, executed: ExecutedStep): Promise<WaitMove | undefined> {
  if (executed.awaitingApproval) {
    // An operator's halt wakes the approval wait: the machine acts on it now, not a poll interval later.
    if ((await ports.ledger.haltRequested(executed.state.rolloutId)) !== undefined) return undefined;
    // Unanswered past its timeout (the AwaitApproval task timed out): the machine records it and halts now.
    const asked = executed.state.current?.approval?.requestedAt;
    if (asked !== undefined && ports.clock.now() >= asked + APPROVAL_TIMEOUT) return undefined;
    return { next: 'approval', approvalBatch: executed.awaitingApproval.batch };
  }
  const now = ports.clock.now();
  if (!answered(executed) && executed.waitUntil !== undefined && executed.waitUntil - now >= MIN_WAIT_MS)
    return { next: 'wait', wakeAt: new Date(executed.waitUntil).toISOString() };
  return undefined;
}
