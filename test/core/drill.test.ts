import { type ConfigInput, parseConfig } from '../../lambda/core/config';
import {
  drillNotices,
  leastPassing,
  makesIt,
  parseDrillDeadline,
  peakPerGroup,
  runDrill,
} from '../../lambda/core/drill';
import { batchApiCaps, groupLimits, planRollout } from '../../lambda/core/planner';
import type { InstanceFacts, Plan } from '../../lambda/core/types';
import { instanceFacts } from './facts-fixture';

const NOW = Date.parse('2026-12-01T00:00:00Z'); // a Tuesday
const H = 3_600_000;
const M = 60_000;

const id = (i: number) => `i-${i.toString(16).padStart(17, '0')}`;
const facts = (i: number, over: Partial<InstanceFacts> = {}): InstanceFacts => instanceFacts(id(i), over);
const fleet = (n: number, over: (i: number) => Partial<InstanceFacts> = () => ({})) =>
  Array.from({ length: n }, (_, i) => facts(i, over(i)));

/** Batches every 30 minutes (20 min verification + 10 min bake); with a 6 h deadline, 8 of them fit. */
const cfg = (over: ConfigInput = {}) =>
  parseConfig({
    groupBy: ['asg'],
    maxUnavailablePerGroup: 100,
    waves: [{ name: 'all', maxParallel: 100, bake: 'PT10M' }],
    ...over,
  });

/** Re-plans the drill with the real planner, as an operator would after changing the config. */
const infeasibleWith = (f: readonly InstanceFacts[], over: ConfigInput, deadline: number) => {
  const config = cfg(over);
  return planRollout(drillNotices(f, config, NOW, deadline), f, config, NOW).infeasible.length;
};

describe('parseDrillDeadline', () => {
  it.each([
    ['24h', 24 * H],
    ['3d', 72 * H],
    ['90m', 90 * M],
    ['2d12h', 60 * H],
    ['1d30m', 24 * H + 30 * M],
    ['PT24H', 24 * H],
    ['P3D', 72 * H],
    ['P2DT12H', 60 * H],
    ['PT90M', 90 * M],
    ['P1W', 168 * H],
  ])('%s', (text, ms) => {
    expect(parseDrillDeadline(text)).toEqual({ ms });
  });

  it.each([
    ['', 'is not a duration such as 24h, 3d, 90m, 2d12h or PT24H'],
    ['24', 'is not a duration'],
    ['1.5h', 'is not a duration'],
    ['12h3d', 'is not a duration'],
    ['24H', 'is not a duration'],
    ['-1h', 'is not a duration'],
    ['tomorrow', 'is not a duration'],
    ['P1M', 'months and years have no fixed length'],
    ['P1Y', 'months and years have no fixed length'],
    ['PT', 'months and years have no fixed length'],
    ['0h', 'is not after now'],
    ['PT0S', 'is not after now'],
    ['400d', 'is longer than 365d'],
  ])('rejects %j', (text, why) => {
    const r = parseDrillDeadline(text);
    expect(r).toHaveProperty('error');
    expect('error' in r && r.error).toContain(why);
    expect('error' in r && r.error).toContain(`"${text}"`);
  });
});

describe('drillNotices', () => {
  it('gives every opted-in instance one system-reboot notice due at now + deadline, in the parser shape', () => {
    const f = [facts(1), facts(2, { tags: {} }), facts(1), facts(3, { state: 'stopped' })];
    const notices = drillNotices(f, cfg(), NOW, 24 * H);
    expect(notices).toEqual([
      {
        instanceId: id(1),
        region: 'us-east-1',
        eventId: `drill-${id(1)}`,
        code: 'system-reboot',
        description: 'Drill: the instance is scheduled for a reboot',
        notBefore: NOW + 24 * H,
        notAfter: NOW + 26 * H,
        source: 'poll',
        state: 'active',
      },
      expect.objectContaining({ instanceId: id(3), eventId: `drill-${id(3)}` }),
    ]);
    // No NotBeforeDeadline: a drill never counts on AWS moving the event past its deadline.
    expect(notices.every((n) => n.notBeforeDeadline === undefined)).toBe(true);
  });
});

