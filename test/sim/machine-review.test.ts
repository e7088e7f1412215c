/**
 * Review of the rollout machine against the simulator:
 * - `Fixed:` groups: bugs a review found (Standby leaks, approval timing, pacing, deadlines, fallbacks), each
 *   pinned by the test that failed before its fix;
 * - plain tests: behaviour checked correct, and tests that kill mutations of the machine's key comparisons.
 */
import type { Config } from '../../lambda/core/config';
import { type RolloutResult, resumeLocalRollout, runLocalRollout } from '../../lambda/core/local-driver';
import { groupLimits, planRollout } from '../../lambda/core/planner';
import type { ActionOutcome, ApprovalPort, DrainPort, FleetPort, LedgerPort } from '../../lambda/core/ports';
import type { SimBehaviour } from '../../sim/ec2';
import { SimEc2 } from '../../sim/ec2';
import { ScriptedApprovals, simPorts } from '../../sim/ports';
import { Rng } from '../../sim/rng';
import { buildFleet, regionOf, type Scenario } from '../../sim/scenario';
import { simulate } from '../../sim/simulate';
import { config, planned, scenario } from './helpers';

const region = 'us-east-1';
const HOUR = 3_600_000;

/** Like helpers.planned, but the simulated Region has the scenario's Auto Scaling and target groups. */
async function plannedWithGroups(s: Scenario, cfg: Config, behaviour: Partial<SimBehaviour> = {}) {
  const fleet = buildFleet(s);
  const world = regionOf(fleet, new Rng(s.seed + 1), { ...fleet.behaviour, ...behaviour });
  const ports = simPorts(world, region, new Rng(s.seed + 2));
  const facts = await ports.fleet.describeFacts();
  const notices = (await ports.fleet.listScheduled()).flatMap((x) => x.notices);
  const plan = planRollout(notices, facts, cfg, world.now);
  return { world, ports, plan, limits: groupLimits(facts, cfg) };
}

/** A port with some methods replaced (the only kind of double used here, as machine.test.ts does). */
function wrap<T extends object>(port: T, over: Partial<T>): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      if (prop in over) return over[prop as keyof T];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const lost = (outcomes: readonly ActionOutcome[]): ActionOutcome[] =>
  outcomes.map((o) => ({ instanceId: o.instanceId, ok: false, ambiguous: true, error: 'InternalError' }));

/** Members of an Auto Scaling group still in Standby (or entering it) after the rollout. */
async function parked(ports: ReturnType<typeof simPorts>, name: string): Promise<string[]> {
  const [g] = await ports.drain.describeGroups([name]);
  return Object.entries(g?.members ?? {})
    .filter(([, state]) => state === 'Standby' || state === 'EnteringStandby')
    .map(([id]) => id)
    .sort();
}

const asgScenario = (over: Record<string, unknown> = {}) =>
  scenario({
    groups: [{ asg: 'web', count: 4, ...over }],
    behaviour: { throttling: false, rebootMigrationSuccess: 1 },
  });
const twoPerBatch = config({
  waves: [{ name: 'all', maxParallel: 2, bake: 'PT0S', failureBudget: 5 }],
  maxUnavailablePerGroup: '50%',
});

describe('Fixed: a lost StartInstances reply no longer fails an instance that started', () => {
  const cfg = config({
    waves: [{ name: 'all', maxParallel: 2, bake: 'PT0S' }],
    instanceStoreDisposable: true,
  });
  const s = scenario({
    groups: [{ name: 'web', count: 2 }],
    events: { affected: 1, mix: { 'instance-stop': 1 }, slots: ['P3D'] },
  });
  const limits = new Map([
    ['az=us-east-1a', 2],
    ['az=us-east-1b', 2],
  ]);

  // Fixed: verify.ts settles an ambiguous start as phase 'stopping'; assess() then waits for 'stopped' and
  // fails the item at the timeout ("did not stop ... (state running)") although EC2 cleared the event.
  it('verifies after a lost StartInstances reply (the start took effect)', async () => {
    const { world, ports, plan } = await planned(s, cfg);
    const fleet = wrap<FleetPort>(ports.fleet, {
      start: async (ids) => lost(await ports.fleet.start(ids)),
    });
    const result = await runLocalRollout(plan, cfg, { ...ports, fleet }, { region, limits });
    expect(world.eventResolutions().map((r) => r.resolvedBy)).toEqual(['forestall', 'forestall']);
    expect(result.items.map((i) => i.outcome)).toEqual(['verified', 'verified']);
    expect(result.halted).toBe(false);
  });

  // Fixed: the same through a crash between the StartInstances call and its recorded outcome (a Lambda
  // timeout): the replay answers `ambiguous`, and the remedied instances are failed and the rollout halts.
  it('verifies after a crash between StartInstances and its recorded outcome', async () => {
    const { ports, plan } = await planned(s, cfg);
    let crash = true;
    const fleet = wrap<FleetPort>(ports.fleet, {
      start: async (ids) => {
        const out = await ports.fleet.start(ids);
        if (crash) {
          crash = false;
          throw new Error('Task timed out after 60.00 seconds');
        }
        return out;
      },
    });
    await expect(runLocalRollout(plan, cfg, { ...ports, fleet }, { region, limits })).rejects.toThrow(
      /timed out/,
    );
    const result = await resumeLocalRollout(plan.rolloutId, cfg, { ...ports, fleet });
    expect(result.items.map((i) => i.outcome)).toEqual(['verified', 'verified']);
  });
});

