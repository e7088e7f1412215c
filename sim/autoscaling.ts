/**
 * Amazon EC2 Auto Scaling groups (AWS-FACTS §9), in the AWS API's JSON shapes:
 * - EC2 health checks every `asgHealthCheckInterval`: an InService member that is not running (stopping,
 *   stopped, pending), or whose status checks stay impaired past `asgImpairedTolerance`, is terminated and
 *   replaced (a new instance of the same type, tags and AZ, InService after `asgLaunchDuration`). Its open
 *   events go with it (resolution `replaced`) and its outage lasts until the replacement is in service;
 * - members in Standby are never health-checked: that is what Standby is for;
 * - EnterStandby (≤ 20 ids, all InService; decrementing desired capacity below MinSize is refused, not
 *   decrementing launches replacements) and ExitStandby (≤ 20 ids, all in Standby; desired capacity rises
 *   by their number and may not pass MaxSize); either may be refused with ResourceContention;
 * - members of a group with target groups are registered there while in service, and deregistered (drained)
 *   when they enter Standby (EnteringStandby lasts the deregistration delay) or are terminated.
 */
import type { SimElb } from './elb';
import type { Ec2Instances, SimInstance, SimInstanceSpec } from './instances';
import { SimApiError, type SimWorld } from './world';

export interface SimAutoScalingGroupSpec {
  readonly name: string;
  readonly minSize: number;
  readonly maxSize: number;
  /** At least the members running at the start (stopped members start in Standby); more are launched. */
  readonly desiredCapacity: number;
  readonly instanceIds: readonly string[];
  readonly targetGroupArns: readonly string[];
}

export type LifecycleState = 'Pending' | 'InService' | 'EnteringStandby' | 'Standby' | 'Terminating';

interface Member {
  readonly inst: SimInstance;
  lifecycle: LifecycleState;
  /** No health check before this: HealthCheckGracePeriod after a launched member came into service. */
  graceUntil: number;
  /** When the next health check of this member is due, if one is. */
  checkAt?: number;
  /** Bumped by every lifecycle change, so stale timers of an earlier change do nothing. */
  epoch: number;
  /** Its entry in DescribeAutoScalingGroups' `Instances`, made when first asked for since its last change. */
  view?: MemberView;
}

interface MemberView {
  readonly InstanceId: string;
  readonly InstanceType: string;
  readonly AvailabilityZone: string;
  readonly LifecycleState: LifecycleState;
  readonly HealthStatus: 'Healthy' | 'Unhealthy';
  readonly ProtectedFromScaleIn: false;
}

interface Group {
  readonly spec: SimAutoScalingGroupSpec;
  desired: number;
  readonly members: Map<string, Member>;
  /** Its members' AZs, sorted, as DescribeAutoScalingGroups lists them; dropped when members come or go. */
  azs?: readonly string[];
}

/** AWS's own limit on EnterStandby / ExitStandby, kept apart from the client's STANDBY_BATCH on purpose. */
const STANDBY_MAX_IDS = 20;
/** How long a terminating member stays `Terminating` (EC2: shutting-down). */
const TERMINATE_MS = 60_000;
/** How long a member leaving Standby stays `Pending` before it is InService again. */
const EXIT_STANDBY_MS = 15_000;
const THROTTLE = 'Throttling';

/** What EC2 health checks fail: an instance not running, or with impaired status checks. */
function looksUnhealthy(inst: SimInstance): boolean {
  return inst.state !== 'running' || inst.check === 'impaired';
}

function validation(message: string): SimApiError {
  return new SimApiError('ValidationError', message);
}

export class SimAutoScaling {
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<string, Group>();
  /** Members Auto Scaling terminated for failing its health checks, in order. */
  readonly replaced: string[] = [];
  private launches = 0;

  constructor(
    private readonly world: SimWorld,
    private readonly instances: Ec2Instances,
    private readonly elb: SimElb,
    specs: readonly SimAutoScalingGroupSpec[],
  ) {
    for (const spec of specs) this.create(spec);
  }

