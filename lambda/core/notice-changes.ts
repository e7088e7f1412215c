/**
 * What a look at EC2 means for the ledger and the bus (pure; the poll and health-intake handlers run it).
 * Given the stored notices and what DescribeInstanceStatus shows now, it returns the writes to make, each
 * with the event it owes the bus:
 * - an active event not in the ledger (or cleared there before) → `Notice Discovered`;
 * - an open notice whose NotBefore, NotAfter or NotBeforeDeadline moved → `Notice Changed` (with the window before);
 * - an open notice now `[Completed]`/`[Canceled]`, or gone from an instance that was looked at → `Notice Cleared`;
 * - otherwise nothing, except refreshing lastSeen every SEEN_REFRESH (not on every poll: writes cost).
 * Each write is conditional on the version read (NoticeLedgerPort), so a change is reported by one writer only.
 */
import type { CatalogEvent } from './catalog';
import type { ClearReason, NoticeRecord, PendingReport } from './notice-ledger';
import { HOUR, iso } from './time';
import { type InstanceStatus, isEventCode, type Notice } from './types';

export const SEEN_REFRESH = 6 * HOUR;

export interface NoticeWrite {
  readonly kind: 'create' | 'replace';
  /** The record to write, its `pending` carrying the event(s) still owed (older unsent ones first). */
  readonly record: NoticeRecord;
  readonly change: 'discovered' | 'changed' | 'cleared' | 'seen';
}

export interface LookScope {
  readonly region: string;
  /** The instances looked at; absent for a whole-Region poll (then every open notice is in scope). */
  readonly instanceIds?: readonly string[];
  readonly account?: string;
  readonly source: Notice['source'];
  readonly now: number;
}

const keyOf = (n: { instanceId: string; eventId: string }) => `${n.instanceId}#${n.eventId}`;

function windowMoved(r: NoticeRecord, n: Notice): boolean {
  return (
    r.notBefore !== n.notBefore || r.notAfter !== n.notAfter || r.notBeforeDeadline !== n.notBeforeDeadline
  );
}

type NoticeFields = Pick<
  NoticeRecord,
  'region' | 'instanceId' | 'eventId' | 'code' | 'notBefore' | 'notAfter' | 'notBeforeDeadline' | 'source'
>;

/** The detail every notice event carries (catalog: Notice Discovered). */
export function noticeDetail(r: NoticeFields, account?: string) {
  return {
    region: r.region,
    ...(account === undefined ? {} : { account }),
    instanceId: r.instanceId,
    eventId: r.eventId,
    code: r.code,
    notBefore: iso(r.notBefore),
    ...(r.notAfter === undefined ? {} : { notAfter: iso(r.notAfter) }),
    ...(r.notBeforeDeadline === undefined ? {} : { notBeforeDeadline: iso(r.notBeforeDeadline) }),
    deadline: iso(r.notBefore),
    source: r.source,
  };
}

function owed(stored: NoticeRecord | undefined, event: CatalogEvent): readonly PendingReport[] {
  return [...(stored?.pending ?? []), { detailType: event.detailType, detail: event.detail }];
}

function fresh(n: Notice, scope: LookScope): NoticeRecord {
  return {
    region: n.region,
    instanceId: n.instanceId,
    eventId: n.eventId,
    code: n.code,
    description: n.description,
    notBefore: n.notBefore,
    ...(n.notAfter === undefined ? {} : { notAfter: n.notAfter }),
    ...(n.notBeforeDeadline === undefined ? {} : { notBeforeDeadline: n.notBeforeDeadline }),
    source: scope.source,
    state: 'open',
    firstSeen: scope.now,
    lastSeen: scope.now,
    history: [],
    version: 1,
  };
}

