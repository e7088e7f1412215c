/**
 * One turn of a stored rollout, shared by every driver (the local loop, the Step Functions step handler):
 * run the stored step's commands (write-ahead: they are in the ledger before they run, so a turn that dies
 * is simply run again), then advance the machine and store the next step. The wait a step ends with is not
 * slept here: the local driver sleeps on its clock, Step Functions waits in a Wait state.
 */
import type { Config } from './config';
import { executeCommand } from './execute';
import { advance } from './machine/advance';
import type { Command, Observation } from './machine/commands';
import { startRollout } from './machine/init';
import type { RolloutState } from './machine/state';
import { fromRecords, toRecords } from './machine/storage';
import type { Ports } from './ports';
import type { Plan } from './types';

export interface ExecutedStep {
  readonly state: RolloutState;
  readonly commands: readonly Command[];
  readonly observations: readonly Observation[];
  /** When the step asked to be advanced again (its `wait-until`), if it did. */
  readonly waitUntil?: number;
  /** The step asked an operator for approval and no decision has come back yet. */
  readonly awaitingApproval?: { readonly batch: number; readonly wave: string };
}

export interface StepHooks {
  /** Called before each command runs (progress lines, test crash points). */
  readonly beforeCommand?: (state: RolloutState, index: number, command: Command) => void;
}

/** Stores a new rollout: its plan, then its first step. False when the rollout is in the ledger already. */
export async function beginRollout(
  plan: Plan,
  config: Config,
  ports: Ports,
  opts: { readonly region: string; readonly limits: ReadonlyMap<string, number> },
): Promise<boolean> {
  if (await ports.ledger.loadStep(plan.rolloutId)) return false;
  await ports.ledger.putPlan(plan);
  const first = startRollout({
    plan,
    config,
    region: opts.region,
    limits: opts.limits,
    now: ports.clock.now(),
  });
  return ports.ledger.saveStep(plan.rolloutId, 0, toRecords(first), undefined);
}

/** Runs the stored step's commands, except its wait; re-running them is safe (claims, recorded outcomes). */
export async function executeStoredStep(
  ports: Ports,
  rolloutId: string,
  hooks: StepHooks = {},
): Promise<ExecutedStep> {
  const records = await ports.ledger.loadStep(rolloutId);
  if (!records) throw new Error(`rollout ${rolloutId} is not in the ledger`);
  const { state, commands } = fromRecords(records);
  const observations: Observation[] = [];
  let waitUntil: number | undefined;
  let asked: { batch: number; wave: string } | undefined;
  for (const [index, command] of commands.entries()) {
    hooks.beforeCommand?.(state, index, command);
    if (command.kind === 'wait-until') {
      waitUntil = command.at;
      continue;
    }
    if (command.kind === 'request-approval') asked = { batch: command.batch, wave: command.wave };
    const seen = await executeCommand(ports, rolloutId, command);
    if (seen) observations.push(seen);
  }
  const answered = observations.some((o) => o.kind === 'approval');
  return {
    state,
    commands,
    observations,
    ...(waitUntil === undefined ? {} : { waitUntil }),
    ...(asked && !answered ? { awaitingApproval: asked } : {}),
  };
}

/**
 * Advances past an executed step (reading the operator's halt flag first) and stores the next step, if the
 * stored step is still the one executed. False when another run stored a step first: the caller reloads.
 */
export async function advanceStoredStep(
  ports: Ports,
  config: Config,
  executed: Pick<ExecutedStep, 'state' | 'observations'>,
): Promise<boolean> {
  const { state } = executed;
  const observations = [...executed.observations];
  const halt = await ports.ledger.haltRequested(state.rolloutId);
  if (halt !== undefined) observations.push({ kind: 'halt', reason: halt });
  const next = advance(state, observations, ports.clock.now(), config);
  return ports.ledger.saveStep(state.rolloutId, next.state.step, toRecords(next), state.step);
}
