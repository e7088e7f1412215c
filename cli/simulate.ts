/** `forestall simulate`: the real planner and rollout against a simulated fleet; `npm run demo` runs it. */
import type { Config } from '../lambda/core/config';
import { formatDuration, isoSeconds } from '../lambda/core/time';
import type { InstanceFacts, Plan } from '../lambda/core/types';
import { emptyWaves } from '../lambda/core/wave-coverage';
import { localSpan, windowZoneAt } from '../lambda/core/windows';
import { type TimelineEntry, timeline } from '../sim/outcome';
import { parseScenario } from '../sim/scenario';
import { type SimulationOutcome, type SimulationRun, simulate } from '../sim/simulate';
import { loadConfig, type Output, parseIntFlag, readJson, UsageError } from './io';
import { table, wrapLines } from './table';

export interface SimulateOptions {
  scenario: string;
  config?: string;
  seed?: string;
  json?: boolean;
  progress?: boolean;
  timeline?: boolean;
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
  const say = (text: string) => (opts.json ? io.err(text) : io.out(text));
  const progress = opts.progress ? (text: string) => say(wrapLines(text)) : undefined;
  // Said first, so that nobody reads a dry run's figures as what Forestall achieved.
  progress?.(
    config.dryRun
      ? `DRY RUN, nothing is applied: simulating "${scenario.name}" (seed ${seed})`
      : `Simulating "${scenario.name}" (seed ${seed}) from ${scenario.start}`,
  );
  const t0 = performance.now();
  const onPlan = (plan: Plan, facts: readonly InstanceFacts[]) => {
    for (const w of emptyWaves(facts, config)) io.err(`warning: wave "${w.wave}" ${w.why}`);
    progress?.(formatPlanSummary(plan, config));
  };
  const run = await simulate(scenario, config, { seed, onPlan, ...(progress ? { progress } : {}) });
  if (opts.json) {
    io.out(JSON.stringify(opts.timeline ? withTimeline(run) : run.outcome, null, 2));
    return;
  }
  if (progress) io.out('');
  io.out(formatOutcome(run.outcome));
  if (opts.timeline) io.out(formatTimeline(timeline(run.outages, run.groupsById)));
  io.out(
    `(simulated ${formatDuration(run.rollout.finishedAt - run.rollout.startedAt)} of rollout in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
}

/** The outcome with every outage of both worlds, so that peaks and limits can be recomputed from it. */
function withTimeline(run: SimulationRun): object {
  const o = run.outcome;
  return {
    ...o,
    timeline: timeline(run.outages, run.groupsById),
    awsOnly: { ...o.awsOnly, timeline: timeline(run.awsOnlyOutages, run.groupsById) },
  };
}

/**
 * The plan, a line per batch. With windows, the batch's span in their time zone replaces END BY (UTC), which
 * keeps the table within 120 columns.
 */
function formatPlanSummary(plan: Plan, config: Pick<Config, 'windows'>): string {
  const zones = plan.batches.map((b) => windowZoneAt(config.windows, Date.parse(b.startAt)));
  const oneZone = zones.every((z) => z !== undefined && z === zones[0]) ? zones[0] : undefined;
  const rows = plan.batches.map((w, k) => {
    const start = Date.parse(w.startAt);
    const end = Date.parse(w.endBy);
    const zone = zones[k];
    const remedies = new Map<string, number>();
    for (const i of w.items) remedies.set(i.remedy, (remedies.get(i.remedy) ?? 0) + 1);
    return [
      String(w.index),
      w.wave,
      isoSeconds(start),
      oneZone !== undefined
        ? localSpan(start, end, oneZone)
        : zone === undefined
          ? isoSeconds(end)
          : `${localSpan(start, end, zone)} ${zone}`,
      String(new Set(w.items.map((i) => i.instanceId)).size),
      [...remedies].map(([r, n]) => `${r}:${n}`).join(' '),
    ];
  });
  const reasons = new Map<string, number>();
  for (const s of [...plan.skipped, ...plan.infeasible]) {
    const key = s.reason.split(':')[0] ?? s.reason;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  const local =
    oneZone !== undefined
      ? `LOCAL (${oneZone})`
      : zones.some((z) => z)
        ? 'END BY (UTC) / LOCAL'
        : 'END BY (UTC)';
  return [
    `Plan ${plan.rolloutId}: ${plan.batches.length} batches; ${plan.skipped.length} skipped, ${plan.infeasible.length} infeasible`,
    ...(reasons.size > 0
      ? [
          wrap(
            '  why: ',
            [...reasons].map(([r, n]) => `${r} ${n}`),
          ),
        ]
      : []),
    table(['#', 'WAVE', 'START (UTC)', local, 'INSTANCES', 'REMEDIES'], rows, {
      shrink: [1],
      wrapLast: true,
    }),
    '',
  ].join('\n');
}

/** The outcome as text, at most 120 columns; the first line says whether it was a dry run. */
export function formatOutcome(o: SimulationOutcome): string {
  const b = o.performedByAwsBreakdown;
  return [
    o.dryRun
      ? 'Outcome of a DRY RUN: Forestall applied nothing, so AWS performed every planned event on its own schedule.'
      : 'Outcome (not a dry run: Forestall applied its remedies):',
    '',
    'Most instances of one group down at the same time:',
    formatLimits(o),
    '',
    `instances ${o.instances}; inactive notices ${o.inactive} ([Completed]/[Canceled]: history, not counted below)`,
    `active notices ${o.notices} = planned ${o.planned} + skipped ${o.skipped} + infeasible ${o.infeasible}`,
    `cleared by Forestall ${o.clearedByForestall}; performed by AWS ${o.performedByAws} (AWS alone: ${o.awsOnly.performedByAws}), of which:`,
    `  not planned ${b.notPlanned}, after a failure ${b.afterFailure}, after the halt ${b.afterHalt}, dry run ${b.dryRun}, unexpected ${b.unexpected}`,
    `failed verification ${o.failed}; remedies that fell back to the next allowed one ${o.fallbacks}; group-limit violations ${o.limitViolations}`,
    `replaced by Auto Scaling ${o.replacedByAsg} (AWS alone ${o.awsOnly.replacedByAsg}); down while serving traffic: by Forestall ${o.disruptedWhileServing.forestall}, by AWS ${o.disruptedWhileServing.aws} (AWS alone ${o.awsOnly.disruptedWhileServing})`,
    `instances down by both Forestall and AWS ${o.doubleOutages.count}; instance-store data lost by Forestall ${o.instanceStoreDataLost}`,
    `rollout took ${formatDuration(o.makespanSeconds * 1000)}${o.halted ? `, HALTED: ${o.haltReason}` : ''}`,
    wrap(
      'API calls: ',
      Object.entries(o.apiCalls).map(([k, v]) => `${k} ${v}`),
    ),
  ].join('\n');
}

/** Groups that anything took down, or that Forestall could have (every group has a limit). */
function formatLimits(o: SimulationOutcome): string {
  const rows = Object.entries(o.limits)
    .filter(([, p]) => p.peakAwsAlone + p.peakWithForestall > 0)
    .map(([g, p]) => [
      g,
      String(p.limit),
      String(p.peakAwsAlone),
      String(p.peakWithForestall),
      String(p.peakCausedByForestall),
    ]);
  return table(['GROUP', 'LIMIT', "AWS'S OWN SCHEDULE", 'WITH FORESTALL', "OF WHICH FORESTALL'S"], rows, {
    shrink: [0],
  });
}

/** `--timeline` as text: one outage a line, in start order. */
export function formatTimeline(entries: readonly TimelineEntry[]): string {
  return [
    '',
    `Outages with Forestall (${entries.length}; FROM, TO, CAUSE, INSTANCE, GROUPS):`,
    ...entries.map(
      (e) =>
        `${isoSeconds(Date.parse(e.from))} ${isoSeconds(Date.parse(e.to))} ${e.cause.padEnd(9)} ${e.instanceId} ${e.groups.join(' ')}`,
    ),
    '',
  ].join('\n');
}

/** Joins items after a prefix into lines of at most `width` columns, continued lines indented. */
function wrap(prefix: string, items: readonly string[], width = 120): string {
  const lines: string[] = [];
  let line = prefix;
  let empty = true;
  for (const [k, item] of items.entries()) {
    const piece = k < items.length - 1 ? `${item},` : item;
    if (!empty && line.length + 1 + piece.length > width) {
      lines.push(line);
      line = '  ';
      empty = true;
    }
    line = empty ? `${line}${piece}` : `${line} ${piece}`;
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}
