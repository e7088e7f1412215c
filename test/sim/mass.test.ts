/**
 * (g) Batches fit EC2's API: a mass instance-stop over tens of thousands of healthy instances, with EC2's
 * token buckets on. The planner sizes batches to StartInstances' bucket and the machine paces its calls, so
 * no healthy instance is counted as failed and the rollout does not halt.
 */
import { simulate } from '../../sim/simulate';
import { config, scenario } from './helpers';

describe('mass stop-start through the EC2 API limits', () => {
  it('stop-starts 20,000 healthy instances with no failure and no halt', async () => {
    const s = scenario({
      groups: Array.from({ length: 40 }, (_, k) => ({ name: `svc${k}`, count: 500 })),
      azs: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      events: { affected: 1, mix: { 'instance-stop': 1 }, slots: ['P10D'], history: 0 },
      behaviour: { throttling: true, neverHealthyRate: 0 },
    });
    const cfg = config({
      maxUnavailablePerGroup: '100%',
      leadTime: 'P9D',
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S', failureBudget: 0 }],
    });
    const { outcome, plan } = await simulate(s, cfg);
    expect(outcome.notices).toBe(20_000);
    expect(plan.batches.length).toBeGreaterThan(10);
    expect(
      plan.batches.every((b) => b.limitedBy === 'api' || b === plan.batches[plan.batches.length - 1]),
    ).toBe(true);
    expect(outcome.halted).toBe(false);
    expect(outcome.failed).toBe(0);
    expect(outcome.clearedByForestall).toBe(20_000);
    expect(outcome.limitViolations).toBe(0);
    // Paced to the buckets: never throttled, one StartInstances per StopInstances, one read per poll.
    expect(outcome.apiCalls.throttled).toBe(0);
    expect(outcome.apiCalls.StartInstances).toBe(outcome.apiCalls.StopInstances);
  }, 120_000);
});
