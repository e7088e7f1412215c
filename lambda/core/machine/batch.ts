/**
 * One batch, stage by stage: preflight → [approval] → drain → act → verify loop → undrain → bake → gate.
 * Each stage returns 'next' (go on in this step) or 'yield' (commands or a wait are out).
 */

import { DESCRIBE_BATCH } from '../api-limits';
import { resolveLimit } from '../config';
import { isHealthy } from '../rollout';
import { startActing } from './act';
import { runDrain, runUndrain } from './drain';
import { runPreflight } from './preflight';
import type { BatchStage, BatchState } from './state';
import { chunks, type Step, waveOf } from './step';
import { runVerify } from './verify';

/** An approval not given within this long halts the rollout (AWS's own schedule then applies). */
export const APPROVAL_TIMEOUT = 24 * 3_600_000;

type StageRun = (step: Step, b: BatchState) => 'yield' | 'next';

const STAGES: Record<BatchStage, { run: StageRun; next: BatchStage | 'done' }> = {
  preflight: { run: runPreflight, next: 'approval' },
  approval: { run: runApproval, next: 'drain' },
  drain: { run: startDrain, next: 'draining' },
  draining: { run: runDraining, next: 'act' },
  act: { run: runAct, next: 'verify' },
  verify: { run: runVerify, next: 'undrain' },
  undrain: { run: runUndrain, next: 'bake' },
  bake: { run: runBake, next: 'gate' },
  gate: { run: runGate, next: 'done' },
};

/** Runs the current batch's stages until one yields or the batch is done (then `s.current` is cleared). */
export function runBatch(step: Step, b: BatchState): 'yield' | 'done' {
  for (;;) {
    applyHalt(step, b);
    const stage = STAGES[b.stage];
    if (stage.run(step, b) === 'yield') return 'yield';
    step.consume();
    if (stage.next === 'done') return 'done';
    b.stage = stage.next;
  }
}

/** A halt (operator flag or rejected approval) acts on nothing more: pending items are dropped. */
function applyHalt(step: Step, b: BatchState): void {
  const why = step.s.haltRequested ?? step.s.haltReason;
  if (why === undefined) return;
  if (
    b.stage === 'preflight' &&
    b.items.every((i) => i.phase === 'pending') &&
    !step.answered.has('describe-status')
  ) {
    for (const item of b.items) step.drop(item, b.index, `halted: ${why}`);
    b.stage = 'gate';
    return;
  }
  for (const item of b.items) if (item.phase === 'pending') step.drop(item, b.index, `halted: ${why}`);
  if (b.stage === 'approval' || b.stage === 'drain' || b.stage === 'draining' || b.stage === 'act')
    b.stage = 'undrain';
}

function runApproval(step: Step, b: BatchState): 'yield' | 'next' {
  const wave = waveOf(step, b);
  const live = b.items.filter((i) => i.phase === 'pending').length;
  if (!wave?.approval || live === 0 || b.approval?.decision === 'approved') return 'next';
  if (!b.approval) {
    const token = `${step.s.rolloutId}:${b.index}`;
    b.approval = { token, requestedAt: step.now };
    step.issue({ kind: 'request-approval', batch: b.index, wave: b.wave, token });
    step.emit('Approval Requested', {
      batchIndex: b.index,
      wave: b.wave,
      items: live,
      timeoutAt: new Date(step.now + APPROVAL_TIMEOUT).toISOString(),
    });
    step.wakeAt(step.now); // an answer given at once is read at once
    return 'yield';
  }
  const answer = step.approvals.find((a) => a.token === b.approval?.token);
  if (!answer) {
    if (step.now >= b.approval.requestedAt + APPROVAL_TIMEOUT) {
      step.record('approval-timed-out', { batchIndex: b.index });
      step.s.haltReason = `batch ${b.index} (${b.wave}) was not approved within ${APPROVAL_TIMEOUT / 3_600_000}h`;
      return 'next';
    }
    // Ask again at the next poll: the request is idempotent, and the answer comes back with it.
    step.wakeAt(step.now + step.config.verification.pollInterval);
    step.issue({ kind: 'request-approval', batch: b.index, wave: b.wave, token: b.approval.token });
    return 'yield';
  }
  b.approval.decision = answer.decision;
  step.record(`approval-${answer.decision}`, { batchIndex: b.index });
  if (answer.decision === 'rejected') {
    step.s.haltReason = `batch ${b.index} (${b.wave}) was not approved`;
    return 'next';
  }
  // EC2 may have changed while the operator thought it over: read it again before acting.
  if (step.now - b.approval.requestedAt > step.config.verification.pollInterval) {
    b.stage = 'preflight';
    step.consume();
    step.wakeAt(step.now);
    return 'yield';
  }
  return 'next';
}