describe('Fixed: no spin while every open item waits for API tokens', () => {
  // Fixed: runReschedules spends the modelled mutate bucket first; act then admits no RebootInstances, every
  // open item is `pending`, and runVerify adds a wake at `now` (waiting.length === 0): wait-until now,
  // forever, with the clock standing still. Events 3 h out, half instance-reboot (reschedule), half
  // system-reboot (reboot): 100 reschedule calls fall due at the first step.
  it('reaches the end of a rollout with 100 reschedule calls due as its first batch acts', async () => {
    const cfg = config({
      maxUnavailablePerGroup: '100%',
      leadTime: 'PT6H',
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S', failureBudget: '100%' }],
    });
    const s = scenario({
      groups: [{ name: 'web', count: 200 }],
      events: {
        affected: 1,
        mix: { 'system-reboot': 1, 'instance-reboot': 1 },
        slots: ['PT3H'],
        deadlineShare: 1,
      },
      behaviour: { throttling: false, rebootMigrationSuccess: 1 },
    });
    const { world, ports, plan } = await planned(s, cfg);
    let steps = 0;
    const ledger = wrap<LedgerPort>(ports.ledger, {
      saveStep: async (...a) => {
        if (++steps > 3000)
          throw new Error(`3,000 steps and the clock still at ${new Date(world.now).toISOString()}`);
        return ports.ledger.saveStep(...a);
      },
    });
    const result = await runLocalRollout(plan, cfg, { ...ports, ledger }, { region, limits: new Map() });
    expect(result.items).toHaveLength(200);
  });
});