function observedWrite(
  n: Notice,
  stored: NoticeRecord | undefined,
  scope: LookScope,
): NoticeWrite | undefined {
  const { now, account } = scope;
  if (n.state !== 'active') {
    if (stored?.state !== 'open') return undefined;
    return cleared(stored, n.state, scope);
  }
  if (!stored || stored.state === 'cleared') {
    const base = fresh(n, scope);
    const record = stored
      ? { ...base, firstSeen: stored.firstSeen, history: stored.history, version: stored.version + 1 }
      : base;
    const event: CatalogEvent = { detailType: 'Notice Discovered', detail: noticeDetail(record, account) };
    return {
      kind: stored ? 'replace' : 'create',
      change: 'discovered',
      record: { ...record, pending: owed(stored, event) },
    };
  }
  if (windowMoved(stored, n)) {
    const { notAfter: _a, notBeforeDeadline: _d, ...rest } = stored;
    const record: NoticeRecord = {
      ...rest,
      description: n.description,
      notBefore: n.notBefore,
      ...(n.notAfter === undefined ? {} : { notAfter: n.notAfter }),
      ...(n.notBeforeDeadline === undefined ? {} : { notBeforeDeadline: n.notBeforeDeadline }),
      lastSeen: now,
      history: [...stored.history, windowOf(stored, now)],
      version: stored.version + 1,
    };
    const previous = noticeDetail(stored);
    const event: CatalogEvent = {
      detailType: 'Notice Changed',
      detail: {
        ...noticeDetail(record, account),
        previous: {
          notBefore: previous.notBefore,
          ...(previous.notAfter === undefined ? {} : { notAfter: previous.notAfter }),
          ...(previous.notBeforeDeadline === undefined
            ? {}
            : { notBeforeDeadline: previous.notBeforeDeadline }),
          deadline: previous.deadline,
        },
      },
    };
    return { kind: 'replace', change: 'changed', record: { ...record, pending: owed(stored, event) } };
  }
  if (now - stored.lastSeen < SEEN_REFRESH) return undefined;
  return {
    kind: 'replace',
    change: 'seen',
    record: { ...stored, lastSeen: now, version: stored.version + 1 },
  };
}

function windowOf(r: NoticeRecord, at: number) {
  return {
    at,
    notBefore: r.notBefore,
    ...(r.notAfter === undefined ? {} : { notAfter: r.notAfter }),
    ...(r.notBeforeDeadline === undefined ? {} : { notBeforeDeadline: r.notBeforeDeadline }),
  };
}

function cleared(stored: NoticeRecord, why: ClearReason, scope: LookScope): NoticeWrite {
  const record: NoticeRecord = {
    ...stored,
    state: 'cleared',
    cleared: why,
    lastSeen: scope.now,
    version: stored.version + 1,
  };
  const event: CatalogEvent = {
    detailType: 'Notice Cleared',
    detail: { ...noticeDetail(stored, scope.account), why },
  };
  return { kind: 'replace', change: 'cleared', record: { ...record, pending: owed(stored, event) } };
}

/**
 * The writes one look calls for. Only documented event codes count (the poll's event.code filter sees no
 * other, so a Health-triggered look must not record one the poll would then call gone).
 */
export function reconcileNotices(
  stored: readonly NoticeRecord[],
  observed: readonly InstanceStatus[],
  scope: LookScope,
): NoticeWrite[] {
  const byKey = new Map(stored.map((r) => [keyOf(r), r]));
  const seen = new Set<string>();
  const writes: NoticeWrite[] = [];
  for (const status of observed)
    for (const n of status.notices) {
      if (!isEventCode(n.code) || n.region !== scope.region) continue;
      seen.add(keyOf(n));
      const w = observedWrite(n, byKey.get(keyOf(n)), scope);
      if (w) writes.push(w);
    }
  const looked = scope.instanceIds ? new Set(scope.instanceIds) : undefined;
  for (const r of stored) {
    if (r.state !== 'open' || seen.has(keyOf(r))) continue;
    if (looked && !looked.has(r.instanceId)) continue;
    writes.push(cleared(r, 'gone', scope));
  }
  return writes;
}
