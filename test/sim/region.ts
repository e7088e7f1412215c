/** A small simulated Region for the Auto Scaling and load-balancer tests: fixed timings, no throttling. */
import { ASG_TAG } from '../../lambda/core/facts';
import {
  DEFAULT_BEHAVIOUR,
  type SimBehaviour,
  SimEc2,
  type SimEventSpec,
  type SimInstanceSpec,
} from '../../sim/ec2';
import { Rng } from '../../sim/rng';

export const T0 = Date.parse('2026-12-01T00:00:00Z');
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0000000000000001';

export const FIXED: SimBehaviour = {
  ...DEFAULT_BEHAVIOUR,
  throttling: false,
  rebootMigrationSuccess: 1,
  rebootDuration: [2 * MIN, 2 * MIN],
  stopDuration: [1 * MIN, 1 * MIN],
  startDuration: [1 * MIN, 1 * MIN],
  statusCheckDelay: [3 * MIN, 3 * MIN],
  maintenanceOutage: [2 * MIN, 2 * MIN],
  asgLaunchDuration: [3 * MIN, 3 * MIN],
};

export const idOf = (k: number) => `i-${(k + 1).toString(16).padStart(17, '0')}`;

export function instance(k: number, over: Partial<SimInstanceSpec> = {}): SimInstanceSpec {
  return {
    instanceId: idOf(k),
    instanceType: 'm5.large',
    az: k % 2 === 0 ? 'us-east-1a' : 'us-east-1b',
    tags: { 'forestall:managed': 'true' },
    rootDevice: 'ebs',
    instanceStore: false,
    lifecycle: 'on-demand',
    rebootMigration: 'default',
    state: 'running',
    ...over,
  };
}

export interface RegionOptions {
  /** Members of the Auto Scaling group `web` (0: no group). */
  readonly members?: number;
  readonly minSize?: number;
  readonly maxSize?: number;
  /** Attach target group TG to the group (seconds of deregistration delay). */
  readonly asgTargetGroupDelay?: number;
  /** Instances outside any group, registered directly in TG (seconds of deregistration delay). */
  readonly direct?: { readonly count: number; readonly delay: number };
  readonly events?: readonly SimEventSpec[];
  readonly behaviour?: Partial<SimBehaviour>;
  readonly stopped?: readonly number[];
}

export function region(o: RegionOptions): SimEc2 {
  const members = o.members ?? 0;
  const direct = o.direct?.count ?? 0;
  const stopped = new Set(o.stopped ?? []);
  const specs = Array.from({ length: members + direct }, (_, k) =>
    instance(k, {
      ...(k < members ? { tags: { 'forestall:managed': 'true', [ASG_TAG]: 'web' } } : {}),
      state: stopped.has(k) ? 'stopped' : 'running',
    }),
  );
  const running = specs.slice(0, members).filter((s) => s.state === 'running').length;
  const delay = o.asgTargetGroupDelay ?? o.direct?.delay;
  return new SimEc2(T0, specs, o.events ?? [], { ...FIXED, ...o.behaviour }, new Rng(1), {
    autoScalingGroups:
      members > 0
        ? [
            {
              name: 'web',
              minSize: o.minSize ?? 0,
              maxSize: o.maxSize ?? 2 * members,
              desiredCapacity: running,
              instanceIds: specs.slice(0, members).map((s) => s.instanceId),
              targetGroupArns: o.asgTargetGroupDelay === undefined ? [] : [TG],
            },
          ]
        : [],
    targetGroups:
      delay === undefined
        ? []
        : [
            {
              arn: TG,
              name: 'web',
              deregistrationDelayMs: delay * 1000,
              instanceIds: specs.slice(members).map((s) => s.instanceId),
            },
          ],
  });
}

export interface GroupView {
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly members: Record<string, string>;
}

/** The group `web` as DescribeAutoScalingGroups reports it. */
export function group(w: SimEc2, name = 'web'): GroupView {
  const out = w.autoscaling.describeAutoScalingGroups({ AutoScalingGroupNames: [name] }) as {
    AutoScalingGroups: Array<{
      MinSize: number;
      MaxSize: number;
      DesiredCapacity: number;
      Instances: Array<{ InstanceId: string; LifecycleState: string }>;
    }>;
  };
  const g = out.AutoScalingGroups[0];
  if (!g) throw new Error(`no group ${name}`);
  return {
    desired: g.DesiredCapacity,
    min: g.MinSize,
    max: g.MaxSize,
    members: Object.fromEntries(g.Instances.map((i) => [i.InstanceId, i.LifecycleState])),
  };
}

export function stateName(w: SimEc2, id: string): string | undefined {
  const out = w.describeInstances([id]) as {
    Reservations: Array<{ Instances: Array<{ State: { Name: string } }> }>;
  };
  return out.Reservations[0]?.Instances[0]?.State.Name;
}

/** The error code a call throws ('' if it does not). */
export function errorCode(call: () => unknown): string {
  try {
    call();
    return '';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}
