/**
 * What the rollout machine asks the world to do (commands) and what the world answered (observations).
 * Both are plain data. Every command has a deterministic id; a driver stores the state and its commands
 * before running them, so a retry runs the same commands, and each mutating one is claimed under its id
 * in the ledger first: a replay finds the claim and reports the recorded outcome, or `ambiguous`.
 */
import type { ForestallEvent } from '../events';
import type { ActionOutcome, AutoScalingGroupState, LedgerEntry, TargetRegistration } from '../ports';
import type { InstanceFacts, InstanceStatus, PlanBatch } from '../types';

export type Command =
  | { readonly kind: 'load-batch'; readonly id: string; readonly batch: number }
  | { readonly kind: 'describe-status'; readonly id: string; readonly instanceIds: readonly string[] }
  | { readonly kind: 'describe-facts'; readonly id: string; readonly instanceIds: readonly string[] }
  | { readonly kind: 'describe-groups'; readonly id: string; readonly groups: readonly string[] }
  | { readonly kind: 'describe-targets'; readonly id: string; readonly instanceIds: readonly string[] }
  | MutatingCommand
  | { readonly kind: 'emit'; readonly id: string; readonly event: ForestallEvent }
  | { readonly kind: 'record'; readonly id: string; readonly entry: RecordEntry }
  | {
      readonly kind: 'request-approval';
      readonly id: string;
      readonly batch: number;
      readonly wave: string;
      readonly token: string;
    }
  /** Call advance again at `at` (or earlier, when an observation such as an approval arrives). */
  | { readonly kind: 'wait-until'; readonly id: string; readonly at: number };

export type MutatingCommand =
  | {
      readonly kind: 'reboot' | 'stop' | 'start';
      readonly id: string;
      readonly instanceIds: readonly string[];
    }
  | {
      readonly kind: 'reschedule';
      readonly id: string;
      readonly instanceId: string;
      readonly eventId: string;
      readonly notBefore: number;
    }
  | {
      readonly kind: 'enter-standby';
      readonly id: string;
      readonly group: string;
      readonly instanceIds: readonly string[];
      readonly decrementDesired: boolean;
    }
  | {
      readonly kind: 'exit-standby';
      readonly id: string;
      readonly group: string;
      readonly instanceIds: readonly string[];
    }
  | {
      readonly kind: 'deregister-targets' | 'register-targets';
      readonly id: string;
      readonly targetGroupArn: string;
      readonly instanceIds: readonly string[];
    };

export const MUTATING_KINDS: ReadonlySet<Command['kind']> = new Set([
  'reboot',
  'stop',
  'start',
  'reschedule',
  'enter-standby',
  'exit-standby',
  'deregister-targets',
  'register-targets',
]);

export function isMutating(c: Command): c is MutatingCommand {
  return MUTATING_KINDS.has(c.kind);
}

/** One line of the rollout's audit history in the ledger (idempotent by the command's id). */
export type RecordEntry = LedgerEntry;

export type Observation =
  | { readonly kind: 'batch'; readonly id: string; readonly batch: PlanBatch }
  | { readonly kind: 'statuses'; readonly id: string; readonly statuses: readonly InstanceStatus[] }
  | { readonly kind: 'facts'; readonly id: string; readonly facts: readonly InstanceFacts[] }
  | { readonly kind: 'groups'; readonly id: string; readonly groups: readonly AutoScalingGroupState[] }
  | { readonly kind: 'targets'; readonly id: string; readonly targets: readonly TargetRegistration[] }
  | { readonly kind: 'outcomes'; readonly id: string; readonly outcomes: readonly ActionOutcome[] }
  /** An operator's answer to an approval request (Step Functions: SendTaskSuccess with the token). */
  | { readonly kind: 'approval'; readonly token: string; readonly decision: 'approved' | 'rejected' }
  /** The ledger's halt flag, read by the driver before every step. */
  | { readonly kind: 'halt'; readonly reason: string }
  | { readonly kind: 'done'; readonly id: string };
