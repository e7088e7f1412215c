/** The benchmark's lower bounds (sim/lower-bounds.ts): the expected slowest remedy, rounds, windows, API calls. */
import { type ConfigInput, parseConfig } from '../../lambda/core/config';
import type { ActiveRemedy, Plan, PlanItem } from '../../lambda/core/types';
import { DEFAULT_BEHAVIOUR, type SimBehaviour } from '../../sim/ec2';
import {
  expectedSlowest,
  type LowerBoundInput,
  lowerBounds,
  remedyRanges,
  waveBounds,
} from '../../sim/lower-bounds';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

/** Within this of the exact expectation: the sum's distribution is taken on a 1-second grid. */
const GRID = SEC;
/** `actual` is `expected` to within a grid step per round. */
const near = (actual: number, expected: number, rounds = 1) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rounds * GRID);
const EVERY_DAY = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;

let seq = 0;
function item(remedy: ActiveRemedy, groups: Record<string, string> = { asg: 'a' }): PlanItem {
  const k = seq++;
  return {
    instanceId: `i-${String(k).padStart(17, '0')}`,
    eventId: `instance-event-${k}`,
    code: remedy === 'reschedule' ? 'instance-reboot' : 'system-reboot',
    remedy,
    notBefore: new Date(T0 + 3 * 24 * HOUR).toISOString(),
    deadline: new Date(T0 + 3 * 24 * HOUR).toISOString(),
    groups,
  };
}
const items = (n: number, remedy: ActiveRemedy, groups?: Record<string, string>) =>
  Array.from({ length: n }, () => item(remedy, groups));

/** One batch per wave, as the bound does not care how the planner cut a wave. */
function plan(byWave: Record<string, readonly PlanItem[]>): Plan {
  return {
    rolloutId: 'r-test',
    generatedAt: new Date(T0).toISOString(),
    batches: Object.entries(byWave).map(([wave, its], index) => ({
      index,
      wave,
      startAt: new Date(T0).toISOString(),
      endBy: new Date(T0 + HOUR).toISOString(),
      items: its,
    })),
    skipped: [],
    infeasible: [],
  };
}

/** Fixed durations: a reboot is 2 + 3 min, a stop-start 1 + 1 + 3 min. */
const FIXED: SimBehaviour = {
  ...DEFAULT_BEHAVIOUR,
  rebootDuration: [2 * MIN, 2 * MIN],
  stopDuration: [MIN, MIN],
  startDuration: [MIN, MIN],
  statusCheckDelay: [3 * MIN, 3 * MIN],
};

function input(
  p: Plan,
  over: Partial<ConfigInput> = {},
  rest: Partial<Omit<LowerBoundInput, 'plan' | 'config'>> = {},
): LowerBoundInput {
  const config = parseConfig({
    dryRun: false,
    waves: [{ name: 'main', maxParallel: '100%', bake: 'PT0S', failureBudget: 0 }],
    ...over,
  });
  const n = p.batches.reduce((k, b) => k + b.items.length, 0);
  return {
    plan: p,
    config,
    limits: new Map([['asg=a', 10_000]]),
    behaviour: FIXED,
    start: T0,
    fleetSize: n,
    scheduledInstances: n,
    asgOf: new Map(),
    ...rest,
  };
}