describe('Fixed: approval', () => {
  // Seed 2: batch 0 reboots an instance whose event is at 2026-12-02T00:00; batch 1 reschedules another
  // instance's event, a call due 2026-12-03T21:45.
  const cfg = config({
    groupBy: ['tag:team'],
    maxUnavailablePerGroup: 1,
    leadTime: 'PT1H',
    remedies: { 'system-reboot': ['reboot-migrate'], 'instance-reboot': ['reschedule'] },
    waves: [{ name: 'all', maxParallel: 1, bake: 'PT0S', failureBudget: 5, approval: true }],
  });
  const s = scenario({
    groups: [
      { name: 'a', count: 1, tags: { team: 'db' } },
      { name: 'b', count: 1, tags: { team: 'db' } },
    ],
    events: {
      affected: 1,
      mix: { 'system-reboot': 1, 'instance-reboot': 1 },
      slots: ['P1D', 'P3D'],
      deadlineShare: 1,
    },
    behaviour: { rebootMigrationSuccess: 1, throttling: false },
    seed: 2,
  });
  const at = (run: Awaited<ReturnType<typeof simulate>>, type: string) =>
    run.events.find((e) => e.detailType === type)?.time;

  // Fixed: runApproval's first request yields with no wake of its own (batch.ts), so the step waits until the
  // earliest other wake: here the next reschedule call, two days later. The answer was there at once; the
  // batch acts after AWS has already performed the event (a double outage, reported as remedied).
  it('acts on an immediate approval immediately, not at an unrelated later wake', async () => {
    const run = await simulate(s, cfg, { approvals: new ScriptedApprovals() });
    expect(run.plan.batches.map((b) => b.items[0]?.remedy)).toEqual(['reboot-migrate', 'reschedule']);
    expect(at(run, 'Batch Started')).toBe(at(run, 'Approval Requested'));
    expect(run.outcome.doubleOutages.count).toBe(0);
  });

  // Fixed: runReschedules runs before runRollout (advance.ts): the step that reads the rejection first makes
  // the due ModifyInstanceEventStartTime call, then halts. After a rejection no event may be moved.
  it('makes no reschedule after the operator rejected', async () => {
    const run = await simulate(s, cfg, { approvals: new ScriptedApprovals(new Set([0])) });
    expect(run.rollout.haltReason).toBe('batch 0 (all) was not approved');
    expect(run.outcome.apiCalls.ModifyInstanceEventStartTime).toBeUndefined();
  });

  // Fixed: preflight is not repeated after a long approval wait: an approval given after AWS performed the
  // event still reboots the instance and reports it remedied.
  it('does not act on an event AWS performed while the approval was pending', async () => {
    const late = config({
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S', approval: true }],
      maxUnavailablePerGroup: '100%',
    });
    const fleet = scenario({
      groups: [{ name: 'web', count: 2 }],
      events: { affected: 1, mix: { 'system-reboot': 1 }, slots: ['PT20H'] },
    });
    const { world, ports, plan } = await planned(fleet, late);
    const notBefore = Date.parse(plan.batches[0]?.items[0]?.notBefore ?? '');
    const approvals: ApprovalPort = {
      request: async () => {},
      decision: async () => (world.now >= notBefore + HOUR ? 'approved' : undefined),
    };
    const result = await runLocalRollout(plan, late, { ...ports, approvals }, { region, limits: new Map() });
    expect(world.eventResolutions().map((r) => r.resolvedBy)).toEqual(['aws', 'aws']);
    expect(world.apiCalls.RebootInstances).toBeUndefined();
    expect(result.items.every((i) => i.outcome !== 'verified')).toBe(true);
  });

  // Fixed: execute.ts claims `approval#token` before calling ApprovalPort.request; a request that fails (or a
  // crash right after the claim) is never sent again, and the batch halts 24 h later unasked.
  it('asks the operator again when the first request did not get through', async () => {
    const once = config({
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S', approval: true }],
      maxUnavailablePerGroup: '100%',
    });
    const { ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 2 }] }), once);
    const operator = new ScriptedApprovals();
    let fail = true;
    const approvals: ApprovalPort = {
      request: async (r) => {
        if (fail) {
          fail = false;
          throw new Error('connect ETIMEDOUT');
        }
        await operator.request(r);
      },
      decision: (t) => operator.decision(t),
    };
    await expect(
      runLocalRollout(plan, once, { ...ports, approvals }, { region, limits: new Map() }),
    ).rejects.toThrow(/ETIMEDOUT/);
    const result = await resumeLocalRollout(plan.rolloutId, once, { ...ports, approvals });
    expect(operator.asked).toEqual([0]);
    expect(result.items.map((i) => i.outcome)).toEqual(['verified', 'verified']);
  });
});

