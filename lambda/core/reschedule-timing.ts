/**
 * When ModifyInstanceEventStartTime may be called and what it may be asked (AWS-FACTS §3, §10), shared by
 * the planner (which picks slots) and the rollout machine (which makes the call).
 */
import { EC2_BUCKETS, timeForPlannedTokens } from './api-limits';
import { MINUTE } from './time';

/** The new start must be at least 60 minutes after the call arrives at AWS (AWS-FACTS §3). */
export const RESCHEDULE_MIN_LEAD = 60 * MINUTE;
/** ...and the event must not start within 5 minutes of the call. */
export const RESCHEDULE_FREEZE = 5 * MINUTE;
/**
 * Slack kept on both AWS limits, so that Lambda and Step Functions delays between deciding and the call
 * arriving never push it past them (AWS-FACTS §10 recommends ≥ 15 min).
 */
export const RESCHEDULE_CALL_MARGIN = 15 * MINUTE;

/**
 * The longest a batch's reschedule calls start ahead of their latest call times. A batch holding more calls
 * than fit the call margin (2,275 at Forestall's share of the mutating bucket) starts them earlier by the
 * time the rest take, so that one batch, not several each holding its groups for a whole event window,
 * reschedules a large fleet's events; the planner sizes batches to this.
 */
export const RESCHEDULE_SPREAD_MAX = 60 * MINUTE;

/** How much earlier than their latest call times a batch's `calls` start (0 while they fit the margin). */
export function rescheduleSpread(calls: number): number {
  return Math.max(0, timeForPlannedTokens(EC2_BUCKETS.mutate, calls) - RESCHEDULE_CALL_MARGIN);
}

/**
 * When to call for an event whose NotBefore (at planning time) is `notBefore`, to move it to `slot`: as late
 * as both limits allow with the margin, so a halt before then still leaves AWS its own schedule. The planner
 * guarantees this is ≥ its `plannedAt`; the max only guards plans from elsewhere.
 */
export function rescheduleCallAt(notBefore: number, slot: number, plannedAt: number): number {
  return Math.max(
    plannedAt,
    Math.min(
      notBefore - RESCHEDULE_FREEZE - RESCHEDULE_CALL_MARGIN,
      slot - RESCHEDULE_MIN_LEAD - RESCHEDULE_CALL_MARGIN,
    ),
  );
}
