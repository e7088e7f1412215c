/**
 * Elastic Load Balancing (API version 2) target groups of instances, in the AWS API's JSON shapes:
 * - RegisterTargets: a target is `initial` for `targetInitialDuration`, then `healthy` while its instance is
 *   running with ok status checks and `unhealthy` otherwise; a stopped instance is `unused` (InvalidState);
 * - DeregisterTargets: `draining` for the target group's deregistration delay, then gone (`unused`,
 *   NotRegistered, when asked for by id) [ELB-dereg];
 * - Auto Scaling registers and deregisters the members of a group a target group is attached to (without
 *   drawing on the caller's buckets: services calling ELB on your behalf have their own).
 * A target whose state is not `draining` or `unused` takes traffic: its instance going down is a disruption.
 */
import type { Ec2Instances, SimInstance } from './instances';
import { SimApiError, type SimWorld } from './world';

export interface SimTargetGroupSpec {
  readonly arn: string;
  readonly name: string;
  readonly deregistrationDelayMs: number;
  /** Instances registered directly (not by Auto Scaling) from the start: long since healthy if running. */
  readonly instanceIds: readonly string[];
}

interface Registration {
  readonly registeredAt: number;
  deregisteredAt?: number;
}

interface TargetGroup {
  readonly spec: SimTargetGroupSpec;
  readonly targets: Map<string, Registration>;
}

export interface TargetHealth {
  readonly State: 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining';
  readonly Reason?: string;
  readonly Description?: string;
}

const PORT = 80;
const THROTTLE = 'ThrottlingException';

export class SimElb {
  private readonly groups = new Map<string, TargetGroup>();
  /** Instance id → the target groups it is (or was lately) registered in, for the serving question. */
  private readonly byInstance = new Map<string, Set<TargetGroup>>();

  constructor(
    private readonly world: SimWorld,
    private readonly instances: Ec2Instances,
    specs: readonly SimTargetGroupSpec[],
  ) {
    for (const spec of specs) {
      if (this.groups.has(spec.arn)) throw new Error(`target group ${spec.arn} is defined twice`);
      this.groups.set(spec.arn, { spec, targets: new Map() });
      for (const id of spec.instanceIds) this.attach(spec.arn, id, Number.NEGATIVE_INFINITY);
    }
  }

  // ---- for Auto Scaling and the instances ---------------------------------------------------------

  /** Registers the instance (Auto Scaling does this for its members); `at` -∞: registered long ago. */
  attach(arn: string, instanceId: string, at = this.world.now): void {
    const tg = this.group(arn);
    tg.targets.set(instanceId, { registeredAt: at });
    const set = this.byInstance.get(instanceId) ?? new Set();
    set.add(tg);
    this.byInstance.set(instanceId, set);
  }

  /** Starts deregistration (draining), unless the target is not registered or already draining. */
  detach(arn: string, instanceId: string): void {
    const reg = this.live(this.group(arn), instanceId);
    if (reg && reg.deregisteredAt === undefined) reg.deregisteredAt = this.world.now;
  }

  deregistrationDelay(arn: string): number {
    return this.group(arn).spec.deregistrationDelayMs;
  }

  /** Whether a load balancer sends the instance traffic: registered somewhere, not draining, not unused. */
  serving(instanceId: string): boolean {
    for (const tg of this.byInstance.get(instanceId) ?? []) {
      const reg = this.live(tg, instanceId);
      if (!reg) continue;
      const state = this.health(reg, this.instances.get(instanceId)).State;
      if (state !== 'draining' && state !== 'unused') return true;
    }
    return false;
  }

  /** The target's state in the target group, as DescribeTargetHealth would say it. */
  targetState(arn: string, instanceId: string): TargetHealth['State'] {
    return this.healthOf(this.group(arn), instanceId).State;
  }

  // ---- the ELB API ---------------------------------------------------------------------------------

  describeTargetGroups(
    req: { readonly TargetGroupArns?: readonly string[]; readonly Names?: readonly string[] } = {},
  ): {
    TargetGroups: unknown[];
  } {
    this.world.call('DescribeTargetGroups', 'elbDescribe', undefined, 0, THROTTLE);
    const all = [...this.groups.values()];
    const wanted =
      req.TargetGroupArns !== undefined
        ? req.TargetGroupArns.map((arn) => this.group(arn))
        : req.Names !== undefined
          ? req.Names.map((n) => all.find((g) => g.spec.name === n) ?? this.notFound())
          : all;
    return {
      TargetGroups: wanted.map(({ spec }) => ({
        TargetGroupArn: spec.arn,
        TargetGroupName: spec.name,
        Protocol: 'HTTP',
        Port: PORT,
        TargetType: 'instance',
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: 'traffic-port',
        HealthCheckIntervalSeconds: 30,
        HealthyThresholdCount: 5,
        UnhealthyThresholdCount: 2,
      })),
    };
  }

