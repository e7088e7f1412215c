/**
 * In-memory twins of every port, backed by SimEc2. The fleet and drain adapters parse SimEc2's AWS-shaped JSON
 * with the same core parsers the AWS adapters use.
 */
import { STANDBY_BATCH } from '../lambda/core/api-limits';
import { allPages, type CallEnv, callIsolating, withThrottleRetry } from '../lambda/core/batch';
import {
  parseAutoScalingGroups,
  parseDeregistrationDelay,
  parseInstanceTargetGroups,
  parseTargetGroupAttachments,
  parseTargetHealth,
} from '../lambda/core/drain-shapes';
import { parseInstances, parseInstanceTypes } from '../lambda/core/facts';
import { parseInstanceStatuses } from '../lambda/core/notice';
import type {
  ActionOutcome,
  ApprovalPort,
  AutoScalingGroupState,
  Clock,
  DrainPort,
  FleetPort,
  Ports,
  TargetRegistration,
} from '../lambda/core/ports';
import { EVENT_CODES, type InstanceFacts, type InstanceStatus } from '../lambda/core/types';
import { SimApiError, type SimEc2 } from './ec2';
import { MemoryLedger, MemoryReporter, ScriptedApprovals } from './memory';
import type { Rng } from './rng';

export { MemoryLedger, MemoryReporter, ScriptedApprovals };

export class SimClock implements Clock {
  constructor(private readonly world: SimEc2) {}

  now(): number {
    return this.world.now;
  }

  async sleepUntil(t: number): Promise<void> {
    this.world.advanceTo(t);
  }
}

export class SimFleet implements FleetPort {
  private readonly env: CallEnv;
  private types?: Map<string, boolean>;

  constructor(
    private readonly world: SimEc2,
    private readonly region: string,
    rng: Rng,
  ) {
    this.env = {
      sleep: async (ms) => world.advanceTo(world.now + ms),
      random: () => rng.next(),
      isThrottle: (e) => e instanceof SimApiError && e.code === 'RequestLimitExceeded',
      // The simulated API answers every call; a lost reply is injected by tests as a non-API error.
      isAmbiguous: (e) => !(e instanceof SimApiError),
      describeError: (e) => (e instanceof Error ? e.message : String(e)),
    };
  }