describe('Fixed: no Auto Scaling member left in Standby', () => {
  // Fixed: item.standbyIn is set only when a later DescribeAutoScalingGroups shows the member in Standby. A halt
  // read in the step after EnterStandby sends the batch to undrain with nothing marked: never exited.
  it('exits Standby when a halt comes right after EnterStandby', async () => {
    const { ports, plan, limits } = await plannedWithGroups(asgScenario(), twoPerBatch);
    const drain = wrap<DrainPort>(ports.drain, {
      enterStandby: async (g, ids, dec) => {
        const out = await ports.drain.enterStandby(g, ids, dec);
        await ports.ledger.requestHalt(plan.rolloutId, 'change freeze');
        return out;
      },
    });
    const result = await runLocalRollout(plan, twoPerBatch, { ...ports, drain }, { region, limits });
    expect(result.halted).toBe(true);
    expect(await parked(ports, 'web')).toEqual([]);
  });

  // Fixed: runUndrain stops after DRAIN_ATTEMPTS + 1 passes with members still in Standby, silently: no
  // ledger line, no event, and the next batch's EnterStandby no longer has room to decrement.
  it('does not give up silently on ExitStandby while it keeps being refused as retryable', async () => {
    const { ports, plan, limits } = await plannedWithGroups(asgScenario(), twoPerBatch);
    let refusals = 4;
    const drain = wrap<DrainPort>(ports.drain, {
      exitStandby: async (g, ids) =>
        refusals-- > 0
          ? ids.map((instanceId) => ({ instanceId, ok: false, retryable: true, error: 'ResourceContention' }))
          : ports.drain.exitStandby(g, ids),
    });
    const result = await runLocalRollout(plan, twoPerBatch, { ...ports, drain }, { region, limits });
    expect(result.items.map((i) => i.outcome)).toEqual(Array(4).fill('verified'));
    expect(await parked(ports, 'web')).toEqual([]);
  });

  // Fixed: with a target group whose deregistration delay (AWS allows up to 3600 s) outlasts DRAIN_WAITS ×
  // DRAIN_WAIT (10 min), members still EnteringStandby are dropped and ExitStandby is refused for them
  // (not in Standby yet): every member stays parked and the group launches replacements.
  it('brings members back when EnteringStandby outlasts the drain wait', async () => {
    const s = asgScenario({ targetGroup: 'web', deregistrationDelaySeconds: 1800 });
    const { world, ports, plan, limits } = await plannedWithGroups(s, twoPerBatch);
    await runLocalRollout(plan, twoPerBatch, ports, { region, limits });
    world.advanceTo(world.now + 2 * HOUR);
    expect(await parked(ports, 'web')).toEqual([]);
  });

  // Fixed: at desired = MinSize = MaxSize, EnterStandby without a decrement launches a replacement, and ExitStandby
  // is then refused (desired would pass MaxSize): the original member stays in Standby for good.
  it('never parks a member it cannot bring back (desired = MinSize = MaxSize)', async () => {
    const s = asgScenario({ minSize: 4, maxSize: 4, desiredCapacity: 4 });
    const { world, ports, plan, limits } = await plannedWithGroups(s, twoPerBatch);
    await runLocalRollout(plan, twoPerBatch, ports, { region, limits });
    world.advanceTo(world.now + 2 * HOUR);
    expect(await parked(ports, 'web')).toEqual([]);
  });
});

describe('Fixed: what a halt or a failed stop leaves behind', () => {
  // Fixed: a halt drops pending items, but judge() → fallBack() still starts a new remedy in the same pass
  // (stop-start: actOnPending issues StopInstances; reschedule: issued directly) after the operator halted.
  it('starts no fallback remedy after an operator halt', async () => {
    const cfg = config({
      instanceStoreDisposable: true,
      waves: [{ name: 'all', maxParallel: 2, bake: 'PT0S', failureBudget: 5 }],
    });
    const s = scenario({
      groups: [{ name: 'web', count: 2 }],
      behaviour: { rebootMigrationSuccess: 0, throttling: false },
    });
    const { world, ports, plan } = await planned(s, cfg);
    const fleet = wrap<FleetPort>(ports.fleet, {
      reboot: async (ids) => {
        const out = await ports.fleet.reboot(ids);
        await ports.ledger.requestHalt(plan.rolloutId, 'incident');
        return out;
      },
    });
    const limits = new Map([
      ['az=us-east-1a', 2],
      ['az=us-east-1b', 2],
    ]);
    const result = await runLocalRollout(plan, cfg, { ...ports, fleet }, { region, limits });
    expect(result.haltReason).toBe('halted by an operator: incident');
    expect(world.apiCalls.StopInstances).toBeUndefined();
  });
});

describe('Fixed: deadlines', () => {
  // Fixed: an item whose call keeps coming back retryable stays `pending`; judge() skips pending items and
  // actOnPending never checks verifyBy or the deadline, so RebootInstances is sent hours after the
  // verification deadline, after AWS itself performed the event.
  it('sends no remedy after the item`s verification deadline', async () => {
    const cfg = config({ waves: [{ name: 'all', maxParallel: 1, bake: 'PT0S' }] });
    const s = scenario({
      groups: [{ name: 'web', count: 1 }],
      events: { affected: 1, mix: { 'system-reboot': 1 }, slots: ['P1D'] },
    });
    const { world, ports, plan } = await planned(s, cfg);
    const notBefore = Date.parse(plan.batches[0]?.items[0]?.notBefore ?? '');
    const sent: number[] = [];
    const fleet = wrap<FleetPort>(ports.fleet, {
      reboot: async (ids) => {
        if (world.now >= notBefore + HOUR) {
          sent.push(world.now);
          return ports.fleet.reboot(ids);
        }
        world.advanceTo(world.now + 60_000); // the port's own backoff before it gives up
        return ids.map((instanceId) => ({
          instanceId,
          ok: false,
          retryable: true,
          error: 'RequestLimitExceeded',
        }));
      },
    });
    const result = await runLocalRollout(plan, cfg, { ...ports, fleet }, { region, limits: new Map() });
    expect(sent).toEqual([]);
    expect(result.items[0]?.outcome).toBe('failed');
  });
});

