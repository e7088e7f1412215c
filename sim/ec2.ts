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
 */
import { MinHeap } from '../lambda/core/heap';
import { MINUTE } from '../lambda/core/time';
import type { Rng } from './rng';

export type Cause = 'forestall' | 'aws';

export interface SimBehaviour {
  readonly rebootMigrationSuccess: number;
  readonly neverHealthyRate: number;
  readonly stopStartClearsInstanceReboot: boolean;
  readonly throttling: boolean;
  /** [min, max] milliseconds. */
  readonly rebootDuration: readonly [number, number];
  readonly stopDuration: readonly [number, number];
  readonly startDuration: readonly [number, number];
  readonly statusCheckDelay: readonly [number, number];
  readonly maintenanceOutage: readonly [number, number];
  /** Where in [NotBefore, NotAfter] AWS performs an event: 0 at NotBefore, 1 anywhere in the window. */
  readonly awsStartSpread: number;
}

export const DEFAULT_BEHAVIOUR: SimBehaviour = {
  rebootMigrationSuccess: 0.9,
  neverHealthyRate: 0,
  stopStartClearsInstanceReboot: true,
  throttling: true,
  rebootDuration: [1 * MINUTE, 3 * MINUTE],
  stopDuration: [1 * MINUTE, 2 * MINUTE],
  startDuration: [30_000, 90_000],
  statusCheckDelay: [2 * MINUTE, 6 * MINUTE],
  maintenanceOutage: [1 * MINUTE, 5 * MINUTE],
  awsStartSpread: 0,
};

export interface SimInstanceSpec {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly az: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly rootDevice: 'ebs' | 'instance-store';
  readonly instanceStore: boolean;
  readonly lifecycle: 'on-demand' | 'spot';
  readonly rebootMigration: 'default' | 'disabled';
  readonly state: 'running' | 'stopped';
}

export interface SimEventSpec {
  readonly instanceId: string;
  readonly eventId: string;
  readonly code: string;
  readonly notBefore: number;
  readonly notAfter?: number;
  readonly notBeforeDeadline?: number;
  readonly description?: string;
}

type Check = 'ok' | 'initializing' | 'impaired' | 'not-applicable';

interface SimEvent {
  readonly eventId: string;
  readonly code: string;
  readonly baseDescription: string;
  notBefore: number;
  notAfter?: number;
  readonly notBeforeDeadline?: number;
  readonly originalNotBefore: number;
  /** ModifyInstanceEventStartTime moved it (possibly to the same time): its outage is the mover's. */
  moved?: boolean;
  /** open → resolved; `hidden` events are gone from DescribeInstanceStatus (stop-start moved the host). */
  status: 'open' | 'completed' | 'hidden';
  resolvedBy?: 'forestall' | 'rescheduled' | 'aws';
  resolvedAt?: number;
}

interface SimInstance {
  readonly spec: SimInstanceSpec;
  state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  check: Check;
  readonly events: SimEvent[];
  /** Bumped by every state change, so stale timers of an earlier change do nothing. */
  epoch: number;
  downSince?: number;
  downCause?: Cause;
  /** Who caused the loss of instance-store data, if it was lost. */
  instanceStoreLostBy?: Cause;
}

export interface Outage {
  readonly instanceId: string;
  readonly from: number;
  readonly to: number;
  readonly cause: Cause;
}

/** The request fields of DescribeInstanceStatus / DescribeInstances the simulator honours. */
export interface DescribeRequest {
  readonly InstanceIds?: readonly string[];
  readonly Filters?: ReadonlyArray<{ readonly Name: string; readonly Values: readonly string[] }>;
  readonly IncludeAllInstances?: boolean;
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

function isIdList(req: DescribeRequest | readonly string[]): req is readonly string[] {
  return Array.isArray(req);
}

export class SimApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'SimApiError';
  }
}

