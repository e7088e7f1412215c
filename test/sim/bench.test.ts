/** The benchmark (bench/bench.ts): one scenario under every strategy, its rows and its table. */
import { type BenchRow, benchScenario, STRATEGIES } from '../../bench/bench';
import { benchScenarios } from '../../bench/scenarios';
import { formatBenchTable } from '../../bench/table';
import type { LowerBounds } from '../../sim/lower-bounds';

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
    expect(end(f, '2.50')).toBe(end(header, 'MAKESPAN h'));
    expect(end(a, '40.0')).toBe(end(header, 'MAKESPAN h'));
    expect(a?.indexOf('aws-default')).toBe(header?.indexOf('STRATEGY'));
  });
});
