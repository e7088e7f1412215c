/**
 * Scheduled poll (every pollIntervalMinutes): for each configured Region, under that Region's ledger lock,
 * look at every instance with a scheduled event and report what is new, moved or cleared.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { logger, metrics } from './observability';
import { type SyncSummary, syncNotices } from './sync';
import { startRolloutIfDue, type TriggerResult } from './trigger';
import { accountOf, clock, takeApiRetries, wired } from './wiring';

/** What a poll found in a Region, and whether it started (or why it did not start) a rollout there. */
export type PollResult = SyncSummary & { readonly rollout?: TriggerResult };

/** Longer than a poll of a large fleet takes; an expired lock lets the next poll run. */
const LOCK_TTL_MS = 10 * 60_000;

export async function handler(
  _event: unknown,
  context: Context,
): Promise<Record<string, PollResult | 'busy'>> {
  const { env, depsFor, trigger } = wired();
  const account = accountOf(context);
  const out: Record<string, PollResult | 'busy'> = {};
  for (const region of env.config.regions) {
    const deps = depsFor(region);
    const started = clock.now();
    if (!(await deps.ledger.acquireLock(region, context.awsRequestId, started, LOCK_TTL_MS))) {
      logger.warn('another poll holds the lock', { region });
      out[region] = 'busy';
      continue;
    }
    try {
      const summary = await syncNotices(deps, {
        region,
        source: 'poll',
        now: started,
        ...(account ? { account } : {}),
      });
      const rollout = trigger ? await startRolloutIfDue(trigger, region, clock.now()) : undefined;
      out[region] = { ...summary, ...(rollout ? { rollout } : {}) };
      logger.info('polled', { region, ...summary, rollout });
      const m = metrics.singleMetric();
      m.addDimension('region', region);
      m.addMetric('PollDuration', MetricUnit.Milliseconds, Date.now() - started);
      for (const [code, n] of Object.entries(summary.openByCode)) {
        const c = metrics.singleMetric();
        c.addDimensions({ region, code });
        c.addMetric('OpenNotices', MetricUnit.Count, n);
      }
    } finally {
      await deps.ledger.releaseLock(region, context.awsRequestId);
    }
  }
  metrics.addMetric('ApiRetries', MetricUnit.Count, takeApiRetries());
  metrics.addMetric('PollSucceeded', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return out;
}