class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  take(n: number, now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

interface Timer {
  readonly t: number;
  readonly seq: number;
  readonly run: () => void;
}

export class SimEc2 {
  private nowMs: number;
  private readonly instances = new Map<string, SimInstance>();
  private readonly timers = new MinHeap<Timer>((a, b) => (a.t !== b.t ? a.t < b.t : a.seq < b.seq));
  private seq = 0;
  private readonly buckets: Record<string, TokenBucket>;
  readonly outages: Outage[] = [];
  readonly apiCalls: Record<string, number> = {};
  throttled = 0;

  constructor(
    start: number,
    instances: readonly SimInstanceSpec[],
    events: readonly SimEventSpec[],
    private readonly behaviour: SimBehaviour,
    private readonly rng: Rng,
  ) {
    this.nowMs = start;
    // AWS-FACTS §6 (per account, per Region, per action).
    this.buckets = {
      describe: new TokenBucket(100, 20, start),
      describeUnfiltered: new TokenBucket(50, 10, start),
      mutate: new TokenBucket(50, 5, start),
      start: new TokenBucket(5, 2, start),
      stopResource: new TokenBucket(1000, 20, start),
      startResource: new TokenBucket(1000, 2, start),
    };
    for (const spec of instances) {
      this.instances.set(spec.instanceId, {
        spec,
        state: spec.state,
        check: spec.state === 'running' ? 'ok' : 'not-applicable',
        events: [],
        epoch: 0,
      });
    }
    for (const e of events) {
      const inst = this.instances.get(e.instanceId);
      if (!inst) throw new Error(`event ${e.eventId} names unknown instance ${e.instanceId}`);
      const history = e.description?.startsWith('[Completed] ') ?? false;
      const ev: SimEvent = {
        eventId: e.eventId,
        code: e.code,
        baseDescription: history
          ? (e.description ?? '').slice('[Completed] '.length)
          : (e.description ?? 'The instance is scheduled for maintenance'),
        notBefore: e.notBefore,
        ...(e.notAfter === undefined ? {} : { notAfter: e.notAfter }),
        ...(e.notBeforeDeadline === undefined ? {} : { notBeforeDeadline: e.notBeforeDeadline }),
        originalNotBefore: e.notBefore,
        status: history ? 'completed' : 'open',
      };
      inst.events.push(ev);
      if (!history) this.armAwsTimer(inst, ev);
    }
  }

  get now(): number {
    return this.nowMs;
  }

  /** Runs every timer due up to t, in time order, then sets the clock to t. */
  advanceTo(t: number): void {
    for (let next = this.timers.peek(); next && next.t <= t; next = this.timers.peek()) {
      this.timers.pop();
      this.nowMs = Math.max(this.nowMs, next.t);
      next.run();
    }
    this.nowMs = Math.max(this.nowMs, t);
  }

  private at(t: number, run: () => void): void {
    this.timers.push({ t, seq: this.seq++, run });
  }

  private between([lo, hi]: readonly [number, number]): number {
    return lo + Math.floor(this.rng.next() * (hi - lo + 1));
  }

  // ---- AWS's own schedule -------------------------------------------------------------------------

  private armAwsTimer(inst: SimInstance, ev: SimEvent): void {
    const due = ev.notBefore;
    const window = ev.notAfter === undefined ? 0 : ev.notAfter - due;
    const offset =
      this.behaviour.awsStartSpread > 0
        ? Math.floor(this.rng.next() * this.behaviour.awsStartSpread * window)
        : 0;
    this.at(due + offset, () => {
      if (ev.status !== 'open' || ev.notBefore !== due) return; // cleared, or rescheduled to another time
      this.performByAws(inst, ev, ev.moved ? 'rescheduled' : 'aws');
    });
  }

  private performByAws(inst: SimInstance, ev: SimEvent, by: 'aws' | 'rescheduled'): void {
    const cause: Cause = by === 'rescheduled' ? 'forestall' : 'aws';
    this.complete(ev, by);
    if (inst.state === 'terminated' || inst.state !== 'running') return; // a stopped instance: nothing to disrupt
    switch (ev.code) {
      case 'instance-reboot':
      case 'system-reboot':
        this.rebootCycle(inst, cause);
        return;
      case 'system-maintenance':
        this.goDown(inst, cause);
        inst.check = 'impaired';
        this.afterDelay(inst, this.between(this.behaviour.maintenanceOutage), () => this.comeUp(inst, false));
        return;
      case 'instance-stop':
        this.stopCycle(inst, cause);
        return;
      case 'instance-retirement':
        if (inst.spec.rootDevice === 'instance-store') {
          this.goDown(inst, cause);
          inst.state = 'terminated';
          inst.check = 'not-applicable';
          inst.instanceStoreLostBy ??= cause;
        } else this.stopCycle(inst, cause);
        return;
      default:
        return;
    }
  }

  private complete(ev: SimEvent, by: NonNullable<SimEvent['resolvedBy']>, hidden = false): void {
    ev.status = hidden ? 'hidden' : 'completed';
    ev.resolvedBy = by;
    ev.resolvedAt = this.nowMs;
  }

  // ---- instance state machine ------------------------------------------------------------------------

  private goDown(inst: SimInstance, cause: Cause): void {
    if (inst.downSince === undefined) {
      inst.downSince = this.nowMs;
      inst.downCause = cause;
    }
    inst.epoch++;
  }

  private afterDelay(inst: SimInstance, delay: number, run: () => void): void {
    const epoch = inst.epoch;
    this.at(this.nowMs + delay, () => {
      if (inst.epoch === epoch) run();
    });
  }

  /** Status checks: initializing, then ok, or impaired for good (neverHealthyRate). */
  private comeUp(inst: SimInstance, checksAfterBoot = true): void {
    const fail = this.rng.chance(this.behaviour.neverHealthyRate);
    const settle = () => {
      if (fail) {
        inst.check = 'impaired';
        return;
      }
      inst.check = 'ok';
      if (inst.downSince !== undefined) {
        this.outages.push({
          instanceId: inst.spec.instanceId,
          from: inst.downSince,
          to: this.nowMs,
          cause: inst.downCause ?? 'aws',
        });
        inst.downSince = undefined;
        inst.downCause = undefined;
      }
    };
    if (!checksAfterBoot) {
      settle();
      return;
    }
    inst.check = 'initializing';
    this.afterDelay(inst, this.between(this.behaviour.statusCheckDelay), settle);
  }

  private rebootCycle(inst: SimInstance, cause: Cause, onBooted?: () => void): void {
    this.goDown(inst, cause);
    inst.check = 'initializing';
    this.afterDelay(inst, this.between(this.behaviour.rebootDuration), () => {
      onBooted?.();
      this.comeUp(inst);
    });
  }

  private stopCycle(inst: SimInstance, cause: Cause): void {
    this.goDown(inst, cause);
    inst.state = 'stopping';
    inst.check = 'not-applicable';
    if (inst.spec.instanceStore) inst.instanceStoreLostBy ??= cause;
    this.afterDelay(inst, this.between(this.behaviour.stopDuration), () => {
      inst.state = 'stopped';
    });
  }

  // ---- the API ------------------------------------------------------------------------------------

  private call(action: string, bucket: string, resourceBucket?: string, resources = 0): void {
    this.apiCalls[action] = (this.apiCalls[action] ?? 0) + 1;
    if (!this.behaviour.throttling) return;
    const ok =
      (this.buckets[bucket]?.take(1, this.nowMs) ?? true) &&
      (resourceBucket === undefined || (this.buckets[resourceBucket]?.take(resources, this.nowMs) ?? true));
    if (!ok) {
      this.throttled++;
      throw new SimApiError('RequestLimitExceeded', `Request limit exceeded (${action}).`);
    }
  }

  private find(ids: readonly string[]): SimInstance[] {
    return ids.map((id) => {
      const inst = this.instances.get(id);
      if (!inst)
        throw new SimApiError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return inst;
    });
  }

  /** The instances a Describe call covers, one page of them, and the token for the next (AWS-FACTS §2). */
  private page(action: string, req: DescribeRequest): { list: SimInstance[]; NextToken?: string } {
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
    // Unfiltered and unpaginated calls draw on a smaller bucket (AWS-FACTS §6).
    const filtered = ids !== undefined || (req.Filters?.length ?? 0) > 0 || req.MaxResults !== undefined;
    this.call(action, filtered ? 'describe' : 'describeUnfiltered');
    let list = ids
      ? ids.map((id) => this.instances.get(id)).filter((i): i is SimInstance => i !== undefined)
      : [...this.instances.values()].sort((a, b) => (a.spec.instanceId < b.spec.instanceId ? -1 : 1));
    for (const f of req.Filters ?? []) {
      if (f.Name === 'event.code')
        list = list.filter((i) => i.events.some((e) => e.status !== 'hidden' && f.Values.includes(e.code)));
      else if (f.Name === 'instance-state-name') list = list.filter((i) => f.Values.includes(i.state));
      else
        throw new SimApiError(
          'InvalidParameterValue',
          `The simulator does not implement the filter '${f.Name}'`,
        );
    }
    const start = req.NextToken === undefined ? 0 : Number(req.NextToken);
    if (!Number.isInteger(start) || start < 0)
      throw new SimApiError('InvalidParameterValue', `Invalid NextToken '${req.NextToken}'`);
    const size = req.MaxResults ?? Number.POSITIVE_INFINITY;
    const pageItems = list.slice(start, start + size);
    return start + size < list.length
      ? { list: pageItems, NextToken: String(start + size) }
      : { list: pageItems };
  }

  /**
   * DescribeInstanceStatus, as the AWS CLI prints it. IncludeAllInstances defaults to false, as at AWS:
   * then only running instances are returned, and stopped ones that carry events are missed. An id list
   * is shorthand for `{InstanceIds, IncludeAllInstances: true}`.
   */
  describeInstanceStatus(req: DescribeRequest | readonly string[]): {
    InstanceStatuses: unknown[];
    NextToken?: string;
  } {
    const r: DescribeRequest = isIdList(req) ? { InstanceIds: req, IncludeAllInstances: true } : req;
    const { list, NextToken } = this.page('DescribeInstanceStatus', r);
    const out: unknown[] = [];
    for (const inst of list) {
      if (inst.state === 'terminated' || (!r.IncludeAllInstances && inst.state !== 'running')) continue;
      const check = inst.state === 'running' ? inst.check : 'not-applicable';
      out.push({
        AvailabilityZone: inst.spec.az,
        InstanceId: inst.spec.instanceId,
        InstanceState: { Code: STATE_CODES[inst.state], Name: inst.state },
        Events: inst.events
          .filter((e) => e.status !== 'hidden')
          .map((e) => ({
            InstanceEventId: e.eventId,
            Code: e.code,
            Description: e.status === 'completed' ? `[Completed] ${e.baseDescription}` : e.baseDescription,
            NotBefore: new Date(e.notBefore).toISOString(),
            ...(e.notAfter === undefined ? {} : { NotAfter: new Date(e.notAfter).toISOString() }),
            ...(e.notBeforeDeadline === undefined
              ? {}
              : { NotBeforeDeadline: new Date(e.notBeforeDeadline).toISOString() }),
          })),
        InstanceStatus: { Status: check },
        SystemStatus: { Status: check },
      });
    }
    return NextToken === undefined ? { InstanceStatuses: out } : { InstanceStatuses: out, NextToken };
  }

  /** DescribeInstances, as the AWS CLI prints it (one reservation per instance). An id list is shorthand. */
  describeInstances(req: DescribeRequest | readonly string[] = {}): {
    Reservations: unknown[];
    NextToken?: string;
  } {
    const { list, NextToken } = this.page('DescribeInstances', isIdList(req) ? { InstanceIds: req } : req);
    const Reservations = list.map((inst) => ({
      ReservationId: `r-${inst.spec.instanceId.slice(2)}`,
      Instances: [
        {
          InstanceId: inst.spec.instanceId,
          InstanceType: inst.spec.instanceType,
          Placement: { AvailabilityZone: inst.spec.az },
          State: { Code: STATE_CODES[inst.state], Name: inst.state },
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
  describeInstanceTypes(): {
    InstanceTypes: Array<{ InstanceType: string; InstanceStorageSupported: boolean }>;
  } {
    this.call('DescribeInstanceTypes', 'describe');
    const types = new Map<string, boolean>();
    // Storage belongs to the type: if any instance of a type has instance store, the type has it.
    for (const i of this.instances.values()) {
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

  rebootInstances(ids: readonly string[]): void {
    this.call('RebootInstances', 'mutate');
    const list = this.find(ids);
    for (const inst of list) {
      if (inst.state !== 'running' && inst.state !== 'terminated') {
        throw new SimApiError(
          'IncorrectState',
          `The instance '${inst.spec.instanceId}' is not in a state from which it can be rebooted.`,
        );
      }
    }
    for (const inst of list) {
      if (inst.state === 'terminated') continue; // reboot requests for terminated instances are ignored
      const migrates =
        inst.spec.rebootMigration === 'default' && this.rng.chance(this.behaviour.rebootMigrationSuccess);
      this.rebootCycle(inst, 'forestall', () => {
        for (const e of inst.events) {
          // Only system-reboot can be cleared by a user reboot, and only by a successful migration.
          if (e.status === 'open' && e.code === 'system-reboot' && migrates) this.complete(e, 'forestall');
        }
      });
    }
  }

  stopInstances(ids: readonly string[]): void {
    this.call('StopInstances', 'mutate', 'stopResource', ids.length);
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
      if (inst.state === 'running' || inst.state === 'pending') this.stopCycle(inst, 'forestall');
  }

  startInstances(ids: readonly string[]): void {
    this.call('StartInstances', 'start', 'startResource', ids.length);
    const list = this.find(ids);
    for (const inst of list) {
      if (inst.state !== 'stopped' && inst.state !== 'running' && inst.state !== 'pending') {
        throw new SimApiError(
          'IncorrectInstanceState',
          `The instance '${inst.spec.instanceId}' is not in a state from which it can be started.`,
        );
      }
    }
    for (const inst of list) {
      if (inst.state !== 'stopped') continue;
      inst.state = 'pending';
      inst.epoch++;
      this.afterDelay(inst, this.between(this.behaviour.startDuration), () => {
        inst.state = 'running';
        // A new host: the scheduled events no longer take place.
        for (const e of inst.events) {
          if (e.status !== 'open') continue;
          if (e.code !== 'instance-reboot' || this.behaviour.stopStartClearsInstanceReboot)
            this.complete(e, 'forestall', true);
        }
        this.comeUp(inst);
      });
    }
  }

  modifyInstanceEventStartTime(instanceId: string, eventId: string, notBefore: number): void {
    this.call('ModifyInstanceEventStartTime', 'mutate');
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
    if (ev.notBefore - this.nowMs < 5 * MINUTE)
      throw new SimApiError('InvalidParameterValue', 'The event starts within 5 minutes or has started.');
    if (notBefore - this.nowMs < 60 * MINUTE)
      throw new SimApiError(
        'InvalidParameterValue',
        'The new start time must be at least 60 minutes from now.',
      );
    const shift = notBefore - ev.notBefore;
    ev.notBefore = notBefore;
    ev.moved = true;
    if (ev.notAfter !== undefined) ev.notAfter += shift;
    this.armAwsTimer(inst, ev);
  }

  // ---- observation for outcomes ---------------------------------------------------------------------

  /** Closes the outages still open at `t` (instances left stopped, impaired or terminated). */
  outagesUntil(t: number): Outage[] {
    const open: Outage[] = [];
    for (const inst of this.instances.values()) {
      if (inst.downSince !== undefined)
        open.push({
          instanceId: inst.spec.instanceId,
          from: inst.downSince,
          to: t,
          cause: inst.downCause ?? 'aws',
        });
    }
    return [...this.outages, ...open];
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
    for (const inst of this.instances.values()) {
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
    return [...this.instances.values()]
      .filter((i) => i.instanceStoreLostBy === cause)
      .map((i) => i.spec.instanceId);
  }

  lastEventTime(): number {
    let t = this.nowMs;
    for (const inst of this.instances.values())
      for (const e of inst.events) t = Math.max(t, e.notAfter ?? e.notBefore);
    return t;
  }
}

const STATE_CODES: Record<SimInstance['state'], number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};
