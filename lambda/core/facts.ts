/**
 * DescribeInstances output (`Reservations[].Instances[]`) → InstanceFacts, with instance-store knowledge from
 * DescribeInstanceTypes output when given (AWS-FACTS §3: DescribeInstances does not list NVMe instance store).
 */
import { z } from 'zod';
import { instanceStateOf, type Rejected } from './notice';
import type { InstanceFacts, InstanceStoreKnowledge } from './types';

export const ASG_TAG = 'aws:autoscaling:groupName';

const instanceSchema = z.looseObject({
  InstanceId: z
    .string()
    .regex(/^i-[0-9a-f]+$/, { error: 'expected an instance id like "i-0123456789abcdef0"' }),
  InstanceType: z.string().default('unknown'),
  Placement: z.looseObject({ AvailabilityZone: z.string() }),
  State: z.looseObject({ Name: z.string() }),
  RootDeviceType: z.enum(['ebs', 'instance-store']).default('ebs'),
  BlockDeviceMappings: z.array(z.looseObject({ VirtualName: z.string().optional() })).default([]),
  Tags: z.array(z.looseObject({ Key: z.string(), Value: z.string().default('') })).default([]),
  InstanceLifecycle: z.string().optional(),
  MaintenanceOptions: z.looseObject({ RebootMigration: z.string().optional() }).optional(),
});

const instanceTypesSchema = z.looseObject({
  InstanceTypes: z.array(
    z.looseObject({ InstanceType: z.string(), InstanceStorageSupported: z.boolean().optional() }),
  ),
});

/** Instance type → has instance store, from `aws ec2 describe-instance-types` output (one response or pages). */
export function parseInstanceTypes(input: unknown): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const page of Array.isArray(input) ? input : [input]) {
    const r = instanceTypesSchema.safeParse(page);
    if (!r.success) throw new Error('not `aws ec2 describe-instance-types` output: no InstanceTypes array');
    for (const t of r.data.InstanceTypes) out.set(t.InstanceType, t.InstanceStorageSupported === true);
  }
  return out;
}

/**
 * Without DescribeInstanceTypes data, the type name tells only one way: a `d` in the attribute suffix
 * (m5d, r5dn, c6gd) or a storage family (i*, im*, is*, d*, h1) means instance store. Anything else is
 * `unknown`, never assumed `none` (g5, p5 and older m3/c3 have instance store without the `d`).
 */
export function instanceStoreFromTypeName(instanceType: string): InstanceStoreKnowledge {
  const family = instanceType.split('.')[0] ?? '';
  const m = /^([a-z]+)(\d+)([a-z-]*)$/.exec(family);
  if (!m) return 'unknown';
  const [, prefix = '', , suffix = ''] = m;
  if (['i', 'im', 'is', 'd', 'h'].includes(prefix) || suffix.includes('d')) return 'present';
  return 'unknown';
}

/**
 * The Region an Availability Zone (or Local or Wavelength Zone) belongs to: `eu-west-1a` → `eu-west-1`,
 * `us-west-2-lax-1a` → `us-west-2`, `us-gov-west-1b` → `us-gov-west-1`; undefined for a name of another shape.
 */
export function regionOfAz(az: string): string | undefined {
  return /^([a-z]{2,4}(?:-[a-z]+)+-\d+)(?:[a-z]|-)/.exec(az)?.[1];
}

export interface ParsedFacts {
  readonly facts: InstanceFacts[];
  readonly rejected: Rejected[];
}

export function parseInstances(
  input: unknown,
  region: string,
  instanceTypes?: ReadonlyMap<string, boolean>,
): ParsedFacts {
  const facts: InstanceFacts[] = [];
  const rejected: Rejected[] = [];
  const pages = Array.isArray(input) ? input : [input];
  pages.forEach((page, p) => {
    const reservations = (page as { Reservations?: unknown } | null)?.Reservations;
    if (!Array.isArray(reservations)) {
      rejected.push({
        where: `page ${p}`,
        reason: 'no Reservations array: is this `aws ec2 describe-instances` output?',
      });
      return;
    }
    reservations.forEach((res, r) => {
      const instances = (res as { Instances?: unknown } | null)?.Instances;
      if (!Array.isArray(instances)) {
        rejected.push({ where: `Reservations[${r}]`, reason: 'no Instances array' });
        return;
      }
      instances.forEach((raw, i) => {
        const parsed = instanceSchema.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const id = (raw as { InstanceId?: unknown } | null)?.InstanceId;
          rejected.push({
            where: `${pages.length > 1 ? `page ${p} ` : ''}Reservations[${r}].Instances[${i}]`,
            reason: `${issue?.path.join('.')}: ${issue?.message}`,
            ...(typeof id === 'string' && id !== '' ? { instanceId: id } : {}),
          });
          return;
        }
        const d = parsed.data;
        const tags: Record<string, string> = {};
        for (const t of d.Tags) tags[t.Key] = t.Value;
        const known = instanceTypes?.get(d.InstanceType);
        const hasEphemeralMapping = d.BlockDeviceMappings.some((b) => b.VirtualName?.startsWith('ephemeral'));
        const instanceStore: InstanceStoreKnowledge =
          known !== undefined
            ? known
              ? 'present'
              : 'none'
            : hasEphemeralMapping
              ? 'present'
              : instanceStoreFromTypeName(d.InstanceType);
        const rm = d.MaintenanceOptions?.RebootMigration;
        const asgName = tags[ASG_TAG];
        facts.push({
          instanceId: d.InstanceId,
          region,
          instanceType: d.InstanceType,
          az: d.Placement.AvailabilityZone,
          tags,
          rootDevice: d.RootDeviceType,
          instanceStore: d.RootDeviceType === 'instance-store' ? 'present' : instanceStore,
          lifecycle:
            d.InstanceLifecycle === undefined
              ? 'on-demand'
              : d.InstanceLifecycle === 'spot'
                ? 'spot'
                : 'other',
          ...(asgName === undefined ? {} : { asgName }),
          rebootMigration: rm === 'default' || rm === 'disabled' ? rm : 'unknown',
          state: instanceStateOf(d.State.Name),
        });
      });
    });
  });
  return { facts, rejected };
}
