/**
 * Ports: what the rollout needs from the world. Each has an AWS adapter (lambda/aws/, next issue) and an
 * in-memory twin (sim/). Core code sees only these interfaces.
 */
import type { ForestallEvent } from './events';
import type { InstanceFacts, InstanceStatus, Plan, PlanBatch } from './types';

export interface Clock {
  now(): number;
  /** Resolves at `t` (the simulator advances its world to `t`; Step Functions uses a Wait state instead). */
  sleepUntil(t: number): Promise<void>;
}

/** Per-instance result of a mutating call; `error` is the EC2 error code and message. */
export interface ActionOutcome {
  readonly instanceId: string;
  readonly ok: boolean;
  readonly error?: string;
  /** True when the error was throttling that outlasted the retries: nothing happened, safe to try again later. */
  readonly retryable?: boolean;
  /**
   * True when the call may or may not have taken effect (timeout, 5xx, lost reply). Resolved by re-reading
   * EC2 or Auto Scaling, never by sending a reboot or stop again.
   */
  readonly ambiguous?: boolean;
}

export interface FleetPort {
  /**
   * Every instance with a scheduled event (the poll): DescribeInstanceStatus filtered on the event codes,
   * IncludeAllInstances (stopped instances keep their events), paginated to the end.
   */
  listScheduled(): Promise<InstanceStatus[]>;
  /** DescribeInstanceStatus with IncludeAllInstances for these ids, at most 100 (absent: terminated or unknown). */
  describeStatus(instanceIds: readonly string[]): Promise<InstanceStatus[]>;
  /** DescribeInstances (+ instance-type storage) for these ids, or for every instance (for group sizes). */
  describeFacts(instanceIds?: readonly string[]): Promise<InstanceFacts[]>;
  reboot(instanceIds: readonly string[]): Promise<ActionOutcome[]>;
  stop(instanceIds: readonly string[]): Promise<ActionOutcome[]>;
  start(instanceIds: readonly string[]): Promise<ActionOutcome[]>;
  /** ModifyInstanceEventStartTime. */
  reschedule(instanceId: string, eventId: string, notBefore: number): Promise<ActionOutcome>;
}

/** An Auto Scaling group as DescribeAutoScalingGroups reports it. */
export interface AutoScalingGroupState {
  readonly name: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  /** Member instance id → LifecycleState (`InService`, `Standby`, `Pending`, `Terminating`, ...). */
  readonly members: Readonly<Record<string, string>>;
}

/** An instance registered directly (not through an Auto Scaling group) in a target group. */
export interface TargetRegistration {
  readonly targetGroupArn: string;
  readonly instanceId: string;
  /** `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`. */
  readonly state: string;
  /** The target group's deregistration delay (default 300 s): how long a deregistered target drains. */
  readonly deregistrationDelayMs: number;
}

/**
 * Taking instances out of service before a remedy and back after it (AWS-FACTS §9): Auto Scaling Standby for
 * group members, target deregistration for instances behind a load balancer outside a group.
 */
export interface DrainPort {
  /** DescribeAutoScalingGroups for these names (absent: no such group). */
  describeGroups(names: readonly string[]): Promise<AutoScalingGroupState[]>;
  /**
   * EnterStandby, at most 20 ids (STANDBY_BATCH). With `decrementDesired` the group's desired capacity
   * drops by their number (AWS refuses it below MinSize); without, the group launches replacements.
   */
  enterStandby(
    groupName: string,
    instanceIds: readonly string[],
    decrementDesired: boolean,
  ): Promise<ActionOutcome[]>;
  /** ExitStandby, at most 20 ids; the group's desired capacity rises by their number. */
  exitStandby(groupName: string, instanceIds: readonly string[]): Promise<ActionOutcome[]>;
  /** Target groups these instances are registered in directly, with their state there. */
  describeTargets(instanceIds: readonly string[]): Promise<TargetRegistration[]>;
  deregisterTargets(targetGroupArn: string, instanceIds: readonly string[]): Promise<ActionOutcome[]>;
  registerTargets(targetGroupArn: string, instanceIds: readonly string[]): Promise<ActionOutcome[]>;
}

/** One line of a rollout's audit history. */
export interface LedgerEntry {
  readonly rolloutId: string;
  readonly at: number;
  readonly kind: string;
  readonly batchIndex?: number;
  readonly instanceId?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/**
 * The ledger (DynamoDB in AWS): plans, the rollout machine's stored steps, claims and outcomes of mutating
 * calls, the audit history, and the operator's halt flag.
 */
export interface LedgerPort {
  putPlan(plan: Plan): Promise<void>;
  getPlanBatch(rolloutId: string, index: number): Promise<PlanBatch | undefined>;
  /**
   * Stores a step (state and write-ahead commands, as records of ≤ 350 KB each) only if the stored step is
   * still `expectedStep` (undefined: none stored yet). False when another writer got there first.
   */
  saveStep(
    rolloutId: string,
    step: number,
    records: readonly string[],
    expectedStep: number | undefined,
  ): Promise<boolean>;
  loadStep(rolloutId: string): Promise<readonly string[] | undefined>;
  /** Conditional write: true the first time `key` is claimed, false after. */
  claim(key: string, at: number): Promise<boolean>;
  claimed(key: string): Promise<boolean>;
  /** What a claimed mutating call answered, recorded after the call. */
  putOutcome(key: string, outcomes: readonly ActionOutcome[]): Promise<void>;
  getOutcome(key: string): Promise<readonly ActionOutcome[] | undefined>;
  /** Idempotent by id: a replayed step writes the same lines again, not new ones. */
  record(id: string, entry: LedgerEntry): Promise<void>;
  history(rolloutId: string): Promise<readonly LedgerEntry[]>;
  requestHalt(rolloutId: string, reason: string): Promise<void>;
  haltRequested(rolloutId: string): Promise<string | undefined>;
}

export interface ReporterPort {
  /** At least once: `id` is the event's deterministic id, for consumers that deduplicate. */
  emit(event: ForestallEvent, id: string): Promise<void>;
}

export interface ApprovalRequest {
  readonly rolloutId: string;
  readonly batch: number;
  readonly wave: string;
  readonly token: string;
}

/** Approval is a request now and a decision later (Step Functions: a task token stored in the ledger). */
export interface ApprovalPort {
  request(req: ApprovalRequest): Promise<void>;
  /** The operator's decision, or undefined while there is none yet. */
  decision(token: string): Promise<'approved' | 'rejected' | undefined>;
}

export interface Ports {
  readonly clock: Clock;
  readonly fleet: FleetPort;
  /** Absent where nothing can be drained (no Auto Scaling, no load balancers): ASG members are then dropped. */
  readonly drain?: DrainPort;
  readonly ledger: LedgerPort;
  readonly reporter: ReporterPort;
  readonly approvals: ApprovalPort;
}
