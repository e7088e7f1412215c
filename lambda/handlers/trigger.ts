/**
 * After a look at EC2 (the poll, a Health notice): start the Region's next rollout when the core says so
 * (lambda/core/trigger.ts). The Region is claimed in the ledger first, then the rollout's first execution is
 * started under a deterministic name, so a retried start is a no-op. A claim whose execution never started
 * (the start failed) is started again by a later poll under the same name.
 */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { clientConfig } from '../aws/clients';
import type { DynamoRegionRollouts } from '../aws/region-rollouts';
import type { Config } from '../core/config';
import type { NoticeLedgerPort } from '../core/notice-ledger';
import { executionName, firstTurn } from '../core/sfn-moves';
import { decideTrigger, rolloutIdFor } from '../core/trigger';
import { logger } from './observability';

/** A claim this old whose rollout has no stored step lost its start: start it again. */
const START_GRACE_MS = 5 * 60_000;

export interface TriggerDeps {
  readonly config: Config;
  readonly notices: NoticeLedgerPort;
  readonly regions: DynamoRegionRollouts;
  /** Whether a rollout has its first step stored (it was planned). */
  readonly planned: (rolloutId: string) => Promise<boolean>;
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly stateMachineArn: string;
}

export type TriggerResult =
  | { readonly started: string }
  | { readonly restarted: string }
  | { readonly waiting: string };

export async function startRolloutIfDue(
  deps: TriggerDeps,
  region: string,
  now: number,
): Promise<TriggerResult> {
  const previous = await deps.regions.current(region);
  if (
    previous?.status === 'running' &&
    now - previous.claimedAt > START_GRACE_MS &&
    !(await deps.planned(previous.rolloutId))
  ) {
    if ((await start(deps, previous.rolloutId, region)) === 'started')
      return { restarted: previous.rolloutId };
    // Step Functions refuses the name of an execution that ended: the first execution failed before it
    // planned (the ExecutionFailed alarm says why). Give the Region back, so the next poll starts afresh.
    await deps.regions.release(region, previous.rolloutId);
    logger.warn('first execution ended before planning; Region released', {
      region,
      rolloutId: previous.rolloutId,
    });
    return { waiting: `rollout ${previous.rolloutId} ended before it planned; the Region was released` };
  }
  const decision = decideTrigger(await deps.notices.notices(region), previous, now, deps.config);
  if (!decision.start) return { waiting: decision.why };
  const rolloutId = rolloutIdFor(region, now);
  if (!(await deps.regions.claim(region, rolloutId, now)))
    return { waiting: 'another poll claimed the Region first' };
  logger.info('starting a rollout', { region, rolloutId, due: decision.due, fresh: decision.fresh });
  await start(deps, rolloutId, region);
  return { started: rolloutId };
}

/** Starts the rollout's first execution; 'exists' when Step Functions already has one by that name. */
async function start(deps: TriggerDeps, rolloutId: string, region: string): Promise<'started' | 'exists'> {
  const turn = firstTurn(rolloutId, region);
  try {
    // A running execution of that name and input is answered as started (a retried start is a no-op).
    await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name: executionName(turn),
        input: JSON.stringify({ ...turn, plan: true }),
      }),
    );
    return 'started';
  } catch (e) {
    if (e instanceof ExecutionAlreadyExists) return 'exists';
    throw e;
  }
}

let sfn: SFNClient | undefined;
/** The Step Functions client of the home Region (made once per container). */
export function sfnClient(region: string): SFNClient {
  sfn ??= new SFNClient(clientConfig(region));
  return sfn;
}