  private create(spec: SimAutoScalingGroupSpec): void {
    if (this.groups.has(spec.name)) throw new Error(`Auto Scaling group ${spec.name} is defined twice`);
    if (!(spec.minSize <= spec.desiredCapacity && spec.desiredCapacity <= spec.maxSize))
      throw new Error(`Auto Scaling group ${spec.name}: expected minSize <= desiredCapacity <= maxSize`);
    const g: Group = { spec, desired: spec.desiredCapacity, members: new Map() };
    this.groups.set(spec.name, g);
    for (const id of spec.instanceIds) {
      const inst = this.instances.get(id);
      if (!inst) throw new Error(`Auto Scaling group ${spec.name} names unknown instance ${id}`);
      // A stopped member of a group that replaces unhealthy ones can only be one in Standby.
      const lifecycle = inst.state === 'running' ? 'InService' : 'Standby';
      g.members.set(id, { inst, lifecycle, graceUntil: Number.NEGATIVE_INFINITY, epoch: 0 });
      g.azs = undefined;
      this.groupOf.set(id, g);
      if (lifecycle === 'InService')
        for (const arn of spec.targetGroupArns) this.elb.attach(arn, id, Number.NEGATIVE_INFINITY);
    }
    const inService = this.count(g);
    if (inService > g.desired)
      throw new Error(
        `Auto Scaling group ${spec.name}: desiredCapacity ${g.desired} is below its ${inService} running members`,
      );
    const template = g.members.values().next().value?.inst.spec;
    if (inService < g.desired && !template)
      throw new Error(`Auto Scaling group ${spec.name} has no member to launch others like`);
    for (let k = inService; k < g.desired && template; k++) this.launch(g, template);
  }

  // ---- observation --------------------------------------------------------------------------------

  /** The instance's state or status checks changed: an InService member that looks unhealthy gets checked. */
  changed(inst: SimInstance): void {
    // A member's instance is this very object: a healthy one needs no look-up (most changes are reboots).
    if (!looksUnhealthy(inst)) return;
    const g = this.groupOf.get(inst.spec.instanceId);
    const m = g?.members.get(inst.spec.instanceId);
    if (g && m && this.checked(m) && this.unhealthy(m)) this.scheduleCheck(g, m, this.world.now);
  }

  lifecycleOf(instanceId: string): LifecycleState | undefined {
    return this.groupOf.get(instanceId)?.members.get(instanceId)?.lifecycle;
  }

  // ---- health checks and replacement -------------------------------------------------------------

  /** Only InService members are health-checked: Standby is what keeps a member from being replaced. */
  private checked(m: Member): boolean {
    return m.lifecycle === 'InService';
  }

  private unhealthy(m: Member): boolean {
    return looksUnhealthy(m.inst);
  }

  /** When the member may first be judged unhealthy: after its grace period, and after impaired long enough. */
  private judgeableAt(m: Member): number {
    const impaired =
      m.inst.state === 'running' && m.inst.impairedSince !== undefined
        ? m.inst.impairedSince + this.world.behaviour.asgImpairedTolerance
        : Number.NEGATIVE_INFINITY;
    return Math.max(m.graceUntil, impaired);
  }

  /** Health checks run on a fixed period from the start; the first one after `notBefore` looks. */
  private scheduleCheck(g: Group, m: Member, notBefore: number): void {
    const interval = this.world.behaviour.asgHealthCheckInterval;
    if (interval <= 0) return;
    const from = Math.max(notBefore, this.judgeableAt(m)) - this.world.start;
    const t = this.world.start + (Math.floor(from / interval) + 1) * interval;
    if (m.checkAt !== undefined && m.checkAt <= t) return;
    m.checkAt = t;
    this.world.at(t, () => {
      if (m.checkAt !== t) return;
      m.checkAt = undefined;
      this.healthCheck(g, m);
    });
  }

  private healthCheck(g: Group, m: Member): void {
    if (!this.checked(m) || !this.unhealthy(m)) return;
    if (this.judgeableAt(m) > this.world.now) this.scheduleCheck(g, m, this.world.now);
    else this.replace(g, m);
  }

  private replace(g: Group, m: Member): void {
    const id = m.inst.spec.instanceId;
    this.setLifecycle(m, 'Terminating');
    for (const arn of g.spec.targetGroupArns) this.elb.detach(arn, id);
    this.replaced.push(id);
    this.instances.terminate(m.inst, TERMINATE_MS);
    const epoch = m.epoch;
    this.world.at(this.world.now + TERMINATE_MS, () => {
      if (m.epoch !== epoch) return;
      g.members.delete(id);
      g.azs = undefined;
      this.groupOf.delete(id);
    });
    this.launch(g, m.inst.spec, m.inst);
  }

