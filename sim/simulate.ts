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
import type { InstanceFacts, Notice, Plan } from '../lambda/core/types';
import type { Cause, Outage, SimEc2 } from './ec2';
import {
  type AwsBreakdown,
  classifyAwsPerformed,
  countReasons,
  doubleOutages,
  type GroupPeaks,
  groupPeaks,
  limitViolations,
  noticeCounts,
} from './outcome';
import { simPorts } from './ports';
import { Rng } from './rng';
import { buildFleet, regionOf, type Scenario } from './scenario';
import { type ExecutionTrace, runRolloutByTurns } from './sfn-driver';

export { peakByGroup } from './outcome';

export interface SimulationOutcome {
  /** Config `dryRun`: Forestall applied nothing, so every planned event was left to AWS. */
  dryRun: boolean;
  instances: number;
  /** Active notices = planned + skipped + infeasible (`inactive` ones are history, counted apart). */
  notices: number;
  planned: number;
  skipped: number;
  infeasible: number;
  inactive: number;
  /** Events cleared by Forestall's remedies, or performed by AWS at the slot Forestall moved them to. */
  clearedByForestall: number;
  /** Events AWS performed on its own schedule; `performedByAwsBreakdown` says why, and sums to it. */
  performedByAws: number;
  performedByAwsBreakdown: AwsBreakdown;
  /** Groups whose peak of Forestall-caused outages exceeded their limit. */
  limitViolations: number;
  limits: Record<string, GroupPeaks>;
  /** Instances taken down both by Forestall and by AWS during the simulated span. */
  doubleOutages: { count: number; instanceIds: string[] };
  failed: number;
  /** Items whose remedy failed and fell back to the next allowed one (stop-start, or a reschedule). */
  fallbacks: number;
  instanceStoreDataLost: number;
  /** Auto Scaling members terminated and replaced for failing health checks (their events went with them). */
  replacedByAsg: number;
  /** Instances that went down while a load balancer sent them traffic, by cause. */
  disruptedWhileServing: Record<Cause, number>;
  apiCalls: Record<string, number>;
  makespanSeconds: number;
  halted: boolean;
  haltReason?: string;
  awsOnly: { performedByAws: number; replacedByAsg: number; disruptedWhileServing: number };
}

export interface SimulationRun {
  readonly outcome: SimulationOutcome;
  readonly plan: Plan;
  readonly rollout: RolloutResult;
  readonly limits: ReadonlyMap<string, number>;
  readonly events: ReturnType<typeof simPorts>['reporter']['events'];
  /** Every outage in the simulated span, and each instance's group ids (for finer measurements). */
  readonly outages: readonly Outage[];
  /** The outages of the same fleet where nobody acts (AWS's own schedule). */
  readonly awsOnlyOutages: readonly Outage[];
  readonly groupsById: ReadonlyMap<string, readonly string[]>;
  /** Wall-clock milliseconds planRollout took on this run's notices (the simulator's only timing). */
  readonly plannerMs: number;
  /** With `driver: 'turns'`: the Step Functions executions the rollout took. */
  readonly executions?: readonly ExecutionTrace[];
}

export interface SimulateOptions {
  readonly seed?: number;
  readonly progress?: (line: string) => void;
  readonly approvals?: ApprovalPort;
  /** Called with the plan, and the facts it was planned from, before the rollout starts (the CLI prints it). */
  readonly onPlan?: (plan: Plan, facts: readonly InstanceFacts[]) => void;
  /**
   * `turns`: drive the rollout as the Step Functions state machine does (sim/sfn-driver.ts) and report its
   * executions; default `local`, the in-process loop. Both run the same machine.
   */
  readonly driver?: 'local' | 'turns';
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
  const planning = performance.now();
  const plan = planRollout(notices, facts, config, world.now);
  const plannerMs = performance.now() - planning;
  opts.onPlan?.(plan, facts);
  const limits = groupLimits(facts, config);
  let executions: readonly ExecutionTrace[] | undefined;
  let rollout: RolloutResult;
  if (opts.driver === 'turns') {
    ({ result: rollout, executions } = await runRolloutByTurns(plan, config, ports, {
      region: scenario.region,
      limits,
    }));
  } else {
    rollout = await runLocalRollout(plan, config, ports, {
      region: scenario.region,
      limits,
      ...(opts.progress ? { progress: opts.progress } : {}),
    });
  }

