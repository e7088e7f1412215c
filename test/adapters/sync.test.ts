/** syncNotices' guards without AWS: a lost conditional write reports nothing; an unsent event is owed and resent. */
import type { BusEvent, FailedEvent } from '../../lambda/aws/reporter';
import type { NoticeLedgerPort, NoticeRecord } from '../../lambda/core/notice-ledger';
import type { FleetPort } from '../../lambda/core/ports';
import type { InstanceStatus } from '../../lambda/core/types';
import { syncNotices } from '../../lambda/handlers/sync';

const NOW = Date.parse('2026-11-22T00:00:00Z');
const status: InstanceStatus = {
  instanceId: 'i-01',
  state: 'running',
  instanceStatus: 'ok',
  systemStatus: 'ok',
  notices: [
    {
      instanceId: 'i-01',
      region: 'us-east-1',
      eventId: 'instance-event-1',
      code: 'system-reboot',
      description: 'x',
      notBefore: NOW + 86_400_000,
      source: 'poll',
      state: 'active',
    },
  ],
};
const fleet = {
  listScheduled: async () => [status],
  describeStatus: async () => [status],
} as unknown as FleetPort;

class Ledger implements NoticeLedgerPort {
  records = new Map<string, NoticeRecord>();
  constructor(private readonly refuse = false) {}
  async notices() {
    return [...this.records.values()];
  }
  async create(r: NoticeRecord) {
    if (this.refuse || this.records.has(r.eventId)) return false;
    this.records.set(r.eventId, r);
    return true;
  }
  async replace(r: NoticeRecord) {
    if (this.refuse || this.records.get(r.eventId)?.version !== r.version - 1) return false;
    this.records.set(r.eventId, r);
    return true;
  }
  async reported(r: NoticeRecord) {
    const { pending: _, ...rest } = r;
    this.records.set(r.eventId, rest);
    return true;
  }
  async acquireLock() {
    return true;
  }
  async releaseLock() {}
}

class Reporter {
  sent: BusEvent[] = [];
  constructor(private failNext = 0) {}
  async publish(events: readonly BusEvent[]): Promise<FailedEvent[]> {
    if (this.failNext-- > 0) return events.map((event) => ({ event, error: 'InternalFailure' }));
    this.sent.push(...events);
    return [];
  }
}

const scope = { region: 'us-east-1', source: 'poll' as const, now: NOW };

describe('syncNotices', () => {
  it('reports nothing when another writer won the conditional write', async () => {
    const reporter = new Reporter();
    const summary = await syncNotices({ fleet, ledger: new Ledger(true), reporter }, scope);
    expect(summary).toMatchObject({ discovered: 0, lostRaces: 1, sent: 0 });
    expect(reporter.sent).toEqual([]);
  });

  it('keeps an event it could not send owed, and sends it on the next look, once', async () => {
    const ledger = new Ledger();
    const reporter = new Reporter(1);
    expect(await syncNotices({ fleet, ledger, reporter }, scope)).toMatchObject({
      discovered: 1,
      sent: 0,
      unsent: 1,
    });
    expect([...ledger.records.values()][0]?.pending).toHaveLength(1);
    expect(await syncNotices({ fleet, ledger, reporter }, { ...scope, now: NOW + 60_000 })).toMatchObject({
      sent: 1,
    });
    expect(reporter.sent.map((e) => e.detailType)).toEqual(['Notice Discovered']);
    expect([...ledger.records.values()][0]?.pending).toBeUndefined();
    await syncNotices({ fleet, ledger, reporter }, { ...scope, now: NOW + 120_000 });
    expect(reporter.sent).toHaveLength(1);
  });
});
