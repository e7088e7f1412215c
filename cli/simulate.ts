/** `forestall simulate`: the real planner and rollout against a simulated fleet; `npm run demo` runs it. */
import { formatDuration } from '../lambda/core/time';
import type { Plan } from '../lambda/core/types';
import { parseScenario } from '../sim/scenario';
import { type SimulationOutcome, simulate } from '../sim/simulate';
import { loadConfig, type Output, parseIntFlag, readJson, UsageError } from './io';
import { table } from './table';

export interface SimulateOptions {
  scenario: string;
  config?: string;
  seed?: string;
  json?: boolean;
  progress?: boolean;
}

export async function runSimulate(opts: SimulateOptions, io: Output): Promise<void> {
  const config = loadConfig(opts.config);
  let scenario: ReturnType<typeof parseScenario>;
  try {
    scenario = parseScenario(readJson(opts.scenario, '--scenario'), `scenario ${opts.scenario}`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
  const seed = parseIntFlag(opts.seed, '--seed', scenario.seed);
  const progress = opts.progress ? (line: string) => (opts.json ? io.err(line) : io.out(line)) : undefined;
  if (progress) {
    progress(
      `Simulating "${scenario.name}" (seed ${seed}), starting ${scenario.start}${config.dryRun ? ' [dryRun: nothing is applied; set "dryRun": false to act]' : ''}`,
    );
  }
  const t0 = performance.now();
  const run = await simulate(scenario, config, {
    seed,
    ...(progress ? { progress, onPlan: (plan: Plan) => progress(formatPlanSummary(plan)) } : {}),
  });
  if (opts.json) {
    io.out(JSON.stringify(run.outcome, null, 2));
    return;
  }
  io.out(formatOutcome(run.outcome, run.limits));
  io.out(
    `(simulated ${formatDuration(run.rollout.finishedAt - run.rollout.startedAt)} of rollout in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

function formatPlanSummary(plan: Plan): string {
  const rows = plan.batches.map((w) => {
    const remedies = new Map<string, number>();
    for (const i of w.items) remedies.set(i.remedy, (remedies.get(i.remedy) ?? 0) + 1);
    return [
      String(w.index),
      w.wave,
      w.startAt,
      w.endBy,
      String(new Set(w.items.map((i) => i.instanceId)).size),
      [...remedies].map(([r, n]) => `${r}:${n}`).join(' '),
    ];
  });
  const reasons = new Map<string, number>();
  for (const s of [...plan.skipped, ...plan.infeasible]) {
    const key = s.reason.split(':')[0] ?? s.reason;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  return [
    `Plan ${plan.rolloutId}: ${plan.batches.length} entries; ${plan.skipped.length} skipped, ${plan.infeasible.length} infeasible (${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')})`,
    table(['#', 'WAVE', 'START (UTC)', 'END BY (UTC)', 'INSTANCES', 'REMEDIES'], rows),
    '',
  ].join('\n');
}

export function formatOutcome(o: SimulationOutcome, limits: ReadonlyMap<string, number>): string {
  const groups = [
    ...new Set([...Object.keys(o.awsOnly.peakUnavailableByGroup), ...Object.keys(o.peakUnavailableByGroup)]),
  ].sort();
  const rows = groups.map((g) => [
    g,
    String(limits.get(g) ?? '-'),
    String(o.awsOnly.peakUnavailableByGroup[g] ?? 0),
    String(o.peakUnavailableByGroup[g] ?? 0),
    String(o.peakCausedByForestall[g] ?? 0),
  ]);
  return [
    '',
    'Most instances of one group down at the same time:',
    table(['GROUP', 'LIMIT', "AWS'S OWN SCHEDULE", 'WITH FORESTALL', "OF WHICH FORESTALL'S"], rows),
    '',
    `instances ${o.instances}, active notices ${o.notices}: planned ${o.planned}, skipped ${o.skipped}, infeasible ${o.infeasible}`,
    `cleared by Forestall ${o.clearedByForestall}, performed by AWS ${o.performedByAws} (AWS alone: ${o.awsOnly.performedByAws})`,
    `reboot migrations that fell back to stop-start ${o.fallbacks}, failed verification ${o.failed}, deadline misses ${o.deadlineMisses}, group-limit violations ${o.limitViolations}, instance-store data lost by Forestall ${o.instanceStoreDataLost}`,
    `replaced by Auto Scaling ${o.replacedByAsg} (AWS alone: ${o.awsOnly.replacedByAsg}), went down while serving load-balancer traffic: by Forestall ${o.disruptedWhileServing.forestall}, by AWS ${o.disruptedWhileServing.aws} (AWS alone: ${o.awsOnly.disruptedWhileServing})`,
    `rollout took ${formatDuration(o.makespanSeconds * 1000)}${o.halted ? `, HALTED: ${o.haltReason}` : ''}`,
    `API calls: ${Object.entries(o.apiCalls)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ].join('\n');
}
