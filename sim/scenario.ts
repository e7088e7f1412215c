/** Scenario files: a fleet (ASGs and standalone groups over AZs), how AWS scheduled events on it, and EC2 behaviour. */
import { z } from 'zod';
import { formatPath, isoDuration } from '../lambda/core/config';
import { ASG_TAG } from '../lambda/core/facts';
import { MINUTE } from '../lambda/core/time';
import { EVENT_CODES } from '../lambda/core/types';
import {
  DEFAULT_BEHAVIOUR,
  type SimBehaviour,
  SimEc2,
  type SimEventSpec,
  type SimInstanceSpec,
  type SimTargetGroupSpec,
  type SimTopology,
} from './ec2';
import { Rng } from './rng';

const duration = isoDuration;
const share = z.number().min(0).max(1);
const minutesRange = z
  .tuple([z.number().min(0), z.number().min(0)])
  .refine(([a, b]) => a <= b, { error: 'expected [min, max] with min <= max' });

const size = z.number().int().min(0);

const groupSchema = z
  .strictObject({
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
    /**
     * Auto Scaling sizes (with `asg` only). Defaults: desired = the members running at the start (stopped
     * members start in Standby), min = the smaller of desired and half the count (rounded up), so Standby
     * with a decrement has room; max = twice the count, so replacements and ExitStandby have room.
     */
    minSize: size.optional(),
    maxSize: size.optional(),
    desiredCapacity: size.optional(),
    /**
     * A load-balancer target group (by name) for the group's instances: attached to the Auto Scaling group
     * with `asg` (members in service are registered), else the instances are registered in it directly.
     */
    targetGroup: z.string().min(1).max(32).optional(),
    /** The target group's deregistration delay (AWS's default 300 s); groups naming one target group agree. */
    deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(300),
  })
  .refine((g) => g.asg !== undefined || (g.minSize ?? g.maxSize ?? g.desiredCapacity) === undefined, {
    error: 'minSize, maxSize and desiredCapacity need `asg`',
  })
  .refine((g) => (g.minSize ?? 0) <= (g.desiredCapacity ?? g.maxSize ?? Number.POSITIVE_INFINITY), {
    error: 'expected minSize <= desiredCapacity <= maxSize',
  })
  .refine((g) => (g.desiredCapacity ?? 0) <= (g.maxSize ?? Number.POSITIVE_INFINITY), {
    error: 'expected minSize <= desiredCapacity <= maxSize',
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
      /** Auto Scaling's health-check period; 0 turns replacement of unhealthy members off. Default 60. */
      asgHealthCheckSeconds: z.number().int().min(0).optional(),
      /** HealthCheckGracePeriod of members Auto Scaling launches. Default 300. */
      asgHealthCheckGraceSeconds: z.number().int().min(0).optional(),
      /** How long impaired status checks are tolerated before a member counts as unhealthy. Default 5. */
      asgImpairedMinutes: z.number().min(0).optional(),
      /** From launch to a replacement in service. Default [2, 4]. */
      asgLaunchMinutes: minutesRange.optional(),
      /** Share of EnterStandby / ExitStandby calls refused with ResourceContention. Default 0. */
      resourceContentionRate: share.optional(),
      /** How long a newly registered target stays `initial`. Default 150. */
      targetInitialSeconds: z.number().min(0).optional(),
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
  /** The Auto Scaling groups (groups with `asg`) and target groups (groups with `targetGroup`). */
  readonly topology: Required<SimTopology>;
}

/** A simulated Region holding the fleet, its Auto Scaling groups and its target groups. */
export function regionOf(fleet: Fleet, rng: Rng, behaviour: SimBehaviour = fleet.behaviour): SimEc2 {
  return new SimEc2(fleet.start, fleet.instances, fleet.events, behaviour, rng, fleet.topology);
}

/**
 * `prefix` and `digits` random hex digits, built by one join: a flat string. Built by `+=` (or a template
 * around it) an id is a chain of cons strings, which every Map look-up, comparison and JSON.stringify of it
 * walks again: on 100,000 instances that was a tenth of a simulation's time.
 */
function hexId(rng: Rng, digits: number, prefix = ''): string {
  const parts = [prefix];
  for (let i = 0; i < digits; i++) parts.push(rng.int(0, 15).toString(16));
  return parts.join('');
}

type Group = Scenario['groups'][number];

/** Draws event codes by the scenario's weights. */
function codePicker(scenario: Scenario, rng: Rng): (() => string) | undefined {
  const mix = Object.entries(scenario.events.mix).filter(([, w]) => (w ?? 0) > 0) as Array<[string, number]>;
  const total = mix.reduce((s, [, w]) => s + w, 0);
  if (total === 0) return undefined;
  return () => {
    let x = rng.next() * total;
    for (const [code, w] of mix) {
      x -= w;
      if (x < 0) return code;
    }
    return mix[mix.length - 1]?.[0] ?? 'system-reboot';
  };
}

function instanceOf(
  scenario: Scenario,
  g: Group,
  gi: number,
  k: number,
  instanceId: string,
  rng: Rng,
): SimInstanceSpec {
  const tags: Record<string, string> = { Name: `${g.asg ?? g.name ?? `group${gi}`}-${k + 1}`, ...g.tags };
  if (g.asg) tags[ASG_TAG] = g.asg;
  if (rng.chance(g.optIn)) tags['forestall:managed'] = 'true';
  if (k < g.canary) tags['forestall:wave'] = 'canary';
  return {
    instanceId,
    instanceType: g.instanceType,
    az: scenario.azs[k % scenario.azs.length] as string,
    tags,
    rootDevice: g.rootDevice,
    instanceStore: g.instanceStore || g.rootDevice === 'instance-store',
    lifecycle: g.lifecycle,
    rebootMigration: g.rebootMigration,
    state: rng.chance(g.stopped) ? 'stopped' : 'running',
  };
}

/** The events AWS scheduled on one instance (maybe none), and maybe a completed one from last week. */
function eventsOf(
  scenario: Scenario,
  start: number,
  instanceId: string,
  code: string,
  rng: Rng,
): SimEventSpec[] {
  const events: SimEventSpec[] = [];
  const notBefore = start + rng.pick(scenario.events.slots);
  const rebootish = code === 'system-reboot' || code === 'instance-reboot';
  events.push({
    instanceId,
    eventId: hexId(rng, 17, 'instance-event-'),
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
      eventId: hexId(rng, 17, 'instance-event-'),
      code: 'system-reboot',
      notBefore: past,
      notAfter: past + 2 * 3_600_000,
      description: '[Completed] The instance is scheduled for a reboot',
    });
  }
  return events;
}

