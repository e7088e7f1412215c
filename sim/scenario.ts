/** Scenario files: a fleet (ASGs and standalone groups over AZs), how AWS scheduled events on it, and EC2 behaviour. */
import { z } from 'zod';
import { formatPath, isoDuration } from '../lambda/core/config';
import { ASG_TAG } from '../lambda/core/facts';
import { MINUTE } from '../lambda/core/time';
import { EVENT_CODES } from '../lambda/core/types';
import { DEFAULT_BEHAVIOUR, type SimBehaviour, type SimEventSpec, type SimInstanceSpec } from './ec2';
import { Rng } from './rng';

const duration = isoDuration;
const share = z.number().min(0).max(1);
const minutesRange = z
  .tuple([z.number().min(0), z.number().min(0)])
  .refine(([a, b]) => a <= b, { error: 'expected [min, max] with min <= max' });

const groupSchema = z.strictObject({
  asg: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  count: z.number().int().min(1).max(200_000),
  instanceType: z.string().default('m5.large'),
  rootDevice: z.enum(['ebs', 'instance-store']).default('ebs'),
  instanceStore: z.boolean().default(false),
  lifecycle: z.enum(['on-demand', 'spot']).default('on-demand'),
  rebootMigration: z.enum(['default', 'disabled']).default('default'),
  optIn: share.default(1),
  canary: z.number().int().min(0).default(0),
  stopped: share.default(0),
  tags: z.record(z.string(), z.string()).default({}),
});

export const scenarioSchema = z.strictObject({
  name: z.string().default('scenario'),
  seed: z.number().int().default(1),
  start: z.string().refine((s) => !Number.isNaN(Date.parse(s)), { error: 'expected an ISO-8601 time' }),
  region: z.string().default('us-east-1'),
  azs: z.array(z.string()).min(1),
  groups: z.array(groupSchema).min(1),
  events: z.strictObject({
    affected: share.default(0.5),
    mix: z.partialRecord(z.enum(EVENT_CODES), z.number().min(0)),
    /** Offsets from `start` at which AWS schedules events, many instances per slot (as in 2011 and 2014). */
    slots: z.array(duration).min(1),
    window: duration.prefault('PT2H'),
    deadlineShare: share.default(0.7),
    deadlineAfter: duration.prefault('P7D'),
    history: share.default(0.05),
  }),
  behaviour: z
    .strictObject({
      rebootMigrationSuccess: share.optional(),
      neverHealthyRate: share.optional(),
      stopStartClearsInstanceReboot: z.boolean().optional(),
      throttling: z.boolean().optional(),
      statusCheckMinutes: minutesRange.optional(),
      rebootMinutes: minutesRange.optional(),
      awsStartSpread: share.optional(),
    })
    .default({}),
});

export type Scenario = z.output<typeof scenarioSchema>;

export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const r = scenarioSchema.safeParse(input);
  if (r.success) return r.data;
  throw new Error(
    `invalid ${source}: ${r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
  );
}

export interface Fleet {
  readonly start: number;
  readonly instances: SimInstanceSpec[];
  readonly events: SimEventSpec[];
  readonly behaviour: SimBehaviour;
}

function hexId(rng: Rng, digits: number): string {
  let s = '';
  for (let i = 0; i < digits; i++) s += rng.int(0, 15).toString(16);
  return s;
}

/** Builds the fleet and its scheduled events from a scenario, deterministically from the seed. */
export function buildFleet(scenario: Scenario, seed = scenario.seed): Fleet {
  const rng = new Rng(seed);
  const start = Date.parse(scenario.start);
  const instances: SimInstanceSpec[] = [];
  const events: SimEventSpec[] = [];
  const mix = Object.entries(scenario.events.mix).filter(([, w]) => (w ?? 0) > 0) as Array<[string, number]>;
  const total = mix.reduce((s, [, w]) => s + w, 0);
  const pickCode = () => {
    let x = rng.next() * total;
    for (const [code, w] of mix) {
      x -= w;
      if (x < 0) return code;
    }
    return mix[mix.length - 1]?.[0] ?? 'system-reboot';
  };
  const used = new Set<string>();
  scenario.groups.forEach((g, gi) => {
    for (let k = 0; k < g.count; k++) {
      let instanceId = `i-${hexId(rng, 17)}`;
      while (used.has(instanceId)) instanceId = `i-${hexId(rng, 17)}`;
      used.add(instanceId);
      const tags: Record<string, string> = { Name: `${g.asg ?? g.name ?? `group${gi}`}-${k + 1}`, ...g.tags };
      if (g.asg) tags[ASG_TAG] = g.asg;
      if (rng.chance(g.optIn)) tags['forestall:managed'] = 'true';
      if (k < g.canary) tags['forestall:wave'] = 'canary';
      instances.push({
        instanceId,
        instanceType: g.instanceType,
        az: scenario.azs[k % scenario.azs.length] as string,
        tags,
        rootDevice: g.rootDevice,
        instanceStore: g.instanceStore || g.rootDevice === 'instance-store',
        lifecycle: g.lifecycle,
        rebootMigration: g.rebootMigration,
        state: rng.chance(g.stopped) ? 'stopped' : 'running',
      });
      if (total === 0 || !rng.chance(scenario.events.affected)) continue;
      const code = pickCode();
      const notBefore = start + rng.pick(scenario.events.slots);
      const rebootish = code === 'system-reboot' || code === 'instance-reboot';
      events.push({
        instanceId,
        eventId: `instance-event-${hexId(rng, 17)}`,
        code,
        notBefore,
        notAfter: notBefore + scenario.events.window,
        ...(rebootish && rng.chance(scenario.events.deadlineShare)
          ? { notBeforeDeadline: notBefore + scenario.events.deadlineAfter }
          : {}),
        description:
          code === 'instance-retirement' || code === 'instance-stop'
            ? 'The instance is running on degraded hardware'
            : 'The instance is scheduled for a reboot',
      });
      if (rng.chance(scenario.events.history)) {
        const past = start - rng.int(1, 6) * 86_400_000;
        events.push({
          instanceId,
          eventId: `instance-event-${hexId(rng, 17)}`,
          code: 'system-reboot',
          notBefore: past,
          notAfter: past + 2 * 3_600_000,
          description: '[Completed] The instance is scheduled for a reboot',
        });
      }
    }
  });
  const b = scenario.behaviour;
  const range = (r: readonly [number, number] | undefined, fallback: readonly [number, number]) =>
    r ? ([r[0] * MINUTE, r[1] * MINUTE] as const) : fallback;
  const behaviour: SimBehaviour = {
    ...DEFAULT_BEHAVIOUR,
    ...(b.rebootMigrationSuccess === undefined ? {} : { rebootMigrationSuccess: b.rebootMigrationSuccess }),
    ...(b.neverHealthyRate === undefined ? {} : { neverHealthyRate: b.neverHealthyRate }),
    ...(b.stopStartClearsInstanceReboot === undefined
      ? {}
      : { stopStartClearsInstanceReboot: b.stopStartClearsInstanceReboot }),
    ...(b.throttling === undefined ? {} : { throttling: b.throttling }),
    ...(b.awsStartSpread === undefined ? {} : { awsStartSpread: b.awsStartSpread }),
    statusCheckDelay: range(b.statusCheckMinutes, DEFAULT_BEHAVIOUR.statusCheckDelay),
    rebootDuration: range(b.rebootMinutes, DEFAULT_BEHAVIOUR.rebootDuration),
  };
  return { start, instances, events, behaviour };
}
