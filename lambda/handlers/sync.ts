/**
 * One look at EC2 for the poll and health-intake handlers: read EC2 and the ledger, let the core decide
 * (reconcileNotices), write conditionally, and send what each won write owes the bus, plus what earlier
 * runs wrote but could not send (each record's outbox). A lost conditional write reports nothing.
 */
import type { BusEvent, FailedEvent } from '../aws/reporter';
import { type LookScope, reconcileNotices } from '../core/notice-changes';
import type { NoticeLedgerPort, NoticeRecord } from '../core/notice-ledger';
import type { FleetPort } from '../core/ports';

export interface SyncDeps {
  readonly fleet: FleetPort;
  readonly ledger: NoticeLedgerPort;
  readonly reporter: { publish(events: readonly BusEvent[]): Promise<FailedEvent[]> };
}

export interface SyncSummary {
  readonly instances: number;
  readonly discovered: number;
  readonly changed: number;
  readonly cleared: number;
  /** Writes another writer won (it reports those changes). */
  readonly lostRaces: number;
  readonly sent: number;
  readonly unsent: number;
  /** Open notices by event code after this look. */
  readonly openByCode: Readonly<Record<string, number>>;
}

/** Ledger writes in flight at once. */
const WRITE_CONCURRENCY = 16;

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await f(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const keyOf = (r: NoticeRecord) => `${r.instanceId}#${r.eventId}`;

export async function syncNotices(deps: SyncDeps, scope: LookScope): Promise<SyncSummary> {
  const observed = scope.instanceIds
    ? await deps.fleet.describeStatus(scope.instanceIds)
    : await deps.fleet.listScheduled();
  const stored = await deps.ledger.notices(scope.region, scope.instanceIds);
  const writes = reconcileNotices(stored, observed, scope);
  const won = await mapLimit(writes, WRITE_CONCURRENCY, (w) =>
    w.kind === 'create' ? deps.ledger.create(w.record) : deps.ledger.replace(w.record),
  );
  const latest = new Map(stored.map((r) => [keyOf(r), r]));
  writes.forEach((w, i) => {
    if (won[i]) latest.set(keyOf(w.record), w.record);
  });
  const owing = [...latest.values()].filter((r) => (r.pending?.length ?? 0) > 0);
  const eventsOf = new Map(owing.map((r) => [r, (r.pending ?? []).map((p) => ({ ...p }) as BusEvent)]));
  const failed = new Set((await deps.reporter.publish([...eventsOf.values()].flat())).map((f) => f.event));
  const sent = owing.filter((r) => !(eventsOf.get(r) ?? []).some((e) => failed.has(e)));
  await mapLimit(sent, WRITE_CONCURRENCY, (r) => deps.ledger.reported(r));
  const count = (change: string) => writes.filter((w, i) => won[i] && w.change === change).length;
  const openByCode: Record<string, number> = {};
  for (const r of latest.values()) if (r.state === 'open') openByCode[r.code] = (openByCode[r.code] ?? 0) + 1;
  return {
    instances: observed.length,
    discovered: count('discovered'),
    changed: count('changed'),
    cleared: count('cleared'),
    lostRaces: won.filter((w) => !w).length,
    sent: [...eventsOf.values()].flat().length - failed.size,
    unsent: failed.size,
    openByCode,
  };
}