describe('runDrill', () => {
  it('a fleet that fits: rollout span, peaks within limits, one plan, nothing to suggest', () => {
    const f = fleet(40, (i) => ({ asgName: i % 2 ? 'api' : 'web' }));
    const r = runDrill({ facts: f, config: cfg({ maxUnavailablePerGroup: 5 }), now: NOW, deadline: 24 * H });
    expect(makesIt(r)).toBe(true);
    expect(r.instances).toEqual({
      total: 40,
      drilled: 40,
      notOptedIn: 0,
      planned: 40,
      infeasible: 0,
      noRemedy: 0,
      notRunning: 0,
    });
    // 10 per batch (5 per ASG), leadTime 48 h lets it start now: 4 batches 30 min apart.
    expect(r.rollout).toEqual({ batches: 4, start: NOW, end: NOW + 90 * M + 20 * M });
    expect(r.rollout?.end).toBeLessThanOrEqual(r.notBefore - r.deadlineMargin);
    expect(r.groups.map((g) => [g.group, g.size, g.limit, g.peak, g.planned])).toEqual([
      ['asg=api', 20, 5, 5, 20],
      ['asg=web', 20, 5, 5, 20],
    ]);
    expect(r).toMatchObject({ suggestions: [], plans: 1 });
    expect(r.noValueHelps).toBeUndefined();
  });

  it('a group limit too small: the suggested count fits when re-planned, one less does not', () => {
    const f = fleet(60);
    const deadline = 6 * H;
    const r = runDrill({ facts: f, config: cfg({ maxUnavailablePerGroup: 2 }), now: NOW, deadline });
    expect(r.instances).toMatchObject({ planned: 16, infeasible: 44 }); // 8 batches of 2
    expect(r.infeasibleReasons).toEqual({ 'no-slot': 44 });
    expect(r.groups).toEqual([
      {
        group: 'asg=web',
        size: 60,
        limit: 2,
        peak: 2,
        planned: 16,
        infeasible: 44,
        noRemedy: 0,
        notOptedIn: 0,
      },
    ]);
    const change = r.suggestions[0]?.changes[0];
    expect(change).toEqual({
      setting: 'maxUnavailablePerGroup',
      from: { kind: 'count', value: 2 },
      to: { kind: 'count', value: 8 },
      below: { kind: 'count', value: 7 },
      infeasibleBelow: infeasibleWith(f, { maxUnavailablePerGroup: 7 }, deadline),
    });
    expect(infeasibleWith(f, { maxUnavailablePerGroup: 8 }, deadline)).toBe(0);
    expect(infeasibleWith(f, { maxUnavailablePerGroup: 7 }, deadline)).toBeGreaterThan(0);
    expect(r.suggestions[0]?.result.infeasible).toBe(0);
    expect(r.notEnoughAlone).toEqual([]); // maxParallel 100 is already above the wave
    expect(r.noValueHelps).toBeUndefined();
  });

  it('finds a percent limit the same way, in the config’s own kind', () => {
    const f = fleet(60);
    const r = runDrill({
      facts: f,
      config: cfg({ maxUnavailablePerGroup: '5%' }),
      now: NOW,
      deadline: 6 * H,
    });
    const change = r.suggestions[0]?.changes[0];
    expect(change).toMatchObject({
      to: { kind: 'percent', value: 14 },
      below: { kind: 'percent', value: 13 },
    });
    expect(infeasibleWith(f, { maxUnavailablePerGroup: '14%' }, 6 * H)).toBe(0); // floor(60 × 14%) = 8
    expect(infeasibleWith(f, { maxUnavailablePerGroup: '13%' }, 6 * H)).toBeGreaterThan(0);
  });

  it('a wave maxParallel too small: the suggested value fits when re-planned, one less does not', () => {
    const f = fleet(60, (i) => ({ asgName: `asg-${i % 6}` }));
    const waves = (n: number) => [{ name: 'all', maxParallel: n, bake: 'PT10M' }];
    const r = runDrill({ facts: f, config: cfg({ waves: waves(3) }), now: NOW, deadline: 6 * H });
    expect(r.instances.infeasible).toBe(60 - 8 * 3);
    expect(r.suggestions.map((s) => s.changes.map((c) => [c.setting, c.wave, c.to.value]))).toEqual([
      [['waves[0].maxParallel', 'all', 8]],
    ]);
    expect(r.notEnoughAlone).toEqual([]); // maxUnavailablePerGroup 100 is already above every group
    expect(infeasibleWith(f, { waves: waves(8) }, 6 * H)).toBe(0);
    expect(infeasibleWith(f, { waves: waves(7) }, 6 * H)).toBeGreaterThan(0);
  });

  it('when neither limit does it alone, suggests both, each checked one lower with the other', () => {
    const f = fleet(60, (i) => ({ asgName: i % 2 ? 'api' : 'web' }));
    const over = (group: number, parallel: number): ConfigInput => ({
      maxUnavailablePerGroup: group,
      waves: [{ name: 'all', maxParallel: parallel, bake: 'PT10M' }],
    });
    const r = runDrill({ facts: f, config: cfg(over(2, 3)), now: NOW, deadline: 6 * H });
    expect(r.notEnoughAlone).toEqual(['maxUnavailablePerGroup', 'waves[0].maxParallel']);
    expect(r.suggestions).toHaveLength(1);
    const [group, parallel] = r.suggestions[0]?.changes ?? [];
    expect([group?.setting, group?.to.value, parallel?.setting, parallel?.to.value]).toEqual([
      'maxUnavailablePerGroup',
      4,
      'waves[0].maxParallel',
      8,
    ]);
    expect(infeasibleWith(f, over(4, 8), 6 * H)).toBe(0);
    expect(infeasibleWith(f, over(3, 8), 6 * H)).toBe(group?.infeasibleBelow);
    expect(infeasibleWith(f, over(4, 7), 6 * H)).toBe(parallel?.infeasibleBelow);
    expect(group?.infeasibleBelow).toBeGreaterThan(0);
    expect(parallel?.infeasibleBelow).toBeGreaterThan(0);
  });

  it('windows that leave one slot before the deadline: the canary takes it, no limit helps the rest', () => {
    const f = fleet(10, (i) => ({
      tags: { 'forestall:managed': 'true', ...(i === 0 ? { tier: 'canary' } : {}) },
    }));
    const config = cfg({
      windows: [{ days: ['SAT'], start: '02:00', end: '05:00', timeZone: 'UTC' }], // after the deadline
      waves: [
        { name: 'canary', match: { tags: { tier: 'canary' } }, maxParallel: 1, bake: 'PT30M' },
        { name: 'main', maxParallel: '50%', bake: 'PT10M' },
      ],
    });
    const r = runDrill({ facts: f, config, now: NOW, deadline: 24 * H });
    expect(r.instances).toMatchObject({ planned: 1, infeasible: 9 });
    expect(r.suggestions).toEqual([]);
    expect(r.noValueHelps).toEqual({
      instances: 9,
      reasons: { 'no-slot': 9 },
      causes: [
        {
          code: 'windows',
          text: 'windows: too few window hours before the deadline; without the windows 9 more would make it',
        },
      ],
    });
    // Checked: at the highest limits the planner still leaves them out.
    const highest = { ...config, maxUnavailablePerGroup: { kind: 'percent' as const, value: 100 } };
    const waves = highest.waves.map((w) => ({ ...w, maxParallel: { kind: 'percent' as const, value: 100 } }));
    const p = planRollout(drillNotices(f, config, NOW, 24 * H), f, { ...highest, waves }, NOW);
    expect(p.infeasible).toHaveLength(9);
  });

  it('can suggest the highest value: the whole group, the whole wave, or a limit one below it', () => {
    // 2 h 20 min: 2 h margin + 20 min verification leave a single start, now: all 10 must go at once.
    const f = fleet(10);
    const deadline = 2 * H + 20 * M;
    const one = (over: ConfigInput) =>
      runDrill({ facts: f, config: cfg(over), now: NOW, deadline }).suggestions;
    const to = (over: ConfigInput) => one(over).map((s) => s.changes.map((c) => [c.setting, c.to]));
    expect(to({ maxUnavailablePerGroup: 2 })).toEqual([
      [['maxUnavailablePerGroup', { kind: 'count', value: 10 }]],
    ]);
    expect(to({ maxUnavailablePerGroup: '20%' })).toEqual([
      [['maxUnavailablePerGroup', { kind: 'percent', value: 100 }]],
    ]);
    expect(to({ waves: [{ name: 'all', maxParallel: 9 }] })).toEqual([
      [['waves[0].maxParallel', { kind: 'count', value: 10 }]],
    ]);
    expect(infeasibleWith(f, { maxUnavailablePerGroup: 10 }, deadline)).toBe(0);
    expect(infeasibleWith(f, { maxUnavailablePerGroup: 9 }, deadline)).toBe(1);
  });

  it('blames the windows only when dropping them would help', () => {
    const n = 2000;
    const f = fleet(n, () => ({ rebootMigration: 'disabled' })); // stop-starts: StartInstances is the bottleneck
    const config = parseConfig({
      maxUnavailablePerGroup: '100%',
      windows: [{ days: ['TUE'], start: '00:00', end: '23:00', timeZone: 'UTC' }], // open the whole drill
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT10M' }],
    });
    const r = runDrill({ facts: f, config, now: NOW, deadline: 3 * H });
    expect(r.noValueHelps?.causes.map((c) => c.code)).toEqual(['api']);
  });

  it('names time itself when no limit, no window and no API bucket is to blame', () => {
    // The canary's 3 h bake ends after the last start the main wave's deadline allows.
    const f = fleet(6, (i) => ({
      tags: { 'forestall:managed': 'true', ...(i === 0 ? { tier: 'canary' } : {}) },
    }));
    const config = cfg({
      waves: [
        { name: 'canary', match: { tags: { tier: 'canary' } }, maxParallel: 1, bake: 'PT3H' },
        { name: 'main', maxParallel: 1, bake: 'PT10M' },
      ],
    });
    const r = runDrill({ facts: f, config, now: NOW, deadline: 5 * H });
    expect(r.instances).toMatchObject({ planned: 1, infeasible: 5 });
    expect(r.suggestions).toEqual([]);
    expect(r.noValueHelps?.causes).toEqual([
      {
        code: 'time',
        text: "time: even at the highest limits, batches of verification.timeout 20m plus each wave's bake, one after another, do not all fit before the deadline - deadlineMargin 2h",
      },
    ]);
  });

  it('EC2 API throughput as the bottleneck: says so, suggests nothing', () => {
    const n = 3000;
    const f = fleet(n, (i) => ({
      asgName: `asg-${i % 10}`,
      az: `us-east-1${'abc'[i % 3]}`,
      rebootMigration: 'disabled', // stop-starts
    }));
    // 3 h: 2 h margin and 20 min verification leave starts at 0 and 30 min; each batch holds at most 980.
    const config = parseConfig({
      groupBy: ['asg', 'az'],
      maxUnavailablePerGroup: '100%',
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT10M' }],
    });
    const cap = batchApiCaps(config.verification.timeout).stopStart;
    const r = runDrill({ facts: f, config, now: NOW, deadline: 3 * H });
    expect(r.instances.planned).toBe(2 * cap);
    expect(r.suggestions).toEqual([]);
    expect(r.noValueHelps?.instances).toBe(n - 2 * cap);
    expect(r.noValueHelps?.causes.map((c) => c.code)).toEqual(['api']);
    expect(r.noValueHelps?.causes[0]?.text).toContain(`at most ${cap} stop-starts`);
  });

  it('a deadline shorter than margin + verification: every one infeasible, no limit helps', () => {
    const r = runDrill({ facts: fleet(5), config: cfg(), now: NOW, deadline: 2 * H });
    expect(r.instances).toMatchObject({ planned: 0, infeasible: 5 });
    expect(r.rollout).toBeUndefined();
    expect(r.noValueHelps?.causes.map((c) => c.code)).toEqual(['deadline']);
    expect(r.noValueHelps?.causes[0]?.text).toBe(
      '5 cannot even start: the deadline leaves less than deadlineMargin 2h + verification.timeout 20m',
    );
  });

  it('excludes instances that are not opted in, counts them per group, and still counts them in group sizes', () => {
    const f = fleet(10, (i) => (i < 4 ? { tags: { Name: `web-${i}` } } : {}));
    const config = cfg({ maxUnavailablePerGroup: '20%' });
    const r = runDrill({ facts: f, config, now: NOW, deadline: 24 * H });
    expect(r.instances).toMatchObject({ total: 10, drilled: 6, notOptedIn: 4, planned: 6 });
    expect(makesIt(r)).toBe(true);
    const web = r.groups[0];
    expect(web).toMatchObject({ group: 'asg=web', size: 10, notOptedIn: 4, planned: 6, peak: 2 });
    expect(web?.limit).toBe(groupLimits(f, config).get('asg=web')); // 20% of the whole group of 10
  });

  it('counts opted-in instances no remedy applies to as not making it, and stopped ones as not running', () => {
    const f = [
      facts(1),
      facts(2, { rebootMigration: 'disabled', instanceStore: 'unknown' }), // no reboot, no stop
      facts(3, { state: 'stopped' }),
    ];
    const r = runDrill({ facts: f, config: cfg(), now: NOW, deadline: 24 * H });
    expect(r.instances).toMatchObject({ planned: 1, infeasible: 0, noRemedy: 1, notRunning: 1 });
    expect(r.noRemedy).toEqual([
      { instanceId: id(2), reason: expect.stringMatching(/^no-remedy: /), groups: ['asg=web'] },
    ]);
    expect(r.skippedReasons).toEqual({ 'no-remedy': 1, 'instance-not-running': 1 });
    expect(makesIt(r)).toBe(false);
  });

  it('keeps the search to a few plans: a guess, a secant, a check one lower', () => {
    // 2 ASGs of 10,000 in 3 AZs; 24 h leave 44 batches of 30 min, so 455 at once; 20,000 plan in 0.1 s.
    const f = fleet(20_000, (i) => ({ asgName: `asg-${i % 2}`, az: `us-east-1${'abc'[i % 3]}` }));
    const drill = (group: number, parallel: number | string) =>
      runDrill({
        facts: f,
        config: cfg({
          groupBy: ['asg', 'az'],
          maxUnavailablePerGroup: group,
          waves: [{ name: 'all', maxParallel: parallel, bake: 'PT10M' }],
        }),
        now: NOW,
        deadline: 24 * H,
      });
    const summary = (r: ReturnType<typeof drill>) => ({
      plans: r.plans,
      to: r.suggestions.map((s) => s.changes.map((c) => c.to.value)),
    });
    // The group limit binds; maxParallel (100%) cannot be raised.
    // The group limit binds (the 2 ASGs); maxParallel (100%) cannot be raised.
    expect(summary(drill(100, '100%'))).toEqual({ plans: 5, to: [[228]] });
    // maxParallel binds; the group limit (5,000) is never reached: one plan at its highest says it does not help.
    expect(summary(drill(5000, 150))).toEqual({ plans: 6, to: [[455]] });
    // Both bind: each alone fails at its highest, then both are searched.
    expect(summary(drill(100, 150))).toEqual({ plans: 14, to: [[228, 455]] });
  });
});

