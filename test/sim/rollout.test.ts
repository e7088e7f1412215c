/** The real planner and runner against the simulator: outcomes, gates, idempotency, throttling, verification honesty. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../lambda/core/config';
import { runLocalRollout } from '../../lambda/core/local-driver';
import { SimEc2 } from '../../sim/ec2';
import { ScriptedApprovals, simPorts } from '../../sim/ports';
import { Rng } from '../../sim/rng';
import { parseScenario } from '../../sim/scenario';
import { simulate } from '../../sim/simulate';
import { config, planned, scenario } from './helpers';

const root = join(__dirname, '..', '..');
const demoScenario = parseScenario(
  JSON.parse(readFileSync(join(root, 'examples/demo/scenario.json'), 'utf8')),
);
const demoConfig = parseConfig(
  JSON.parse(readFileSync(join(root, 'examples/demo/forestall.config.json'), 'utf8')),
);

describe('simulate: the demo fleet', () => {
  it('clears every planned event ahead of AWS, within every group limit, and beats AWS own schedule', async () => {
    const { outcome, events, rollout } = await simulate(demoScenario, demoConfig);
    // Each batch is reported started and completed exactly once.
    const count = (type: string) => events.filter((e) => e.detailType === type).length;
    expect(count('Batch Started')).toBe(rollout.batches.length);
    expect(count('Batch Completed')).toBe(rollout.batches.length);
    expect(outcome.instances).toBe(300);
    expect(outcome.planned).toBeGreaterThan(100);
    // A reboot migration can fail where no fallback is allowed (instance store): AWS then performs it, said so.
    expect(outcome.performedByAwsBreakdown.unexpected).toBe(0);
    expect(outcome.failed).toBeLessThanOrEqual(2);
    expect(outcome.limitViolations).toBe(0);
    expect(outcome.halted).toBe(false);
    expect(outcome.clearedByForestall).toBeGreaterThanOrEqual(outcome.planned - outcome.failed);
    expect(outcome.instanceStoreDataLost).toBe(0);
    for (const p of Object.values(outcome.limits))
      expect(p.peakCausedByForestall).toBeLessThanOrEqual(p.limit);
    // AWS alone takes more of a group down at once than the limit allows; that is why Forestall exists.
    expect(Object.values(outcome.limits).some((p) => p.peakAwsAlone > p.limit)).toBe(true);
  });

  it('is reproducible for a seed', async () => {
    const a = await simulate(demoScenario, demoConfig, { seed: 99 });
    const b = await simulate(demoScenario, demoConfig, { seed: 99 });
    expect(JSON.stringify(b.outcome)).toBe(JSON.stringify(a.outcome));
    expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
  });
});

describe('simulate: the 2014-style mass reboot example', () => {
  const load = (f: string) => JSON.parse(readFileSync(join(root, 'examples/xen-2014', f), 'utf8'));

  it('never stops instance-store nodes, keeps group limits, and halts when too many nodes do not come back', async () => {
    const { outcome, plan, rollout } = await simulate(
      parseScenario(load('scenario.json')),
      parseConfig(load('forestall.config.json')),
    );
    expect(outcome.instances).toBe(3000);
    expect(outcome.instanceStoreDataLost).toBe(0);
    expect(outcome.limitViolations).toBe(0);
    const cassandra = plan.batches.flatMap((w) => w.items).filter((i) => i.groups.asg?.startsWith('cass-'));
    expect(cassandra.length).toBeGreaterThan(50);
    expect(cassandra.every((i) => i.remedy === 'reschedule')).toBe(true);
    expect(outcome.halted).toBe(true);
    expect(rollout.haltReason).toMatch(/failed of \d+ \(budget \d+\)$/);
    // Reschedules are made as late as AWS allows, so the halt still leaves AWS its own time for the rest.
    expect(outcome.apiCalls.ModifyInstanceEventStartTime).toBeLessThan(
      plan.batches.flatMap((w) => w.items).filter((i) => i.remedy === 'reschedule').length,
    );
  });
});

describe('simulate: gates and honesty', () => {
  it('halts when more instances fail their health checks than the budget allows, and leaves the rest to AWS', async () => {
    const { outcome, events, rollout } = await simulate(
      scenario({ behaviour: { neverHealthyRate: 0.5, rebootMigrationSuccess: 1, throttling: false } }),
      config({ waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S', failureBudget: 1 }] }),
    );
    expect(outcome.halted).toBe(true);
    expect(rollout.haltReason).toMatch(/^batch \d+ \(all\): [2-4] failed of 4 \(budget 1\)$/);
    expect(rollout.notRun).toBe(40 - 4 * rollout.batches.length);
    expect(events.filter((e) => e.detailType === 'Rollout Halted')).toHaveLength(1);
    expect(outcome.performedByAws).toBe(40 - outcome.clearedByForestall);
    expect(outcome.performedByAwsBreakdown.unexpected).toBe(0);
  });

  it('does not count a reboot as a remedy when it leaves instance-reboot open (stop-start that does not clear it fails verification)', async () => {
    const { outcome, rollout } = await simulate(
      scenario({
        events: { affected: 1, mix: { 'instance-reboot': 1 }, slots: ['P3D'], deadlineShare: 0 },
        behaviour: { stopStartClearsInstanceReboot: false, throttling: false },
      }),
      config({
        waves: [{ name: 'all', maxParallel: 2, bake: 'PT0S', failureBudget: 0 }],
        instanceStoreDisposable: true,
      }),
    );
    const item = rollout.items.find((i) => i.batchIndex === 0);
    expect(item?.outcome).toBe('failed');
    expect(item?.reason).toMatch(/^the stop-start did not clear instance-event-\w+; no fallback fits/);
    expect(outcome.halted).toBe(true);
    expect(outcome.clearedByForestall).toBe(0);
  });

  it('falls back to stop-start when a reboot migration does not clear system-reboot', async () => {
    const { outcome } = await simulate(
      scenario({ behaviour: { rebootMigrationSuccess: 0, throttling: false } }),
      config({ instanceStoreDisposable: true }),
    );
    expect(outcome.fallbacks).toBe(40);
    expect(outcome.clearedByForestall).toBe(40);
    expect(outcome.performedByAws).toBe(0);
  });

  it('in dryRun applies nothing and says so in the ledger', async () => {
    const run = await simulate(scenario({}), config({ dryRun: true }));
    expect(run.outcome.clearedByForestall).toBe(0);
    expect(run.outcome.performedByAws).toBe(40);
    expect(run.outcome.apiCalls.RebootInstances).toBeUndefined();
    expect(run.rollout.items.map((i) => i.outcome)).toEqual(Array(40).fill('dry-run'));
  });

  it('halts before acting on an entry the operator rejects', async () => {
    const run = await simulate(
      scenario({}),
      config({ waves: [{ name: 'all', maxParallel: '50%', approval: true }] }),
      { approvals: new ScriptedApprovals(new Set([1])) },
    );
    expect(run.rollout.haltReason).toBe('batch 1 (all) was not approved');
    expect(run.outcome.clearedByForestall).toBe(20);
  });
});

describe('simulate: rescheduled events', () => {
  it('waits for AWS anywhere in the moved event window and keeps group limits while it may act', async () => {
    const s = scenario({
      events: {
        affected: 1,
        mix: { 'instance-reboot': 1 },
        slots: ['P3D'],
        window: 'PT2H',
        deadlineShare: 1,
      },
      behaviour: { awsStartSpread: 1, throttling: false },
    });
    const { outcome, plan } = await simulate(s, config({ maxUnavailablePerGroup: '25%' }));
    expect(plan.batches.flatMap((w) => w.items.map((i) => i.remedy))).toEqual(Array(40).fill('reschedule'));
    for (const w of plan.batches)
      expect(Date.parse(w.endBy) - Date.parse(w.startAt)).toBe(2 * 3_600_000 + 20 * 60_000);
    expect(outcome.failed).toBe(0);
    expect(outcome.clearedByForestall).toBe(40);
    expect(outcome.limitViolations).toBe(0);
  });
});

describe('simulate: API limits', () => {
  it('finishes a 1,500-instance stop-start entry through StartInstances throttling without failures', async () => {
    const s = scenario({
      groups: [{ asg: 'big', count: 1500 }],
      events: { affected: 1, mix: { 'instance-stop': 1 }, slots: ['P3D'] },
      behaviour: { throttling: true },
    });
    const { outcome } = await simulate(
      s,
      config({
        maxUnavailablePerGroup: '100%',
        waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S' }],
        instanceStoreDisposable: true,
      }),
    );
    expect(outcome.apiCalls.throttled).toBeGreaterThan(0);
    expect(outcome.failed).toBe(0);
    expect(outcome.clearedByForestall).toBe(1500);
    expect(outcome.apiCalls.StartInstances).toBeLessThan(200);
  });
});

describe('SimFleet (the fleet port)', () => {
  it('lists every instance with a scheduled event, stopped ones included, across pages', async () => {
    const s = scenario({
      groups: [{ asg: 'big', count: 2500, stopped: 0.1 }],
      events: { affected: 0.5, mix: { 'instance-stop': 1 }, slots: ['P3D'], history: 0 },
    });
    const { fleet, world, ports } = await planned(s, config());
    const listed = await ports.fleet.listScheduled();
    const withEvents = new Set(fleet.events.map((e) => e.instanceId));
    expect(listed.map((x) => x.instanceId).sort()).toEqual([...withEvents].sort());
    expect(listed.some((x) => x.state === 'stopped')).toBe(true);
    expect((await ports.fleet.describeFacts()).length).toBe(2500);
    expect(world.apiCalls.DescribeInstances).toBeGreaterThanOrEqual(3); // 1,000 a page
  });
});

describe('the rollout machine against the simulator', () => {
  it('reports a reschedule EC2 refuses, then drops the item at preflight and leaves AWS its own time', async () => {
    const cfg = config({ maxUnavailablePerGroup: '100%', waves: [{ name: 'all', maxParallel: 2 }] });
    const s = scenario({
      groups: [{ asg: 'web', count: 2 }],
      events: { affected: 1, mix: { 'instance-reboot': 1 }, slots: ['P3D'], deadlineShare: 1 },
    });
    const { fleet, plan } = await planned(s, cfg);
    expect(plan.batches[0]?.items.map((i) => i.remedy)).toEqual(['reschedule', 'reschedule']);
    // Meanwhile EC2 changed the events: they can no longer be rescheduled.
    const world = new SimEc2(
      fleet.start,
      fleet.instances,
      fleet.events.map(({ notBeforeDeadline: _drop, ...e }) => e),
      fleet.behaviour,
      new Rng(1),
    );
    const live = simPorts(world, 'us-east-1', new Rng(2));
    const limits = new Map([['asg=web', 2]]);
    const result = await runLocalRollout(plan, cfg, live, { region: 'us-east-1', limits });
    const failures = live.reporter.events.filter((e) => e.detailType === 'Instance Remedy Failed');
    expect(failures.map((e) => e.detail.reason)).toEqual(
      Array(2).fill(
        "ModifyInstanceEventStartTime failed: InvalidParameterValue: This event cannot be rescheduled: it has no NotBeforeDeadline.; AWS keeps the event's own time",
      ),
    );
    expect(result.items.map((i) => [i.outcome, i.reason?.split(':')[0]])).toEqual([
      ['dropped', 'not-rescheduled'],
      ['dropped', 'not-rescheduled'],
    ]);
  });

  it('starts again an instance it stopped even when the stop outlasted the verification timeout', async () => {
    const cfg = config({ verification: { timeout: 'PT5M' }, instanceStoreDisposable: true });
    const s = scenario({
      groups: [{ name: 'web', count: 1 }],
      events: { affected: 1, mix: { 'instance-stop': 1 }, slots: ['P3D'] },
    });
    const { world, ports, ids, plan } = await planned(s, cfg, { stopDuration: [10 * 60_000, 10 * 60_000] });
    const result = await runLocalRollout(plan, cfg, ports, { region: 'us-east-1', limits: new Map() });
    expect(result.items[0]).toMatchObject({
      outcome: 'failed',
      reason: 'did not stop before the verification timeout (state stopping)',
    });
    expect(ports.ledger.entries.filter((e) => e.kind === 'restart').map((e) => e.instanceId)).toEqual(ids);
    expect(result.notRestarted).toEqual([]);
    world.advanceTo(world.now + 30 * 60_000);
    expect((await ports.fleet.describeStatus(ids))[0]?.state).toBe('running');
  });

  it('drops at preflight an instance whose opt-in tag disappeared or that was terminated, with the reason', async () => {
    const cfg = config({ waves: [{ name: 'all', maxParallel: 2 }] });
    const { fleet, ids, plan } = await planned(scenario({ groups: [{ name: 'web', count: 2 }] }), cfg);
    const untagged = new SimEc2(
      fleet.start,
      fleet.instances.map((i, k) => (k === 0 ? { ...i, tags: {} } : i)),
      fleet.events,
      fleet.behaviour,
      new Rng(1),
    );
    const gone = new SimEc2(
      fleet.start,
      fleet.instances.slice(1),
      fleet.events.filter((e) => e.instanceId !== ids[0]),
      fleet.behaviour,
      new Rng(1),
    );
    const run = (w: SimEc2) =>
      runLocalRollout(plan, cfg, simPorts(w, 'us-east-1', new Rng(2)), {
        region: 'us-east-1',
        limits: new Map(),
      });
    const first = (r: Awaited<ReturnType<typeof run>>) => r.items.find((i) => i.instanceId === ids[0]);
    expect(first(await run(untagged))).toMatchObject({
      outcome: 'dropped',
      reason: 'not-opted-in: the forestall:managed tag was removed since planning',
    });
    expect(first(await run(gone))).toMatchObject({
      outcome: 'dropped',
      reason: 'terminated: the instance is gone',
    });
  });
});
