/**
 * Honest outcomes of `forestall simulate`, against the real planner, rollout and simulated Region (no mocks):
 * every event AWS performed has exactly one reason, the notice counts add up, and the peaks and limits can be
 * recomputed from the `--timeline` output alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run as cli } from '../../cli/main';
import { formatOutcome } from '../../cli/simulate';
import { type Config, type ConfigInput, parseConfig } from '../../lambda/core/config';
import { runLocalRollout } from '../../lambda/core/local-driver';
import { planRollout } from '../../lambda/core/planner';
import { SimEc2 } from '../../sim/ec2';
import {
  AWS_REASONS,
  classifyAwsPerformed,
  countReasons,
  peakByGroup,
  type TimelineEntry,
  timeline,
} from '../../sim/outcome';
import { ScriptedApprovals, simPorts } from '../../sim/ports';
import { Rng } from '../../sim/rng';
import { buildFleet, type Fleet, parseScenario, type Scenario } from '../../sim/scenario';
import { type SimulationOutcome, simulate } from '../../sim/simulate';

const root = join(__dirname, '..', '..');
const load = (f: string) => JSON.parse(readFileSync(join(root, 'examples', f), 'utf8'));
const demoScenario = parseScenario(load('demo/scenario.json'));
const demoConfig = parseConfig(load('demo/forestall.config.json'));

/** 40 web servers, each with one system-reboot event three days out. */
function scenario(behaviour: Record<string, unknown> = {}): Scenario {
  return parseScenario({
    start: '2026-12-01T00:00:00Z',
    azs: ['us-east-1a', 'us-east-1b'],
    groups: [{ asg: 'web', count: 40 }],
    events: { affected: 1, mix: { 'system-reboot': 1 }, slots: ['P3D'], history: 0 },
    behaviour: { rebootMigrationSuccess: 1, throttling: false, ...behaviour },
  });
}

const config = (over: ConfigInput = {}) =>
  parseConfig({
    dryRun: false,
    maxUnavailablePerGroup: '50%',
    waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S', failureBudget: 0 }],
    ...over,
  });

/** Reboot migrations never clear the event and nothing else may be tried: every remedy fails. */
const onlyReboot = { remedies: { 'system-reboot': ['reboot-migrate' as const] } };

/**
 * Plans two instances' events on the fleet as built, then runs the rollout against the fleet as `change`
 * leaves it (EC2 changed between planning and the batch), lets AWS perform the rest, and classifies.
 */
async function planThenRun(events: Record<string, unknown>, cfg: Config, change: (f: Fleet) => Fleet) {
  const s = parseScenario({
    start: '2026-12-01T00:00:00Z',
    azs: ['us-east-1a'],
    groups: [{ asg: 'web', count: 2 }],
    events: { affected: 1, slots: ['P3D'], history: 0, ...events },
  });
  const fleet = buildFleet(s);
  const world = (f: Fleet) => new SimEc2(f.start, f.instances, f.events, f.behaviour, new Rng(1));
  const planning = simPorts(world(fleet), 'us-east-1', new Rng(2));
  const notices = (await planning.fleet.listScheduled()).flatMap((x) => x.notices);
  const plan = planRollout(notices, await planning.fleet.describeFacts(), cfg, fleet.start);
  const live = world(change(fleet));
  const rollout = await runLocalRollout(plan, cfg, simPorts(live, 'us-east-1', new Rng(2)), {
    region: 'us-east-1',
    limits: new Map([['asg=web', 2]]),
  });
  live.advanceTo(live.lastEventTime() + 3_600_000);
  const reasons = countReasons(classifyAwsPerformed(plan, rollout, live.eventResolutions(), cfg.dryRun));
  return { rollout, reasons };
}

function expectHonest(o: SimulationOutcome): void {
  const b = o.performedByAwsBreakdown;
  expect(Object.keys(b)).toEqual([...AWS_REASONS]);
  expect(b.notPlanned + b.afterFailure + b.afterHalt + b.dryRun + b.unexpected).toBe(o.performedByAws);
  expect(b.unexpected).toBe(0);
  // Every active notice is planned, skipped or infeasible; [Completed]/[Canceled] ones are counted apart.
  expect(o.planned + o.skipped + o.infeasible).toBe(o.notices);
}

