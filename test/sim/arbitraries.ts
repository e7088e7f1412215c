/** Random simulated fleets for end-to-end properties: groups, events, EC2 behaviours. */
import fc from 'fast-check';
import { EVENT_CODES } from '../../lambda/core/types';
import { parseScenario } from '../../sim/scenario';

const share = (max = 1) => fc.integer({ min: 0, max: Math.round(max * 100) }).map((x) => x / 100);

export const scenarioArb = fc
  .record({
    seed: fc.nat(10_000),
    azs: fc.integer({ min: 1, max: 3 }),
    groups: fc.array(
      fc.record({
        asg: fc.option(fc.constantFrom('web', 'api', 'db'), { nil: undefined }),
        count: fc.integer({ min: 1, max: 25 }),
        rootDevice: fc.constantFrom('ebs', 'ebs', 'ebs', 'instance-store'),
        instanceStore: fc.boolean(),
        lifecycle: fc.constantFrom('on-demand', 'on-demand', 'spot'),
        rebootMigration: fc.constantFrom('default', 'disabled'),
        optIn: share(),
        canary: fc.integer({ min: 0, max: 2 }),
        stopped: share(0.1),
        team: fc.constantFrom('a', 'b'),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    affected: share(),
    weights: fc.tuple(...EVENT_CODES.map(() => fc.integer({ min: 0, max: 5 }))),
    slotHours: fc.uniqueArray(fc.integer({ min: 2, max: 150 }), { minLength: 1, maxLength: 3 }),
    windowMinutes: fc.integer({ min: 0, max: 180 }),
    deadlineShare: share(),
    deadlineDays: fc.integer({ min: 1, max: 6 }),
    behaviour: fc.record({
      rebootMigrationSuccess: share(),
      neverHealthyRate: share(0.3),
      stopStartClearsInstanceReboot: fc.boolean(),
      throttling: fc.boolean(),
      awsStartSpread: share(),
    }),
  })
  .map((r) =>
    parseScenario({
      seed: r.seed,
      start: '2026-12-01T00:00:00Z',
      azs: ['us-east-1a', 'us-east-1b', 'us-east-1c'].slice(0, r.azs),
      groups: r.groups.map(({ team, ...g }, i) => ({
        ...g,
        ...(g.asg ? { asg: `${g.asg}${i}` } : { name: `g${i}` }),
        tags: { team },
      })),
      events: {
        affected: r.affected,
        mix: Object.fromEntries(EVENT_CODES.map((c, i) => [c, r.weights[i] ?? 0])),
        slots: r.slotHours.map((h) => `PT${h}H`),
        window: `PT${r.windowMinutes}M`,
        deadlineShare: r.deadlineShare,
        deadlineAfter: `P${r.deadlineDays}D`,
      },
      behaviour: r.behaviour,
    }),
  );
