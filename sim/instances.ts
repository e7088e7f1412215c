/**
 * The instances of a simulated Region and what happens to them (AWS-FACTS §1, §5): AWS performs an event at
 * its NotBefore if it is still open; reboots, stops and starts take their time; status checks settle after a
 * delay, or never (`neverHealthyRate`); every stretch out of service is an outage with its cause.
 */
import type { Cause, SimWorld } from './world';

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

export type Check = 'ok' | 'initializing' | 'impaired' | 'not-applicable';
export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

/**
 * Who or what ended an event: Forestall's remedy, AWS at a time Forestall moved it to, AWS at its own time,
 * or Auto Scaling replacing the instance (the event went with it).
 */
export type Resolution = 'forestall' | 'rescheduled' | 'aws' | 'replaced';

export interface SimEvent {
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
  resolvedBy?: Resolution;
  resolvedAt?: number;
}

export interface SimInstance {
  readonly spec: SimInstanceSpec;
  state: InstanceState;
  check: Check;
  /** Since when the status checks say impaired (Auto Scaling tolerates that for a while). */
  impairedSince?: number;
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

/** An instance went down while a load balancer was sending it traffic. */
export interface Disruption {
  readonly instanceId: string;
  readonly at: number;
  readonly cause: Cause;
}

/** What the Region's other services hear from the instances (Auto Scaling) or tell them (load balancers). */
export interface InstanceObserver {
  /** The instance's state or status checks changed. */
  changed(inst: SimInstance): void;
  /** Whether a load balancer sends the instance traffic now. */
  serving(instanceId: string): boolean;
}

export class Ec2Instances {
  private readonly byId = new Map<string, SimInstance>();
  /** Every instance in instance id order, as unfiltered Describe calls list them; dropped by every add. */
  private sorted?: readonly SimInstance[];
  readonly outages: Outage[] = [];
  readonly disruptions: Disruption[] = [];
  observer: InstanceObserver = { changed: () => {}, serving: () => false };

  constructor(private readonly world: SimWorld) {}

  add(spec: SimInstanceSpec, state: InstanceState = spec.state): SimInstance {
    const inst: SimInstance = {
      spec,
      state,
      check: state === 'running' ? 'ok' : 'not-applicable',
      events: [],
      epoch: 0,
    };
    this.byId.set(spec.instanceId, inst);
    this.sorted = undefined;
    return inst;
  }

