/**
 * Verify (AWS-FACTS §1): an item counts only when EC2 shows its events gone (or [Completed]) and the instance
 * running with both status checks ok. Each pass settles last step's call outcomes, judges what EC2 shows,
 * starts what Forestall stopped, and issues the next reads; a failed remedy falls back (fallback.ts).
 */

import { DESCRIBE_BATCH } from '../api-limits';
import type { ActionOutcome } from '../ports';
import { isHealthy } from '../rollout';
import { formatDuration } from '../time';
import type { InstanceStatus } from '../types';
import { actOnPending, issuePaced } from './act';
import { fallBack, settleFallbackReschedule } from './fallback';
import { type BatchState, type ItemState, isFinal } from './state';
import { chunks, type Step } from './step';

/** A reboot is judged only after this long (RebootInstances is asynchronous: it only queues the reboot). */
export const MIGRATION_GRACE = 5 * 60_000;

export function runVerify(step: Step, b: BatchState): 'yield' | 'next' {
  const { now, config } = step;
  settleOutcomes(step, b);
  if (step.answered.has('describe-status')) judge(step, b);
  actOnPending(step, b);
  // Start what EC2 last showed stopped, as the StartInstances buckets admit; the rest at a later wake.
  const stopped = b.items.filter(
    (i) => (i.phase === 'stopping' || i.phase === 'starting') && i.seenStopped === true,
  );
  for (const item of issuePaced(step, stopped, 'start')) {
    item.phase = 'starting';
    delete item.seenStopped;
    step.recordItem(item, b.index, 'start', {});
  }
  const open = b.items.filter((i) => !isFinal(i));
  if (open.length === 0) return 'next';
  const waiting = open.filter((i) => i.phase !== 'pending');
  // Read EC2 once per poll interval, however often pacing wakes the machine in between. With nothing to
  // read (every open item waits for API tokens) the pacing wake alone is enough: no wake at `now`.
  if (waiting.length === 0) {
    step.consume();
    return 'yield';
  }
  const nextRead = b.lastReadAt === undefined ? now : b.lastReadAt + config.verification.pollInterval;
  if (step.answered.has('describe-status') || now < nextRead) {
    step.wakeAt(
      step.answered.has('describe-status')
        ? Math.max(nextRead, now + config.verification.pollInterval)
        : nextRead,
    );
    step.consume();
    return 'yield';
  }
  b.lastReadAt = now;
  for (const c of chunks(
    waiting.map((i) => i.instanceId),
    DESCRIBE_BATCH,
  ))
    step.issue({ kind: 'describe-status', instanceIds: c });
  return 'yield';
}

function byId(b: BatchState): Map<string, ItemState> {
  return new Map(b.items.map((i) => [i.instanceId, i]));
}

/** Outcomes of last step's reboot / stop / start calls. */
function settleOutcomes(step: Step, b: BatchState): void {
  const items = byId(b);
  const apply = (outcomes: readonly ActionOutcome[], onOk: (i: ItemState, o: ActionOutcome) => void) => {
    for (const o of outcomes) {
      const item = items.get(o.instanceId);
      if (!item || isFinal(item)) continue;
      if (o.ok || o.ambiguous) onOk(item, o);
      else if (o.retryable) item.phase = item.phase === 'starting' ? 'stopping' : 'pending';
      else if (item.phase === 'starting')
        step.fail(item, b.index, `StartInstances failed: ${o.error ?? 'unknown'}`);
      else fallBack(step, b, item, `${item.remedy} call failed: ${o.error ?? 'unknown'}`);
    }
  };
  apply(step.outcomesOf('reboot'), (item, o) => {
    item.phase = 'verifying';
    if (o.ambiguous) markAmbiguous(step, b, item, o);
  });
  apply(step.outcomesOf('stop'), (item, o) => {
    item.phase = 'stopping';
    item.stopIssued = true;
    if (o.ambiguous) markAmbiguous(step, b, item, o);
  });
  // An ambiguous start is judged like a started one; if EC2 still shows it stopped, it is started again
  // (StartInstances is harmless to repeat).
  apply(step.outcomesOf('start'), () => {});
  settleFallbackReschedule(step, b);
}

