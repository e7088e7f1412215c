/**
 * Early start (lambda/core/machine/early-start.ts): when a batch may start once the batch before it is done,
 * and what the rollout does with it on a simulated fleet.
 */
import { type Config, parseConfig } from '../../lambda/core/config';
import { earliestStart, earlyStartAt } from '../../lambda/core/machine/early-start';
import type { ActiveRemedy, PlanBatch, PlanItem } from '../../lambda/core/types';
import { parseScenario } from '../../sim/scenario';
import { type SimulationRun, simulate } from '../../sim/simulate';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const iso = (t: number) => new Date(t).toISOString();

function item(k: number, notBefore: number, over: Partial<PlanItem> = {}): PlanItem {
  return {
    instanceId: `i-${String(k).padStart(17, '0')}`,
    eventId: `instance-event-${k}`,
    code: 'system-reboot',
    remedy: 'reboot-migrate',
    notBefore: iso(notBefore),
    deadline: iso(notBefore),
    groups: { asg: 'web' },
    ...over,
  };
}

function batch(startAt: number, items: readonly PlanItem[]): PlanBatch {
  return { index: 1, wave: 'main', startAt: iso(startAt), endBy: iso(startAt + 20 * MIN), items };
}

const lead = (leadTime: number): Pick<Config, 'leadTime'> => ({ leadTime });
const EVERY_DAY = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
const windows = (...spans: Array<[string, string]>): Pick<Config, 'windows'> =>
  parseConfig({
    windows: spans.map(([start, end]) => ({ days: [...EVERY_DAY], start, end, timeZone: 'UTC' })),
  });
const NO_WINDOWS: Pick<Config, 'windows'> = { windows: [] };

describe('earliestStart', () => {
  it('is the latest NotBefore - leadTime of the items, rounded up to a whole minute', () => {
    const planned = T0 + 10 * DAY;
    const b = batch(planned, [item(1, T0 + 3 * DAY), item(2, T0 + 5 * DAY + 30_000), item(3, T0 + 4 * DAY)]);
    // The item due last (5 d 30 s) may be acted on from 3 d 30 s on: the next whole minute is 3 d 1 min.
    expect(earliestStart(b, lead(2 * DAY))).toBe(T0 + 3 * DAY + MIN);
  });

  it('keeps the planned start of a batch without items (a finite time the stored state can hold)', () => {
    const planned = T0 + 2 * DAY;
    expect(earliestStart(batch(planned, []), lead(DAY))).toBe(planned);
  });

  it('never lies after the planned start', () => {
    const planned = T0 + 2 * DAY;
    const b = batch(planned, [item(1, T0 + 5 * DAY)]);
    expect(earliestStart(b, lead(DAY))).toBe(planned);
  });

  it('counts leadTime back from the NotBefore of each item', () => {
    const planned = T0 + 2 * DAY;
    const b = batch(planned, [item(1, T0 + 3 * DAY), item(2, T0 + 4 * DAY)]);
    expect(earliestStart(b, lead(30 * DAY))).toBe(T0 + 4 * DAY - 30 * DAY);
    // leadTime counts: a shorter one moves the earliest start later, by as much.
    expect(earliestStart(b, lead(3 * DAY))).toBe(T0 + DAY);
  });

  it('is the planned start for a batch holding a reschedule (AWS acts at the slot)', () => {
    const planned = T0 + 2 * DAY;
    const resched: ActiveRemedy = 'reschedule';
    for (const position of [0, 1]) {
      const items = [item(1, T0 + 3 * DAY), item(2, T0 + 3 * DAY)];
      items[position] = item(9, T0 + 3 * DAY, { remedy: resched, code: 'instance-reboot' });
      expect(earliestStart(batch(planned, items), lead(30 * DAY))).toBe(planned);
    }
  });

  it('is the planned start for a batch holding an item the planner placed by an exception', () => {
    const planned = T0 + 2 * DAY;
    for (const reason of ['outside-window: …', 'earlier-window: …', 'ahead-of-later-waves: …']) {
      const items = [item(1, T0 + 3 * DAY), item(2, T0 + 3 * DAY, { reason })];
      expect(earliestStart(batch(planned, items), lead(30 * DAY))).toBe(planned);
    }
  });
});