describe('leastPassing', () => {
  const counted = (f: (v: number) => number) => {
    const calls: number[] = [];
    const at = (v: number) => {
      calls.push(v);
      return f(v);
    };
    return { calls, at };
  };

  it('finds the boundary of a step with a good guess in three probes', () => {
    const { calls, at } = counted((v) => Math.max(0, 1000 - 10 * v));
    expect(leastPassing({ value: 1, infeasible: 990 }, 100_000, 100, 0, at)).toEqual({
      value: 100,
      below: 99,
    });
    expect(calls.length).toBeLessThanOrEqual(3);
  });

  it('stays logarithmic with a bad guess and a curve the secant misjudges', () => {
    const { calls, at } = counted((v) => (v < 77_777 ? 1 + Math.floor(1e9 / v) : 0));
    expect(leastPassing({ value: 1 }, 100_000, 3, 0, at)).toEqual({ value: 77_777, below: 77_776 });
    expect(calls.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100_000)) + 5);
  });

  it('returns a checked boundary even when the counts are not monotone', () => {
    const at = (v: number) => (v === 5 || v >= 40 ? 0 : 3);
    const r = leastPassing({ value: 2, infeasible: 3 }, 64, 30, 0, at);
    expect(r).toBeDefined();
    expect(at(r?.value ?? -1)).toBe(0);
    expect(at(r?.below ?? -1)).toBe(3);
    expect((r?.value ?? 0) - (r?.below ?? 0)).toBe(1);
  });

  it('finds a value only the highest reaches, even when a probe lands just under it', () => {
    const at = (v: number) => (v >= 10 ? 0 : 5);
    expect(leastPassing({ value: 1, infeasible: 5 }, 10, 10, 0, at)).toEqual({ value: 10, below: 9 });
  });

  it('says undefined when even the highest value fails, or when nothing is above the current value', () => {
    expect(leastPassing({ value: 1, infeasible: 9 }, 50, 10, 0, () => 9)).toBeUndefined();
    expect(leastPassing({ value: 100, infeasible: 9 }, 100, 10, 0, () => 0)).toBeUndefined();
  });

  it('counts a value passing when it leaves no more than the target', () => {
    expect(leastPassing({ value: 0, infeasible: 9 }, 10, 5, 4, (v) => 10 - v)).toEqual({
      value: 6,
      below: 5,
    });
  });

  it('reads a fractional current value as failing and searches the whole numbers above it', () => {
    expect(leastPassing({ value: 12.5, infeasible: 1 }, 100, 13, 0, (v) => (v >= 13 ? 0 : 1))).toEqual({
      value: 13,
      below: 12.5,
    });
  });
});

describe('peakPerGroup', () => {
  const batch = (startAt: string, endBy: string, groups: Record<string, string>[]) => ({
    index: 0,
    wave: 'all',
    startAt,
    endBy,
    items: groups.map((g, i) => ({
      instanceId: id(i),
      eventId: `e${i}`,
      code: 'system-reboot',
      remedy: 'reboot-migrate' as const,
      notBefore: '',
      deadline: '',
      groups: g,
    })),
  });
  it('counts overlapping batches together and back-to-back ones apart', () => {
    const plan: Plan = {
      rolloutId: 'x',
      generatedAt: '',
      infeasible: [],
      skipped: [],
      batches: [
        batch('2026-12-01T00:00:00Z', '2026-12-01T01:00:00Z', [{ asg: 'a' }, { asg: 'a' }]),
        batch('2026-12-01T01:00:00Z', '2026-12-01T02:00:00Z', [{ asg: 'a' }, { asg: 'a' }]),
        batch('2026-12-01T01:30:00Z', '2026-12-01T02:30:00Z', [{ asg: 'a', az: 'x' }]),
      ],
    };
    expect(peakPerGroup(plan)).toEqual(
      new Map([
        ['asg=a', 3],
        ['az=x', 1],
      ]),
    );
  });
});
