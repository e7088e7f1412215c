/**
 * The mass rollout the history bound is measured on (test/sim/turns.test.ts at 4,000 notices, `npm run
 * bench:history` at 100,000): 40 Auto Scaling groups in 3 AZs, every instance with a system-reboot or
 * instance-stop event, a 10-instance canary wave, then everything at up to 20% of each group at once.
 */
import { type Config, parseConfig } from '../lambda/core/config';
import { parseScenario, type Scenario } from './scenario';

export function massRollout(notices: number): { readonly scenario: Scenario; readonly config: Config } {
  const groups = 40;
  const scenario = parseScenario({
    start: '2026-12-01T00:00:00Z',
    azs: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    groups: Array.from({ length: groups }, (_, k) => ({
      asg: `svc${k}`,
      count: Math.ceil(notices / groups),
      canary: k < 5 ? 2 : 0,
    })),
    events: {
      affected: 1,
      mix: { 'system-reboot': 3, 'instance-stop': 1 },
      slots: ['P10D', 'P12D'],
      history: 0,
    },
    behaviour: { rebootMigrationSuccess: 1, throttling: true, neverHealthyRate: 0 },
  });
  const config = parseConfig({
    dryRun: false,
    maxUnavailablePerGroup: '20%',
    leadTime: 'P9D',
    waves: [
      {
        name: 'canary',
        match: { tags: { 'forestall:wave': 'canary' } },
        maxParallel: 10,
        bake: 'PT10M',
        failureBudget: 3,
      },
      { name: 'all', maxParallel: '100%', bake: 'PT0S', failureBudget: '10%' },
    ],
  });
  return { scenario, config };
}
