/**
 * The rollout machine's boundaries, pinned on advance() and the storage shape directly (no simulator): the
 * values and comparisons a small change would silently move.
 */
import { parseConfig } from '../../lambda/core/config';
import { advance } from '../../lambda/core/machine/advance';
import type { Command, Observation } from '../../lambda/core/machine/commands';
import { initialState, rescheduleCallsOf, startRollout } from '../../lambda/core/machine/init';
import type { ItemState, RolloutState } from '../../lambda/core/machine/state';
import { RECORD_LIMIT, toRecords } from '../../lambda/core/machine/storage';
import { assess } from '../../lambda/core/machine/verify';
import { RESCHEDULE_CALL_MARGIN, RESCHEDULE_MIN_LEAD } from '../../lambda/core/reschedule-timing';
import type { InstanceStatus, Plan } from '../../lambda/core/types';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const config = parseConfig({ dryRun: false });
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** One batch at `slot` that reschedules `n` instance-reboot events planned at NotBefore `notBefore`. */
function reschedulePlan(slot: number, notBefore: number, n = 1): Plan {
  const hex = (k: number) => (k + 1).toString(16).padStart(17, '0');
  return {
    rolloutId: 'fs-review',
    generatedAt: new Date(NOW).toISOString(),
    batches: [
      {
        index: 0,
        wave: 'main',
        startAt: new Date(slot).toISOString(),
        endBy: new Date(slot + 3 * HOUR).toISOString(),
        items: Array.from({ length: n }, (_, k) => ({
          instanceId: `i-${hex(k)}`,
          eventId: `instance-event-${hex(k)}`,
          code: 'instance-reboot',
          remedy: 'reschedule' as const,
          notBefore: new Date(notBefore).toISOString(),
          deadline: new Date(notBefore + 7 * 24 * HOUR).toISOString(),
          groups: { az: 'us-east-1a' },
        })),
      },
    ],
    skipped: [],
    infeasible: [],
  };
}

const kinds = (cs: readonly Command[]) => cs.map((c) => c.kind);

describe('reschedule calls of a batch larger than the call margin holds start earlier by the time the rest take', () => {
  const slot = NOW + 10 * HOUR;
  const latest = slot - RESCHEDULE_MIN_LEAD - RESCHEDULE_CALL_MARGIN;
  const callTimes = (n: number) =>
    new Set(rescheduleCallsOf(reschedulePlan(slot, NOW + 12 * HOUR, n), NOW).map((c) => c.callAt));

  it('calls 2,275 at the latest call time (they fit 15 min at 2.5 a second), 2,276 from 0.4 s before', () => {
    expect([...callTimes(2275)]).toEqual([latest]);
    expect([...callTimes(2276)]).toEqual([latest - 400]);
  });

  it('starts 3,000 calls 290 s early ((6,000 - 50) / 5 s, less the margin), never before the plan was made', () => {
    expect([...callTimes(3000)]).toEqual([latest - 290_000]);
    const soon = rescheduleCallsOf(reschedulePlan(NOW + 76 * MIN, NOW + 12 * HOUR, 3000), NOW);
    expect(new Set(soon.map((c) => c.callAt))).toEqual(new Set([NOW]));
  });
});

