/**
 * A simulated EC2 Region with the semantics of AWS-FACTS.md, answering in the AWS API's JSON shapes:
 * - AWS performs an event at its NotBefore if it is still open then (reboots in place, stops, retires);
 * - a user reboot never clears instance-reboot; it clears system-reboot only when reboot migration is
 *   `default` and the migration succeeds (probability `rebootMigrationSuccess`);
 * - stop then start moves the host and clears stop, retirement, maintenance and system-reboot events (and
 *   instance-reboot when `stopStartClearsInstanceReboot`, unverified at AWS); instance-store roots cannot stop;
 * - ModifyInstanceEventStartTime follows AWS-FACTS §3 and AWS then acts at the new time;
 * - status checks take `statusCheckDelay` to reach ok, and `neverHealthyRate` of them never do;
 * - token buckets per action per AWS-FACTS §6 answer RequestLimitExceeded when empty.
 * The instances' life is in instances.ts, the read calls in ec2-describe.ts, the shared clock in world.ts.
 */
import { MINUTE } from '../lambda/core/time';
import { SimAutoScaling, type SimAutoScalingGroupSpec } from './autoscaling';
import type { SimBehaviour } from './behaviour';
import {
  type DescribeRequest,
  describeInstanceStatus,
  describeInstances,
  describeInstanceTypes,
  isIdList,
} from './ec2-describe';
import { SimElb, type SimTargetGroupSpec } from './elb';
import {
  type Disruption,
  Ec2Instances,
  type Outage,
  type SimEventSpec,
  type SimInstance,
  type SimInstanceSpec,
} from './instances';
import type { Rng } from './rng';
import { type Cause, SimApiError, SimWorld } from './world';

export type { LifecycleState, SimAutoScalingGroupSpec } from './autoscaling';
export { DEFAULT_BEHAVIOUR, type SimBehaviour } from './behaviour';
export type { DescribeRequest } from './ec2-describe';
export type { SimTargetGroupSpec, TargetHealth } from './elb';
export type { Disruption, Outage, SimEventSpec, SimInstanceSpec } from './instances';
export { type Cause, SimApiError } from './world';

/** The Auto Scaling groups and target groups around the instances (none: plain instances). */
export interface SimTopology {
  readonly autoScalingGroups?: readonly SimAutoScalingGroupSpec[];
  readonly targetGroups?: readonly SimTargetGroupSpec[];
}

export class SimEc2 {
  private readonly world: SimWorld;
  private readonly instances: Ec2Instances;
  /** Elastic Load Balancing (API version 2) target groups in this Region. */
  readonly elb: SimElb;
  /** Amazon EC2 Auto Scaling in this Region. */
  readonly autoscaling: SimAutoScaling;

  constructor(
    start: number,
    instances: readonly SimInstanceSpec[],
    events: readonly SimEventSpec[],
    behaviour: SimBehaviour,
    rng: Rng,
    topology: SimTopology = {},
  ) {
    this.world = new SimWorld(start, behaviour, rng);
    this.instances = new Ec2Instances(this.world);
    for (const spec of instances) this.instances.add(spec);
    this.elb = new SimElb(this.world, this.instances, topology.targetGroups ?? []);
    this.autoscaling = new SimAutoScaling(
      this.world,
      this.instances,
      this.elb,
      topology.autoScalingGroups ?? [],
    );
    this.instances.observer = {
      changed: (inst) => this.autoscaling.changed(inst),
      serving: (id) => this.elb.serving(id),
    };
    for (const e of events) this.instances.addEvent(e);
  }

  get now(): number {
    return this.world.now;
  }

  /** Calls made per API action. */
  get apiCalls(): Record<string, number> {
    return this.world.apiCalls;
  }

  /** Calls refused for an empty token bucket. */
  get throttled(): number {
    return this.world.throttled;
  }

  /** Outages closed so far (see outagesUntil for the ones still open). */
  get outages(): readonly Outage[] {
    return this.instances.outages;
  }

  /** Members Auto Scaling terminated and replaced for failing its health checks, in order. */
  get replacedByAsg(): readonly string[] {
    return this.autoscaling.replaced;
  }

  /** Instances that went down while a load balancer was sending them traffic, with the cause. */
  get disruptedWhileServing(): readonly Disruption[] {
    return this.instances.disruptions;
  }

  /** Runs every timer due up to t, in time order, then sets the clock to t. */
  advanceTo(t: number): void {
    this.world.advanceTo(t);
  }

  private find(ids: readonly string[]): SimInstance[] {
    return ids.map((id) => {
      const inst = this.instances.get(id);
      if (!inst)
        throw new SimApiError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return inst;
    });
  }

  // ---- the EC2 API ---------------------------------------------------------------------------------

  /** DescribeInstanceStatus; an id list is shorthand for `{InstanceIds, IncludeAllInstances: true}`. */
  describeInstanceStatus(req: DescribeRequest | readonly string[]): {
    InstanceStatuses: unknown[];
    NextToken?: string;
  } {
    const r: DescribeRequest = isIdList(req) ? { InstanceIds: req, IncludeAllInstances: true } : req;
    return describeInstanceStatus(this.world, this.instances, r);
  }

  /** DescribeInstances; an id list is shorthand for `{InstanceIds}`. */
  describeInstances(req: DescribeRequest | readonly string[] = {}): {
    Reservations: unknown[];
    NextToken?: string;
  } {
    return describeInstances(this.world, this.instances, isIdList(req) ? { InstanceIds: req } : req);
  }

  describeInstanceTypes(): {
    InstanceTypes: Array<{ InstanceType: string; InstanceStorageSupported: boolean }>;
  } {
    return describeInstanceTypes(this.world, this.instances);
  }

