/**
 * Auto Scaling and ELB (API version 2) output → the DrainPort's types, shared by the AWS adapter and the
 * simulator's (both see the same JSON shapes: the CLI's and SDK v3's field names agree).
 */
import { z } from 'zod';
import type { AutoScalingGroupState, TargetRegistration } from './ports';

const groupsSchema = z.looseObject({
  AutoScalingGroups: z.array(
    z.looseObject({
      AutoScalingGroupName: z.string(),
      MinSize: z.number(),
      MaxSize: z.number(),
      DesiredCapacity: z.number(),
      Instances: z.array(z.looseObject({ InstanceId: z.string(), LifecycleState: z.string() })).default([]),
      TargetGroupARNs: z.array(z.string()).default([]),
      Tags: z.array(z.looseObject({ Key: z.string(), Value: z.string().default('') })).default([]),
    }),
  ),
});

/**
 * The groups schema without its members: a group's members are checked by `membersOf`, which builds the
 * lifecycle map directly. Members are most of a large fleet's reply, and zod would copy each one first.
 */
const groupSizesSchema = z.looseObject({
  AutoScalingGroups: z.array(
    groupsSchema.shape.AutoScalingGroups.element.omit({ Instances: true }).extend({ Instances: z.unknown() }),
  ),
});

/**
 * A plain empty object for many keys: V8 keeps it a hash table from the start (deleting a property does
 * that), instead of growing a hidden class per key first (several times slower for thousands of members).
 */
function manyKeyed(): Record<string, string> {
  const out: Record<string, string> = { a: '', b: '' };
  delete out.a;
  delete out.b;
  return out;
}

/** The `Instances` of one group → instance id → lifecycle state; undefined when not as the schema says. */
function membersOf(instances: unknown): Record<string, string> | undefined {
  if (instances === undefined) return {};
  if (!Array.isArray(instances)) return undefined;
  const out = manyKeyed();
  for (const i of instances as unknown[]) {
    if (typeof i !== 'object' || i === null || Array.isArray(i)) return undefined;
    const { InstanceId, LifecycleState } = i as { InstanceId?: unknown; LifecycleState?: unknown };
    if (typeof InstanceId !== 'string' || typeof LifecycleState !== 'string') return undefined;
    // An own key, as Object.fromEntries makes it: assigning `__proto__` would set the prototype instead.
    if (InstanceId === '__proto__')
      Object.defineProperty(out, InstanceId, {
        value: LifecycleState,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[InstanceId] = LifecycleState;
  }
  return out;
}

/** `DescribeAutoScalingGroups` output (one page) → the groups' sizes and members' lifecycle states. */
export function parseAutoScalingGroups(page: unknown): AutoScalingGroupState[] {
  const invalid = 'not DescribeAutoScalingGroups output: no AutoScalingGroups array';
  const r = groupSizesSchema.safeParse(page);
  if (!r.success) throw new Error(invalid);
  const out: AutoScalingGroupState[] = [];
  for (const g of r.data.AutoScalingGroups) {
    const members = membersOf(g.Instances);
    if (members === undefined) throw new Error(invalid);
    out.push({
      name: g.AutoScalingGroupName,
      minSize: g.MinSize,
      maxSize: g.MaxSize,
      desiredCapacity: g.DesiredCapacity,
      members,
    });
  }
  return out;
}

/** `DescribeAutoScalingGroups` output (one page) → target group ARN → the groups attached to it. */
export function parseTargetGroupAttachments(page: unknown): Map<string, string[]> {
  const r = groupsSchema.safeParse(page);
  if (!r.success) throw new Error('not DescribeAutoScalingGroups output: no AutoScalingGroups array');
  const out = new Map<string, string[]>();
  for (const g of r.data.AutoScalingGroups)
    for (const arn of g.TargetGroupARNs) out.set(arn, [...(out.get(arn) ?? []), g.AutoScalingGroupName]);
  return out;
}

/**
 * `DescribeAutoScalingGroups` output (one page) → group name → its tags. The opt-in re-check reads them just
 * before EnterStandby (IAM's `aws:ResourceTag` condition looks at the group's tags too).
 */
export function parseGroupTags(page: unknown): Map<string, Readonly<Record<string, string>>> {
  const r = groupsSchema.safeParse(page);
  if (!r.success) throw new Error('not DescribeAutoScalingGroups output: no AutoScalingGroups array');
  return new Map(
    r.data.AutoScalingGroups.map((g) => [
      g.AutoScalingGroupName,
      Object.fromEntries(g.Tags.map((t) => [t.Key, t.Value])),
    ]),
  );
}

const targetGroupsSchema = z.looseObject({
  TargetGroups: z.array(z.looseObject({ TargetGroupArn: z.string(), TargetType: z.string().optional() })),
});

/** `DescribeTargetGroups` output (one page) → the ARNs of target groups whose targets are instances. */
export function parseInstanceTargetGroups(page: unknown): string[] {
  const r = targetGroupsSchema.safeParse(page);
  if (!r.success) throw new Error('not DescribeTargetGroups output: no TargetGroups array');
  return r.data.TargetGroups.filter((t) => (t.TargetType ?? 'instance') === 'instance').map(
    (t) => t.TargetGroupArn,
  );
}

/** AWS's default deregistration delay, when the attribute is absent. */
export const DEFAULT_DEREGISTRATION_DELAY_MS = 300_000;

const attributesSchema = z.looseObject({
  Attributes: z.array(z.looseObject({ Key: z.string(), Value: z.string() })),
});

/** `DescribeTargetGroupAttributes` output → the deregistration delay in milliseconds. */
export function parseDeregistrationDelay(page: unknown): number {
  const r = attributesSchema.safeParse(page);
  if (!r.success) throw new Error('not DescribeTargetGroupAttributes output: no Attributes array');
  const value = r.data.Attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
  const seconds = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_DEREGISTRATION_DELAY_MS;
}

const healthSchema = z.looseObject({
  TargetHealthDescriptions: z.array(
    z.looseObject({
      Target: z.looseObject({ Id: z.string() }),
      TargetHealth: z.looseObject({ State: z.string() }),
    }),
  ),
});

/** `DescribeTargetHealth` output → one registration per target (the caller knows the group and its delay). */
export function parseTargetHealth(
  page: unknown,
  targetGroupArn: string,
  deregistrationDelayMs: number,
): TargetRegistration[] {
  const r = healthSchema.safeParse(page);
  if (!r.success) throw new Error('not DescribeTargetHealth output: no TargetHealthDescriptions array');
  return r.data.TargetHealthDescriptions.map((d) => ({
    targetGroupArn,
    instanceId: d.Target.Id,
    state: d.TargetHealth.State,
    deregistrationDelayMs,
  }));
}