/** The batch starts taking instances out of service here: report it once, then drain. */
function startDrain(step: Step, b: BatchState): 'yield' | 'next' {
  if (b.startedAt === undefined) {
    b.startedAt = step.now;
    const acting = b.items.filter((i) => i.phase === 'pending').length;
    step.emit('Batch Started', { batchIndex: b.index, wave: b.wave, items: b.items.length, acting });
  }
  return runDrain(step, b);
}

function runDraining(step: Step, b: BatchState): 'yield' | 'next' {
  if (b.drainedUntil === undefined || step.now >= b.drainedUntil) return 'next';
  step.wakeAt(b.drainedUntil);
  return 'yield';
}

function runAct(step: Step, b: BatchState): 'yield' | 'next' {
  startActing(step, b);
  return 'next';
}

/** After the bake time, verified instances must still be healthy; any that are not count as failures. */
function runBake(step: Step, b: BatchState): 'yield' | 'next' {
  const bake = waveOf(step, b)?.bake ?? 0;
  const verified = b.items.filter((i) => i.phase === 'verified');
  if (bake <= 0 || verified.length === 0 || step.s.haltRequested !== undefined) return 'next';
  b.bakeUntil ??= step.now + bake;
  if (step.now < b.bakeUntil) {
    step.wakeAt(b.bakeUntil);
    return 'yield';
  }
  if (!step.answered.has('describe-status')) {
    for (const c of chunks(
      verified.map((i) => i.instanceId),
      DESCRIBE_BATCH,
    ))
      step.issue({ kind: 'describe-status', instanceIds: c });
    return 'yield';
  }
  for (const item of verified) {
    const st = step.statuses.get(item.instanceId);
    if (st && isHealthy(st)) continue;
    step.fail(
      item,
      b.index,
      `unhealthy during bake: ${st ? `${st.state}, instance ${st.instanceStatus}, system ${st.systemStatus}` : 'no longer described'}`,
    );
  }
  return 'next';
}

/** Failures over the wave's budget halt the rollout. A percent budget is of the items acted on (floor). */
function runGate(step: Step, b: BatchState): 'yield' | 'next' {
  const { s } = step;
  const wave = waveOf(step, b);
  const count = (phase: string) => b.items.filter((i) => i.phase === phase).length;
  const acted = b.items.filter((i) => i.phase !== 'dropped').length;
  const failed = count('failed');
  const budget = resolveLimit(wave?.failureBudget ?? { kind: 'count', value: 0 }, acted, 0);
  for (const item of b.items) {
    if (item.phase !== 'failed') continue;
    s.down[item.instanceId] = item.groupIds;
    if (item.stopIssued && !s.restart.includes(item.instanceId)) s.restart.push(item.instanceId);
  }
  const result = {
    index: b.index,
    wave: b.wave,
    verified: count('verified'),
    failed,
    dropped: count('dropped'),
    dryRun: count('dry-run'),
    moved: count('moved'),
    budget,
    finishedAt: step.now,
  };
  s.results.push(result);
  step.emit('Batch Completed', {
    batchIndex: b.index,
    wave: b.wave,
    verified: result.verified,
    failed,
    budget,
    dropped: result.dropped,
    dryRun: result.dryRun,
    moved: result.moved,
  });
  if (failed > budget)
    s.haltReason ??= `batch ${b.index} (${b.wave}): ${failed} failed of ${acted} (budget ${budget})`;
  s.batch = b.index + 1;
  return 'next';
}
