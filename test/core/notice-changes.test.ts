/** reconcileNotices: what a look at EC2 means for the ledger and the bus, without AWS. */
import { assertCatalogued } from '../../lambda/core/catalog';
import { reconcileNotices, SEEN_REFRESH } from '../../lambda/core/notice-changes';
import type { NoticeRecord } from '../../lambda/core/notice-ledger';
import type { InstanceStatus, Notice } from '../../lambda/core/types';

const T0 = Date.parse('2026-11-22T00:00:00Z');
const DAY = 86_400_000;
const scope = { region: 'us-east-1', source: 'poll' as const, now: T0, account: '123456789012' };

function notice(instanceId: string, over: Partial<Notice> = {}): Notice {
  return {
    instanceId,
    region: 'us-east-1',
    eventId: `instance-event-${instanceId.slice(2)}`,
    code: 'system-reboot',
    description: 'scheduled',
    notBefore: T0 + 5 * DAY,
    notBeforeDeadline: T0 + 9 * DAY,
    source: 'poll',
    state: 'active',
    ...over,
  };
}

const status = (...notices: Notice[]): InstanceStatus => ({
  instanceId: notices[0]?.instanceId ?? 'i-0',
  state: 'running',
  instanceStatus: 'ok',
  systemStatus: 'ok',
  notices,
});

/** Applies writes the way the ledger would (all succeed), sent pending dropped. */
function apply(stored: NoticeRecord[], writes: ReturnType<typeof reconcileNotices>): NoticeRecord[] {
  const byKey = new Map(stored.map((r) => [`${r.instanceId}#${r.eventId}`, r]));
  for (const w of writes) {
    const { pending: _, ...rest } = w.record;
    byKey.set(`${w.record.instanceId}#${w.record.eventId}`, rest);
  }
  return [...byKey.values()];
}

const events = (writes: ReturnType<typeof reconcileNotices>) => writes.flatMap((w) => w.record.pending ?? []);

