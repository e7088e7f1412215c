/**
 * Forestall never leaves behind an instance it stopped (AWS-FACTS §11): instances whose stop-start did not
 * finish in their batch are kept in `restart` and started again, as the API admits, until EC2 shows them
 * running or gone. Needs this step's statuses of the restart ids.
 */
import { ACTION_BATCH } from '../api-limits';
import { admitted, spend } from './pacing';
import { chunks, type Step } from './step';

export function sweepRestarts(step: Step): void {
  const { s } = step;
  if (s.restart.length === 0) return;
  const stopped: string[] = [];
  const keep: string[] = [];
  for (const id of s.restart) {
    const st = step.statuses.get(id);
    if (!st) continue;
    if (st.state === 'stopped') stopped.push(id);
    if (st.state === 'stopped' || st.state === 'stopping') keep.push(id);
  }
  s.restart = keep; // running again, or gone (not described): nothing left to start
  const calls = chunks(stopped, ACTION_BATCH);
  const n = admitted(s, step.now, calls.length, { start: 1 });
  const ids = calls.slice(0, n).flat();
  const resources = admitted(s, step.now, ids.length, { startResource: 1 });
  const allowed = ids.slice(0, resources);
  for (const c of chunks(allowed, ACTION_BATCH)) {
    step.issue({ kind: 'start', instanceIds: c });
    for (const id of c) step.record('restart', { instanceId: id });
  }
  spend(step.s, step.now, { start: Math.ceil(allowed.length / ACTION_BATCH), startResource: allowed.length });
}