describe('earlyStartAt', () => {
  const planned = T0 + 2 * DAY; // Thu 3 Dec 00:00 UTC

  it('is the planned start with an earliest start not before it', () => {
    expect(earlyStartAt([planned, planned + HOUR, 10, planned], T0, NO_WINDOWS)).toBe(planned);
    expect(earlyStartAt([planned, planned + HOUR, 10, planned + MIN], T0, NO_WINDOWS)).toBe(planned);
  });

  it('without windows: now once the earliest start has passed, else the earliest start', () => {
    expect(earlyStartAt([planned, planned + HOUR, 10, T0 - DAY], T0 + HOUR, NO_WINDOWS)).toBe(T0 + HOUR);
    expect(earlyStartAt([planned, planned + HOUR, 10, T0 + DAY], T0 + HOUR, NO_WINDOWS)).toBe(T0 + DAY);
  });

  it('with a window open now: now', () => {
    const w = windows(['00:00', '04:00']);
    expect(earlyStartAt([planned, planned + HOUR, 10, T0 - DAY], T0 + HOUR, w)).toBe(T0 + HOUR);
  });

  it('with the windows closed now: when the next one opens, if that is before the planned start', () => {
    const w = windows(['00:00', '00:05'], ['00:10', '00:15']);
    expect(earlyStartAt([planned, planned + HOUR, 10, T0 - DAY], T0 + 8 * MIN, w)).toBe(T0 + 10 * MIN);
    // Closed until tomorrow 00:00, which is still before the planned start (the day after).
    expect(earlyStartAt([planned, planned + HOUR, 10, T0 - DAY], T0 + 20 * MIN, w)).toBe(T0 + DAY);
  });

  it('with the windows closed now and the next one after the planned start: the planned start', () => {
    const w = windows(['00:00', '00:05']);
    const soon = T0 + 6 * HOUR;
    expect(earlyStartAt([soon, soon + HOUR, 10, T0 - DAY], T0 + 8 * MIN, w)).toBe(soon);
  });

  it('looks for a window from the earliest start on, not from now', () => {
    // Open now (00:30) but the earliest start is 02:00, when it is closed; the next window is 03:00.
    const w = windows(['00:00', '01:00'], ['03:00', '04:00']);
    expect(earlyStartAt([planned, planned + HOUR, 10, T0 + 2 * HOUR], T0 + 30 * MIN, w)).toBe(T0 + 3 * HOUR);
  });
});

/** When the rollout reported `type` (Batch Started, Batch Completed) for batch `index`. */
function batchEventTime(r: SimulationRun, type: string, index: number): number {
  const e = r.events.find(
    (x) => x.detailType === type && (x.detail as { batchIndex?: number }).batchIndex === index,
  );
  if (!e) throw new Error(`no ${type} for batch ${index}`);
  return Date.parse(e.time);
}