describe('reschedule calls: too late is judged against the slot, not only the batch start', () => {
  const slot = NOW + 10 * HOUR;
  const start = () =>
    startRollout({
      plan: reschedulePlan(slot, NOW + 12 * HOUR),
      config,
      region: 'us-east-1',
      limits: new Map([['az=us-east-1a', 1]]),
      now: NOW,
    });

  it('makes the call when it wakes at its call time', () => {
    const { state } = start();
    const call = state.reschedules[0];
    expect(call?.callAt).toBe(slot - RESCHEDULE_MIN_LEAD - 15 * MIN);
    const next = advance(state, [], call?.callAt ?? 0, config);
    expect(kinds(next.commands)).toContain('reschedule');
  });

  it('makes the calls the API holds back in groups of 25, waking when 25 more are admitted (5 s)', () => {
    const { state } = startRollout({
      plan: reschedulePlan(slot, NOW + 12 * HOUR, 100),
      config,
      region: 'us-east-1',
      limits: new Map([['az=us-east-1a', 100]]),
      now: NOW,
    });
    const at = state.reschedules[0]?.callAt ?? 0;
    const first = advance(state, [], at, config);
    const calls = first.commands.flatMap((c) => (c.kind === 'reschedule' ? [c] : []));
    expect(calls).toHaveLength(50); // the bucket's burst
    const answers: Observation[] = calls.map((c) => ({
      kind: 'outcomes',
      id: c.id,
      outcomes: [{ instanceId: c.instanceId, ok: true }],
    }));
    const settled = advance(first.state, answers, at, config);
    expect(settled.commands.filter((c) => c.kind === 'reschedule')).toHaveLength(0); // the bucket is empty
    const wake = settled.commands.find((c) => c.kind === 'wait-until');
    expect(wake?.kind === 'wait-until' && wake.at).toBe(at + 5000); // 25 tokens at 5 a second
    const woken = advance(settled.state, [], at + 5000, config);
    expect(woken.commands.filter((c) => c.kind === 'reschedule')).toHaveLength(25);
  });

  it('skips a call the machine reaches within 60 minutes of the slot (AWS would refuse it)', () => {
    const { state } = start();
    // The driver was down: the first step after planning runs 30 minutes before the slot.
    const next = advance(state, [], slot - 30 * MIN, config);
    expect(kinds(next.commands)).not.toContain('reschedule');
    const skipped = next.commands.find((c) => c.kind === 'record' && c.entry.kind === 'reschedule-skipped');
    expect(skipped?.kind === 'record' && skipped.entry.detail?.reason).toMatch(/^too-late/);
    expect(next.state.reschedules).toEqual([]);
  });
});

describe('reschedule calls count the events already moved into the batch against the group limit', () => {
  it('moves one event into a batch whose group (limit 2) has one earlier failure down, and skips the second', () => {
    const slot = NOW + 10 * HOUR;
    const one = reschedulePlan(slot, NOW + 12 * HOUR);
    const [batch] = one.batches;
    const [item] = batch?.items ?? [];
    if (!batch || !item) throw new Error('plan');
    const plan: Plan = {
      ...one,
      batches: [{ ...batch, items: [item, { ...item, instanceId: 'i-00000000000000002', eventId: 'e-2' }] }],
    };
    const { state } = startRollout({
      plan,
      config,
      region: 'us-east-1',
      limits: new Map([['az=us-east-1a', 2]]),
      now: NOW,
    });
    const down = { ...state, down: { 'i-0000000000000000f': ['az=us-east-1a'] } };
    const next = advance(down, [], state.reschedules[0]?.callAt ?? 0, config);
    expect(next.commands.filter((c) => c.kind === 'reschedule')).toHaveLength(1);
    expect(
      next.commands.filter((c) => c.kind === 'record' && c.entry.kind === 'reschedule-skipped'),
    ).toHaveLength(1);
  });
});

describe('verification judges a reboot only after MIGRATION_GRACE (5 minutes)', () => {
  const item: ItemState = {
    instanceId: 'i-0abc',
    eventIds: ['e-1'],
    codes: ['system-reboot'],
    remedy: 'reboot-migrate',
    tried: [],
    deadline: NOW + 48 * HOUR,
    notBefore: NOW + 48 * HOUR,
    groupIds: [],
    phase: 'verifying',
    actedAt: NOW,
    verifyBy: NOW + 20 * MIN,
  };
  const open: InstanceStatus = {
    instanceId: 'i-0abc',
    state: 'running',
    instanceStatus: 'ok',
    systemStatus: 'ok',
    notices: [
      {
        instanceId: 'i-0abc',
        region: 'us-east-1',
        eventId: 'e-1',
        code: 'system-reboot',
        description: '',
        notBefore: NOW + 48 * HOUR,
        source: 'poll',
        state: 'active',
      },
    ],
  };

  it('still waits 4½ minutes after RebootInstances (EC2 may not have started the reboot yet)', () => {
    expect(assess(item, open, NOW + 4.5 * MIN)).toBe('wait');
    expect(assess(item, open, NOW + 5 * MIN)).toMatch(/^remedy-failed: /);
  });
});