describe('Fixed: fallback reschedules', () => {
  const fallbackScenario = (spread: number) =>
    scenario({
      groups: [
        { name: 'cache', count: 2, instanceType: 'r5d.large', instanceStore: true, tags: { team: 'db' } },
      ],
      events: {
        affected: 1,
        mix: { 'system-reboot': 1 },
        slots: ['P2D'],
        deadlineShare: 1,
        deadlineAfter: 'P8D',
      },
      behaviour: { rebootMigrationSuccess: 0, throttling: false, awsStartSpread: spread },
    });
  const limitOne = config({
    groupBy: ['tag:team'],
    maxUnavailablePerGroup: 1,
    waves: [{ name: 'all', maxParallel: 1, bake: 'PT0S', failureBudget: 5 }],
  });

  // Fixed: fallbackSlot counts moved events per exact slot (`fallback@<slot>`). Two failed migrations in one
  // limit-1 group, failing 20 min apart, get slots 20 min apart whose 2 h windows overlap: AWS takes both
  // down at once.
  it('keeps the group limit across fallback slots whose event windows overlap', async () => {
    const run = await simulate(fallbackScenario(1), limitOne, { seed: 3 });
    expect(run.rollout.items.map((i) => i.outcome)).toEqual(['moved', 'moved']);
    expect(run.outcome.limits['tag:team=db']?.peakCausedByForestall).toBeLessThanOrEqual(1);
  });

  // Fixed: a retryable ModifyInstanceEventStartTime re-runs issueFallbackReschedule without undoing the first
  // slot's count (the item now blocks itself), and when no other slot fits `fallbackSlot(...) as number` is
  // undefined: the call goes out with no NotBefore and the item is reported moved.
  it('retries a throttled fallback reschedule at the same slot', async () => {
    const cfg = config({ waves: [{ name: 'all', maxParallel: 1, bake: 'PT0S', failureBudget: 5 }] });
    const s = scenario({
      groups: [{ name: 'cache', count: 1, instanceType: 'r5d.large', instanceStore: true }],
      events: {
        affected: 1,
        mix: { 'system-reboot': 1 },
        slots: ['PT6H'],
        deadlineShare: 1,
        deadlineAfter: 'PT0S',
      },
      behaviour: { rebootMigrationSuccess: 0, throttling: false },
    });
    const { ports, plan } = await planned(s, cfg);
    const asked: Array<number | undefined> = [];
    const fleet = wrap<FleetPort>(ports.fleet, {
      reschedule: async (id, ev, notBefore) => {
        asked.push(notBefore);
        return asked.length === 1
          ? { instanceId: id, ok: false, retryable: true, error: 'RequestLimitExceeded' }
          : ports.fleet.reschedule(id, ev, notBefore);
      },
    });
    await runLocalRollout(plan, cfg, { ...ports, fleet }, { region, limits: new Map() });
    expect(asked).toHaveLength(2);
    expect(asked[1]).toBe(asked[0]);
  });
});

/** Outcomes by instance, for the plain tests below. */
const outcomes = (r: RolloutResult) => r.items.map((i) => i.outcome);