  rebootInstances(ids: readonly string[]): void {
    this.world.call('RebootInstances', 'mutate');
    const list = this.find(ids);
    for (const inst of list) {
      if (inst.state !== 'running' && inst.state !== 'terminated') {
        throw new SimApiError(
          'IncorrectState',
          `The instance '${inst.spec.instanceId}' is not in a state from which it can be rebooted.`,
        );
      }
    }
    const { behaviour, rng } = this.world;
    for (const inst of list) {
      if (inst.state === 'terminated') continue; // reboot requests for terminated instances are ignored
      const migrates =
        inst.spec.rebootMigration === 'default' && rng.chance(behaviour.rebootMigrationSuccess);
      this.instances.rebootCycle(inst, 'forestall', () => {
        for (const e of inst.events) {
          // Only system-reboot can be cleared by a user reboot, and only by a successful migration.
          if (e.status === 'open' && e.code === 'system-reboot' && migrates)
            this.instances.complete(e, 'forestall');
        }
      });
    }
  }

  stopInstances(ids: readonly string[]): void {
    this.world.call('StopInstances', 'mutate', 'stopResource', ids.length);
    const list = this.find(ids);
    for (const inst of list) {
      if (inst.spec.rootDevice === 'instance-store') {
        throw new SimApiError(
          'UnsupportedOperation',
          `The instance '${inst.spec.instanceId}' does not have an 'ebs' root device type and cannot be stopped.`,
        );
      }
      if (inst.state === 'terminated')
        throw new SimApiError(
          'IncorrectInstanceState',
          `The instance '${inst.spec.instanceId}' is terminated.`,
        );
    }
    for (const inst of list)
      if (inst.state === 'running' || inst.state === 'pending') this.instances.stopCycle(inst, 'forestall');
  }

  startInstances(ids: readonly string[]): void {
    this.world.call('StartInstances', 'start', 'startResource', ids.length);
    const list = this.find(ids);
    for (const inst of list) {
      if (inst.state !== 'stopped' && inst.state !== 'running' && inst.state !== 'pending') {
        throw new SimApiError(
          'IncorrectInstanceState',
          `The instance '${inst.spec.instanceId}' is not in a state from which it can be started.`,
        );
      }
    }
    for (const inst of list) if (inst.state === 'stopped') this.instances.startCycle(inst);
  }

  modifyInstanceEventStartTime(instanceId: string, eventId: string, notBefore: number): void {
    this.world.call('ModifyInstanceEventStartTime', 'mutate');
    const [inst] = this.find([instanceId]);
    const ev = inst?.events.find((e) => e.eventId === eventId);
    if (!inst || !ev || ev.status !== 'open')
      throw new SimApiError('InvalidInstanceEventID.NotFound', `The event ID '${eventId}' does not exist`);
    if (ev.notBeforeDeadline === undefined)
      throw new SimApiError(
        'InvalidParameterValue',
        'This event cannot be rescheduled: it has no NotBeforeDeadline.',
      );
    if (notBefore > ev.notBeforeDeadline)
      throw new SimApiError('InvalidParameterValue', 'The new start time is after the event deadline.');
    const now = this.world.now;
    if (ev.notBefore - now < 5 * MINUTE)
      throw new SimApiError('InvalidParameterValue', 'The event starts within 5 minutes or has started.');
    if (notBefore - now < 60 * MINUTE)
      throw new SimApiError(
        'InvalidParameterValue',
        'The new start time must be at least 60 minutes from now.',
      );
    const shift = notBefore - ev.notBefore;
    ev.notBefore = notBefore;
    ev.moved = true;
    if (ev.notAfter !== undefined) ev.notAfter += shift;
    this.instances.armAwsTimer(inst, ev);
  }

  // ---- observation for outcomes ---------------------------------------------------------------------

  /** Closes the outages still open at `t` (instances left stopped, impaired or terminated). */
  outagesUntil(t: number): Outage[] {
    const open: Outage[] = [];
    for (const inst of this.instances.all()) {
      if (inst.downSince !== undefined)
        open.push({
          instanceId: inst.spec.instanceId,
          from: inst.downSince,
          to: t,
          cause: inst.downCause ?? 'aws',
        });
    }
    return [...this.instances.outages, ...open];
  }

  eventResolutions(): Array<{
    instanceId: string;
    eventId: string;
    code: string;
    originalNotBefore: number;
    resolvedBy?: string;
    resolvedAt?: number;
  }> {
    const out = [];
    for (const inst of this.instances.all()) {
      for (const e of inst.events) {
        out.push({
          instanceId: inst.spec.instanceId,
          eventId: e.eventId,
          code: e.code,
          originalNotBefore: e.originalNotBefore,
          ...(e.resolvedBy ? { resolvedBy: e.resolvedBy } : {}),
          ...(e.resolvedAt === undefined ? {} : { resolvedAt: e.resolvedAt }),
        });
      }
    }
    return out;
  }

  /** Instances whose instance-store data was lost, by cause. */
  instanceStoreLost(cause: Cause): string[] {
    return [...this.instances.all()]
      .filter((i) => i.instanceStoreLostBy === cause)
      .map((i) => i.spec.instanceId);
  }

  /**
   * An instance's state and status checks, read without an API call: what EC2's state-change events on
   * EventBridge tell a driver for free (the benchmark's baselines wait on it).
   */
  observe(instanceId: string): { readonly state: string; readonly check: string } | undefined {
    const inst = this.instances.get(instanceId);
    return inst ? { state: inst.state, check: inst.check } : undefined;
  }

  lastEventTime(): number {
    let t = this.world.now;
    for (const inst of this.instances.all())
      for (const e of inst.events) t = Math.max(t, e.notAfter ?? e.notBefore);
    return t;
  }
}
