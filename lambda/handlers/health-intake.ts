/**
 * AWS Health events (EC2 scheduledChange) from EventBridge: validate, drop backup copies and others, merge
 * pages, then look at just the named instances now. Health is only the trigger; EC2 says what is scheduled.
 */
import type { Context } from 'aws-lambda';
import { healthLooks } from '../core/health';
import { logger } from './observability';
import { type SyncSummary, syncNotices } from './sync';
import { startRolloutIfDue } from './trigger';
import { accountOf, clock, wired } from './wiring';

/** One EventBridge event, or several (a batch redriven from the dead-letter queue). */
export async function handler(event: unknown, context: Context): Promise<SyncSummary[]> {
  const { env, depsFor, trigger } = wired();
  const account = accountOf(context);
  const { looks, dropped } = healthLooks(Array.isArray(event) ? event : [event]);
  for (const d of dropped) logger.info('Health event not acted on', d);
  const out: SyncSummary[] = [];
  for (const look of looks) {
    const skip = !env.config.regions.includes(look.region)
      ? 'Region not configured'
      : account && look.account !== account
        ? 'another account (organizational view)'
        : look.instanceIds.length === 0
          ? 'no instance named'
          : undefined;
    if (skip) {
      logger.info('Health notice not looked at', {
        reason: skip,
        eventArn: look.eventArn,
        region: look.region,
      });
      continue;
    }
    const now = clock.now();
    const summary = await syncNotices(depsFor(look.region), {
      region: look.region,
      instanceIds: look.instanceIds,
      source: 'health',
      now,
      ...(account ? { account } : {}),
    });
    // An expedited notice must not wait for the next poll: start the Region's rollout now if one is due.
    const rollout = trigger ? await startRolloutIfDue(trigger, look.region, clock.now()) : undefined;
    logger.info('looked after Health notice', {
      eventArn: look.eventArn,
      region: look.region,
      ...summary,
      rollout,
    });
    out.push(summary);
  }
  return out;
}
