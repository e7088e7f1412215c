/** The benchmark (bench/bench.ts): one scenario under every strategy, its rows and its table. */

import { type BenchRow, benchScenario, STRATEGIES } from '../../bench/bench';
import { benchScenarios } from '../../bench/scenarios';
import { formatBenchTable } from '../../bench/table';
import { parseConfig } from '../../lambda/core/config';
import type { LowerBounds } from '../../sim/lower-bounds';
import { parseScenario } from '../../sim/scenario';

const FIELDS: ReadonlyArray<keyof BenchRow> = [
  'scenario',
  'strategy',
  'instances',
  'notices',
  'clearedByForestall',
  'performedByAws',
  'unexpected',
  'limitViolations',
  'peakUnavailableRatio',
  'doubleOutages',
  'replacedByAsg',
  'instanceStoreDataLost',
  'halted',
  'makespanSeconds',
  'makespanRatio',
  'apiCalls',
  'apiCallRatio',
  'plannerMs',
];

describe('benchScenario on the plain 1,000-instance fleet', () => {
  const scenario = benchScenarios(true)[0];
  let rows: BenchRow[] = [];
  let bounds: LowerBounds;
  const progress: string[] = [];
  const row = (s: BenchRow['strategy']): BenchRow => {
    const r = rows.find((x) => x.strategy === s);
    if (!r) throw new Error(`no row for ${s}`);
    return r;
  };

  beforeAll(async () => {
    if (!scenario) throw new Error('no bench scenario');
    ({ rows, bounds } = await benchScenario(scenario, (line) => progress.push(line)));
  });

  it('has one row per strategy, each with every documented field', () => {
    expect(scenario?.name).toBe('fleet-1k');
    expect(rows.map((r) => r.strategy)).toEqual([...STRATEGIES]);
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual([...FIELDS].sort());
      expect(r.scenario).toBe('fleet-1k');
      expect(r.instances).toBe(1000);
      expect(r.notices).toBe(rows[0]?.notices);
      expect(r.clearedByForestall + r.performedByAws).toBeLessThanOrEqual(r.notices);
      expect(r.unexpected).toBeLessThanOrEqual(r.performedByAws);
    }
    expect(rows[0]?.notices).toBeGreaterThan(300);
    expect(progress).toHaveLength(4);
  });

  it('measures makespan from the poll to the last outage the strategy caused, and both ratios to the bounds', () => {
    const day = 24 * 3600;
    // AWS acts on its own schedule, 2 to 6 days out; everyone else acts within hours.
    expect(row('aws-default').makespanSeconds).toBeGreaterThan(2 * day);
    for (const s of ['on-receipt', 'fixed-rate', 'forestall'] as const) {
      expect(row(s).makespanSeconds).toBeGreaterThan(0);
      expect(row(s).makespanSeconds).toBeLessThan(day);
    }
    const ratio = (x: number, lb: number) => Math.round((x / Math.max(1, lb)) * 100) / 100;
    for (const r of rows) {
      expect(r.makespanRatio).toBe(ratio(r.makespanSeconds, bounds.makespanSeconds));
      expect(r.apiCallRatio).toBe(ratio(r.apiCalls, bounds.apiCalls));
    }
  });

  it('Forestall: nothing unexpected, no limit violated, most notices cleared, the only one that plans', () => {
    const f = row('forestall');
    expect(f.unexpected).toBe(0);
    expect(f.limitViolations).toBe(0);
    expect(f.peakUnavailableRatio).toBeLessThanOrEqual(1);
    expect(f.halted).toBe(false);
    expect(f.replacedByAsg).toBe(0);
    expect(f.instanceStoreDataLost).toBe(0);
    expect(f.clearedByForestall).toBeGreaterThan(f.notices / 2);
    expect(f.apiCalls).toBeGreaterThan(0);
    // Never better than the lower bounds.
    expect(f.makespanSeconds).toBeGreaterThanOrEqual(bounds.makespanSeconds);
    expect(f.makespanRatio).toBeGreaterThanOrEqual(1);
    expect(f.apiCalls).toBeGreaterThanOrEqual(bounds.apiCalls);
    expect(f.apiCallRatio).toBeGreaterThanOrEqual(1);
    expect(f.plannerMs).toBeGreaterThanOrEqual(0);
    for (const s of ['aws-default', 'on-receipt', 'fixed-rate'] as const) expect(row(s).plannerMs).toBe(0);
  });

  it('aws-default: nobody acts, AWS performs every notice', () => {
    const a = row('aws-default');
    expect(a.clearedByForestall).toBe(0);
    expect(a.apiCalls).toBe(0);
    expect(a.apiCallRatio).toBe(0);
    expect(a.unexpected).toBe(0);
    expect(a.limitViolations).toBe(0);
    // AWS's own instance-stop and retirement stop Auto Scaling members, which then get replaced (§1).
    expect(a.replacedByAsg).toBeGreaterThan(0);
    expect(a.doubleOutages).toBe(0);
    expect(a.performedByAws).toBe(a.notices);
    // AWS works to its own schedule, days away: far slower than Forestall.
    expect(a.makespanSeconds).toBeGreaterThan(row('forestall').makespanSeconds);
  });

  it('on-receipt: acting on every notice at once breaks group limits, and AWS still performs some', () => {
    const o = row('on-receipt');
    expect(o.limitViolations).toBeGreaterThan(0);
    expect(o.peakUnavailableRatio).toBeGreaterThan(1);
    // A user reboot leaves instance-reboot open: AWS reboots those again.
    expect(o.unexpected).toBeGreaterThan(0);
    expect(o.doubleOutages).toBeGreaterThan(0);
    // Stopping Auto Scaling members without Standby gets them replaced.
    expect(o.replacedByAsg).toBeGreaterThan(0);
    expect(o.apiCalls).toBeGreaterThan(row('forestall').apiCalls);
  });

  it('fixed-rate: stop-starts Auto Scaling members blind, gets them replaced, and halts on MaxErrors', () => {
    const x = row('fixed-rate');
    expect(x.halted).toBe(true);
    expect(x.replacedByAsg).toBeGreaterThan(0);
    expect(x.apiCalls).toBeGreaterThan(0);
  });

  it('prints a table of at most 120 columns: a header and one line per row', () => {
    const table = formatBenchTable(rows);
    const lines = table.split('\n');
    expect(lines).toHaveLength(rows.length + 1);
    expect(lines[0]).toMatch(/^SCENARIO +STRATEGY +NOTICES/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);
    for (const [i, r] of rows.entries()) {
      expect(lines[i + 1]).toMatch(
        new RegExp(`^fleet-1k +${r.strategy} +${r.notices} +${r.clearedByForestall} `),
      );
      // Only Forestall's line has a planner time.
      if (r.strategy === 'forestall') expect(lines[i + 1]).toMatch(new RegExp(` ${r.plannerMs}$`));
      else expect(lines[i + 1]).toMatch(new RegExp(` ${r.apiCallRatio.toFixed(2)}$`));
    }
  });
});