describe('early start in a rollout (simulated Region)', () => {
  const EVERY = [...EVERY_DAY];
  function run(opts: {
    mix: Record<string, number>;
    windows?: unknown[];
    remedies?: Record<string, string[]>;
    timeout?: string;
  }) {
    const scenario = parseScenario({
      start: iso(T0),
      azs: ['us-east-1a', 'us-east-1b'],
      groups: [{ name: 'web', count: 40 }],
      events: { affected: 1, mix: opts.mix, slots: ['P3D'], history: 0, deadlineShare: 1 },
      behaviour: { rebootMigrationSuccess: 1, throttling: false },
    });
    const config = parseConfig({
      dryRun: false,
      leadTime: 'P30D',
      maxUnavailablePerGroup: '50%',
      windows: opts.windows ?? [],
      remedies: opts.remedies ?? {},
      verification: { timeout: opts.timeout ?? 'PT20M' },
      waves: [{ name: 'all', maxParallel: '50%', bake: 'PT0S', failureBudget: 0 }],
    });
    return simulate(scenario, config);
  }

  /** When each batch was reported started and completed, and when the plan had it start. */
  async function timeline(opts: Parameters<typeof run>[0]) {
    const r = await run(opts);
    const at = (type: string, index: number) => batchEventTime(r, type, index);
    expect(r.plan.batches).toHaveLength(2);
    expect(r.outcome.halted).toBe(false);
    return {
      planned: r.plan.batches.map((b) => Date.parse(b.startAt)),
      started: [at('Batch Started', 0), at('Batch Started', 1)],
      completed: [at('Batch Completed', 0), at('Batch Completed', 1)],
      outcome: r.outcome,
    };
  }

  it('starts batch 2 as soon as batch 1 is done, before its planned start', async () => {
    const t = await timeline({ mix: { 'system-reboot': 1 } });
    expect(t.started[0]).toBe(t.planned[0]);
    expect(t.started[1]).toBe(t.completed[0]);
    expect(t.started[1]).toBeLessThan(t.planned[1] ?? 0);
    expect(t.outcome.limitViolations).toBe(0);
    expect(t.outcome.clearedByForestall).toBe(40);
  });

  it('starts a batch no earlier than its items NotBefore - leadTime, even when the one before is done', async () => {
    const scenario = parseScenario({
      start: iso(T0),
      azs: ['us-east-1a', 'us-east-1b'],
      groups: [{ name: 'web', count: 40 }],
      events: { affected: 1, mix: { 'system-reboot': 1 }, slots: ['PT3H', 'PT3H30M'], history: 0 },
      behaviour: { rebootMigrationSuccess: 1, throttling: false },
    });
    const config = parseConfig({
      dryRun: false,
      leadTime: 'PT3H',
      deadlineMargin: 'PT1H',
      maxUnavailablePerGroup: '50%',
      waves: [{ name: 'all', maxParallel: '50%', bake: 'PT0S', failureBudget: 0 }],
    });
    const r = await simulate(scenario, config);
    const started = (index: number) => batchEventTime(r, 'Batch Started', index);
    const completed = (index: number) => batchEventTime(r, 'Batch Completed', index);
    let waitedForLead = 0;
    for (const b of r.plan.batches.slice(1)) {
      const lead = Math.max(...b.items.map((it) => Date.parse(it.notBefore) - 3 * HOUR));
      expect(started(b.index)).toBeGreaterThanOrEqual(lead);
      expect(started(b.index)).toBeGreaterThanOrEqual(completed(b.index - 1));
      expect(started(b.index)).toBeLessThan(Date.parse(b.startAt));
      if (started(b.index) === lead && lead > completed(b.index - 1)) waitedForLead++;
    }
    // The batches of events due at 03:30 may not start before 00:30, though the ones before end sooner.
    expect(waitedForLead).toBeGreaterThan(0);
    expect(r.outcome.clearedByForestall).toBe(40);
  });

  it('starts early inside a long window that is still open', async () => {
    const t = await timeline({
      mix: { 'system-reboot': 1 },
      windows: [{ days: EVERY, start: '00:00', end: '04:00', timeZone: 'UTC' }],
      timeout: 'PT90M',
    });
    expect(t.started[1]).toBe(t.completed[0]);
    expect(t.started[1]).toBeLessThan(t.planned[1] ?? 0);
  });

  it('does not start a batch of reschedules early: AWS acts at the slot', async () => {
    const t = await timeline({
      mix: { 'instance-reboot': 1 },
      remedies: { 'instance-reboot': ['reschedule'] },
    });
    expect(t.completed[0]).toBeLessThan(t.planned[1] ?? 0);
    expect(t.started[1]).toBe(t.planned[1]);
  });

  it('does not start early while the window is closed', async () => {
    // Batch 1 runs 00:00-00:08; the 5-minute window closed at 00:05, the next opens with batch 2's slot.
    const t = await timeline({
      mix: { 'system-reboot': 1 },
      windows: [{ days: EVERY, start: '00:00', end: '00:05', timeZone: 'UTC' }],
    });
    expect(t.planned[1]).toBe(T0 + DAY);
    expect(t.completed[0]).toBeLessThan(T0 + HOUR);
    expect(t.started[1]).toBe(t.planned[1]);
  });

  it('starts when the next window opens, if that comes before the planned start', async () => {
    const t = await timeline({
      mix: { 'system-reboot': 1 },
      windows: [
        { days: EVERY, start: '00:00', end: '00:05', timeZone: 'UTC' },
        { days: EVERY, start: '00:10', end: '00:15', timeZone: 'UTC' },
      ],
    });
    expect(t.planned[1]).toBe(T0 + DAY);
    expect(t.completed[0]).toBeGreaterThan(T0 + 5 * MIN);
    expect(t.completed[0]).toBeLessThanOrEqual(T0 + 10 * MIN);
    expect(t.started[1]).toBe(T0 + 10 * MIN);
  });
});