  // Let AWS perform whatever is left, then measure both worlds over the same span.
  const end = Math.max(world.now, world.lastEventTime()) + 3 * HOUR;
  world.advanceTo(end);
  const baseline = regionOf(fleet, new Rng(seed + 1));
  baseline.advanceTo(end);

  const groupsById = new Map(facts.map((f) => [f.instanceId, groupIds(groupsOf(f, config.groupBy))]));
  const outages = world.outagesUntil(end);
  const awsOnlyOutages = baseline.outagesUntil(end);
  const outcome = measure({
    config,
    world,
    plan,
    rollout,
    notices,
    limits,
    groupsById,
    outages,
    awsOnly: { world: baseline, outages: awsOnlyOutages },
    instances: fleet.instances.length,
  });
  return {
    outcome,
    plan,
    rollout,
    limits,
    events: ports.reporter.events,
    outages,
    awsOnlyOutages,
    groupsById,
    plannerMs,
    ...(executions ? { executions } : {}),
  };
}

interface Measured {
  readonly config: Config;
  readonly world: SimEc2;
  readonly plan: Plan;
  readonly rollout: RolloutResult;
  readonly notices: readonly Notice[];
  readonly limits: ReadonlyMap<string, number>;
  readonly groupsById: ReadonlyMap<string, readonly string[]>;
  readonly outages: readonly Outage[];
  readonly awsOnly: { readonly world: SimEc2; readonly outages: readonly Outage[] };
  readonly instances: number;
}

function measure(m: Measured): SimulationOutcome {
  const { world, rollout } = m;
  const resolutions = world.eventResolutions();
  const reasons = classifyAwsPerformed(m.plan, rollout, resolutions, m.config.dryRun);
  const limits = groupPeaks(m.limits, m.outages, m.awsOnly.outages, m.groupsById);
  const double = doubleOutages(m.outages);
  const apiCalls = Object.fromEntries(Object.entries(world.apiCalls).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    dryRun: m.config.dryRun,
    instances: m.instances,
    ...noticeCounts(m.notices, m.plan),
    clearedByForestall: resolutions.filter(
      (r) => r.resolvedBy === 'forestall' || r.resolvedBy === 'rescheduled',
    ).length,
    performedByAws: resolutions.filter((r) => r.resolvedBy === 'aws').length,
    performedByAwsBreakdown: countReasons(reasons),
    limitViolations: limitViolations(limits),
    limits,
    doubleOutages: { count: double.length, instanceIds: double },
    failed: rollout.items.filter((i) => i.outcome === 'failed').length,
    fallbacks: rollout.items.filter((i) => i.fellBack).length,
    instanceStoreDataLost: world.instanceStoreLost('forestall').length,
    replacedByAsg: world.replacedByAsg.length,
    disruptedWhileServing: {
      forestall: world.disruptedWhileServing.filter((d) => d.cause === 'forestall').length,
      aws: world.disruptedWhileServing.filter((d) => d.cause === 'aws').length,
    },
    apiCalls: { ...apiCalls, throttled: world.throttled },
    makespanSeconds: Math.round((rollout.finishedAt - rollout.startedAt) / 1000),
    halted: rollout.halted,
    ...(rollout.haltReason === undefined ? {} : { haltReason: rollout.haltReason }),
    awsOnly: {
      performedByAws: m.awsOnly.world.eventResolutions().filter((r) => r.resolvedBy === 'aws').length,
      replacedByAsg: m.awsOnly.world.replacedByAsg.length,
      disruptedWhileServing: m.awsOnly.world.disruptedWhileServing.length,
    },
  };
}
