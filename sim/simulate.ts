/**
 * One simulated run: poll the simulated Region like the poll Lambda, plan with the real planner, roll out
 * with the real runner, let AWS perform whatever is left, and measure. A second world with the same fleet
 * where nobody acts gives AWS's own schedule for comparison.
 */
import type { Config } from '../lambda/core/config';
import { type RolloutResult, runLocalRollout } from '../lambda/core/local-driver';
import { groupIds, groupLimits, groupsOf, planRollout } from '../lambda/core/planner';
import type { ApprovalPort } from '../lambda/core/ports';
import { HOUR } from '../lambda/core/time';
import type { Plan } from '../lambda/core/types';
import type { Cause, Outage } from './ec2';
import { simPorts } from './ports';
import { Rng } from './rng';
import { buildFleet, regionOf, type Scenario } from './scenario';

export interface SimulationOutcome {
  instances: number;
  notices: number;
  clearedByForestall: number;
  performedByAws: number;
  deadlineMisses: number;
  limitViolations: number;
  peakUnavailableByGroup: Record<string, number>;
  /** The same, counting only outages Forestall caused (its remedies, and events it rescheduled). */
  peakCausedByForestall: Record<string, number>;
  apiCalls: Record<string, number>;
  makespanSeconds: number;
  halted: boolean;
  haltReason?: string;
  planned: number;
  skipped: number;
  infeasible: number;
  failed: number;
  /** Reboot migrations that did not clear the event and fell back to stop-start. */
  fallbacks: number;
  instanceStoreDataLost: number;
  /** Auto Scaling members terminated and replaced for failing health checks (their events went with them). */
  replacedByAsg: number;
  /** Instances that went down while a load balancer sent them traffic, by cause. */
  disruptedWhileServing: Record<Cause, number>;
  awsOnly: {
    performedByAws: number;
    peakUnavailableByGroup: Record<string, number>;
    replacedByAsg: number;
    disruptedWhileServing: number;
  };
}

export interface SimulationRun {
  readonly outcome: SimulationOutcome;
  readonly plan: Plan;
  readonly rollout: RolloutResult;
  readonly limits: ReadonlyMap<string, number>;
  readonly events: ReturnType<typeof simPorts>['reporter']['events'];
  /** Every outage in the simulated span, and each instance's group ids (for finer measurements). */
  readonly outages: readonly Outage[];
  readonly groupsById: ReadonlyMap<string, readonly string[]>;
}

export interface SimulateOptions {
  readonly seed?: number;
  readonly progress?: (line: string) => void;
  readonly approvals?: ApprovalPort;
  /** Called with the plan before the rollout starts (the CLI prints it). */
  readonly onPlan?: (plan: Plan) => void;
}