/** Builds the fleet and its scheduled events from a scenario, deterministically from the seed. */
export function buildFleet(scenario: Scenario, seed = scenario.seed): Fleet {
  const rng = new Rng(seed);
  const start = Date.parse(scenario.start);
  const instances: SimInstanceSpec[] = [];
  const events: SimEventSpec[] = [];
  const members: SimInstanceSpec[][] = [];
  const pickCode = codePicker(scenario, rng);
  const used = new Set<string>();
  scenario.groups.forEach((g, gi) => {
    const mine: SimInstanceSpec[] = [];
    for (let k = 0; k < g.count; k++) {
      let instanceId = hexId(rng, 17, 'i-');
      while (used.has(instanceId)) instanceId = hexId(rng, 17, 'i-');
      used.add(instanceId);
      const spec = instanceOf(scenario, g, gi, k, instanceId, rng);
      instances.push(spec);
      mine.push(spec);
      if (!pickCode || !rng.chance(scenario.events.affected)) continue;
      events.push(...eventsOf(scenario, start, instanceId, pickCode(), rng));
    }
    members.push(mine);
  });
  return {
    start,
    instances,
    events,
    behaviour: behaviourOf(scenario.behaviour),
    topology: topologyOf(scenario, members),
  };
}

function behaviourOf(b: Scenario['behaviour']): SimBehaviour {
  const range = (r: readonly [number, number] | undefined, fallback: readonly [number, number]) =>
    r ? ([r[0] * MINUTE, r[1] * MINUTE] as const) : fallback;
  const given = <K extends keyof SimBehaviour>(key: K, value: SimBehaviour[K] | undefined) =>
    value === undefined ? {} : { [key]: value };
  return {
    ...DEFAULT_BEHAVIOUR,
    ...given('rebootMigrationSuccess', b.rebootMigrationSuccess),
    ...given('neverHealthyRate', b.neverHealthyRate),
    ...given('stopStartClearsInstanceReboot', b.stopStartClearsInstanceReboot),
    ...given('throttling', b.throttling),
    ...given('awsStartSpread', b.awsStartSpread),
    ...given('asgHealthCheckInterval', seconds(b.asgHealthCheckSeconds)),
    ...given('asgHealthCheckGrace', seconds(b.asgHealthCheckGraceSeconds)),
    ...given(
      'asgImpairedTolerance',
      b.asgImpairedMinutes === undefined ? undefined : b.asgImpairedMinutes * MINUTE,
    ),
    ...given('resourceContentionRate', b.resourceContentionRate),
    ...given('targetInitialDuration', seconds(b.targetInitialSeconds)),
    statusCheckDelay: range(b.statusCheckMinutes, DEFAULT_BEHAVIOUR.statusCheckDelay),
    rebootDuration: range(b.rebootMinutes, DEFAULT_BEHAVIOUR.rebootDuration),
    asgLaunchDuration: range(b.asgLaunchMinutes, DEFAULT_BEHAVIOUR.asgLaunchDuration),
  };
}