describe('formatBenchTable', () => {
  const base: BenchRow = {
    scenario: 's',
    strategy: 'forestall',
    instances: 10,
    notices: 5,
    clearedByForestall: 5,
    performedByAws: 0,
    unexpected: 0,
    limitViolations: 0,
    peakUnavailableRatio: 0.5,
    doubleOutages: 0,
    replacedByAsg: 0,
    instanceStoreDataLost: 0,
    halted: false,
    makespanSeconds: 9000,
    makespanRatio: 1.5,
    apiCalls: 40,
    apiCallRatio: 1.25,
    plannerMs: 7,
  };

  it('gives makespans in hours, two decimals under 10 h and one from 10 h, and right-aligns numbers', () => {
    const table = formatBenchTable([
      base,
      { ...base, strategy: 'aws-default', makespanSeconds: 36_000 * 4, apiCalls: 0, apiCallRatio: 0 },
    ]);
    const [header, f, a] = table.split('\n');
    expect(f).toMatch(/ 2\.50 +1\.50 +40 +1\.25 +7$/);
    expect(a).toMatch(/ 40\.0 +1\.50 +0 +0\.00$/);
    // Every column ends where its header ends (numbers) or starts where it starts (names).
    const end = (line: string | undefined, text: string) => (line ?? '').indexOf(text) + text.length;
    expect(end(f, '2.50')).toBe(end(header, 'HOURS'));
    expect(end(a, '40.0')).toBe(end(header, 'HOURS'));
    expect(a?.indexOf('aws-default')).toBe(header?.indexOf('STRATEGY'));
  });

  it("stays within 120 columns with the full bench's widest cells", () => {
    const wide: BenchRow = {
      ...base,
      scenario: 'mass-reboot-2014-100k',
      strategy: 'aws-default',
      notices: 100_000,
      clearedByForestall: 100_000,
      performedByAws: 100_000,
      unexpected: 100_000,
      limitViolations: 1000,
      peakUnavailableRatio: 12.34,
      doubleOutages: 100_000,
      makespanSeconds: 2_000_000,
      makespanRatio: 1234.56,
      apiCalls: 9_999_999,
      apiCallRatio: 123.45,
      plannerMs: 99_999,
    };
    const widths = formatBenchTable([wide, { ...wide, strategy: 'forestall' }])
      .split('\n')
      .map((l) => l.length);
    expect(Math.max(...widths)).toBeLessThanOrEqual(120);
  });
});

describe('the makespan bound with a plan outside every window', () => {
  it('never exceeds what Forestall did when the planner had to place items outside the windows', async () => {
    const scenario = parseScenario({
      name: 'sunday-only',
      seed: 5,
      start: '2026-12-01T00:00:00Z',
      azs: ['us-east-1a', 'us-east-1b'],
      groups: [{ name: 'web', count: 100 }],
      events: { affected: 0.5, mix: { 'system-reboot': 1 }, slots: ['PT24H'], deadlineShare: 0, history: 0 },
      behaviour: { rebootMigrationSuccess: 1 },
    });
    const config = parseConfig({
      dryRun: false,
      leadTime: 'P30D',
      maxUnavailablePerGroup: '20%',
      windows: [{ days: ['SUN'], start: '02:00', end: '04:00', timeZone: 'UTC' }],
      waves: [{ name: 'main', maxParallel: '100%', bake: 'PT5M', failureBudget: '10%' }],
    });
    const { rows, bounds } = await benchScenario({
      name: 'sunday-only',
      instances: 100,
      scenario,
      config,
      about: '',
    });
    const forestall = rows.find((r) => r.strategy === 'forestall');
    expect(forestall?.clearedByForestall).toBeGreaterThan(0);
    expect(forestall?.makespanSeconds).toBeGreaterThanOrEqual(bounds.makespanSeconds);
  });
});
