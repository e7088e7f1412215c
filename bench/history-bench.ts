/**
 * `npm run bench:history [-- N]`: a rollout of N notices (default 100,000; sim/mass-rollout.ts) driven
 * by the Step Functions turns against the simulator, and the history events of its largest execution
 * (priced per state as lambda/core/sfn-moves.ts HISTORY_EVENTS, which the end-to-end suite checks).
 * test/sim/turns.test.ts runs the same at 4,000 notices on every `npm test`.
 */
import { historyEvents, MAX_TURNS } from '../lambda/core/sfn-moves';
import { massRollout } from '../sim/mass-rollout';
import { simulate } from '../sim/simulate';

async function main(): Promise<void> {
  const notices = Number(process.argv[2] ?? 100_000);
  const { scenario, config } = massRollout(notices);
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
