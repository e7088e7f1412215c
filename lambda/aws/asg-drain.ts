/**
 * DrainPort over Auto Scaling and ELB (API version 2), AWS SDK v3. It mirrors the simulator's SimDrain call
 * for call, with the same core parsers on SDK output, so the simulator and AWS read alike:
 * - DescribeAutoScalingGroups by name (≤ 50 names a call), paginated;
 * - EnterStandby/ExitStandby with at most STANDBY_BATCH ids (more is the caller's bug: refused, no call);
 *   throttling and ResourceContention are retried, a timeout or 5xx leaves every id `ambiguous` (never
 *   re-sent), and a refused batch (a 4xx: one bad id, or MinSize) is retried id by id;
 * - describeTargets: target groups the instances are registered in directly, not through an Auto Scaling
 *   group attached to the target group; the target groups, their deregistration delays and attachments are
 *   read once per adapter (they change only with the operator's configuration);
 * - RegisterTargets/DeregisterTargets, classified like the Standby calls.
 * The opt-in re-check before EnterStandby is opt-in.ts's OptInDrain, which reads `groupTags` from here.
 */
import {
  EnterStandbyCommand,
  ExitStandbyCommand,
  paginateDescribeAutoScalingGroups,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  paginateDescribeTargetGroups,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { STANDBY_BATCH } from '../core/api-limits';
import { type CallEnv, callIsolating } from '../core/batch';
import {
  parseAutoScalingGroups,
  parseDeregistrationDelay,
  parseGroupTags,
  parseInstanceTargetGroups,
  parseTargetGroupAttachments,
  parseTargetHealth,
} from '../core/drain-shapes';
import type { ActionOutcome, AutoScalingGroupState, DrainPort, TargetRegistration } from '../core/ports';
import type { Clients } from './clients';
import { chunks } from './ec2-fleet';
import { awsCallEnv, type CallEnvOptions } from './errors';

/** Names per DescribeAutoScalingGroups call (AWS's default limit without a larger MaxRecords), as SimDrain. */
const GROUP_NAMES_PER_CALL = 50;
/** Records per DescribeAutoScalingGroups (its maximum) and DescribeTargetGroups page (which allows 400). */
export const DRAIN_PAGE_SIZE = 100;

/** The four clients the drain uses; `createClients` makes them (reads retry, writes make one attempt). */
export type DrainClients = Pick<Clients, 'autoScalingRead' | 'autoScalingWrite' | 'elbRead' | 'elbWrite'>;

export interface AwsDrainOptions extends CallEnvOptions {
  /** Records per DescribeAutoScalingGroups / DescribeTargetGroups page (default DRAIN_PAGE_SIZE, ≤ 100). */
  readonly pageSize?: number;
}

interface InstanceTargetGroup {
  readonly arn: string;
  readonly delayMs: number;
  /** Auto Scaling groups attached to it: their members are registered by the group, not directly. */
  readonly groups: readonly string[];
}

/** The DrainPort in AWS (see the file comment); `groupTags` serves OptInDrain's re-check. */
export class AwsDrain implements DrainPort {
  private readonly env: CallEnv;
  private readonly pageSize: number;
  /** Read once per adapter, like SimDrain: target groups change only with the operator's configuration. */
  private targetGroups?: Promise<InstanceTargetGroup[]>;

  constructor(
    private readonly clients: DrainClients,
    options: AwsDrainOptions = {},
  ) {
    this.pageSize = options.pageSize ?? DRAIN_PAGE_SIZE;
    this.env = awsCallEnv(options);
  }

  /** DescribeAutoScalingGroups pages for these names (≤ 50 a call), or for every group. */
  private async groupPages(names?: readonly string[]): Promise<unknown[]> {
    const pages: unknown[] = [];
    const batches = names === undefined ? [undefined] : chunks([...new Set(names)], GROUP_NAMES_PER_CALL);
    for (const batch of batches)
      for await (const page of paginateDescribeAutoScalingGroups(
        { client: this.clients.autoScalingRead, pageSize: this.pageSize },
        batch === undefined ? {} : { AutoScalingGroupNames: batch },
      ))
        pages.push(page);
    return pages;
  }

  async describeGroups(names: readonly string[]): Promise<AutoScalingGroupState[]> {
    if (names.length === 0) return [];
    return (await this.groupPages(names)).flatMap(parseAutoScalingGroups);
  }

  /**
   * The groups' tags, read fresh (never cached): group name → tags; a group that does not exist is absent.
   * For the opt-in re-check just before EnterStandby (OptInDrain).
   */
  async groupTags(names: readonly string[]): Promise<Map<string, Readonly<Record<string, string>>>> {
    const out = new Map<string, Readonly<Record<string, string>>>();
    if (names.length === 0) return out;
    for (const page of await this.groupPages(names))
      for (const [name, tags] of parseGroupTags(page)) out.set(name, tags);
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
      async (ids) => {
        await this.clients.autoScalingWrite.send(
          new EnterStandbyCommand({
            AutoScalingGroupName: groupName,
            InstanceIds: [...ids],
            ShouldDecrementDesiredCapacity: decrementDesired,
          }),
        );
      },
      this.env,
    );
  }

  /**
   * Never refused by Forestall's own code: putting an instance back in service must always be tried. IAM
   * still requires the opt-in tag on the group for ExitStandby (the `aws:ResourceTag` condition), so if an
   * operator removes the group's tag mid-rollout, AWS refuses this call (AccessDenied) and the operator must
   * take the members out of Standby by hand (`aws autoscaling exit-standby`).
   */
  exitStandby(groupName: string, instanceIds: readonly string[]): Promise<ActionOutcome[]> {
    if (instanceIds.length > STANDBY_BATCH) return Promise.resolve(tooMany(instanceIds));
    return callIsolating(
      instanceIds,
      async (ids) => {
        await this.clients.autoScalingWrite.send(
          new ExitStandbyCommand({ AutoScalingGroupName: groupName, InstanceIds: [...ids] }),
        );
      },
      this.env,
    );
  }

  /** Instance target groups with their delays and attached groups: DescribeTargetGroups (paginated) once. */
  private instanceTargetGroups(): Promise<InstanceTargetGroup[]> {
    this.targetGroups ??= this.readTargetGroups().catch((e: unknown) => {
      this.targetGroups = undefined; // a failed read is not cached: the next call asks again
      throw e;
    });
    return this.targetGroups;
  }

  private async readTargetGroups(): Promise<InstanceTargetGroup[]> {
    const elb = this.clients.elbRead;
    const arns: string[] = [];
    for await (const page of paginateDescribeTargetGroups({ client: elb }, { PageSize: this.pageSize }))
      arns.push(...parseInstanceTargetGroups(page));
    const attached = new Map<string, string[]>();
    for (const page of await this.groupPages())
      for (const [arn, groups] of parseTargetGroupAttachments(page))
        attached.set(arn, [...(attached.get(arn) ?? []), ...groups]);
    const out: InstanceTargetGroup[] = [];
    for (const arn of arns) {
      const attrs = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
      out.push({ arn, delayMs: parseDeregistrationDelay(attrs), groups: attached.get(arn) ?? [] });
    }
    return out;
  }

  async describeTargets(instanceIds: readonly string[]): Promise<TargetRegistration[]> {
    const wanted = new Set(instanceIds);
    const out: TargetRegistration[] = [];
    for (const tg of await this.instanceTargetGroups()) {
      const page = await this.clients.elbRead.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn }),
      );
      // Members of an attached group are registered by Auto Scaling: Standby drains them, not deregistration.
      const members = new Set((await this.describeGroups(tg.groups)).flatMap((g) => Object.keys(g.members)));
      for (const r of parseTargetHealth(page, tg.arn, tg.delayMs))
        if (wanted.has(r.instanceId) && !members.has(r.instanceId)) out.push(r);
    }
    return out;
  }

  deregisterTargets(targetGroupArn: string, instanceIds: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(
      instanceIds,
      async (ids) => {
        await this.clients.elbWrite.send(
          new DeregisterTargetsCommand({
            TargetGroupArn: targetGroupArn,
            Targets: ids.map((Id) => ({ Id })),
          }),
        );
      },
      this.env,
    );
  }

  /** Never refused by Forestall's own code, like exitStandby: putting a target back must always be tried. */
  registerTargets(targetGroupArn: string, instanceIds: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(
      instanceIds,
      async (ids) => {
        await this.clients.elbWrite.send(
          new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: ids.map((Id) => ({ Id })) }),
        );
      },
      this.env,
    );
  }
}

/** A caller's bug, not AWS's answer: refused before any call, so no id is applied by half (as SimDrain). */
function tooMany(ids: readonly string[]): ActionOutcome[] {
  const error = `ValidationError: at most ${STANDBY_BATCH} instance ids per Standby call, got ${ids.length}`;
  return ids.map((instanceId) => ({ instanceId, ok: false, error }));
}
