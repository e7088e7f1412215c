/**
 * EC2's read calls as the AWS CLI prints them: DescribeInstanceStatus, DescribeInstances and
 * DescribeInstanceTypes, with the request shapes, filters, pagination and buckets of AWS-FACTS §2 and §6.
 */
import type { Ec2Instances, InstanceState, SimInstance } from './instances';
import { SimApiError, type SimWorld } from './world';

/** The request fields of DescribeInstanceStatus / DescribeInstances the simulator honours. */
export interface DescribeRequest {
  readonly InstanceIds?: readonly string[];
  readonly Filters?: ReadonlyArray<{ readonly Name: string; readonly Values: readonly string[] }>;
  readonly IncludeAllInstances?: boolean;
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

export function isIdList(req: DescribeRequest | readonly string[]): req is readonly string[] {
  return Array.isArray(req);
}

const STATE_CODES: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export function stateOf(inst: SimInstance): { Code: number; Name: InstanceState } {
  return { Code: STATE_CODES[inst.state], Name: inst.state };
}

function validate(action: string, req: DescribeRequest): void {
  const ids = req.InstanceIds;
  if (ids && req.MaxResults !== undefined) {
    throw new SimApiError(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  }
  if (ids && ids.length > 100 && action === 'DescribeInstanceStatus') {
    throw new SimApiError('InvalidParameterValue', 'DescribeInstanceStatus takes at most 100 instance IDs');
  }
  if (req.MaxResults !== undefined && (req.MaxResults < 5 || req.MaxResults > 1000)) {
    throw new SimApiError('InvalidParameterValue', 'MaxResults must be between 5 and 1000');
  }
}

type Match = (inst: SimInstance) => boolean;

/** The request's filters as one predicate (all must hold); an unknown filter is refused. */
function matcher(req: DescribeRequest): Match {
  const tests: Match[] = (req.Filters ?? []).map((f): Match => {
    if (f.Name === 'event.code')
      return (i) => i.events.some((e) => e.status !== 'hidden' && f.Values.includes(e.code));
    if (f.Name === 'instance-state-name') return (i) => f.Values.includes(i.state);
    throw new SimApiError('InvalidParameterValue', `The simulator does not implement the filter '${f.Name}'`);
  });
  return (i) => tests.every((t) => t(i));
}

/**
 * The instances a Describe call covers, one page of them, and the token for the next (AWS-FACTS §2). The
 * token is the index of the page's first match; only the matches up to the page's end (and one more, to
 * know whether a next page exists) are looked for, so paging through the fleet stays linear per page.
 */
function page(
  world: SimWorld,
  instances: Ec2Instances,
  action: string,
  req: DescribeRequest,
): { list: SimInstance[]; NextToken?: string } {
  validate(action, req);
  const ids = req.InstanceIds;
  // Unfiltered and unpaginated calls draw on a smaller bucket (AWS-FACTS §6).
  const filtered = ids !== undefined || (req.Filters?.length ?? 0) > 0 || req.MaxResults !== undefined;
  world.call(action, filtered ? 'describe' : 'describeUnfiltered');
  const candidates = ids
    ? ids.map((id) => instances.get(id)).filter((i): i is SimInstance => i !== undefined)
    : instances.inIdOrder();
  const matches = (req.Filters?.length ?? 0) > 0 ? matcher(req) : undefined;
  const start = req.NextToken === undefined ? 0 : Number(req.NextToken);
  if (!Number.isInteger(start) || start < 0)
    throw new SimApiError('InvalidParameterValue', `Invalid NextToken '${req.NextToken}'`);
  const end = start + (req.MaxResults ?? Number.POSITIVE_INFINITY);
  const list: SimInstance[] = [];
  let seen = 0;
  for (const inst of candidates) {
    if (matches && !matches(inst)) continue;
    if (seen >= end) return { list, NextToken: String(end) }; // a match past the page: there is a next one
    if (seen >= start) list.push(inst);
    seen++;
  }
  return { list };
}

/** Event times in ISO form, as DescribeInstanceStatus prints them; a fleet's events share a few times. */
const isoCache = new Map<number, string>();

function iso(t: number): string {
  let text = isoCache.get(t);
  if (text === undefined) {
    if (isoCache.size >= 10_000) isoCache.clear();
    text = new Date(t).toISOString();
    isoCache.set(t, text);
  }
  return text;
}

function statusOf(inst: SimInstance): unknown {
  const check = inst.state === 'running' ? inst.check : 'not-applicable';
  return {
    AvailabilityZone: inst.spec.az,
    InstanceId: inst.spec.instanceId,
    InstanceState: stateOf(inst),
    Events: inst.events
      .filter((e) => e.status !== 'hidden')
      .map((e) => ({
        InstanceEventId: e.eventId,
        Code: e.code,
        Description: e.status === 'completed' ? `[Completed] ${e.baseDescription}` : e.baseDescription,
        NotBefore: iso(e.notBefore),
        ...(e.notAfter === undefined ? {} : { NotAfter: iso(e.notAfter) }),
        ...(e.notBeforeDeadline === undefined ? {} : { NotBeforeDeadline: iso(e.notBeforeDeadline) }),
      })),
    InstanceStatus: { Status: check },
    SystemStatus: { Status: check },
  };
}

/**
 * DescribeInstanceStatus. IncludeAllInstances defaults to false, as at AWS: then only running instances are
 * returned, and stopped ones that carry events are missed.
 */
export function describeInstanceStatus(
  world: SimWorld,
  instances: Ec2Instances,
  req: DescribeRequest,
): { InstanceStatuses: unknown[]; NextToken?: string } {
  const { list, NextToken } = page(world, instances, 'DescribeInstanceStatus', req);
  const out = list
    .filter((inst) => inst.state !== 'terminated' && (req.IncludeAllInstances || inst.state === 'running'))
    .map(statusOf);
  return NextToken === undefined ? { InstanceStatuses: out } : { InstanceStatuses: out, NextToken };
}

/** DescribeInstances (one reservation per instance). */
export function describeInstances(
  world: SimWorld,
  instances: Ec2Instances,
  req: DescribeRequest,
): { Reservations: unknown[]; NextToken?: string } {
  const { list, NextToken } = page(world, instances, 'DescribeInstances', req);
  const Reservations = list.map((inst) => ({
    ReservationId: `r-${inst.spec.instanceId.slice(2)}`,
    Instances: [
      {
        InstanceId: inst.spec.instanceId,
        InstanceType: inst.spec.instanceType,
        Placement: { AvailabilityZone: inst.spec.az },
        State: stateOf(inst),
        RootDeviceType: inst.spec.rootDevice,
        BlockDeviceMappings: [],
        Tags: Object.entries(inst.spec.tags).map(([Key, Value]) => ({ Key, Value })),
        ...(inst.spec.lifecycle === 'spot' ? { InstanceLifecycle: 'spot' } : {}),
        MaintenanceOptions: { AutoRecovery: 'default', RebootMigration: inst.spec.rebootMigration },
      },
    ],
  }));
  return NextToken === undefined ? { Reservations } : { Reservations, NextToken };
}

/** DescribeInstanceTypes storage facts for the types in the fleet. */
export function describeInstanceTypes(
  world: SimWorld,
  instances: Ec2Instances,
): { InstanceTypes: Array<{ InstanceType: string; InstanceStorageSupported: boolean }> } {
  world.call('DescribeInstanceTypes', 'describe');
  const types = new Map<string, boolean>();
  // Storage belongs to the type: if any instance of a type has instance store, the type has it.
  for (const i of instances.all()) {
    const has = i.spec.instanceStore || i.spec.rootDevice === 'instance-store';
    types.set(i.spec.instanceType, has || (types.get(i.spec.instanceType) ?? false));
  }
  return {
    InstanceTypes: [...types].map(([InstanceType, InstanceStorageSupported]) => ({
      InstanceType,
      InstanceStorageSupported,
    })),
  };
}