function markAmbiguous(step: Step, b: BatchState, item: ItemState, o: ActionOutcome): void {
  item.ambiguous = true;
  step.recordItem(item, b.index, 'ambiguous', {
    error: o.error,
    note: 'settled by re-reading EC2, not sent again',
  });
}

function judge(step: Step, b: BatchState): void {
  for (const item of b.items) {
    if (isFinal(item) || item.phase === 'pending' || item.phase === 'acting') continue;
    const status = step.statuses.get(item.instanceId);
    noteImpaired(item, status, step.now);
    const verdict = assess(item, status, step.now, step.config.verification.impairedFor);
    if (verdict === 'stopped') item.seenStopped = true;
    if (verdict === 'wait' || verdict === 'stopped') continue;
    if (verdict === 'verified') {
      item.phase = 'verified';
      item.verifiedAt = step.now;
      step.recordItem(item, b.index, 'verified', { remedy: item.remedy });
      step.emit('Instance Remedied', {
        ...step.itemDetail(item, b.index),
        durationSeconds: Math.round((step.now - (item.actedAt ?? step.now)) / 1000),
      });
    } else if (verdict.startsWith('remedy-failed:'))
      fallBack(step, b, item, verdict.slice('remedy-failed: '.length));
    else step.fail(item, b.index, verdict);
  }
}

type Verdict = 'wait' | 'stopped' | 'verified' | string;

const impairedChecks = (status: InstanceStatus): boolean =>
  status.state === 'running' && (status.instanceStatus === 'impaired' || status.systemStatus === 'impaired');

/** Keeps when verification first read a running instance's checks `impaired`, until a read shows neither. */
export function noteImpaired(item: ItemState, status: InstanceStatus | undefined, now: number): void {
  if (status !== undefined && impairedChecks(status)) item.impairedSince ??= now;
  else delete item.impairedSince;
}

/** What EC2 shows about one item now: wait, stopped (to start), verified, `remedy-failed: why` (may fall back), or why it failed. */
export function assess(
  item: ItemState,
  status: InstanceStatus | undefined,
  now: number,
  impairedFor = Number.POSITIVE_INFINITY,
): Verdict {
  const timedOut = now >= (item.verifyBy ?? now);
  if (!status || status.state === 'terminated' || status.state === 'shutting-down')
    return 'instance terminated or no longer described';
  if (item.phase === 'starting' && status.state === 'stopped') return 'stopped'; // start again
  if (item.phase === 'stopping') {
    if (status.state === 'stopped') return 'stopped'; // started as the API admits
    if (item.ambiguous && status.state === 'running' && now >= (item.actedAt ?? now) + MIGRATION_GRACE)
      return 'the stop call had no clear answer and EC2 shows the instance running: not sent again';
    return timedOut ? `did not stop before the verification timeout (state ${status.state})` : 'wait';
  }
  const active = new Set(status.notices.filter((n) => n.state === 'active').map((n) => n.eventId));
  const stillOpen = item.eventIds.filter((id) => active.has(id));
  const healthy = isHealthy(status);
  if (stillOpen.length === 0 && healthy) return 'verified';
  if (healthy && item.remedy === 'reboot-migrate' && now >= (item.actedAt ?? now) + MIGRATION_GRACE)
    return 'remedy-failed: the reboot did not migrate the instance; a user reboot leaves the event open';
  if (healthy && item.remedy === 'stop-start' && item.phase === 'starting')
    return `remedy-failed: the stop-start did not clear ${stillOpen.join(', ')}`;
  if (item.impairedSince !== undefined && now - item.impairedSince >= impairedFor)
    return `status checks impaired for ${formatDuration(now - item.impairedSince)} (instance status ${status.instanceStatus}, system status ${status.systemStatus}${stillOpen.length > 0 ? `, ${stillOpen.join(', ')} still open` : ''}): failed before the verification timeout (verification.impairedFor)`;
  if (!timedOut) return 'wait';
  if (stillOpen.length > 0)
    return `event still open after the verification timeout: ${stillOpen.join(', ')}${item.remedy === 'reschedule' ? ' (AWS has not performed the rescheduled event yet)' : ''}`;
  return `event cleared but not healthy: state ${status.state}, instance status ${status.instanceStatus}, system status ${status.systemStatus}`;
}