/** Peak concurrent outages per group id, over outages of the given causes. */
export function peakByGroup(
  outages: readonly Outage[],
  groupsById: ReadonlyMap<string, readonly string[]>,
  causes: readonly Cause[],
): Record<string, number> {
  const deltas: Array<[number, number, string]> = [];
  for (const o of outages) {
    if (!causes.includes(o.cause) || o.to <= o.from) continue;
    for (const g of groupsById.get(o.instanceId) ?? []) deltas.push([o.from, 1, g], [o.to, -1, g]);
  }
  deltas.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const live = new Map<string, number>();
  const peak: Record<string, number> = {};
  for (const [, d, g] of deltas) {
    const n = (live.get(g) ?? 0) + d;
    live.set(g, n);
    if (n > (peak[g] ?? 0)) peak[g] = n;
  }
  return Object.fromEntries(Object.entries(peak).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function simulate(
  scenario: Scenario,
  config: Config,
  opts: SimulateOptions = {},
): Promise<SimulationRun> {
  const seed = opts.seed ?? scenario.seed;
  const fleet = buildFleet(scenario, seed);
  const world = regionOf(fleet, new Rng(seed + 1));
  const ports = simPorts(world, scenario.region, new Rng(seed + 2), opts.approvals);

  // Poll, as the poll Lambda does: every instance with a scheduled event, and the facts of the whole fleet
  // (the planner counts whole groups).
  const statuses = await ports.fleet.listScheduled();
  const facts = await ports.fleet.describeFacts();
  const notices = statuses.flatMap((s) => s.notices);
  const plan = planRollout(notices, facts, config, world.now);
  opts.onPlan?.(plan);
  const limits = groupLimits(facts, config);
  const rollout = await runLocalRollout(plan, config, ports, {
    region: scenario.region,
    limits,
    ...(opts.progress ? { progress: opts.progress } : {}),
  });

  // Let AWS perform whatever is left, then measure both worlds over the same span.
  const end = Math.max(world.now, world.lastEventTime()) + 3 * HOUR;
  world.advanceTo(end);
  const baseline = regionOf(fleet, new Rng(seed + 1));
  baseline.advanceTo(end);

  const groupsById = new Map(facts.map((f) => [f.instanceId, groupIds(groupsOf(f, config.groupBy))]));
  const outages = world.outagesUntil(end);
  const forestallPeak = peakByGroup(outages, groupsById, ['forestall']);
  const limitViolations = Object.entries(forestallPeak).filter(
    ([g, n]) => n > (limits.get(g) ?? Number.POSITIVE_INFINITY),
  ).length;

  const planned = new Set(plan.batches.flatMap((w) => w.items.map((i) => i.eventId)));
  const resolutions = world.eventResolutions();
  const active = new Set(notices.filter((n) => n.state === 'active').map((n) => n.eventId));
  const clearedByForestall = resolutions.filter(
    (r) => r.resolvedBy === 'forestall' || r.resolvedBy === 'rescheduled',
  ).length;
  const performedByAws = resolutions.filter((r) => r.resolvedBy === 'aws').length;
  const deadlineMisses = resolutions.filter(
    (r) => planned.has(r.eventId) && r.resolvedBy !== 'forestall' && r.resolvedBy !== 'rescheduled',
  ).length;
  const failed = rollout.items.filter((i) => i.outcome === 'failed').length;
  const apiCalls = Object.fromEntries(Object.entries(world.apiCalls).sort(([a], [b]) => (a < b ? -1 : 1)));

  const outcome: SimulationOutcome = {
    instances: fleet.instances.length,
    notices: active.size,
    clearedByForestall,
    performedByAws,
    deadlineMisses,
    limitViolations,
    peakUnavailableByGroup: peakByGroup(outages, groupsById, ['forestall', 'aws']),
    peakCausedByForestall: forestallPeak,
    apiCalls: { ...apiCalls, throttled: world.throttled },
    makespanSeconds: Math.round((rollout.finishedAt - rollout.startedAt) / 1000),
    halted: rollout.halted,
    ...(rollout.haltReason === undefined ? {} : { haltReason: rollout.haltReason }),
    planned: planned.size,
    skipped: plan.skipped.length,
    infeasible: plan.infeasible.length,
    failed,
    fallbacks: rollout.items.filter((i) => i.fellBack).length,
    instanceStoreDataLost: world.instanceStoreLost('forestall').length,
    replacedByAsg: world.replacedByAsg.length,
    disruptedWhileServing: {
      forestall: world.disruptedWhileServing.filter((d) => d.cause === 'forestall').length,
      aws: world.disruptedWhileServing.filter((d) => d.cause === 'aws').length,
    },
    awsOnly: {
      performedByAws: baseline.eventResolutions().filter((r) => r.resolvedBy === 'aws').length,
      peakUnavailableByGroup: peakByGroup(baseline.outagesUntil(end), groupsById, ['aws']),
      replacedByAsg: baseline.replacedByAsg.length,
      disruptedWhileServing: baseline.disruptedWhileServing.length,
    },
  };
  return { outcome, plan, rollout, limits, events: ports.reporter.events, outages, groupsById };
}