  describeTargetGroupAttributes(req: { readonly TargetGroupArn: string }): {
    Attributes: Array<{ Key: string; Value: string }>;
  } {
    this.world.call('DescribeTargetGroupAttributes', 'elbDescribe', undefined, 0, THROTTLE);
    const tg = this.group(req.TargetGroupArn);
    return {
      Attributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: String(tg.spec.deregistrationDelayMs / 1000) },
      ],
    };
  }

  /** Every registered target (draining ones included), or the named ones (`unused` when not registered). */
  describeTargetHealth(req: {
    readonly TargetGroupArn: string;
    readonly Targets?: ReadonlyArray<{ Id: string }>;
  }): {
    TargetHealthDescriptions: unknown[];
  } {
    this.world.call('DescribeTargetHealth', 'elbDescribe', undefined, 0, THROTTLE);
    const tg = this.group(req.TargetGroupArn);
    const ids =
      req.Targets?.map((t) => t.Id) ?? [...tg.targets.keys()].filter((id) => this.live(tg, id)).sort();
    return {
      TargetHealthDescriptions: ids.map((Id) => ({
        Target: { Id, Port: PORT },
        HealthCheckPort: String(PORT),
        TargetHealth: this.healthOf(tg, Id),
      })),
    };
  }

  registerTargets(req: {
    readonly TargetGroupArn: string;
    readonly Targets: ReadonlyArray<{ Id: string }>;
  }): void {
    this.world.call('RegisterTargets', 'elbMutate', undefined, 0, THROTTLE);
    const tg = this.group(req.TargetGroupArn);
    const ids = req.Targets.map((t) => t.Id);
    this.validTargets(ids);
    const notRunning = ids.filter((id) => {
      const s = this.instances.get(id)?.state;
      return s !== 'running' && s !== 'pending';
    });
    if (notRunning.length > 0)
      throw new SimApiError(
        'InvalidTarget',
        `The following targets are not in a running state and cannot be registered: ${notRunning.map((id) => `'${id}'`).join(', ')}`,
      );
    for (const id of ids) {
      const reg = this.live(tg, id);
      // Registering a target that is registered and not draining changes nothing.
      if (!reg || reg.deregisteredAt !== undefined) this.attach(tg.spec.arn, id);
    }
  }

  /** Deregistering a target that is not registered, or already draining, changes nothing. */
  deregisterTargets(req: {
    readonly TargetGroupArn: string;
    readonly Targets: ReadonlyArray<{ Id: string }>;
  }): void {
    this.world.call('DeregisterTargets', 'elbMutate', undefined, 0, THROTTLE);
    const tg = this.group(req.TargetGroupArn);
    const ids = req.Targets.map((t) => t.Id);
    this.validTargets(ids);
    for (const id of ids) this.detach(tg.spec.arn, id);
  }

  // ---- state --------------------------------------------------------------------------------------

  private group(arn: string): TargetGroup {
    return this.groups.get(arn) ?? this.notFound();
  }

  private notFound(): never {
    throw new SimApiError('TargetGroupNotFound', 'One or more target groups not found');
  }

  private validTargets(ids: readonly string[]): void {
    if (ids.length === 0) throw new SimApiError('ValidationError', 'Targets must contain at least 1 target');
    const bad = ids.filter((id) => !this.instances.has(id));
    if (bad.length > 0)
      throw new SimApiError(
        'InvalidTarget',
        `The following targets are not valid instances: ${bad.map((id) => `'${id}'`).join(', ')}`,
      );
  }

  /** The registration, unless the deregistration delay has passed (then it is forgotten). */
  private live(tg: TargetGroup, instanceId: string): Registration | undefined {
    const reg = tg.targets.get(instanceId);
    if (reg?.deregisteredAt === undefined) return reg;
    if (this.world.now < reg.deregisteredAt + tg.spec.deregistrationDelayMs) return reg;
    tg.targets.delete(instanceId);
    this.byInstance.get(instanceId)?.delete(tg);
    return undefined;
  }

  private healthOf(tg: TargetGroup, instanceId: string): TargetHealth {
    const reg = this.live(tg, instanceId);
    if (!reg)
      return {
        State: 'unused',
        Reason: 'Target.NotRegistered',
        Description: 'Target is not registered to the target group',
      };
    return this.health(reg, this.instances.get(instanceId));
  }

  private health(reg: Registration, inst: SimInstance | undefined): TargetHealth {
    if (reg.deregisteredAt !== undefined)
      return {
        State: 'draining',
        Reason: 'Target.DeregistrationInProgress',
        Description: 'Target deregistration is in progress',
      };
    if (!inst || (inst.state !== 'running' && inst.state !== 'pending'))
      return {
        State: 'unused',
        Reason: 'Target.InvalidState',
        Description: `Target is in the ${inst?.state ?? 'terminated'} state`,
      };
    if (this.world.now < reg.registeredAt + this.world.behaviour.targetInitialDuration)
      return {
        State: 'initial',
        Reason: 'Elb.RegistrationInProgress',
        Description: 'Target registration is in progress',
      };
    if (inst.state === 'running' && inst.check === 'ok') return { State: 'healthy' };
    return { State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' };
  }
}
