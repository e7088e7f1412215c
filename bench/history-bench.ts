/**
 * `npm run bench:history [-- N]`: a rollout of N notices (default 100,000: 40 Auto Scaling groups of
 * N/40 instances in 3 AZs, a mix of system-reboot and instance-stop, a canary wave then everything) driven
 * by the Step Functions turns against the simulator, and the history events of its largest execution
 * (priced per state as lambda/core/sfn-moves.ts HISTORY_EVENTS, which the end-to-end suite checks).
 * test/sim/turns.test.ts runs the same at 4,000 notices on every `npm test`.
 */
import { parseConfig } from '../lambda/core/config';
import { historyEvents, MAX_TURNS } from '../lambda/core/sfn-moves';
import { parseScenario } from '../sim/scenario';
import { simulate } from '../sim/simulate';

async function main(): Promise<void> {
  const notices = Number(process.argv[2] ?? 100_000);
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
  const t0 = performance.now();
  const run = await simulate(scenario, config, { driver: 'turns' });
  const executions = run.executions ?? [];
  const events = executions.map((e, i) =>
    historyEvents({ ...e, planned: i === 0, handedOff: i < executions.length - 1 }),
  );
  const figures = {
    notices: run.outcome.notices,
    clearedByForestall: run.outcome.clearedByForestall,
    halted: run.outcome.halted,
    batches: run.plan.batches.length,
    executions: executions.length,
    maxTurnsInOneExecution: Math.max(...executions.map((e) => e.turns)),
    maxHistoryEventsInOneExecution: Math.max(...events),
    turnLimit: MAX_TURNS,
    wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  if (figures.maxHistoryEventsInOneExecution >= 6_000) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
