/** fast-check generators for random fleets, notices and configs (valid by construction, parsed by parseConfig). */
import fc from 'fast-check';
import { type Config, type ConfigInput, parseConfig } from '../../lambda/core/config';
import { EVENT_CODES, type InstanceFacts, type Notice } from '../../lambda/core/types';

export const NOW = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;

export interface Scenario {
  facts: InstanceFacts[];
  notices: Notice[];
  config: Config;
  now: number;
}

/** true with probability p, unbiased (fast-check otherwise favours the smallest values). */
const chance = (p: number) => fc.noBias(fc.integer({ min: 0, max: 999 })).map((x) => x < p * 1000);

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata'];
const DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const countOrPct = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min, max }),
    fc.integer({ min: Math.max(1, min), max: 60 }).map((p) => `${p}%`),
  );
const isoHours = (min: number, max: number) => fc.integer({ min, max }).map((h) => `PT${h}H`);
const isoMinutes = (min: number, max: number) => fc.integer({ min, max }).map((m) => `PT${m}M`);
/** Whole minutes mostly, sometimes to the second (slots must still land on whole minutes). */
const isoMinutesOrSeconds = (min: number, max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: isoMinutes(min, max) },
    { weight: 1, arbitrary: fc.integer({ min: min * 60, max: max * 60 }).map((s) => `PT${s}S`) },
  );

const windowArb = fc
  .record({
    days: fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 7 }),
    start: hhmm,
    end: hhmm,
    timeZone: fc.constantFrom(...ZONES),
  })
  .filter((w) => w.start !== w.end);

const remediesArb = fc.record({
  'system-reboot': fc.shuffledSubarray(
    ['reboot-migrate', 'stop-start', 'reschedule', 'report-only'] as const,
    { minLength: 1 },
  ),
  'instance-reboot': fc.shuffledSubarray(['reschedule', 'stop-start', 'report-only'] as const, {
    minLength: 1,
  }),
  'instance-stop': fc.shuffledSubarray(['stop-start', 'reschedule', 'report-only'] as const, {
    minLength: 1,
  }),
  'instance-retirement': fc.shuffledSubarray(['stop-start', 'reschedule', 'report-only'] as const, {
    minLength: 1,
  }),
  'system-maintenance': fc.shuffledSubarray(['stop-start', 'reschedule', 'report-only'] as const, {
    minLength: 1,
  }),
});

/** Configs; `mass` allows the large limits and short verification timeouts under which EC2's API caps bind. */
const configArbOf = (mass: boolean): fc.Arbitrary<Config> =>
  fc
    .record({
      groupBy: fc.subarray(['asg', 'az', 'tag:team']),
      maxUnavailablePerGroup: mass ? fc.constantFrom('100%', '50%', 2000) : countOrPct(1, 3),
      windows: fc.oneof(
        fc.constant(
          [] as Array<{ days: (typeof DAYS)[number][]; start: string; end: string; timeZone: string }>,
        ),
        fc.array(windowArb, { minLength: 1, maxLength: 2 }),
      ),
      leadTime: isoHours(1, 24 * 7),
      deadlineMargin: isoMinutes(0, 360),
      waves: fc.array(
        fc.record({
          match: fc.oneof(
            fc.constant({}),
            fc.constant({ tags: { 'forestall:wave': 'canary' } }),
            fc.constant({ tags: { team: 'a' } }),
          ),
          maxParallel: mass ? fc.constantFrom('100%', '60%', 5000, 1500) : countOrPct(1, 6),
          bake: isoMinutesOrSeconds(0, 90),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      remedies: remediesArb,
      instanceStoreDisposable: fc.boolean(),
      timeout: mass ? isoMinutesOrSeconds(5, 30) : isoMinutesOrSeconds(5, 90),
    })
    .map((c) =>
      parseConfig({
        groupBy: c.groupBy,
        maxUnavailablePerGroup: c.maxUnavailablePerGroup,
        windows: c.windows,
        leadTime: c.leadTime,
        deadlineMargin: c.deadlineMargin,
        waves: c.waves.map((w, i) => ({ name: `w${i}`, ...w })),
        remedies: c.remedies,
        instanceStoreDisposable: c.instanceStoreDisposable,
        verification: { timeout: c.timeout },
      } satisfies ConfigInput),
    );

export const configArb = configArbOf(false);

const instanceArb = fc.record({
  az: fc.constantFrom('us-east-1a', 'us-east-1b', 'us-east-1c'),
  asg: fc.option(fc.constantFrom('web', 'api', 'db', 'batch'), { nil: undefined }),
  optedIn: chance(0.85),
  canary: chance(0.15),
  team: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
  rootDevice: fc.constantFrom('ebs', 'ebs', 'ebs', 'instance-store') as fc.Arbitrary<
    'ebs' | 'instance-store'
  >,
  instanceStore: fc.constantFrom('none', 'none', 'present', 'unknown') as fc.Arbitrary<
    'none' | 'present' | 'unknown'
  >,
  lifecycle: fc.constantFrom('on-demand', 'on-demand', 'on-demand', 'spot') as fc.Arbitrary<
    'on-demand' | 'spot'
  >,
  rebootMigration: fc.constantFrom('default', 'disabled', 'unknown') as fc.Arbitrary<
    'default' | 'disabled' | 'unknown'
  >,
  running: chance(0.9),
  events: fc.array(
    fc.record({
      code: fc.oneof(
        { weight: 20, arbitrary: fc.constantFrom(...EVENT_CODES) },
        { weight: 1, arbitrary: fc.constant('instance-teleport') },
      ),
      notBeforeHours: fc.integer({ min: -3, max: 24 * 14 }),
      // AWS reports NotBefore to the second.
      notBeforeSeconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3599 })),
      deadlineHours: fc.option(fc.integer({ min: 0, max: 24 * 10 }), { nil: undefined }),
      windowMinutes: fc.option(fc.integer({ min: 0, max: 240 }), { nil: undefined }),
      state: fc
        .tuple(chance(0.85), fc.constantFrom('completed', 'canceled'))
        .map(([active, other]): Notice['state'] => (active ? 'active' : other)),
      duplicate: chance(0.03),
    }),
    { maxLength: 2 },
  ),
});