describe('reconcileNotices', () => {
  it('discovers each active notice once, and a second look with nothing new writes nothing', () => {
    const observed = [
      status(notice('i-01')),
      status(notice('i-02', { code: 'instance-stop', notBeforeDeadline: undefined })),
    ];
    const first = reconcileNotices([], observed, scope);
    expect(first.map((w) => [w.kind, w.change])).toEqual([
      ['create', 'discovered'],
      ['create', 'discovered'],
    ]);
    expect(events(first).map((e) => e.detailType)).toEqual(['Notice Discovered', 'Notice Discovered']);
    expect(events(first)[0]?.detail).toEqual({
      region: 'us-east-1',
      account: '123456789012',
      instanceId: 'i-01',
      eventId: 'instance-event-01',
      code: 'system-reboot',
      notBefore: '2026-11-27T00:00:00.000Z',
      notBeforeDeadline: '2026-12-01T00:00:00.000Z',
      deadline: '2026-11-27T00:00:00.000Z',
      source: 'poll',
    });
    const stored = apply([], first);
    expect(reconcileNotices(stored, observed, { ...scope, now: T0 + 60_000 })).toEqual([]);
  });

  it('reports a moved window as Notice Changed with the window before, and keeps the history', () => {
    const stored = apply([], reconcileNotices([], [status(notice('i-01'))], scope));
    const moved = notice('i-01', { notBefore: T0 + 3 * DAY, notAfter: T0 + 3 * DAY + 7_200_000 });
    const [w] = reconcileNotices(stored, [status(moved)], { ...scope, now: T0 + DAY });
    expect(w?.change).toBe('changed');
    expect(w?.record).toMatchObject({
      version: 2,
      notBefore: T0 + 3 * DAY,
      history: [{ at: T0 + DAY, notBefore: T0 + 5 * DAY }],
    });
    expect(w?.record.pending?.[0]?.detail).toMatchObject({
      notBefore: '2026-11-25T00:00:00.000Z',
      notAfter: '2026-11-25T02:00:00.000Z',
      previous: { notBefore: '2026-11-27T00:00:00.000Z', notBeforeDeadline: '2026-12-01T00:00:00.000Z' },
    });
  });

  it('clears a notice once: completed, canceled, or gone from the Region', () => {
    const observed = [status(notice('i-01')), status(notice('i-02')), status(notice('i-03'))];
    const stored = apply([], reconcileNotices([], observed, scope));
    const next = [
      status(notice('i-01', { description: '[Completed] done', state: 'completed' })),
      status(notice('i-02', { description: '[Canceled] no', state: 'canceled' })),
    ];
    const writes = reconcileNotices(stored, next, scope);
    expect(writes.map((w) => [w.record.instanceId, w.record.cleared])).toEqual([
      ['i-01', 'completed'],
      ['i-02', 'canceled'],
      ['i-03', 'gone'],
    ]);
    expect(events(writes).map((e) => (e.detail as { why: string }).why)).toEqual([
      'completed',
      'canceled',
      'gone',
    ]);
    expect(reconcileNotices(apply(stored, writes), next, scope)).toEqual([]);
  });

  it('a look at some instances clears only their notices', () => {
    const stored = apply([], reconcileNotices([], [status(notice('i-01')), status(notice('i-02'))], scope));
    const writes = reconcileNotices(stored, [], { ...scope, source: 'health', instanceIds: ['i-02'] });
    expect(writes.map((w) => [w.record.instanceId, w.change])).toEqual([['i-02', 'cleared']]);
  });

  it('rediscovers a cleared notice that shows up active again, and ignores undocumented codes and history', () => {
    const stored = apply([], reconcileNotices([], [status(notice('i-01'))], scope));
    const gone = apply(stored, reconcileNotices(stored, [], scope));
    const back = reconcileNotices(gone, [status(notice('i-01'))], scope);
    expect(back.map((w) => [w.kind, w.change, w.record.version])).toEqual([['replace', 'discovered', 3]]);
    expect(
      reconcileNotices(
        [],
        [
          status(notice('i-05', { code: 'instance-hibernate' })),
          status(notice('i-06', { state: 'completed' })),
        ],
        scope,
      ),
    ).toEqual([]);
  });

  it('keeps unsent events owed: a new change adds to them instead of replacing them', () => {
    const [discovered] = reconcileNotices([], [status(notice('i-01'))], scope);
    const unsent = discovered?.record as NoticeRecord;
    const [changed] = reconcileNotices(
      [unsent],
      [status(notice('i-01', { notBefore: T0 + 4 * DAY }))],
      scope,
    );
    expect(changed?.record.pending?.map((p) => p.detailType)).toEqual([
      'Notice Discovered',
      'Notice Changed',
    ]);
  });

  it('refreshes lastSeen only after SEEN_REFRESH, without an event', () => {
    const stored = apply([], reconcileNotices([], [status(notice('i-01'))], scope));
    expect(
      reconcileNotices(stored, [status(notice('i-01'))], { ...scope, now: T0 + SEEN_REFRESH - 1 }),
    ).toEqual([]);
    const [w] = reconcileNotices(stored, [status(notice('i-01'))], { ...scope, now: T0 + SEEN_REFRESH });
    expect(w).toMatchObject({ change: 'seen', record: { lastSeen: T0 + SEEN_REFRESH, version: 2 } });
    expect(w?.record.pending).toBeUndefined();
  });

  it('every event it owes is in the catalog', () => {
    const stored = apply([], reconcileNotices([], [status(notice('i-01')), status(notice('i-02'))], scope));
    const writes = reconcileNotices(
      stored,
      [status(notice('i-01', { notBefore: T0 + DAY, notBeforeDeadline: undefined }))],
      scope,
    );
    for (const e of events(writes)) expect(() => assertCatalogued(e.detailType, e.detail)).not.toThrow();
    expect(events(writes)).toHaveLength(2);
  });
});