describe('behaviour checked correct', () => {
  it('brings every member back from Standby, decrementing desired capacity while it stays ≥ MinSize', async () => {
    // 4 members, MinSize 2, batches of 2: room for exactly 2 at each EnterStandby, so no replacement.
    const { world, ports, plan, limits } = await plannedWithGroups(asgScenario(), twoPerBatch);
    const result = await runLocalRollout(plan, twoPerBatch, ports, { region, limits });
    world.advanceTo(world.now + HOUR);
    expect(outcomes(result)).toEqual(Array(4).fill('verified'));
    expect(await parked(ports, 'web')).toEqual([]);
    expect(world.apiCalls.ExitStandby).toBe(world.apiCalls.EnterStandby);
    const [web] = await ports.drain.describeGroups(['web']);
    expect(Object.keys(web?.members ?? {})).toHaveLength(4); // Auto Scaling launched nothing
    expect(web?.desiredCapacity).toBe(4);
  });

  it('does not decrement below MinSize: Auto Scaling launches replacements and every member is remedied', async () => {
    const s = asgScenario({ minSize: 3 });
    const { world, ports, plan, limits } = await plannedWithGroups(s, twoPerBatch);
    const result = await runLocalRollout(plan, twoPerBatch, ports, { region, limits });
    world.advanceTo(world.now + HOUR);
    expect(outcomes(result)).toEqual(Array(4).fill('verified'));
    expect(await parked(ports, 'web')).toEqual([]);
  });

  it('puts 50 members of one group in Standby 20 at a time, decrementing only while room lasts, and back', async () => {
    // MinSize 25 of 50: room for 25, so the first call (20) decrements, the next two (20, 10) do not.
    const cfg = config({
      maxUnavailablePerGroup: '100%',
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S', failureBudget: 5 }],
    });
    const s = scenario({
      groups: [{ asg: 'web', count: 50, minSize: 25, maxSize: 100 }],
      behaviour: { throttling: false, rebootMigrationSuccess: 1 },
    });
    const { world, ports, plan, limits } = await plannedWithGroups(s, cfg);
    expect(plan.batches).toHaveLength(1);
    const result = await runLocalRollout(plan, cfg, ports, { region, limits });
    world.advanceTo(world.now + HOUR);
    expect(outcomes(result)).toEqual(Array(50).fill('verified'));
    expect(world.apiCalls.EnterStandby).toBe(3); // none refused, so none retried id by id
    expect(world.apiCalls.ExitStandby).toBe(3);
    expect(await parked(ports, 'web')).toEqual([]);
  });

  it('tries EnterStandby DRAIN_ATTEMPTS (3) times before dropping a member', async () => {
    const refusing = (n: number) => {
      let left = n;
      return (ports: ReturnType<typeof simPorts>) =>
        wrap<DrainPort>(ports.drain, {
          enterStandby: async (g, ids, dec) =>
            left-- > 0
              ? ids.map((instanceId) => ({ instanceId, ok: false, error: 'ValidationError: pending update' }))
              : ports.drain.enterStandby(g, ids, dec),
        });
    };
    const run = async (refusals: number) => {
      const { ports, plan, limits } = await plannedWithGroups(asgScenario(), twoPerBatch);
      const drain = refusing(refusals)(ports);
      return runLocalRollout(plan, twoPerBatch, { ...ports, drain }, { region, limits });
    };
    expect(outcomes(await run(2))).toEqual(Array(4).fill('verified'));
    const dropped = await run(3);
    expect(dropped.items.filter((i) => i.batchIndex === 0).map((i) => [i.outcome, i.reason])).toEqual(
      Array(2).fill([
        'dropped',
        'not-drained: not in Standby in web (enter-standby: ValidationError: pending update)',
      ]),
    );
  });

  it('tries ExitStandby again after a retryable refusal', async () => {
    const { world, ports, plan, limits } = await plannedWithGroups(asgScenario(), twoPerBatch);
    let refusals = 1;
    const drain = wrap<DrainPort>(ports.drain, {
      exitStandby: async (g, ids) =>
        refusals-- > 0
          ? ids.map((instanceId) => ({ instanceId, ok: false, retryable: true, error: 'ResourceContention' }))
          : ports.drain.exitStandby(g, ids),
    });
    await runLocalRollout(plan, twoPerBatch, { ...ports, drain }, { region, limits });
    world.advanceTo(world.now + HOUR);
    expect(await parked(ports, 'web')).toEqual([]);
  });

  it('gives a group the limits do not know the strictest limit, 1', async () => {
    // Planned with 2 per AZ and batch; run with no limits known: preflight admits one per AZ.
    const cfg = config({
      maxUnavailablePerGroup: 2,
      waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S', failureBudget: 5 }],
    });
    const { ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 4 }] }), cfg);
    expect(plan.batches[0]?.items).toHaveLength(4);
    const result = await runLocalRollout(plan, cfg, ports, { region, limits: new Map() });
    expect(result.batches[0]?.verified).toBe(2);
    const history = await ports.ledger.history(plan.rolloutId);
    const capacity = history.filter((e) => String(e.detail?.reason).startsWith('group-capacity: az='));
    expect(capacity).toHaveLength(2);
  });

  it('halts an approval not given within 24 h (an answer at exactly 24 h is too late)', async () => {
    const cfg = config({
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S', approval: true }],
      maxUnavailablePerGroup: '100%',
    });
    const { world, ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 2 }] }), cfg);
    const requested = Date.parse(plan.batches[0]?.startAt ?? '');
    const approvals: ApprovalPort = {
      request: async () => {},
      decision: async () => (world.now >= requested + 24 * HOUR ? 'approved' : undefined),
    };
    const result = await runLocalRollout(plan, cfg, { ...ports, approvals }, { region, limits: new Map() });
    expect(result.haltReason).toBe('batch 0 (all) was not approved within 24h');
    expect(world.apiCalls.RebootInstances).toBeUndefined();
  });

  it('keeps starting an instance it stopped after its batch, once per poll, until EC2 starts it', async () => {
    const cfg = config({
      waves: [{ name: 'all', maxParallel: 1, bake: 'PT0S', failureBudget: 5 }],
      instanceStoreDisposable: true,
    });
    const s = scenario({
      groups: [{ name: 'web', count: 1 }],
      events: { affected: 1, mix: { 'instance-stop': 1 }, slots: ['P3D'] },
    });
    const { world, ports, ids, plan } = await planned(s, cfg);
    let refusals = 5; // InsufficientInstanceCapacity for five calls (AWS-FACTS §11), then capacity is back
    const fleet = wrap<FleetPort>(ports.fleet, {
      start: async (list) =>
        refusals-- > 0
          ? list.map((instanceId) => ({ instanceId, ok: false, error: 'InsufficientInstanceCapacity' }))
          : ports.fleet.start(list),
    });
    const result = await runLocalRollout(plan, cfg, { ...ports, fleet }, { region, limits: new Map() });
    expect(result.items[0]?.outcome).toBe('failed');
    expect(result.notRestarted).toEqual([]);
    expect(ports.ledger.entries.filter((e) => e.kind === 'restart')).toHaveLength(5);
    world.advanceTo(world.now + 10 * 60_000);
    expect((await ports.fleet.describeStatus(ids))[0]?.state).toBe('running');
  });

  it('takes a percent failure budget of the items acted on, not of those dropped at preflight', async () => {
    const cfg = config({
      maxUnavailablePerGroup: '100%',
      waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S', failureBudget: '50%' }],
    });
    const { fleet, plan } = await planned(scenario({ groups: [{ name: 'web', count: 4 }] }), cfg);
    expect(plan.batches[0]?.items).toHaveLength(4);
    // Two lost the opt-in tag since planning (dropped); the two acted on never come back healthy.
    const world = new SimEc2(
      fleet.start,
      fleet.instances.map((i, k) => (k < 2 ? { ...i, tags: {} } : i)),
      fleet.events,
      { ...fleet.behaviour, neverHealthyRate: 1 },
      new Rng(1),
    );
    const result = await runLocalRollout(plan, cfg, simPorts(world, region, new Rng(2)), {
      region,
      limits: new Map(),
    });
    expect(result.haltReason).toBe('batch 0 (all): 2 failed of 2 (budget 1)');
  });
});

describe('Fixed: a halt read with preflight`s answers', () => {
  it('reports each halted item once, as halted', async () => {
    const cfg = config({ waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S' }] });
    const { ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 4 }] }), cfg);
    const fleet = wrap<FleetPort>(ports.fleet, {
      describeFacts: async (ids) => {
        if (ids) await ports.ledger.requestHalt(plan.rolloutId, 'change freeze');
        return ports.fleet.describeFacts(ids);
      },
    });
    const result = await runLocalRollout(plan, cfg, { ...ports, fleet }, { region, limits: new Map() });
    // The first batch's items are each dropped once, as halted; the later batches never run.
    const first = plan.batches[0]?.items.length ?? 0;
    expect(first).toBeGreaterThan(0);
    expect(ports.reporter.count('Notice Skipped')).toBe(first);
    expect(result.items.map((i) => i.reason)).toEqual(Array(first).fill('halted: change freeze'));
    expect(result.notRun).toBe(4 - first);
  });
});