describe('storage: every record stays under RECORD_LIMIT or the write is refused', () => {
  const first = startRollout({
    plan: reschedulePlan(NOW + 10 * HOUR, NOW + 12 * HOUR),
    config,
    region: 'us-east-1',
    limits: new Map(),
    now: NOW,
  });
  const record = (id: string, size: number): Command => ({
    kind: 'record',
    id,
    entry: { rolloutId: 'fs-review', at: NOW, kind: 'not-restarted', detail: { blob: 'x'.repeat(size) } },
  });

  it('starts a new chunk before an entry would push the current one past the chunk size', () => {
    const records = toRecords({
      state: first.state,
      commands: [record('a', 200 * 1024), record('b', 200 * 1024)],
    });
    expect(records.filter((r) => r.startsWith('{"kind":"commands"'))).toHaveLength(2); // one per entry
    for (const r of records) expect(bytes(r)).toBeLessThanOrEqual(RECORD_LIMIT);
  });

  it('refuses one entry larger than a record instead of writing an oversize record', () => {
    expect(() => toRecords({ state: first.state, commands: [record('a', 360 * 1024)] })).toThrow(
      /one commands entry is \d+ bytes/,
    );
  });

  it('refuses a head larger than a record', () => {
    const down = Object.fromEntries(
      Array.from({ length: 8000 }, (_, k) => [
        `i-${k.toString(16).padStart(17, '0')}`,
        ['asg=a-service-name', 'az=us-east-1a'],
      ]),
    );
    expect(() => toRecords({ state: { ...first.state, down }, commands: [] })).toThrow(
      /state head is \d+ bytes/,
    );
  });
});

describe('fallback after a failed reboot migration: it must fit, and keep group limits at its slot', () => {
  const G = 'tag:team=db';
  const ACTED = NOW;
  const JUDGED = ACTED + 5 * MIN; // MIGRATION_GRACE: the migration is judged failed now
  const EVENT_WINDOW = 2 * HOUR;
  const span = EVENT_WINDOW + config.verification.timeout;
  /** The earliest fallback slot when the plan ends before it: 75 minutes after the judgement. */
  const EARLIEST = JUDGED + RESCHEDULE_MIN_LEAD + RESCHEDULE_CALL_MARGIN;

  /** A rollout in batch 0's verify stage, the item rebooted at ACTED, its describe-status answer awaited. */
  function verifying(item: Partial<ItemState>, over: Partial<RolloutState> = {}): RolloutState {
    const base = initialState({
      plan: { rolloutId: 'fs-review', generatedAt: '', batches: [], skipped: [], infeasible: [] },
      config,
      region: 'us-east-1',
      limits: new Map([[G, 1]]),
      now: NOW - HOUR,
    });
    return {
      ...base,
      batchCount: 1,
      slots: [[NOW, NOW + 20 * MIN, 1, NOW]],
      awaiting: [{ id: 'fs-review/read', kind: 'describe-status' }],
      current: {
        index: 0,
        wave: 'all',
        startAt: NOW,
        endBy: NOW + 20 * MIN,
        stage: 'verify',
        verifyBy: ACTED + 20 * MIN,
        lastReadAt: JUDGED - MIN,
        items: [
          {
            instanceId: 'i-0abc',
            eventIds: ['e-1'],
            codes: ['system-reboot'],
            remedy: 'reboot-migrate',
            tried: [],
            deadline: NOW + 48 * HOUR,
            notBefore: NOW + 48 * HOUR,
            notBeforeDeadline: NOW + 7 * 24 * HOUR,
            eventWindow: EVENT_WINDOW,
            groupIds: [G],
            phase: 'verifying',
            actedAt: ACTED,
            verifyBy: ACTED + 20 * MIN,
            canStopStart: false,
            ...item,
          },
        ],
      },
      ...over,
    };
  }
  const stillOpen: InstanceStatus = {
    instanceId: 'i-0abc',
    state: 'running',
    instanceStatus: 'ok',
    systemStatus: 'ok',
    notices: [
      {
        instanceId: 'i-0abc',
        region: 'us-east-1',
        eventId: 'e-1',
        code: 'system-reboot',
        description: '',
        notBefore: NOW + 48 * HOUR,
        source: 'poll',
        state: 'active',
      },
    ],
  };
  const judge = (state: RolloutState) =>
    advance(state, [{ kind: 'statuses', id: 'fs-review/read', statuses: [stillOpen] }], JUDGED, config)
      .commands;
  const slotOf = (cs: readonly Command[]) => {
    const c = cs.find((x) => x.kind === 'reschedule');
    return c?.kind === 'reschedule' ? c.notBefore : undefined;
  };

  it('reschedules into the first slot 75 minutes out when the group has room', () => {
    expect(slotOf(judge(verifying({})))).toBe(EARLIEST);
  });

  it('moves past a slot whose group is full of events already moved there', () => {
    // A fallback already moved to EARLIEST, its outage spanning [EARLIEST, EARLIEST + span).
    const state = verifying({}, { moved: { [`fallback@${EARLIEST}@${EARLIEST + span}`]: { [G]: 1 } } });
    expect(slotOf(judge(state))).toBe(EARLIEST + span);
  });

  it('puts the slot after the planned rollout', () => {
    const planEnd = NOW + 10 * HOUR;
    const state = verifying(
      {},
      {
        batchCount: 2,
        slots: [
          [NOW, NOW + 20 * MIN, 1, NOW],
          [NOW + 9 * HOUR, planEnd, 1, NOW + 9 * HOUR],
        ],
      },
    );
    expect(slotOf(judge(state))).toBe(planEnd);
  });

  it('stop-starts only when STOP_START_WORK (12 min) ends by the verification deadline + the wave bake', () => {
    const bake = config.waves[0]?.bake ?? 0;
    expect(bake).toBe(15 * MIN);
    const fits = judge(verifying({ canStopStart: true, verifyBy: JUDGED + 12 * MIN - bake }));
    expect(kinds(fits)).toContain('stop');
    const late = judge(verifying({ canStopStart: true, verifyBy: JUDGED + 12 * MIN - bake - 30_000 }));
    expect(kinds(late)).not.toContain('stop');
  });

  it('stop-starts only when StartInstances admits its start in time, behind the starts already queued', () => {
    const bake = config.waves[0]?.bake ?? 0;
    const slack = 60_000; // the stop-start may start up to a minute late and still end by the limit
    const verifyBy = JUDGED + 12 * MIN - bake + slack;
    const stopsOf = (cs: readonly Command[]) =>
      cs.flatMap((c) => (c.kind === 'stop' ? c.instanceIds : [])).filter((id) => id === 'i-0abc');
    // StartInstances' resource bucket empty at the judgement: 2 tokens a second.
    const empty = { buckets: { startResource: { tokens: 0, at: JUDGED } } };
    const queued = (n: number): ItemState[] =>
      Array.from({ length: n }, (_, k) => ({
        instanceId: `i-q${k}`,
        eventIds: [`e-q${k}`],
        codes: ['instance-stop'],
        remedy: 'stop-start',
        tried: [],
        deadline: NOW + 48 * HOUR,
        notBefore: NOW + 48 * HOUR,
        groupIds: ['other'],
        phase: 'pending',
      }));
    const withQueue = (n: number) => {
      const state = verifying({ canStopStart: true, verifyBy }, empty);
      state.current?.items.push(...queued(n));
      return state;
    };
    // 119 queued + this one: 120 tokens in 60 s, in time; 120 queued: 60.5 s, a moment too late.
    expect(stopsOf(judge(withQueue(119)))).toEqual(['i-0abc']);
    expect(stopsOf(judge(withQueue(120)))).toEqual([]);
  });

  it('stop-starts only when it ends before the event`s deadline − margin, whatever the verification deadline', () => {
    const deadline = JUDGED + config.deadlineMargin + 10 * MIN;
    const cs = judge(verifying({ canStopStart: true, verifyBy: JUDGED + HOUR, deadline }));
    expect(kinds(cs)).not.toContain('stop');
  });
});