describe('performedByAws, broken down by why', () => {
  it('the demo: every AWS-performed event was never planned, nothing unexpected, and the notices add up', async () => {
    const { outcome } = await simulate(demoScenario, demoConfig);
    expectHonest(outcome);
    expect(outcome.inactive).toBeGreaterThan(0); // so the identity above is tested with history present
    expect(outcome.performedByAwsBreakdown).toEqual({
      notPlanned: outcome.performedByAws,
      afterFailure: 0,
      afterHalt: 0,
      dryRun: 0,
      unexpected: 0,
    });
    expect(outcome.dryRun).toBe(false);
    expect(formatOutcome(outcome).split('\n')[0]).toBe(
      'Outcome (not a dry run: Forestall applied its remedies):',
    );
  });

  it('a dry run: every planned event lands in dryRun, and the first line says it was a dry run', async () => {
    const { outcome } = await simulate(demoScenario, { ...demoConfig, dryRun: true });
    expectHonest(outcome);
    expect(outcome.dryRun).toBe(true);
    expect(outcome.clearedByForestall).toBe(0);
    expect(outcome.performedByAwsBreakdown).toMatchObject({
      dryRun: outcome.planned,
      afterFailure: 0,
      afterHalt: 0,
    });
    expect(outcome.performedByAwsBreakdown.notPlanned).toBe(outcome.performedByAws - outcome.planned);
    expect(formatOutcome(outcome).split('\n')[0]).toMatch(/^Outcome of a DRY RUN: Forestall applied nothing/);
  });

  it('a halt on a rejected approval: the events left to AWS are afterHalt, none afterFailure', async () => {
    const { outcome } = await simulate(
      scenario(),
      config({ waves: [{ name: 'all', maxParallel: '50%', approval: true }] }),
      { approvals: new ScriptedApprovals(new Set([1])) },
    );
    expectHonest(outcome);
    expect(outcome.halted).toBe(true);
    expect(outcome.clearedByForestall).toBe(20);
    expect(outcome.performedByAwsBreakdown).toMatchObject({ afterHalt: 20, afterFailure: 0, notPlanned: 0 });
  });

  it('a halt on failures: the failed batch is afterFailure, the batches that never ran afterHalt', async () => {
    const { outcome, rollout } = await simulate(
      scenario({ rebootMigrationSuccess: 0 }),
      config({ ...onlyReboot, waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S', failureBudget: 1 }] }),
    );
    expectHonest(outcome);
    expect(rollout.haltReason).toBe('batch 0 (all): 4 failed of 4 (budget 1)');
    expect(outcome.performedByAwsBreakdown).toMatchObject({ afterFailure: 4, afterHalt: 36, notPlanned: 0 });
  });

  it('failures within budget: every event is afterFailure, and each instance went down twice', async () => {
    const { outcome } = await simulate(
      scenario({ rebootMigrationSuccess: 0 }),
      config({
        ...onlyReboot,
        waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S', failureBudget: '100%' }],
      }),
    );
    expectHonest(outcome);
    expect(outcome.halted).toBe(false);
    expect(outcome.failed).toBe(40);
    expect(outcome.performedByAwsBreakdown).toMatchObject({ afterFailure: 40, afterHalt: 0 });
    // Forestall's reboot in place, then AWS's own: the price of a remedy that does not clear the event.
    expect(outcome.doubleOutages.count).toBe(40);
    expect(outcome.doubleOutages.instanceIds).toHaveLength(40);
  });

  it('an item dropped at preflight for a reason other than a halt is afterFailure', async () => {
    // Meanwhile EC2 changed the events: they can no longer be rescheduled, so preflight drops them.
    const { rollout, reasons } = await planThenRun(
      { mix: { 'instance-reboot': 1 }, deadlineShare: 1 },
      config({ maxUnavailablePerGroup: '100%', waves: [{ name: 'all', maxParallel: 2 }] }),
      (fleet) => ({ ...fleet, events: fleet.events.map(({ notBeforeDeadline: _drop, ...e }) => e) }),
    );
    expect(rollout.items.map((i) => i.reason?.split(':')[0])).toEqual(['not-rescheduled', 'not-rescheduled']);
    expect(reasons).toEqual({ notPlanned: 0, afterFailure: 2, afterHalt: 0, dryRun: 0, unexpected: 0 });
  });

  it('in a dry run, an item preflight would have dropped is still dryRun: nothing was going to act', async () => {
    const { rollout, reasons } = await planThenRun(
      { mix: { 'system-reboot': 1 } },
      config({ dryRun: true, waves: [{ name: 'all', maxParallel: 2 }] }),
      (fleet) => ({ ...fleet, instances: fleet.instances.map((i, k) => (k === 0 ? { ...i, tags: {} } : i)) }),
    );
    expect(rollout.items.map((i) => i.outcome).sort()).toEqual(['dropped', 'dry-run']);
    expect(reasons).toEqual({ notPlanned: 0, afterFailure: 0, afterHalt: 0, dryRun: 2, unexpected: 0 });
  });

  it('the 2014-style mass reboot: halted, every AWS-performed event accounted for, nothing unexpected', async () => {
    const { outcome } = await simulate(
      parseScenario(load('xen-2014/scenario.json')),
      parseConfig(load('xen-2014/forestall.config.json')),
    );
    expectHonest(outcome);
    expect(outcome.halted).toBe(true);
    expect(outcome.performedByAwsBreakdown.afterHalt).toBeGreaterThan(0);
  });
});

/**
 * Most intervals of one group open at once, by brute force (a different method from the simulator's sweep):
 * the maximum is reached at some interval's start; intervals are [from, to).
 */
function recomputedPeaks(entries: readonly TimelineEntry[], causes: readonly string[]): Map<string, number> {
  const byGroup = new Map<string, Array<[number, number]>>();
  for (const e of entries) {
    if (!causes.includes(e.cause)) continue;
    for (const g of e.groups) {
      const list = byGroup.get(g) ?? [];
      list.push([Date.parse(e.from), Date.parse(e.to)]);
      byGroup.set(g, list);
    }
  }
  const peaks = new Map<string, number>();
  for (const [g, list] of byGroup) {
    const open = (t: number) => list.filter(([from, to]) => from <= t && t < to).length;
    peaks.set(g, Math.max(0, ...list.map(([from]) => open(from))));
  }
  return peaks;
}

function expectRecomputable(
  o: Pick<SimulationOutcome, 'limits' | 'limitViolations' | 'doubleOutages'>,
  withForestall: readonly TimelineEntry[],
  awsAlone: readonly TimelineEntry[],
): void {
  const all = recomputedPeaks(withForestall, ['forestall', 'aws']);
  const own = recomputedPeaks(withForestall, ['forestall']);
  const alone = recomputedPeaks(awsAlone, ['aws']);
  for (const [g, p] of Object.entries(o.limits)) {
    expect([g, p.peakWithForestall, p.peakCausedByForestall, p.peakAwsAlone]).toEqual([
      g,
      all.get(g) ?? 0,
      own.get(g) ?? 0,
      alone.get(g) ?? 0,
    ]);
  }
  const violations = Object.values(o.limits).filter((p) => p.peakCausedByForestall > p.limit).length;
  expect(o.limitViolations).toBe(violations);
  const causes = new Map<string, Set<string>>();
  for (const e of withForestall)
    causes.set(e.instanceId, (causes.get(e.instanceId) ?? new Set()).add(e.cause));
  const double = [...causes].filter(([, c]) => c.size === 2).map(([id]) => id);
  expect(o.doubleOutages).toEqual({ count: double.length, instanceIds: double.sort() });
}

describe('--timeline', () => {
  it('recomputes every reported peak, limit violation and double outage of the demo from the JSON alone', async () => {
    const out: string[] = [];
    const code = await cli(
      [
        'simulate',
        '--scenario',
        join(root, 'examples/demo/scenario.json'),
        '--config',
        join(root, 'examples/demo/forestall.config.json'),
        '--json',
        '--timeline',
      ],
      { out: (s) => out.push(s), err: () => {} },
    );
    expect(code).toBe(0);
    const o = JSON.parse(out.join('\n'));
    expect(o.timeline.length).toBeGreaterThan(0);
    expect(
      Object.values(o.limits).some((p) => (p as { peakWithForestall: number }).peakWithForestall > 1),
    ).toBe(true);
    expectRecomputable(o, o.timeline, o.awsOnly.timeline);
  });

  it('counts outages as [from, to): one that ends when another starts does not overlap it', () => {
    const groups = new Map([
      ['i-a', ['asg=web']],
      ['i-b', ['asg=web']],
    ]);
    const touching = [
      { instanceId: 'i-a', from: 0, to: 60_000, cause: 'forestall' as const },
      { instanceId: 'i-b', from: 60_000, to: 120_000, cause: 'aws' as const },
    ];
    expect(peakByGroup(touching, groups, ['forestall', 'aws'])).toEqual({ 'asg=web': 1 });
    expect(recomputedPeaks(timeline(touching, groups), ['forestall', 'aws'])).toEqual(
      new Map([['asg=web', 1]]),
    );
  });

  it('recomputes them for a run with failures, where instances go down twice', async () => {
    const run = await simulate(
      scenario({ rebootMigrationSuccess: 0 }),
      config({
        ...onlyReboot,
        waves: [{ name: 'all', maxParallel: 8, bake: 'PT0S', failureBudget: '100%' }],
      }),
    );
    expect(run.outcome.doubleOutages.count).toBeGreaterThan(0);
    expectRecomputable(
      run.outcome,
      timeline(run.outages, run.groupsById),
      timeline(run.awsOnlyOutages, run.groupsById),
    );
  });
});
