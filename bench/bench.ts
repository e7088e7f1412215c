/**
 * npm run bench [-- --quick] [-- --only SUBSTRING]: Forestall against what operators do today, on the same
 * simulated fleets and seeds (bench/scenarios.ts), and against the lower bounds (sim/lower-bounds.ts).
 * Writes bench/results.json (one row per scenario and strategy) and prints a table; progress on stderr.
 */
import { ASG_TAG } from '../lambda/core/facts';
import { HOUR } from '../lambda/core/time';
import type { Cause, Outage } from '../sim/ec2';
import { type LowerBounds, lowerBounds } from '../sim/lower-bounds';
import { doubleOutages, groupPeaks, limitViolations } from '../sim/outcome';
import { simPorts } from '../sim/ports';
import { Rng } from '../sim/rng';
import { buildFleet, regionOf } from '../sim/scenario';
import { type SimulationRun, simulate } from '../sim/simulate';
import {
  type Baseline,
  type BaselineRun,
  type BaselineTask,
  runFixedRate,
  runOnReceipt,
} from '../sim/strategies';
import type { BenchScenario } from './scenarios';

export const STRATEGIES = ['aws-default', 'on-receipt', 'fixed-rate', 'forestall'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface BenchRow {
  readonly scenario: string;
  readonly strategy: Strategy;
  readonly instances: number;
  /** Active scheduled events the poll saw. */
  readonly notices: number;
  /** Events cleared by the strategy's own actions (for Forestall also those AWS performed at its slot). */
  readonly clearedByForestall: number;
  /** Events AWS performed on its own schedule. */
  readonly performedByAws: number;
  /** Events the strategy acted on and reported done (Forestall: verified) that AWS then performed anyway. */
  readonly unexpected: number;
  /** Groups whose peak of outages the strategy caused exceeded the config's limit. */
  readonly limitViolations: number;
  /** The worst group's peak of instances out of service at once (any cause) over its limit. */
  readonly peakUnavailableRatio: number;
  /** Instances taken down both by the strategy and by AWS. */
  readonly doubleOutages: number;
  readonly replacedByAsg: number;
  readonly instanceStoreDataLost: number;
  readonly halted: boolean;
  /** From the poll to the end of the last outage the strategy caused (aws-default: AWS's last). */
  readonly makespanSeconds: number;
  readonly makespanRatio: number;
  /** Every API request (throttled ones too), plus the baselines' waiter polls. */
  readonly apiCalls: number;
  readonly apiCallRatio: number;
  /** Forestall's planner on this scenario (0 for the others, which do not plan). */
  readonly plannerMs: number;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

interface Observed {
  readonly outages: readonly Outage[];
  readonly cleared: number;
  readonly performedByAws: number;
  readonly apiCalls: number;
  readonly unexpected: number;
  readonly replacedByAsg: number;
  readonly instanceStoreDataLost: number;
  readonly halted: boolean;
}

function rowOf(
  b: BenchScenario,
  strategy: Strategy,
  seen: Observed,
  ctx: { forestall: SimulationRun; bounds: LowerBounds },
): BenchRow {
  const { limits, groupsById } = ctx.forestall;
  const peaks = groupPeaks(limits, seen.outages, [], groupsById);
  const worst = Object.values(peaks).reduce(
    (m, p) => Math.max(m, p.peakWithForestall / Math.max(1, p.limit)),
    0,
  );
  const cause: Cause = strategy === 'aws-default' ? 'aws' : 'forestall';
  const start = Date.parse(b.scenario.start);
  const lastEnd = seen.outages.reduce((m, o) => (o.cause === cause ? Math.max(m, o.to) : m), start);
  const makespanSeconds = Math.round((lastEnd - start) / 1000);
  return {
    scenario: b.name,
    strategy,
    instances: b.instances,
    notices: ctx.forestall.outcome.notices,
    clearedByForestall: seen.cleared,
    performedByAws: seen.performedByAws,
    unexpected: seen.unexpected,
    limitViolations: strategy === 'aws-default' ? 0 : limitViolations(peaks),
    peakUnavailableRatio: round(worst),
    doubleOutages: doubleOutages(seen.outages).length,
    replacedByAsg: seen.replacedByAsg,
    instanceStoreDataLost: seen.instanceStoreDataLost,
    halted: seen.halted,
    makespanSeconds,
    makespanRatio: round(makespanSeconds / Math.max(1, ctx.bounds.makespanSeconds)),
    apiCalls: seen.apiCalls,
    apiCallRatio: round(seen.apiCalls / Math.max(1, ctx.bounds.apiCalls)),
    plannerMs: strategy === 'forestall' ? Math.round(ctx.forestall.plannerMs) : 0,
  };
}

const totalCalls = (calls: Record<string, number>) =>
  Object.entries(calls).reduce((n, [k, v]) => (k === 'throttled' ? n : n + v), 0);

/** One baseline on a fresh copy of the scenario's Region (same fleet, same seeds as Forestall's run). */
async function observeBaseline(b: BenchScenario, strategy: Baseline): Promise<Observed> {
  const seed = b.scenario.seed;
  const fleet = buildFleet(b.scenario, seed);
  const world = regionOf(fleet, new Rng(seed + 1));
  let run: BaselineRun = { actedOn: new Set(), errors: 0, halted: false, polls: 0 };
  if (strategy !== 'aws-default') {
    const ports = simPorts(world, b.scenario.region, new Rng(seed + 2));
    const tasks: BaselineTask[] = (await ports.fleet.listScheduled()).flatMap((s) => {
      const active = s.notices.filter((n) => n.state === 'active');
      if (active.length === 0) return [];
      return [
        {
          instanceId: s.instanceId,
          eventIds: active.map((n) => n.eventId),
          codes: active.map((n) => n.code),
        },
      ];
    });
    const rng = new Rng(seed + 3);
    // SSM rate control as operators set it: MaxConcurrency 10%, MaxErrors 10% of the targets.
    const tenth = Math.max(1, Math.round(tasks.length / 10));
    run =
      strategy === 'on-receipt'
        ? runOnReceipt(world, tasks, rng)
        : runFixedRate(world, tasks, rng, { concurrency: tenth, maxErrors: tenth });
  }
  const end = Math.max(world.now, world.lastEventTime()) + 3 * HOUR;
  world.advanceTo(end);
  const resolutions = world.eventResolutions();
  return {
    outages: world.outagesUntil(end),
    cleared: resolutions.filter((r) => r.resolvedBy === 'forestall' || r.resolvedBy === 'rescheduled').length,
    performedByAws: resolutions.filter((r) => r.resolvedBy === 'aws').length,
    apiCalls: totalCalls(world.apiCalls) + run.polls,
    unexpected: resolutions.filter((r) => r.resolvedBy === 'aws' && run.actedOn.has(r.eventId)).length,
    replacedByAsg: world.replacedByAsg.length,
    instanceStoreDataLost: world.instanceStoreLost('forestall').length,
    halted: run.halted,
  };
}

function observeForestall(run: SimulationRun): Observed {
  const o = run.outcome;
  return {
    outages: run.outages,
    cleared: o.clearedByForestall,
    performedByAws: o.performedByAws,
    apiCalls: totalCalls(o.apiCalls),
    unexpected: o.performedByAwsBreakdown.unexpected,
    replacedByAsg: o.replacedByAsg,
    instanceStoreDataLost: o.instanceStoreDataLost,
    halted: o.halted,
  };
}

function boundsOf(b: BenchScenario, run: SimulationRun): LowerBounds {
  const fleet = buildFleet(b.scenario);
  const asgOf = new Map<string, string>();
  for (const i of fleet.instances) {
    const asg = i.tags[ASG_TAG];
    if (asg !== undefined) asgOf.set(i.instanceId, asg);
  }
  return lowerBounds({
    plan: run.plan,
    config: b.config,
    limits: run.limits,
    behaviour: fleet.behaviour,
    start: fleet.start,
    fleetSize: fleet.instances.length,
    scheduledInstances: new Set(fleet.events.map((e) => e.instanceId)).size,
    asgOf,
  });
}

export async function benchScenario(
  b: BenchScenario,
  progress: (line: string) => void = () => {},
): Promise<{ rows: BenchRow[]; bounds: LowerBounds }> {
  const timed = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const out = await f();
    progress(`  ${b.name} ${label}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return out;
  };
  const forestall = await timed('forestall', () => simulate(b.scenario, b.config));
  const bounds = boundsOf(b, forestall);
  const ctx = { forestall, bounds };
  const rows: BenchRow[] = [];
  for (const s of ['aws-default', 'on-receipt', 'fixed-rate'] as const)
    rows.push(rowOf(b, s, await timed(s, () => observeBaseline(b, s)), ctx));
  rows.push(rowOf(b, 'forestall', observeForestall(forestall), ctx));
  return { rows, bounds };
}