describe('the final restart sweep starts what Forestall stopped as StartInstances admits it', () => {
  it('sends at most 5 StartInstances calls (the request bucket) of 50 ids at once, and keeps the rest', () => {
    const ids = Array.from({ length: 300 }, (_, k) => `i-${k.toString(16).padStart(17, '0')}`);
    const base = initialState({
      plan: { rolloutId: 'fs-review', generatedAt: '', batches: [], skipped: [], infeasible: [] },
      config,
      region: 'us-east-1',
      limits: new Map(),
      now: NOW,
    });
    const read = advance({ ...base, restart: ids }, [], NOW, config);
    const statuses = read.commands.flatMap((c): Observation[] =>
      c.kind === 'describe-status'
        ? [
            {
              kind: 'statuses' as const,
              id: c.id,
              statuses: c.instanceIds.map(
                (instanceId): InstanceStatus => ({
                  instanceId,
                  state: 'stopped',
                  instanceStatus: 'not-applicable',
                  systemStatus: 'not-applicable',
                  notices: [],
                }),
              ),
            },
          ]
        : [],
    );
    expect(statuses).toHaveLength(3);
    const swept = advance(read.state, statuses, NOW, config);
    const starts = swept.commands.filter((c) => c.kind === 'start');
    expect(starts.map((c) => (c.kind === 'start' ? c.instanceIds.length : 0))).toEqual([50, 50, 50, 50, 50]);
    expect(swept.state.restart).toHaveLength(300);
    expect(swept.state.status).toBe('running');
  });
});

