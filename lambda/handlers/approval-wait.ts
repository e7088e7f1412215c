/**
 * The AwaitApproval task (`.waitForTaskToken`): stores the execution's task token on the batch's approval
 * in the ledger, where `forestall approve` and `forestall halt` find it to wake the execution. If the
 * operator decided (or asked to halt) before the token was stored, nobody else will wake it: this handler
 * does, at once. Either way the execution's next Step reads the decision from the ledger.
 */
import { wakeExecution } from '../aws/approvals';
import { approvalInput } from './inputs';
import { logger } from './observability';
import { sfnClient } from './trigger';
import { wired } from './wiring';

export async function handler(event: unknown): Promise<{ readonly state: string }> {
  const { rolloutId, batch, taskToken } = approvalInput(unwrap(event));
  const { env, approvals, rollouts } = wired();
  const state = await approvals.attachTaskToken(rolloutId, batch, taskToken);
  // The step that led here requested the approval first: its absence is a broken ledger, not a decision.
  if (state === 'missing')
    throw new Error(`rollout ${rolloutId}: no approval request for batch ${batch} in the ledger`);
  // The token is stored before the halt flag is read, and the CLI writes the flag before it reads tokens:
  // one of the two always sees the other.
  const halt = state === 'pending' ? await rollouts.haltRequested(rolloutId) : undefined;
  if (state !== 'pending' || halt !== undefined) {
    const output = halt !== undefined ? { halt: true } : { decision: state, batch };
    const woken = await wakeExecution(sfnClient(env.homeRegion), taskToken, output);
    logger.info('woke its own execution', { rolloutId, batch, state, halt, woken });
  } else logger.info('waiting for approval', { rolloutId, batch });
  return { state };
}

/** The lambda:invoke integration passes the payload as the event; a direct invocation may wrap it. */
function unwrap(event: unknown): unknown {
  const e = event as { Payload?: unknown } | null;
  return e && typeof e === 'object' && 'Payload' in e ? e.Payload : event;
}
