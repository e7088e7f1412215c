/**
 * The rollout machine (sans-I/O, DESIGN.md "Data flow"): advance(state, observations, now, config) →
 * { state, commands }. It never performs I/O and never reads a clock. A driver stores the returned state
 * and commands (write-ahead), runs the commands, and calls advance again with what the world answered,
 * immediately or at the time of the `wait-until` command.
 */

import { DESCRIBE_BATCH } from '../api-limits';
import type { Config } from '../config';
import { runBatch } from './batch';
import { dropCarried, loadCarryOver } from './carry';
import { type Command, isMutating, type Observation } from './commands';
import { earlyStartAt } from './early-start';
import { loadBatch } from './preflight';
import { cancelReschedules, runReschedules } from './reschedule';
import { sweepRestarts } from './restart';
import { cloneState, type RolloutState } from './state';
import { chunks, Step } from './step';

/** Restart attempts at the end of a rollout (one per poll interval) before Forestall gives up and reports. */
export const FINAL_RESTART_ATTEMPTS = 60;

export interface Advanced {
  readonly state: RolloutState;
  readonly commands: readonly Command[];
}

export function advance(
  state: RolloutState,
  observations: readonly Observation[],
  now: number,
  config: Config,
): Advanced {
  const s = cloneState(state);
  if (s.status !== 'running') return { state: s, commands: [] };
  s.step++;
  const step = new Step(s, config, now, observations, s.awaiting);
  // The rollout first, so that a halt decided in this step (gate, rejected approval) cancels the
  // reschedules that fall due in it.
  runRollout(step);
  if (s.status === 'running') runReschedules(step);
  s.awaiting = step.commands
    .filter((c) => isMutating(c) || c.kind.startsWith('describe') || c.kind === 'load-batch')
    .map((c) => ({ id: c.id, kind: c.kind }));
  const wake = step.earliestWake();
  if (s.status === 'running' && s.awaiting.length === 0 && wake !== undefined)
    step.issue({ kind: 'wait-until', at: wake });
  if (s.status === 'running' && step.commands.length === 0)
    throw new Error(
      `rollout ${s.rolloutId}: step ${s.step} would neither act, read nor wait (a machine bug)`,
    );
  return { state: s, commands: step.commands };
}

function runRollout(step: Step): void {
  const { s, config } = step;
  for (let guard = 0; guard < 1000; guard++) {
    if (!s.current) {
      if (s.haltRequested !== undefined) s.haltReason ??= `halted by an operator: ${s.haltRequested}`;
      const planned = s.batch < s.batchCount;
      if (s.haltReason !== undefined || (!planned && !loadCarryOver(step))) {
        finish(step);
        return;
      }
      const slot = s.slots[s.batch];
      if (slot && step.now < slot[0]) {
        const early = earlyStartAt(slot, step.now, config);
        if (early > step.now) {
          step.wakeAt(early);
          return;
        }
      }
      if (planned && !loadBatch(step)) return;
      step.consume();
    }
    const b = s.current;
    if (!b || runBatch(step, b) === 'yield') return;
    delete s.current;
  }
  throw new Error(`rollout ${s.rolloutId}: no progress after 1000 stages in one step`);
}

/** Start again what Forestall stopped, then report the end. */
function finish(step: Step): void {
  const { s, config, now } = step;
  if (s.restart.length > 0 && s.restartAttempts < FINAL_RESTART_ATTEMPTS) {
    if (!step.answered.has('describe-status')) {
      for (const c of chunks(s.restart, DESCRIBE_BATCH))
        step.issue({ kind: 'describe-status', instanceIds: c });
      return;
    }
    sweepRestarts(step);
    if (s.restart.length > 0) {
      s.restartAttempts++;
      step.consume();
      step.wakeAt(now + config.verification.pollInterval);
      return;
    }
  }
  if (s.restart.length > 0) step.record('not-restarted', { detail: { instanceIds: s.restart } });
  const halted = s.haltReason !== undefined;
  if (halted) cancelReschedules(step);
  if (halted) dropCarried(step, s.haltReason ?? 'halted');
  s.notRun = s.slots.slice(s.batch).reduce((n, [, , count]) => n + count, 0);
  if (halted) {
    step.record('halted', { detail: { reason: s.haltReason, notRun: s.notRun } });
    step.emit('Rollout Halted', {
      reason: s.haltReason,
      notRun: s.notRun,
      note: 'AWS acts on its own schedule for the instances not remedied; rescheduled events keep their new times',
    });
  }
  s.status = halted ? 'halted' : 'completed';
  s.finishedAt = now;
  step.emit('Rollout Completed', {
    halted,
    batchesRun: s.results.length,
    durationSeconds: Math.round((now - s.startedAt) / 1000),
  });
}