describe('carry-over: a planned batch carries an item whose group its failures fill; a carry-over batch decides', () => {
  const hex = (k: number) => k.toString(16).padStart(17, '0');
  const X = `i-${hex(1)}`;
  const DOWN = `i-${hex(2)}`;
  const az = 'az=us-east-1a';
  const plan: Plan = {
    rolloutId: 'fs-review',
    generatedAt: new Date(NOW).toISOString(),
    batches: [
      {
        index: 0,
        wave: 'main',
        startAt: new Date(NOW).toISOString(),
        endBy: new Date(NOW + HOUR).toISOString(),
        items: [
          {
            instanceId: X,
            eventId: `instance-event-${hex(1)}`,
            code: 'system-reboot',
            remedy: 'reboot-migrate',
            notBefore: new Date(NOW + 3 * 24 * HOUR).toISOString(),
            deadline: new Date(NOW + 3 * 24 * HOUR).toISOString(),
            groups: { az: 'us-east-1a' },
          },
        ],
      },
    ],
    skipped: [],
    infeasible: [],
  };
  const status = (instanceId: string, healthy: boolean): InstanceStatus => ({
    instanceId,
    state: 'running',
    instanceStatus: healthy ? 'ok' : 'impaired',
    systemStatus: 'ok',
    notices:
      instanceId === X
        ? [
            {
              instanceId,
              region: 'us-east-1',
              eventId: `instance-event-${hex(1)}`,
              code: 'system-reboot',
              description: 'scheduled reboot',
              notBefore: NOW + 3 * 24 * HOUR,
              source: 'poll',
              state: 'active',
            },
          ]
        : [],
  });
  /** Runs the machine, answering its reads, until it acts on X or ends; returns its ledger lines. */
  function run(downHealthyInBatch: (batch: number) => boolean) {
    let { state } = startRollout({ plan, config, region: 'us-east-1', limits: new Map([[az, 1]]), now: NOW });
    state = { ...state, down: { [DOWN]: [az] } };
    const records: Array<{ kind: string; batchIndex?: number; reason?: unknown }> = [];
    let obs: Observation[] = [];
    for (let i = 0; i < 50 && state.status === 'running'; i++) {
      const out = advance(state, obs, NOW, config);
      state = out.state;
      obs = [];
      for (const c of out.commands) {
        if (c.kind === 'record')
          records.push({
            kind: c.entry.kind,
            batchIndex: c.entry.batchIndex,
            reason: c.entry.detail?.reason,
          });
        if (c.kind === 'reboot') return { records, acted: true };
        if (c.kind === 'describe-targets') obs.push({ kind: 'targets', id: c.id, targets: [] });
        if (c.kind === 'load-batch') obs.push({ kind: 'batch', id: c.id, batch: plan.batches[0] as never });
        if (c.kind === 'describe-status')
          obs.push({
            kind: 'statuses',
            id: c.id,
            statuses: c.instanceIds.map((id) => status(id, id !== DOWN || downHealthyInBatch(state.batch))),
          });
        if (c.kind === 'describe-facts')
          obs.push({
            kind: 'facts',
            id: c.id,
            facts: c.instanceIds.map((instanceId) => ({
              instanceId,
              region: 'us-east-1',
              instanceType: 'm5.large',
              az: 'us-east-1a',
              tags: { [config.optInTag.key]: config.optInTag.value },
              rootDevice: 'ebs' as const,
              instanceStore: 'none' as const,
              lifecycle: 'on-demand' as const,
              rebootMigration: 'default' as const,
              state: 'running' as const,
            })),
          });
      }
    }
    return { records, acted: false };
  }

  it('drops it in the carry-over batch while the failure is still down', () => {
    const { records, acted } = run(() => false);
    expect(acted).toBe(false);
    const mine = records.filter((r) => r.kind === 'carried' || r.kind === 'dropped');
    expect(mine.map((r) => [r.kind, r.batchIndex])).toEqual([
      ['carried', 0],
      ['dropped', 1],
    ]);
    expect(String(mine[1]?.reason)).toBe(`group-capacity: ${az} already has 1 instance(s) out of service`);
  });

  it('acts on it in the carry-over batch once the failure has recovered', () => {
    const { records, acted } = run((batch) => batch >= 1);
    expect(acted).toBe(true);
    expect(records.filter((r) => r.kind === 'dropped')).toEqual([]);
  });
});
