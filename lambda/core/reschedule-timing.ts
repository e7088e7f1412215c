/**
 * When ModifyInstanceEventStartTime may be called and what it may be asked (AWS-FACTS §3, §10), shared by
 * the planner (which picks slots) and the rollout machine (which makes the call).
 */
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
