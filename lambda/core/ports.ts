/**
 * Ports: what the rollout needs from the world. Each has an AWS adapter (lambda/aws/, next issue) and an
 * in-memory twin (sim/). Core code sees only these interfaces.
 */
import type { ForestallEvent } from './events';
import type { InstanceFacts, InstanceStatus, Plan } from './types';

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
  /** True when the error was throttling that outlasted the retries: safe to try again later. */
  readonly retryable?: boolean;
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

export interface LedgerEntry {
  readonly rolloutId: string;
  readonly at: number;
  readonly instanceId?: string;
  readonly eventId?: string;
  readonly waveIndex?: number;
  readonly kind: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface LedgerPort {
  putPlan(plan: Plan): Promise<void>;
  getPlan(rolloutId: string): Promise<Plan | undefined>;
  /**
   * Conditional write: true the first time `key` is claimed, false after. Guards every mutating action so a
   * retried Lambda or a duplicated invocation never acts twice.
   */
  claim(key: string, at: number): Promise<boolean>;
  record(entry: LedgerEntry): Promise<void>;
  history(rolloutId: string): Promise<readonly LedgerEntry[]>;
}

export interface ReporterPort {
  emit(event: ForestallEvent): Promise<void>;
}

export interface ApprovalPort {
  /** Resolves when an operator approves or rejects the wave. */
  decide(rolloutId: string, waveIndex: number, waveName: string): Promise<'approved' | 'rejected'>;
}

export interface Ports {
  readonly clock: Clock;
  readonly fleet: FleetPort;
  readonly ledger: LedgerPort;
  readonly reporter: ReporterPort;
  readonly approvals: ApprovalPort;
}