  /** Launches a member like `template`; when it is in service, the outage of the one it replaces ends. */
  private launch(g: Group, template: SimInstanceSpec, replaces?: SimInstance): void {
    let id: string;
    // One join, a flat string (see hexId in scenario.ts).
    do id = ['i-0a5', (++this.launches).toString(16).padStart(14, '0')].join('');
    while (this.instances.has(id));
    const spec: SimInstanceSpec = { ...template, instanceId: id, state: 'running' };
    const duration = this.world.between(this.world.behaviour.asgLaunchDuration);
    const inst = this.instances.launch(spec, duration, () => {
      const m = g.members.get(id);
      if (m?.lifecycle === 'Pending')
        this.inService(g, m, this.world.now + this.world.behaviour.asgHealthCheckGrace);
      if (replaces) this.instances.closeOutage(replaces);
    });
    g.members.set(id, { inst, lifecycle: 'Pending', graceUntil: Number.NEGATIVE_INFINITY, epoch: 0 });
    g.azs = undefined;
    this.groupOf.set(id, g);
  }

  private inService(g: Group, m: Member, graceUntil: number): void {
    this.setLifecycle(m, 'InService');
    m.graceUntil = graceUntil;
    for (const arn of g.spec.targetGroupArns) this.elb.attach(arn, m.inst.spec.instanceId);
    if (this.unhealthy(m)) this.scheduleCheck(g, m, this.world.now);
  }

  private setLifecycle(m: Member, state: LifecycleState): void {
    m.lifecycle = state;
    m.view = undefined;
    m.epoch++;
    m.checkAt = undefined;
  }

  /** Members that count toward desired capacity. */
  private count(g: Group): number {
    let n = 0;
    for (const m of g.members.values()) if (m.lifecycle === 'InService' || m.lifecycle === 'Pending') n++;
    return n;
  }

  // ---- the Auto Scaling API ------------------------------------------------------------------------

