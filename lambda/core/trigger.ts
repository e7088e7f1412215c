/**
 * When the poll starts a rollout (DESIGN.md "Data flow", poll), and which notices it plans. Decided here once,
 * for the poll handler and its tests.
 *
 * - A notice is *due* when the planner may act on it before the next poll: NotBefore − leadTime ≤ now + the
 *   poll interval (an expedited event is due at once). A rollout plans the due notices only, so it is short
 *   (it never idles for weeks ahead of a far event while newer, urgent notices wait behind it).
 * - One rollout at a time per Region. Notices found while one runs go into the next one, which starts at the
 *   first poll after it completed, if some due notice is *fresh*: first seen, or due (by the window it had
 *   then), only after the previous rollout was claimed. Notices the previous rollout already planned (or skipped) do not start another.
 * - A halted rollout holds its Region until an operator releases it (`forestall release`): AWS's own schedule
 *   applies meanwhile, and Forestall does not act again on a fleet where its last rollout just failed.
 */
import type { Config } from './config';
import type { NoticeRecord } from './notice-ledger';
import type { Notice } from './types';

/** The Region's previous rollout as the trigger needs it. */
export interface PreviousRollout {
  readonly rolloutId: string;
  readonly status: 'running' | 'halted' | 'completed';
  readonly claimedAt: number;
}

export type TriggerDecision =
  | { readonly start: true; readonly due: number; readonly fresh: number }
  | { readonly start: false; readonly why: string };

/**
 * The notice's window as it was at `t`: a change recorded after `t` keeps the window before it (AWS may have
 * moved the event earlier since, making it due only now: the rollout claimed at `t` did not plan it).
 */
function windowAt(r: NoticeRecord, t: number): Pick<NoticeRecord, 'notBefore'> {
  return r.history.find((change) => change.at > t) ?? r;
}

/** The earliest time the planner acts on a notice. */
const dueAt = (r: Pick<NoticeRecord, 'notBefore'>, config: Config) => r.notBefore - config.leadTime;

export function isDue(r: NoticeRecord, now: number, config: Config): boolean {
  return r.state === 'open' && dueAt(r, config) <= now + config.pollIntervalMinutes * 60_000;
}

/** The due notices of a Region, as the planner takes them. */
export function dueNotices(records: readonly NoticeRecord[], now: number, config: Config): Notice[] {
  return records.filter((r) => isDue(r, now, config)).map(noticeOf);
}

export function noticeOf(r: NoticeRecord): Notice {
  return {
    instanceId: r.instanceId,
    region: r.region,
    eventId: r.eventId,
    code: r.code,
    description: r.description,
    notBefore: r.notBefore,
    ...(r.notAfter === undefined ? {} : { notAfter: r.notAfter }),
    ...(r.notBeforeDeadline === undefined ? {} : { notBeforeDeadline: r.notBeforeDeadline }),
    source: r.source,
    state: 'active',
  };
}

export function decideTrigger(
  records: readonly NoticeRecord[],
  previous: PreviousRollout | undefined,
  now: number,
  config: Config,
): TriggerDecision {
  if (previous?.status === 'running')
    return { start: false, why: `rollout ${previous.rolloutId} is running in this Region` };
  if (previous?.status === 'halted')
    return {
      start: false,
      why: `rollout ${previous.rolloutId} halted; release the Region (forestall release) to start the next one`,
    };
  const due = records.filter((r) => isDue(r, now, config));
  if (due.length === 0) return { start: false, why: 'no notice is due' };
  const seenBy = previous?.claimedAt;
  const poll = config.pollIntervalMinutes * 60_000;
  const fresh =
    seenBy === undefined
      ? due.length
      : due.filter((r) => r.firstSeen > seenBy || dueAt(windowAt(r, seenBy), config) > seenBy + poll).length;
  if (fresh === 0)
    return { start: false, why: `the ${due.length} due notice(s) were in rollout ${previous?.rolloutId}` };
  return { start: true, due: due.length, fresh };
}

/** A rollout id for a Region's new rollout, unique per claim time and valid in a Step Functions name. */
export function rolloutIdFor(region: string, now: number): string {
  return `fs-${region}-${new Date(now).toISOString().replace(/[-:.]/g, '').slice(0, 18)}`;
}