describe('expectedSlowest', () => {
  const reboot = remedyRanges('reboot-migrate', DEFAULT_BEHAVIOUR);
  const stopStart = remedyRanges('stop-start', DEFAULT_BEHAVIOUR);
  const mean = (ranges: ReadonlyArray<readonly [number, number]>) =>
    ranges.reduce((s, [a, b]) => s + (a + b) / 2, 0);
  const maxSum = (ranges: ReadonlyArray<readonly [number, number]>) => ranges.reduce((s, [, b]) => s + b, 0);

  it('for one remedy (k = 1) is the mean of the sum of uniform durations', () => {
    expect(reboot).toHaveLength(2);
    expect(stopStart).toHaveLength(3);
    for (const ranges of [reboot, stopStart, [[60 * SEC, 180 * SEC]] as const]) {
      near(expectedSlowest(ranges, 1), mean(ranges));
    }
  });

  it('for two of one uniform is a + 2/3 (b - a)', () => {
    const [a, b] = [60 * SEC, 180 * SEC];
    near(expectedSlowest([[a, b]], 2), a + (2 / 3) * (b - a));
  });

  it('grows with k, stays at most the sum of the maxima, and nears it for many', () => {
    for (const ranges of [reboot, stopStart]) {
      let last = 0;
      for (const k of [1, 2, 5, 20, 100, 1000]) {
        const e = expectedSlowest(ranges, k);
        expect(e).toBeGreaterThan(last);
        expect(e).toBeLessThanOrEqual(maxSum(ranges));
        last = e;
      }
      expect(last).toBeGreaterThan(mean(ranges) + 0.8 * (maxSum(ranges) - mean(ranges)));
    }
  });

  it('takes k < 1 as one remedy', () => {
    expect(expectedSlowest(reboot, 0)).toBe(expectedSlowest(reboot, 1));
  });
});

describe('expectedSlowest: exact on fixed and single ranges', () => {
  it('is the duration itself for a fixed one, and the mean for one uniform draw', () => {
    expect(expectedSlowest([[300_000, 300_000]], 1)).toBe(300_000);
    expect(expectedSlowest([[0, 0]], 7)).toBe(0);
    expect(expectedSlowest([[0, 2000]], 1)).toBeCloseTo(1000, 6);
  });
});

describe('waveBounds: rounds', () => {
  it('is ceil(n / maxParallel) when maxParallel binds', () => {
    const p = plan({ main: items(25, 'reboot-migrate') });
    const [w] = waveBounds(
      input(p, { waves: [{ name: 'main', maxParallel: 10, bake: 'PT0S', failureBudget: 0 }] }),
    );
    expect(w?.instances).toBe(25);
    expect(w?.rounds).toBe(3);
  });

  it('is ceil(n_g / limit_g) for the group that binds, when that is more', () => {
    const p = plan({
      main: [...items(10, 'reboot-migrate', { asg: 'a' }), ...items(3, 'reboot-migrate', { asg: 'b' })],
    });
    const limits = new Map([
      ['asg=a', 4],
      ['asg=b', 4],
    ]);
    const [w] = waveBounds(input(p, {}, { limits }));
    expect(w?.rounds).toBe(3); // ceil(10 / 4); maxParallel 100% alone would allow 1
  });

  it('counts every group of an item, and a group without a limit as limit 1', () => {
    const p = plan({ main: items(6, 'reboot-migrate', { asg: 'a', az: 'us-east-1a' }) });
    const [w] = waveBounds(input(p, {}, { limits: new Map([['asg=a', 6]]) }));
    expect(w?.rounds).toBe(6);
  });

  it('has one bound per wave with items, in config order, each with its bake', () => {
    const p = plan({ main: items(4, 'reboot-migrate'), canary: items(2, 'reboot-migrate') });
    const ws = waveBounds(
      input(p, {
        waves: [
          { name: 'canary', match: { tags: { w: 'c' } }, maxParallel: 1, bake: 'PT15M', failureBudget: 0 },
          { name: 'empty', match: { tags: { w: 'e' } }, maxParallel: 1, bake: 'PT1M', failureBudget: 0 },
          { name: 'main', maxParallel: 2, bake: 'PT5M', failureBudget: 0 },
        ],
      }),
    );
    expect(ws.map((w) => [w.wave, w.instances, w.rounds, w.bakeMs])).toEqual([
      ['canary', 2, 2, 15 * MIN],
      ['main', 4, 2, 5 * MIN],
    ]);
  });

  it("takes the round's slowest of its quickest remedy: a round of 5 holds 5 remedies", () => {
    const p = plan({ main: [...items(6, 'stop-start'), ...items(4, 'reboot-migrate')] });
    const [w] = waveBounds(
      input(
        p,
        { waves: [{ name: 'main', maxParallel: 5, bake: 'PT0S', failureBudget: 0 }] },
        { behaviour: DEFAULT_BEHAVIOUR },
      ),
    );
    expect(w?.rounds).toBe(2);
    const reboot = expectedSlowest(remedyRanges('reboot-migrate', DEFAULT_BEHAVIOUR), 5);
    const stopStart = expectedSlowest(remedyRanges('stop-start', DEFAULT_BEHAVIOUR), 5);
    expect(reboot).toBeLessThan(stopStart);
    expect(w?.roundMs).toBe(reboot);
  });
});