  addEvent(e: SimEventSpec): void {
    const inst = this.byId.get(e.instanceId);
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

  get(id: string): SimInstance | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  all(): IterableIterator<SimInstance> {
    return this.byId.values();
  }

  /** Every instance (terminated ones too: they are never forgotten), in instance id order. */
  inIdOrder(): readonly SimInstance[] {
    this.sorted ??= [...this.byId.values()].sort((a, b) => (a.spec.instanceId < b.spec.instanceId ? -1 : 1));
    return this.sorted;
  }

  get size(): number {
    return this.byId.size;
  }

  setState(inst: SimInstance, state: InstanceState): void {
    inst.state = state;
    this.observer.changed(inst);
  }

  setCheck(inst: SimInstance, check: Check): void {
    if (check !== 'impaired') inst.impairedSince = undefined;
    else if (inst.check !== 'impaired') inst.impairedSince = this.world.now;
    inst.check = check;
    this.observer.changed(inst);
  }

  // ---- AWS's own schedule -------------------------------------------------------------------------

  armAwsTimer(inst: SimInstance, ev: SimEvent): void {
    const due = ev.notBefore;
    const window = ev.notAfter === undefined ? 0 : ev.notAfter - due;
    const spread = this.world.behaviour.awsStartSpread;
    const offset = spread > 0 ? Math.floor(this.world.rng.next() * spread * window) : 0;
    this.world.at(due + offset, () => {
      if (ev.status !== 'open' || ev.notBefore !== due) return; // cleared, or rescheduled to another time
      this.performByAws(inst, ev, ev.moved ? 'rescheduled' : 'aws');
    });
  }

  private performByAws(inst: SimInstance, ev: SimEvent, by: 'aws' | 'rescheduled'): void {
    const cause: Cause = by === 'rescheduled' ? 'forestall' : 'aws';
    this.complete(ev, by);
    if (inst.state !== 'running') return; // a stopped or terminated instance: nothing to disrupt
    switch (ev.code) {
      case 'instance-reboot':
      case 'system-reboot':
        this.rebootCycle(inst, cause);
        return;
      case 'system-maintenance':
        this.goDown(inst, cause);
        this.setCheck(inst, 'impaired');
        this.afterDelay(inst, this.world.between(this.world.behaviour.maintenanceOutage), () =>
          this.comeUp(inst, false),
        );
        return;
      case 'instance-stop':
        this.stopCycle(inst, cause);
        return;
      case 'instance-retirement':
        if (inst.spec.rootDevice === 'instance-store') {
          this.goDown(inst, cause);
          inst.check = 'not-applicable';
          inst.instanceStoreLostBy ??= cause;
          this.setState(inst, 'terminated');
        } else this.stopCycle(inst, cause);
        return;
      default:
        return;
    }
  }

  complete(ev: SimEvent, by: Resolution, hidden = false): void {
    ev.status = hidden ? 'hidden' : 'completed';
    ev.resolvedBy = by;
    ev.resolvedAt = this.world.now;
  }

  // ---- instance state machine ------------------------------------------------------------------------

  /** Starts an outage (unless one is open); an instance a load balancer was sending traffic is a disruption. */
  goDown(inst: SimInstance, cause: Cause): void {
    if (inst.downSince === undefined) {
      inst.downSince = this.world.now;
      inst.downCause = cause;
      if (this.observer.serving(inst.spec.instanceId))
        this.disruptions.push({ instanceId: inst.spec.instanceId, at: this.world.now, cause });
    }
    inst.epoch++;
  }

  afterDelay(inst: SimInstance, delay: number, run: () => void): void {
    const epoch = inst.epoch;
    this.world.at(this.world.now + delay, () => {
      if (inst.epoch === epoch) run();
    });
  }

  /** Ends the instance's open outage now. */
  closeOutage(inst: SimInstance): void {
    if (inst.downSince === undefined) return;
    this.outages.push({
      instanceId: inst.spec.instanceId,
      from: inst.downSince,
      to: this.world.now,
      cause: inst.downCause ?? 'aws',
    });
    inst.downSince = undefined;
    inst.downCause = undefined;
  }

  /** Status checks: initializing, then ok, or impaired for good (neverHealthyRate). */
  comeUp(inst: SimInstance, checksAfterBoot = true): void {
    const fail = this.world.rng.chance(this.world.behaviour.neverHealthyRate);
    const settle = () => {
      if (fail) {
        this.setCheck(inst, 'impaired');
        return;
      }
      this.setCheck(inst, 'ok');
      this.closeOutage(inst);
    };
    if (!checksAfterBoot) {
      settle();
      return;
    }
    this.setCheck(inst, 'initializing');
    this.afterDelay(inst, this.world.between(this.world.behaviour.statusCheckDelay), settle);
  }

  rebootCycle(inst: SimInstance, cause: Cause, onBooted?: () => void): void {
    this.goDown(inst, cause);
    this.setCheck(inst, 'initializing');
    this.afterDelay(inst, this.world.between(this.world.behaviour.rebootDuration), () => {
      onBooted?.();
      this.comeUp(inst);
    });
  }

  stopCycle(inst: SimInstance, cause: Cause): void {
    this.goDown(inst, cause);
    inst.check = 'not-applicable';
    inst.impairedSince = undefined;
    if (inst.spec.instanceStore) inst.instanceStoreLostBy ??= cause;
    this.setState(inst, 'stopping');
    this.afterDelay(inst, this.world.between(this.world.behaviour.stopDuration), () => {
      this.setState(inst, 'stopped');
    });
  }

  /**
   * Terminates the instance (Auto Scaling replacing it): its open events go with it. Its outage stays open
   * until the replacement closes it.
   */
  terminate(inst: SimInstance, duration: number): void {
    this.goDown(inst, inst.downCause ?? 'aws');
    for (const e of inst.events) if (e.status === 'open') this.complete(e, 'replaced', true);
    // Instance-store data goes with it too, but that loss is the failure's, counted as a replacement (a
    // stop's loss, instanceStoreLostBy, was already counted when it stopped).
    if (inst.state === 'terminated') return;
    inst.check = 'not-applicable';
    inst.impairedSince = undefined;
    this.setState(inst, 'shutting-down');
    this.afterDelay(inst, duration, () => this.setState(inst, 'terminated'));
  }

  /** A new instance (Auto Scaling launched it): pending, then running with ok status checks. */
  launch(spec: SimInstanceSpec, duration: number, onRunning: (inst: SimInstance) => void): SimInstance {
    const inst = this.add(spec, 'pending');
    this.afterDelay(inst, duration, () => {
      inst.check = 'ok';
      this.setState(inst, 'running');
      onRunning(inst);
    });
    return inst;
  }

  /** A stopped instance starts on a new host: the scheduled events no longer take place. */
  startCycle(inst: SimInstance): void {
    inst.epoch++;
    this.setState(inst, 'pending');
    this.afterDelay(inst, this.world.between(this.world.behaviour.startDuration), () => {
      this.setState(inst, 'running');
      for (const e of inst.events) {
        if (e.status !== 'open') continue;
        if (e.code !== 'instance-reboot' || this.world.behaviour.stopStartClearsInstanceReboot)
          this.complete(e, 'forestall', true);
      }
      this.comeUp(inst);
    });
  }
}