  async listScheduled(): Promise<InstanceStatus[]> {
    const pages = await allPages((token) =>
      withThrottleRetry(
        () =>
          this.world.describeInstanceStatus({
            Filters: [{ Name: 'event.code', Values: EVENT_CODES }],
            IncludeAllInstances: true,
            MaxResults: 1000,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        this.env,
      ),
    );
    return pages.flatMap((page) => parseInstanceStatuses(page, this.region).statuses);
  }

  async describeStatus(instanceIds: readonly string[]): Promise<InstanceStatus[]> {
    const raw = await withThrottleRetry(() => this.world.describeInstanceStatus(instanceIds), this.env);
    return parseInstanceStatuses(raw, this.region).statuses;
  }

  async describeFacts(instanceIds?: readonly string[]): Promise<InstanceFacts[]> {
    if (!this.types)
      this.types = parseInstanceTypes(
        await withThrottleRetry(() => this.world.describeInstanceTypes(), this.env),
      );
    const types = this.types;
    if (instanceIds)
      return parseInstances(
        await withThrottleRetry(() => this.world.describeInstances(instanceIds), this.env),
        this.region,
        types,
      ).facts;
    const pages = await allPages((token) =>
      withThrottleRetry(
        () =>
          this.world.describeInstances({
            MaxResults: 1000,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        this.env,
      ),
    );
    return pages.flatMap((page) => parseInstances(page, this.region, types).facts);
  }

  reboot(ids: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(ids, (b) => this.world.rebootInstances(b), this.env);
  }

  stop(ids: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(ids, (b) => this.world.stopInstances(b), this.env);
  }

  start(ids: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(ids, (b) => this.world.startInstances(b), this.env);
  }

  async reschedule(instanceId: string, eventId: string, notBefore: number): Promise<ActionOutcome> {
    const [out] = await callIsolating(
      [instanceId],
      () => this.world.modifyInstanceEventStartTime(instanceId, eventId, notBefore),
      this.env,
    );
    return out ?? { instanceId, ok: false, error: 'no outcome' };
  }
}

/**
 * Errors retried with backoff: throttling (each service names it its own way) and ResourceContention (another
 * update to the Auto Scaling group is pending: nothing happened, the same call succeeds later).
 */
const RETRIED = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'ResourceContention']);

/** Names per DescribeAutoScalingGroups call (AWS's default limit without a larger MaxRecords). */
const GROUP_NAMES_PER_CALL = 50;

function chunked<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

interface InstanceTargetGroup {
  readonly arn: string;
  readonly delayMs: number;
  /** Auto Scaling groups attached to it: their members are registered by the group, not directly. */
  readonly groups: readonly string[];
}

/**
 * The drain port over the simulated Auto Scaling and ELB APIs, as the AWS adapter will call them: throttling
 * and ResourceContention retried; a failing batch (one bad id fails a whole Standby or target call at AWS)
 * retried id by id to pin the error on the instance that caused it.
 */
export class SimDrain implements DrainPort {
  private readonly env: CallEnv;
  /** Target groups, their delays and attachments change only with the operator's configuration: read once. */
  private targetGroups?: InstanceTargetGroup[];

  constructor(
    private readonly world: SimEc2,
    rng: Rng,
  ) {
    this.env = {
      sleep: async (ms) => world.advanceTo(world.now + ms),
      random: () => rng.next(),
      isThrottle: (e) => e instanceof SimApiError && RETRIED.has(e.code),
      isAmbiguous: (e) => !(e instanceof SimApiError),
      describeError: (e) => (e instanceof Error ? e.message : String(e)),
    };
  }

  private async groupPages(names?: readonly string[]): Promise<unknown[]> {
    return allPages((token) =>
      withThrottleRetry(
        () =>
          this.world.autoscaling.describeAutoScalingGroups({
            ...(names === undefined ? {} : { AutoScalingGroupNames: names }),
            MaxRecords: 100,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        this.env,
      ),
    );
  }

  async describeGroups(names: readonly string[]): Promise<AutoScalingGroupState[]> {
    const out: AutoScalingGroupState[] = [];
    for (const chunk of chunked([...new Set(names)], GROUP_NAMES_PER_CALL))
      for (const page of await this.groupPages(chunk)) out.push(...parseAutoScalingGroups(page));
    return out;
  }

  enterStandby(
    groupName: string,
    instanceIds: readonly string[],
    decrementDesired: boolean,
  ): Promise<ActionOutcome[]> {
    if (instanceIds.length > STANDBY_BATCH) return Promise.resolve(tooMany(instanceIds));
    return callIsolating(
      instanceIds,
      (ids) => {
        this.world.autoscaling.enterStandby({
          AutoScalingGroupName: groupName,
          InstanceIds: ids,
          ShouldDecrementDesiredCapacity: decrementDesired,
        });
      },
      this.env,
    );
  }

  exitStandby(groupName: string, instanceIds: readonly string[]): Promise<ActionOutcome[]> {
    if (instanceIds.length > STANDBY_BATCH) return Promise.resolve(tooMany(instanceIds));
    return callIsolating(
      instanceIds,
      (ids) => {
        this.world.autoscaling.exitStandby({ AutoScalingGroupName: groupName, InstanceIds: ids });
      },
      this.env,
    );
  }

  private async instanceTargetGroups(): Promise<InstanceTargetGroup[]> {
    if (this.targetGroups) return this.targetGroups;
    const elb = this.world.elb;
    const arns = parseInstanceTargetGroups(
      await withThrottleRetry(() => elb.describeTargetGroups(), this.env),
    );
    const attached = new Map<string, string[]>();
    for (const page of await this.groupPages())
      for (const [arn, groups] of parseTargetGroupAttachments(page))
        attached.set(arn, [...(attached.get(arn) ?? []), ...groups]);
    const out: InstanceTargetGroup[] = [];
    for (const arn of arns) {
      const attrs = await withThrottleRetry(
        () => elb.describeTargetGroupAttributes({ TargetGroupArn: arn }),
        this.env,
      );
      out.push({ arn, delayMs: parseDeregistrationDelay(attrs), groups: attached.get(arn) ?? [] });
    }
    this.targetGroups = out;
    return out;
  }

  async describeTargets(instanceIds: readonly string[]): Promise<TargetRegistration[]> {
    const wanted = new Set(instanceIds);
    const tgs = await this.instanceTargetGroups();
    const out: TargetRegistration[] = [];
    for (const tg of tgs) {
      const page = await withThrottleRetry(
        () => this.world.elb.describeTargetHealth({ TargetGroupArn: tg.arn }),
        this.env,
      );
      const members = new Set(
        (tg.groups.length > 0 ? await this.describeGroups(tg.groups) : []).flatMap((g) =>
          Object.keys(g.members),
        ),
      );
      for (const r of parseTargetHealth(page, tg.arn, tg.delayMs))
        if (wanted.has(r.instanceId) && !members.has(r.instanceId)) out.push(r);
    }
    return out;
  }

  deregisterTargets(targetGroupArn: string, instanceIds: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(
      instanceIds,
      (ids) =>
        this.world.elb.deregisterTargets({
          TargetGroupArn: targetGroupArn,
          Targets: ids.map((Id) => ({ Id })),
        }),
      this.env,
    );
  }

  registerTargets(targetGroupArn: string, instanceIds: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(
      instanceIds,
      (ids) =>
        this.world.elb.registerTargets({
          TargetGroupArn: targetGroupArn,
          Targets: ids.map((Id) => ({ Id })),
        }),
      this.env,
    );
  }
}

/** A caller's bug, not AWS's answer: refused before any call, so no id is applied by half. */
function tooMany(ids: readonly string[]): ActionOutcome[] {
  const error = `ValidationError: at most ${STANDBY_BATCH} instance ids per Standby call, got ${ids.length}`;
  return ids.map((instanceId) => ({ instanceId, ok: false, error }));
}

export function simPorts(
  world: SimEc2,
  region: string,
  rng: Rng,
  approvals: ApprovalPort = new ScriptedApprovals(),
): Ports & { ledger: MemoryLedger; reporter: MemoryReporter; fleet: SimFleet; drain: SimDrain } {
  return {
    clock: new SimClock(world),
    fleet: new SimFleet(world, region, rng),
    drain: new SimDrain(world, rng),
    ledger: new MemoryLedger(),
    reporter: new MemoryReporter(),
    approvals,
  };
}