  private group(name: string): Group {
    const g = this.groups.get(name);
    if (!g) throw validation(`AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
    return g;
  }

  /** The call's group and members, after the checks every Standby call makes (AWS refuses the whole call). */
  private standbyMembers(
    action: string,
    name: string,
    ids: readonly string[],
    from: LifecycleState,
  ): { g: Group; members: Member[] } {
    this.world.call(action, 'autoscaling', undefined, 0, THROTTLE);
    if (this.world.rng.chance(this.world.behaviour.resourceContentionRate))
      throw new SimApiError(
        'ResourceContention',
        'You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer).',
      );
    if (ids.length === 0 || ids.length > STANDBY_MAX_IDS)
      throw validation(
        `1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length between 1 and ${STANDBY_MAX_IDS}`,
      );
    const g = this.group(name);
    const members = [...new Set(ids)].map((id) => {
      const m = g.members.get(id);
      if (!m) throw validation(`The instance ${id} is not part of Auto Scaling group ${name}.`);
      if (m.lifecycle !== from) throw validation(`The instance ${id} is not in ${from}.`);
      return m;
    });
    return { g, members };
  }

  private activities(name: string, members: readonly Member[], what: string): { Activities: unknown[] } {
    return {
      Activities: members.map((m, k) => ({
        ActivityId: `sim-${this.world.now}-${k}`,
        AutoScalingGroupName: name,
        Description: `${what}: ${m.inst.spec.instanceId}`,
        StartTime: new Date(this.world.now).toISOString(),
        StatusCode: 'InProgress',
        Progress: 50,
      })),
    };
  }

  enterStandby(req: {
    readonly AutoScalingGroupName: string;
    readonly InstanceIds: readonly string[];
    readonly ShouldDecrementDesiredCapacity: boolean;
  }): { Activities: unknown[] } {
    const name = req.AutoScalingGroupName;
    const { g, members } = this.standbyMembers('EnterStandby', name, req.InstanceIds, 'InService');
    const { minSize, maxSize } = g.spec;
    if (req.ShouldDecrementDesiredCapacity && g.desired - members.length < minSize)
      throw validation(
        `AutoScalingGroup ${name} has min-size=${minSize}, max-size=${maxSize}, and desired-size=${g.desired}. To place into standby ${members.length} instances, please update the AutoScalingGroup sizes appropriately.`,
      );
    const tgs = g.spec.targetGroupArns;
    const draining = Math.max(0, ...tgs.map((arn) => this.elb.deregistrationDelay(arn)));
    for (const m of members) {
      for (const arn of tgs) this.elb.detach(arn, m.inst.spec.instanceId);
      if (tgs.length === 0) {
        this.setLifecycle(m, 'Standby');
        continue;
      }
      // With a load balancer, the member is EnteringStandby until its target has drained.
      this.setLifecycle(m, 'EnteringStandby');
      const epoch = m.epoch;
      this.world.at(this.world.now + draining, () => {
        if (m.epoch === epoch) this.setLifecycle(m, 'Standby');
      });
    }
    if (req.ShouldDecrementDesiredCapacity) g.desired -= members.length;
    else for (const m of members) this.launch(g, m.inst.spec);
    return this.activities(name, members, 'Moving EC2 instance to Standby');
  }

  exitStandby(req: { readonly AutoScalingGroupName: string; readonly InstanceIds: readonly string[] }): {
    Activities: unknown[];
  } {
    const name = req.AutoScalingGroupName;
    const { g, members } = this.standbyMembers('ExitStandby', name, req.InstanceIds, 'Standby');
    const { minSize, maxSize } = g.spec;
    if (g.desired + members.length > maxSize)
      throw validation(
        `AutoScalingGroup ${name} has min-size=${minSize}, max-size=${maxSize}, and desired-size=${g.desired}. To bring ${members.length} instances out of standby, please update the AutoScalingGroup sizes appropriately.`,
      );
    g.desired += members.length;
    for (const m of members) {
      this.setLifecycle(m, 'Pending');
      for (const arn of g.spec.targetGroupArns) this.elb.attach(arn, m.inst.spec.instanceId);
      const epoch = m.epoch;
      // Not a launch: no grace period. A member that comes back stopped is replaced at the next check.
      this.world.at(this.world.now + EXIT_STANDBY_MS, () => {
        if (m.epoch === epoch) this.inService(g, m, Number.NEGATIVE_INFINITY);
      });
    }
    return this.activities(name, members, 'Moving EC2 instance out of Standby');
  }

  describeAutoScalingGroups(
    req: {
      readonly AutoScalingGroupNames?: readonly string[];
      readonly MaxRecords?: number;
      readonly NextToken?: string;
    } = {},
  ): { AutoScalingGroups: unknown[]; NextToken?: string } {
    this.world.call('DescribeAutoScalingGroups', 'autoscaling', undefined, 0, THROTTLE);
    const max = req.MaxRecords ?? 50;
    if (!Number.isInteger(max) || max < 1 || max > 100)
      throw validation('MaxRecords must be between 1 and 100');
    const names = req.AutoScalingGroupNames;
    const list = names
      ? names.map((n) => this.groups.get(n)).filter((g): g is Group => g !== undefined)
      : [...this.groups.values()].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
    const start = req.NextToken === undefined ? 0 : Number(req.NextToken);
    if (!Number.isInteger(start) || start < 0) throw validation(`Invalid NextToken '${req.NextToken}'`);
    const AutoScalingGroups = list.slice(start, start + max).map((g) => this.shape(g));
    return start + max < list.length
      ? { AutoScalingGroups, NextToken: String(start + max) }
      : { AutoScalingGroups };
  }

  private shape(g: Group): unknown {
    const Instances: MemberView[] = [];
    for (const m of g.members.values()) {
      m.view ??= viewOf(m);
      Instances.push(m.view);
    }
    g.azs ??= [...new Set(Instances.map((i) => i.AvailabilityZone))].sort();
    const azs = [...g.azs];
    const region = (azs[0] ?? 'us-east-1a').replace(/[a-z]$/, '');
    const interval = this.world.behaviour.asgHealthCheckInterval;
    return {
      AutoScalingGroupName: g.spec.name,
      AutoScalingGroupARN: `arn:aws:autoscaling:${region}:123456789012:autoScalingGroup:sim:autoScalingGroupName/${g.spec.name}`,
      MinSize: g.spec.minSize,
      MaxSize: g.spec.maxSize,
      DesiredCapacity: g.desired,
      DefaultCooldown: 300,
      AvailabilityZones: azs,
      LoadBalancerNames: [],
      TargetGroupARNs: [...g.spec.targetGroupArns],
      HealthCheckType: 'EC2',
      HealthCheckGracePeriod: this.world.behaviour.asgHealthCheckGrace / 1000,
      Instances,
      SuspendedProcesses:
        interval > 0 ? [] : [{ ProcessName: 'ReplaceUnhealthy', SuspensionReason: 'simulated' }],
    };
  }
}

/** A member as DescribeAutoScalingGroups lists it; frozen, since it is shared by every reply until it changes. */
function viewOf(m: Member): MemberView {
  return Object.freeze({
    InstanceId: m.inst.spec.instanceId,
    InstanceType: m.inst.spec.instanceType,
    AvailabilityZone: m.inst.spec.az,
    LifecycleState: m.lifecycle,
    HealthStatus: m.lifecycle === 'Terminating' ? 'Unhealthy' : 'Healthy',
    ProtectedFromScaleIn: false,
  });
}
