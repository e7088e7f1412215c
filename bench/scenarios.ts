/**
 * The benchmark's scenarios (README "Performance"): fleets of Auto Scaling groups over 3 AZs, each with the
 * Forestall config it is planned with and the fixed-rate baseline's settings. `--quick` runs the 1,000-
 * instance ones only.
 */
import { type Config, type ConfigInput, parseConfig } from '../lambda/core/config';
import type { EventCode } from '../lambda/core/types';
import { parseScenario, type Scenario } from '../sim/scenario';

export interface BenchScenario {
  readonly name: string;
  readonly instances: number;
  readonly scenario: Scenario;
  readonly config: Config;
  /** What the scenario shows, for the table's legend. */
  readonly about: string;
}

/** Instances per Auto Scaling group (the last one takes the remainder). */
const ASG_SIZE = 200;

interface FleetSpec {
  readonly name: string;
  readonly instances: number;
  readonly about: string;
  readonly affected: number;
  readonly mix: Partial<Record<EventCode, number>>;
  readonly slots: readonly string[];
  readonly deadlineShare?: number;
  readonly behaviour?: Scenario['behaviour'];
  readonly config?: Partial<ConfigInput>;
}

/** Every notice is due at once (leadTime longer than the scenarios' horizon), as in a reboot-a-thon. */
const BASE_CONFIG: ConfigInput = {
  dryRun: false,
  regions: ['us-east-1'],
  leadTime: 'P30D',
  deadlineMargin: 'PT2H',
  groupBy: ['asg', 'az'],
  maxUnavailablePerGroup: '20%',
  // A stop-start is not known to clear instance-reboot (AWS-FACTS §1): reschedule it, or leave it to AWS.
  remedies: { 'instance-reboot': ['reschedule'] },
  waves: [
    {
      name: 'canary',
      match: { tags: { 'forestall:wave': 'canary' } },
      maxParallel: 10,
      bake: 'PT15M',
      failureBudget: 0,
    },
    { name: 'main', maxParallel: '100%', bake: 'PT5M', failureBudget: '10%' },
  ],
};

function fleet(spec: FleetSpec): BenchScenario {
  const asgs = Math.max(1, Math.ceil(spec.instances / ASG_SIZE));
  const groups = Array.from({ length: asgs }, (_, k) => ({
    asg: `svc-${String(k).padStart(3, '0')}`,
    count: Math.min(ASG_SIZE, spec.instances - k * ASG_SIZE),
    canary: k < 10 ? 1 : 0,
  }));
  const scenario = parseScenario(
    {
      name: spec.name,
      seed: 2014,
      start: '2026-12-01T00:00:00Z',
      azs: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      groups,
      events: {
        affected: spec.affected,
        mix: spec.mix,
        slots: spec.slots,
        deadlineShare: spec.deadlineShare ?? 0.7,
        history: 0.02,
      },
      behaviour: spec.behaviour ?? {},
    },
    `bench scenario ${spec.name}`,
  );
  const config = parseConfig({ ...BASE_CONFIG, ...spec.config }, `bench config ${spec.name}`);
  return { name: spec.name, instances: spec.instances, scenario, config, about: spec.about };
}

const MIXED: Partial<Record<EventCode, number>> = {
  'system-reboot': 45,
  'instance-reboot': 15,
  'instance-stop': 15,
  'instance-retirement': 10,
  'system-maintenance': 15,
};
const WEEK = ['P2D', 'P3D', 'P4D', 'P5D', 'P6D'];

function fleetOf(instances: number): BenchScenario {
  return fleet({
    name: `fleet-${instances / 1000}k`,
    instances,
    about: 'half the fleet has an event within a week, every code',
    affected: 0.5,
    mix: MIXED,
    slots: WEEK,
  });
}

/** The scenarios at one size: the plain fleet and its variants. */
function variants(instances: number): BenchScenario[] {
  const k = `${instances / 1000}k`;
  return [
    fleetOf(instances),
    fleet(massRebootSpec(instances)),
    fleet({
      name: `expedited-24h-${k}`,
      instances,
      about: 'expedited: every event starts in 24-26 h',
      affected: 0.5,
      mix: { 'system-reboot': 2, 'instance-stop': 2, 'instance-retirement': 1 },
      slots: ['PT24H', 'PT26H'],
      deadlineShare: 0,
    }),
    fleet({
      name: `tight-windows-${k}`,
      instances,
      about: 'one hour a night (02:00-03:00 Berlin) to act in',
      affected: 0.5,
      mix: MIXED,
      slots: WEEK,
      config: {
        windows: [
          {
            days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'],
            start: '02:00',
            end: '03:00',
            timeZone: 'Europe/Berlin',
          },
        ],
      },
    }),
    fleet({
      name: `failing-canary-${k}`,
      instances,
      about: 'a bad image: 30% of rebooted instances never come back healthy',
      affected: 0.5,
      mix: MIXED,
      slots: WEEK,
      behaviour: { neverHealthyRate: 0.3 },
    }),
    fleet({
      name: `flaky-migration-${k}`,
      instances,
      about: 'reboot migration fails 70% of the time (fallback: stop-start)',
      affected: 0.5,
      mix: { 'system-reboot': 4, 'instance-stop': 1 },
      slots: WEEK,
      behaviour: { rebootMigrationSuccess: 0.3 },
    }),
  ];
}

/** A mass stop-start: StartInstances' resource bucket, not the group limits, sets the pace. */
function massStopStart(instances: number): BenchScenario {
  return fleet({
    name: `mass-stop-start-${instances / 1000}k`,
    instances,
    about: 'every instance has instance-stop/retirement within a week; half of each group may go at once',
    affected: 1,
    mix: { 'instance-stop': 2, 'instance-retirement': 1 },
    slots: ['P6D', 'P7D'],
    config: { maxUnavailablePerGroup: '50%' },
  });
}

export function benchScenarios(quick: boolean): BenchScenario[] {
  if (quick) return variants(1000);
  return [
    ...variants(1000),
    fleetOf(10_000),
    fleet(massRebootSpec(10_000)),
    fleetOf(100_000),
    massStopStart(30_000),
  ];
}

function massRebootSpec(instances: number): FleetSpec {
  return {
    name: `mass-reboot-2014-${instances / 1000}k`,
    instances,
    about: '2014 Xen style: 90% get system-reboot within a week, 2% never come back',
    affected: 0.9,
    mix: { 'system-reboot': 1 },
    slots: WEEK,
    behaviour: { neverHealthyRate: 0.02 },
  };
}
