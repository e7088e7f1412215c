/**
 * The local driver: runs a rollout in-process (CLI, demo, tests, benchmark) with the same machine the Lambda
 * handlers run. A loop that only executes commands and feeds back observations; between steps the state
 * goes through the ledger as stored records (JSON, zod-validated on load), so nothing survives in memory by
 * accident, and a run that dies can be resumed from the ledger alone (`resumeLocalRollout`).
 */
import type { Config } from './config';
import type { BatchResult, RolloutState } from './machine/state';
import type { LedgerEntry, Ports } from './ports';
import { advanceStoredStep, beginRollout, executeStoredStep, type StepHooks } from './stepper';
import { formatDuration, isoSeconds } from './time';
import type { Plan } from './types';

/** Where each planned instance ended, read back from the ledger's history. */
export interface ItemOutcome {
  readonly instanceId: string;
  readonly batchIndex: number;
  readonly outcome: 'verified' | 'failed' | 'dropped' | 'dry-run' | 'moved';
  readonly reason?: string;
  readonly fellBack: boolean;
}

export interface RolloutResult {
  readonly rolloutId: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly halted: boolean;
  readonly haltReason?: string;
  /** Instances of batches that never ran because the rollout halted: AWS's own schedule applies to them. */
  readonly notRun: number;
  readonly batches: readonly BatchResult[];
  readonly items: readonly ItemOutcome[];
  /** Instances Forestall stopped and could not start again. */
  readonly notRestarted: readonly string[];
  readonly steps: number;
}

export interface LocalRolloutOptions {
  readonly region: string;
  readonly limits: ReadonlyMap<string, number>;
  readonly progress?: (line: string) => void;
  /** Test hook: throw before running command `index` of stored step `step` (a crash: memory is lost). */
  readonly crashAt?: (step: number, index: number) => boolean;
}

export class SimulatedCrash extends Error {
  constructor(step: number, index: number) {
    super(`simulated crash before command ${index} of step ${step}`);
    this.name = 'SimulatedCrash';
  }
}

export async function runLocalRollout(
  plan: Plan,
  config: Config,
  ports: Ports,
  opts: LocalRolloutOptions,
): Promise<RolloutResult> {
  if (!(await beginRollout(plan, config, ports, opts)))
    throw new Error(`rollout ${plan.rolloutId} already exists in the ledger`);
  return resumeLocalRollout(plan.rolloutId, config, ports, opts);
}

/** Continues a rollout from what the ledger holds: re-runs the stored step's commands, then advances. */
export async function resumeLocalRollout(
  rolloutId: string,
  config: Config,
  ports: Ports,
  opts: Pick<LocalRolloutOptions, 'progress' | 'crashAt'> = {},
): Promise<RolloutResult> {
  const say = opts.progress ?? (() => {});
  const hooks: StepHooks = {
    beforeCommand(state, index, command) {
      if (opts.crashAt?.(state.step, index)) throw new SimulatedCrash(state.step, index);
      if (command.kind === 'emit') {
        const time = isoSeconds(Date.parse(command.event.time));
        const line = progressLine(command.event.detailType, command.event.detail, time);
        if (line) say(line);
      }
    },
  };
  for (;;) {
    const executed = await executeStoredStep(ports, rolloutId, hooks);
    const { state } = executed;
    if (state.status !== 'running') return resultOf(state, await ports.ledger.history(rolloutId));
    const answered = executed.observations.some((o) => o.kind === 'approval');
    if (executed.waitUntil !== undefined && !answered && ports.clock.now() < executed.waitUntil)
      await ports.clock.sleepUntil(executed.waitUntil);
    if (!(await advanceStoredStep(ports, config, executed)))
      throw new Error(
        `rollout ${rolloutId}: step ${state.step + 1} was stored by another run; stopping this one`,
      );
  }
}

function progressLine(type: string, d: Readonly<Record<string, unknown>>, time: string): string {
  if (type === 'Batch Started')
    return `batch ${d.batchIndex} ${d.wave} at ${time}: ${d.acting} to remedy, ${Number(d.items) - Number(d.acting)} dropped at preflight`;
  if (type === 'Batch Completed')
    return `batch ${d.batchIndex} ${d.wave} done at ${time}: ${d.verified} verified, ${d.failed} failed (budget ${d.budget}), ${d.dropped} dropped`;
  if (type === 'Rollout Halted')
    return `HALTED: ${d.reason}; ${d.notRun} instance(s) left to AWS's own schedule`;
  if (type === 'Rollout Completed')
    return `rollout ${d.halted ? 'halted' : 'completed'} after ${formatDuration(Number(d.durationSeconds) * 1000)}`;
  if (type === 'Instance Remedy Failed') return `  ${d.instanceId} failed: ${d.reason}`;
  return '';
}

/** The result of an ended rollout, read from its state and the ledger's history. */
const OUTCOME_KINDS = new Set(['verified', 'failed', 'dropped', 'dry-run', 'moved']);

export function resultOf(state: RolloutState, history: readonly LedgerEntry[]): RolloutResult {
  const last = new Map<string, ItemOutcome>();
  const fellBack = new Set<string>();
  for (const e of history) {
    if (e.instanceId === undefined || e.batchIndex === undefined) continue;
    if (e.kind === 'fallback') fellBack.add(e.instanceId);
    if (!OUTCOME_KINDS.has(e.kind)) continue;
    const reason = e.detail?.reason;
    last.set(e.instanceId, {
      instanceId: e.instanceId,
      batchIndex: e.batchIndex,
      outcome: e.kind as ItemOutcome['outcome'],
      ...(typeof reason === 'string' ? { reason } : {}),
      fellBack: false,
    });
  }
  const notRestarted = history
    .filter((e) => e.kind === 'not-restarted')
    .flatMap((e) => (e.detail?.instanceIds as string[]) ?? []);
  return {
    rolloutId: state.rolloutId,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt ?? state.startedAt,
    halted: state.status === 'halted',
    ...(state.haltReason === undefined ? {} : { haltReason: state.haltReason }),
    notRun: state.notRun,
    batches: state.results,
    items: [...last.values()]
      .map((o) => ({ ...o, fellBack: fellBack.has(o.instanceId) }))
      .sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1)),
    notRestarted,
    steps: state.step,
  };
}