type InstanceSpec = typeof instanceArb extends fc.Arbitrary<infer T> ? T : never;

// Planning time: on the hour like the events, or anywhere in it down to the millisecond.
const nowOffsetArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: HOUR - 1 }));

function buildScenario(instances: readonly InstanceSpec[], config: Config, nowOffset: number): Scenario {
  const facts: InstanceFacts[] = [];
  const notices: Notice[] = [];
  instances.forEach((inst, i) => {
    const instanceId = `i-${i.toString(16).padStart(17, '0')}`;
    const tags: Record<string, string> = {};
    if (inst.optedIn) tags['forestall:managed'] = 'true';
    if (inst.canary) tags['forestall:wave'] = 'canary';
    if (inst.team) tags.team = inst.team;
    if (inst.asg) tags['aws:autoscaling:groupName'] = inst.asg;
    facts.push({
      instanceId,
      region: 'us-east-1',
      instanceType: 'm5.large',
      az: inst.az,
      tags,
      rootDevice: inst.rootDevice,
      instanceStore: inst.rootDevice === 'instance-store' ? 'present' : inst.instanceStore,
      lifecycle: inst.lifecycle,
      ...(inst.asg ? { asgName: inst.asg } : {}),
      rebootMigration: inst.rebootMigration,
      state: inst.running ? 'running' : 'stopped',
    });
    inst.events.forEach((e, j) => {
      const notBefore = NOW + e.notBeforeHours * HOUR + e.notBeforeSeconds * 1000;
      const n: Notice = {
        instanceId,
        region: 'us-east-1',
        eventId: `instance-event-${i}-${j}`,
        code: e.code,
        description:
          e.state === 'completed' ? '[Completed] x' : e.state === 'canceled' ? '[Canceled] x' : 'scheduled',
        notBefore,
        ...(e.windowMinutes === undefined ? {} : { notAfter: notBefore + e.windowMinutes * 60_000 }),
        ...(e.deadlineHours === undefined ? {} : { notBeforeDeadline: notBefore + e.deadlineHours * HOUR }),
        source: 'poll',
        state: e.state,
      };
      notices.push(n);
      if (e.duplicate) notices.push({ ...n });
    });
  });
  return { facts, notices, config, now: NOW + nowOffset };
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc
  .tuple(fc.array(instanceArb, { minLength: 1, maxLength: 60, size: 'max' }), configArb, nowOffsetArb)
  .map(([instances, config, nowOffset]) => buildScenario(instances, config, nowOffset));

/**
 * Mass events as in 2011 and 2014: a few kinds of instance, each many times over with the same events, so
 * that batches reach EC2's API caps (api-limits.ts).
 */
export const massScenarioArb: fc.Arbitrary<Scenario> = fc
  .tuple(
    fc.array(fc.tuple(instanceArb, fc.integer({ min: 1, max: 2500 })), { minLength: 1, maxLength: 3 }),
    configArbOf(true),
    nowOffsetArb,
  )
  .map(([kinds, config, nowOffset]) =>
    buildScenario(
      kinds.flatMap(([inst, count]) => Array.from({ length: count }, () => inst)),
      config,
      nowOffset,
    ),
  );
