/**
 * Act: each pending item's remedy, in calls the API admits now (AWS-FACTS §6); the rest wait for tokens.
 * Reboot and stop are asynchronous at EC2: an accepted call proves nothing, verification decides.
 */
import { ACTION_BATCH, type BucketName } from '../api-limits';
import { admitted, nextAdmission, spend } from './pacing';
import type { BatchState, ItemState } from './state';
import { chunks, type Step } from './step';

type ActionKind = 'reboot' | 'stop' | 'start';

const COST: Record<ActionKind, { call: Partial<Record<BucketName, number>>; perId?: BucketName }> = {
  reboot: { call: { mutate: 1 } },
  stop: { call: { mutate: 1 }, perId: 'stopResource' },
  start: { call: { start: 1 }, perId: 'startResource' },
};

/** Issues `kind` for as many items as the buckets admit now; returns the items it issued for. */
export function issuePaced(step: Step, items: readonly ItemState[], kind: ActionKind): ItemState[] {
  if (items.length === 0) return [];
  const { s, now } = step;
  const cost = COST[kind];
  const calls = admitted(s, now, Math.ceil(items.length / ACTION_BATCH), cost.call);
  let n = Math.min(items.length, calls * ACTION_BATCH);
  if (cost.perId) n = Math.min(n, admitted(s, now, n, { [cost.perId]: 1 }));
  const chosen = items.slice(0, n);
  for (const c of chunks(chosen, ACTION_BATCH)) step.issue({ kind, instanceIds: c.map((i) => i.instanceId) });
  const used = Math.ceil(n / ACTION_BATCH);
  spend(s, now, {
    ...Object.fromEntries(Object.keys(cost.call).map((k) => [k, used])),
    ...(cost.perId ? { [cost.perId]: n } : {}),
  });
  if (n < items.length) {
    const one = {
      ...cost.call,
      ...(cost.perId ? { [cost.perId]: Math.min(ACTION_BATCH, items.length - n) } : {}),
    };
    step.wakeAt(nextAdmission(s, now, one));
  }
  return chosen;
}

/** First entry into act: start the verification clock, and settle what needs no call. */
export function startActing(step: Step, b: BatchState): void {
  const { now, config, s } = step;
  b.verifyBy = now + config.verification.timeout;
  const live = b.items.filter((i) => i.phase === 'pending');
  for (const item of live) {
    if (s.dryRun) {
      item.phase = 'dry-run';
      item.reason = `dryRun: would ${item.remedy}`;
      step.recordItem(item, b.index, 'dry-run', { remedy: item.remedy });
    } else if (item.remedy === 'reschedule') {
      // Moved ahead of this batch (preflight dropped it otherwise): AWS performs it in the window from the slot.
      item.phase = 'verifying';
      item.actedAt = now;
      item.verifyBy = Math.max(now, item.windowEnd ?? now) + config.verification.timeout;
    }
  }
}

/** Issues the remedy calls of pending items (first attempts, retries after throttling, fallbacks). */
export function actOnPending(step: Step, b: BatchState): void {
  const { now, config } = step;
  for (const item of b.items) {
    // A remedy the API kept refusing until the verification deadline is not sent late: AWS may act by then.
    if (item.phase === 'pending' && b.verifyBy !== undefined && now >= (item.verifyBy ?? b.verifyBy))
      step.fail(item, b.index, 'API throttled until the verification timeout: the remedy was never applied');
  }
  for (const kind of ['reboot', 'stop'] as const) {
    const remedy = kind === 'reboot' ? 'reboot-migrate' : 'stop-start';
    const pending = b.items.filter((i) => i.phase === 'pending' && i.remedy === remedy);
    for (const item of issuePaced(step, pending, kind)) {
      item.phase = 'acting';
      item.actedAt ??= now;
      item.verifyBy ??= now + config.verification.timeout;
      step.recordItem(item, b.index, 'act', { remedy: item.remedy, call: kind });
    }
  }
}