describe('lowerBounds: makespan', () => {
  const round = 5 * MIN; // a fixed reboot: 2 min + 3 min of status checks

  it('is the rounds one after another with the bake between them (not after the last)', () => {
    const p = plan({ main: items(4, 'reboot-migrate') });
    const lb = lowerBounds(
      input(p, { waves: [{ name: 'main', maxParallel: 2, bake: 'PT10M', failureBudget: 0 }] }),
    );
    expect(lb.waves[0]?.rounds).toBe(2);
    near(lb.byRoundsSeconds * SEC, 2 * round + 10 * MIN, 2);
    expect(lb.makespanSeconds).toBe(lb.byRoundsSeconds);
    expect(lb.byStartBucketSeconds).toBe(0);
    expect(lb.byRescheduleLeadSeconds).toBe(0);
  });

  it('starts each round inside a window: a closed window pushes a round to the next one', () => {
    const p = plan({ main: items(4, 'reboot-migrate') });
    const cfg = {
      waves: [{ name: 'main', maxParallel: 2, bake: 'PT1H', failureBudget: 0 }],
      windows: [
        {
          days: [...EVERY_DAY],
          start: '02:00',
          end: '03:00',
          timeZone: 'UTC',
        },
      ],
    };
    const lb = lowerBounds(input(p, cfg));
    // Round 1 waits for 02:00; after it and the bake it is 03:05, closed: round 2 starts at 02:00 next day.
    near(lb.byRoundsSeconds * SEC, 26 * HOUR + round);
    // A short bake keeps round 2 inside the first window.
    const short = lowerBounds(
      input(p, { ...cfg, waves: [{ name: 'main', maxParallel: 2, bake: 'PT10M', failureBudget: 0 }] }),
    );
    near(short.byRoundsSeconds * SEC, 2 * HOUR + 2 * round + 10 * MIN, 2);
  });

  it("is never below StartInstances' resource bucket: 1,000 instances, then 2 a second", () => {
    const quickestStart = (FIXED.startDuration[0] + FIXED.statusCheckDelay[0]) / SEC; // 240 s
    const of = (n: number) => lowerBounds(input(plan({ main: items(n, 'stop-start') }))).byStartBucketSeconds;
    expect(of(1400)).toBe((1400 - 1000) / 2 + quickestStart);
    expect(of(3000)).toBe((3000 - 1000) / 2 + quickestStart);
    expect(of(1000)).toBe(quickestStart);
    expect(of(10)).toBe(quickestStart);
    // Reboots do not start instances.
    expect(lowerBounds(input(plan({ main: items(3000, 'reboot-migrate') }))).byStartBucketSeconds).toBe(0);
    // With every stop-start in one round, the bucket is the bound.
    const lb = lowerBounds(input(plan({ main: items(3000, 'stop-start') })));
    expect(lb.makespanSeconds).toBe(lb.byStartBucketSeconds);
    expect(lb.byRoundsSeconds).toBeLessThan(lb.byStartBucketSeconds);
  });

  it("counts AWS's 60-minute reschedule lead, plus the quickest reboot, when a reschedule is planned", () => {
    const quickestReboot = (FIXED.rebootDuration[0] + FIXED.statusCheckDelay[0]) / SEC;
    const lb = lowerBounds(input(plan({ main: [...items(3, 'reboot-migrate'), item('reschedule')] })));
    expect(lb.byRescheduleLeadSeconds).toBe(3600 + quickestReboot);
    expect(lb.makespanSeconds).toBe(3600 + quickestReboot);
    expect(lb.byRoundsSeconds).toBeLessThan(lb.makespanSeconds);
    expect(lowerBounds(input(plan({ main: items(3, 'reboot-migrate') }))).byRescheduleLeadSeconds).toBe(0);
  });
});