function seconds(s: number | undefined): number | undefined {
  return s === undefined ? undefined : s * 1000;
}

/**
 * Auto Scaling groups from the groups with `asg` (groups naming one ASG share it; the first sizes given
 * win), target groups from the groups with `targetGroup`. Sizes default as documented in the schema.
 */
function topologyOf(scenario: Scenario, members: readonly SimInstanceSpec[][]): Required<SimTopology> {
  const targetGroups = new Map<string, { spec: SimTargetGroupSpec; ids: string[] }>();
  const asgs = new Map<string, { groups: Group[]; ids: string[]; running: number; arns: Set<string> }>();
  scenario.groups.forEach((g, gi) => {
    const specs = members[gi] ?? [];
    let arn: string | undefined;
    if (g.targetGroup !== undefined) {
      const tg = targetGroups.get(g.targetGroup) ?? targetGroupOf(scenario, g, targetGroups.size);
      if (tg.spec.deregistrationDelayMs !== g.deregistrationDelaySeconds * 1000)
        throw new Error(`groups[${gi}]: target group ${g.targetGroup} has two deregistration delays`);
      targetGroups.set(g.targetGroup, tg);
      arn = tg.spec.arn;
      if (g.asg === undefined) tg.ids.push(...specs.map((i) => i.instanceId));
    }
    if (g.asg === undefined) return;
    const asg = asgs.get(g.asg) ?? { groups: [], ids: [], running: 0, arns: new Set<string>() };
    asg.groups.push(g);
    asg.ids.push(...specs.map((i) => i.instanceId));
    asg.running += specs.filter((i) => i.state === 'running').length;
    if (arn) asg.arns.add(arn);
    asgs.set(g.asg, asg);
  });
  return {
    targetGroups: [...targetGroups.values()].map(({ spec, ids }) => ({ ...spec, instanceIds: ids })),
    autoScalingGroups: [...asgs].map(([name, a]) => {
      const count = a.ids.length;
      const desired = a.groups.find((g) => g.desiredCapacity !== undefined)?.desiredCapacity ?? a.running;
      const min =
        a.groups.find((g) => g.minSize !== undefined)?.minSize ?? Math.min(desired, Math.ceil(count / 2));
      const max = a.groups.find((g) => g.maxSize !== undefined)?.maxSize ?? Math.max(2 * count, desired);
      if (desired < a.running)
        throw new Error(
          `asg ${name}: desiredCapacity ${desired} is below its ${a.running} members running at the start`,
        );
      if (min > desired || desired > max)
        throw new Error(
          `asg ${name}: expected minSize ${min} <= desiredCapacity ${desired} <= maxSize ${max}`,
        );
      return {
        name,
        minSize: min,
        maxSize: max,
        desiredCapacity: desired,
        instanceIds: a.ids,
        targetGroupArns: [...a.arns],
      };
    }),
  };
}

function targetGroupOf(
  scenario: Scenario,
  g: Group,
  index: number,
): { spec: SimTargetGroupSpec; ids: string[] } {
  const name = g.targetGroup ?? '';
  const id = (0x5e0000 + index).toString(16).padStart(16, '0');
  return {
    spec: {
      arn: `arn:aws:elasticloadbalancing:${scenario.region}:123456789012:targetgroup/${name}/${id}`,
      name,
      deregistrationDelayMs: g.deregistrationDelaySeconds * 1000,
      instanceIds: [],
    },
    ids: [],
  };
}
