/**
 * The Step Functions driver run against the simulator: the same turns the step handler runs
 * (lambda/core/turn.ts), with the state machine's moves played here (a Wait advances the simulated clock, a
 * hand-off starts a new execution). It counts what Step Functions would count: turns and waits per
 * execution, from which the history bound of a rollout of any size is checked (test/sim/turns.test.ts).
 */
import type { Config } from '../lambda/core/config';
import { type RolloutResult, resultOf } from '../lambda/core/local-driver';
import { fromRecords } from '../lambda/core/machine/storage';
import type { Ports } from '../lambda/core/ports';
import { executionName, firstTurn, type TurnInput } from '../lambda/core/sfn-moves';
import { beginRollout } from '../lambda/core/stepper';
import { runTurn } from '../lambda/core/turn';
import type { Plan } from '../lambda/core/types';

/** What one execution of the rollout state machine did. */
export interface ExecutionTrace {
  readonly name: string;
  readonly batch: number;
  /** Step tasks run. */
  turns: number;
  /** Wait states entered. */
  waits: number;
  /** Approval waits entered. */
  approvals: number;
}

export interface TurnsRun {
  readonly result: RolloutResult;
  readonly executions: readonly ExecutionTrace[];
}

export async function runRolloutByTurns(
  plan: Plan,
  config: Config,
  ports: Ports,
  opts: { readonly region: string; readonly limits: ReadonlyMap<string, number> },
): Promise<TurnsRun> {
  if (!(await beginRollout(plan, config, ports, opts)))
    throw new Error(`rollout ${plan.rolloutId} already exists in the ledger`);
  const trace = (input: TurnInput): ExecutionTrace => ({
    name: executionName(input),
    batch: input.batch,
    turns: 0,
    waits: 0,
    approvals: 0,
  });
  let input = firstTurn(plan.rolloutId, opts.region);
  const executions = [trace(input)];
  for (;;) {
    const current = executions[executions.length - 1] as ExecutionTrace;
    const { output } = await runTurn(ports, config, input, { hasTime: () => true });
    current.turns++;
    if (output.next === 'done') break;
    if (output.next === 'handoff') {
      input = output.nextInput;
      executions.push(trace(input));
      continue;
    }
    if (output.next === 'wait') {
      current.waits++;
      await ports.clock.sleepUntil(Date.parse(output.wakeAt));
    }
    if (output.next === 'approval') current.approvals++;
    input = output;
  }
  const records = await ports.ledger.loadStep(plan.rolloutId);
  if (!records) throw new Error(`rollout ${plan.rolloutId} vanished from the ledger`);
  const result = resultOf(fromRecords(records).state, await ports.ledger.history(plan.rolloutId));
  return { result, executions };
}