describe('lowerBounds: API calls', () => {
  it('calls each action ceil(ids / 50) times, and ModifyInstanceEventStartTime once per event', () => {
    const p = plan({
      main: [...items(120, 'reboot-migrate'), ...items(51, 'stop-start'), ...items(7, 'reschedule')],
    });
    const lb = lowerBounds(input(p));
    expect(lb.apiCallsByAction.RebootInstances).toBe(3);
    expect(lb.apiCallsByAction.StopInstances).toBe(2);
    expect(lb.apiCallsByAction.StartInstances).toBe(2);
    expect(lb.apiCallsByAction.ModifyInstanceEventStartTime).toBe(7);
  });

  it('leaves out actions the plan does not need', () => {
    const lb = lowerBounds(input(plan({ main: items(50, 'reboot-migrate') })));
    expect(lb.apiCallsByAction.RebootInstances).toBe(1);
    for (const action of ['StopInstances', 'StartInstances', 'ModifyInstanceEventStartTime', 'EnterStandby'])
      expect(lb.apiCallsByAction[action]).toBeUndefined();
  });

  it('puts members in Standby and back in ceil(k / 20) calls per Auto Scaling group, reschedules aside', () => {
    const a = [...items(45, 'reboot-migrate'), ...items(2, 'stop-start')]; // 47 in asg a: 3 calls
    const b = items(5, 'stop-start'); // 1 call
    const r = items(30, 'reschedule'); // AWS reboots them: no Standby
    const asgOf = new Map<string, string>();
    for (const it of a) asgOf.set(it.instanceId, 'a');
    for (const it of b) asgOf.set(it.instanceId, 'b');
    for (const it of r) asgOf.set(it.instanceId, 'a');
    const lb = lowerBounds(input(plan({ main: [...a, ...b, ...r] }), {}, { asgOf }));
    expect(lb.apiCallsByAction.EnterStandby).toBe(4);
    expect(lb.apiCallsByAction.ExitStandby).toBe(4);
  });

  it("reads the fleet in pages of 1,000, and verifies each round's ids per 100 every poll interval", () => {
    // One round of 250 fixed 5-minute reboots polled every minute: 3 describes x 5 polls.
    const p = plan({ main: items(250, 'reboot-migrate') });
    const lb = lowerBounds(
      input(p, { verification: { pollInterval: 'PT1M' } }, { fleetSize: 2500, scheduledInstances: 1500 }),
    );
    expect(lb.waves[0]?.rounds).toBe(1);
    expect(lb.apiCallsByAction.DescribeInstances).toBe(3);
    expect(lb.apiCallsByAction.DescribeInstanceStatus).toBe(2 + 3 * 5);
    // Two rounds of 125 (maxParallel 125): 2 describes per round and poll.
    const two = lowerBounds(
      input(
        p,
        {
          verification: { pollInterval: 'PT1M' },
          waves: [{ name: 'main', maxParallel: 125, bake: 'PT0S', failureBudget: 0 }],
        },
        { fleetSize: 2500, scheduledInstances: 1500 },
      ),
    );
    expect(two.apiCallsByAction.DescribeInstanceStatus).toBe(2 + 2 * 2 * 5);
    expect(lb.apiCalls).toBe(Object.values(lb.apiCallsByAction).reduce((n, k) => n + k, 0));
    expect(lb.apiCalls).toBe(3 + 17 + 5); // describes, and 250 reboots in 5 calls
  });
});
