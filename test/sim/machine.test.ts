/**
 * The rollout machine's fixes, each against the simulator: fallback only when it fits (b), the next allowed
 * remedy after a failure (c), dry-run reschedules (d), ambiguous calls never re-sent (e), group capacity at
 * preflight and at the reschedule call, and just-in-time call times (f).
 */
import { runLocalRollout } from '../../lambda/core/local-driver';
import { groupLimits } from '../../lambda/core/planner';
import type { ActionOutcome, FleetPort } from '../../lambda/core/ports';
import { rescheduleCallAt as callAtFor, RESCHEDULE_CALL_MARGIN } from '../../lambda/core/reschedule-timing';
import { MINUTE } from '../../lambda/core/time';
import { simulate } from '../../sim/simulate';
import { config, planned, scenario } from './helpers';

const region = 'us-east-1';

describe('(b) a fallback is taken only when it fits before the verification deadline', () => {
  // No NotBeforeDeadline: stop-start is the only fallback (reschedule would need one).
  const s = scenario({
    groups: [{ name: 'web', count: 10 }],
    events: { affected: 1, mix: { 'system-reboot': 1 }, slots: ['P3D'], deadlineShare: 0 },
    behaviour: { rebootMigrationSuccess: 0, throttling: false },
  });

  it('does not stop-start after a failed migration when the verification timeout leaves no room', async () => {
    const { outcome, rollout } = await simulate(
      s,
      config({
        instanceStoreDisposable: true,
        verification: { timeout: 'PT5M' },
        waves: [{ name: 'all', maxParallel: '50%', bake: 'PT0S', failureBudget: 10 }],
      }),
    );
    expect(outcome.fallbacks).toBe(0);
    expect(outcome.apiCalls.StopInstances).toBeUndefined();
    // Failed, or dropped because earlier failures fill their group: none acted on twice, none verified.
    expect(rollout.items.every((i) => i.outcome === 'failed' || i.outcome === 'dropped')).toBe(true);
    expect(
      rollout.items.some((i) =>
        /no fallback fits \(stop-start: would end .* \(verification deadline/.test(i.reason ?? ''),
      ),
    ).toBe(true);
  });

  it('lets a fallback stop-start run into the wave bake, and verifies it there', async () => {
    // A failed migration is known 5-10 min after the reboot; the stop-start needs 12 more: past a 10-min
    // timeout, inside it plus a 15-min bake, and none fits with no bake.
    const run = (bake: string) =>
      simulate(
        s,
        config({
          instanceStoreDisposable: true,
          verification: { timeout: 'PT10M' },
          waves: [{ name: 'all', maxParallel: '50%', bake, failureBudget: 10 }],
        }),
      );
    const baked = await run('PT15M');
    expect(baked.outcome.fallbacks).toBe(10);
    expect(baked.outcome.clearedByForestall).toBe(10);
    const none = await run('PT0S');
    expect(none.outcome.fallbacks).toBe(0);
  });

  it('does stop-start when it fits', async () => {
    const { outcome } = await simulate(
      s,
      config({ instanceStoreDisposable: true, verification: { timeout: 'PT30M' } }),
    );
    expect(outcome.fallbacks).toBe(10);
    expect(outcome.clearedByForestall).toBe(10);
  });
});

describe('(c) a failed remedy falls back to the next remedy the operator allowed', () => {
  it('reschedules a failed migration into a window before NotBeforeDeadline when stop-start is impossible', async () => {
    const s = scenario({
      groups: [{ name: 'cache', count: 4, instanceType: 'r5d.large', instanceStore: true }],
      events: {
        affected: 1,
        mix: { 'system-reboot': 1 },
        slots: ['P2D'],
        deadlineShare: 1,
        deadlineAfter: 'P8D',
      },
      behaviour: { rebootMigrationSuccess: 0, throttling: false },
    });
    const { outcome, rollout } = await simulate(s, config());
    expect(rollout.items.map((i) => [i.outcome, i.fellBack])).toEqual(Array(4).fill(['moved', true]));
    expect(outcome.clearedByForestall).toBe(4); // AWS performed them at Forestall's slots
    expect(outcome.limitViolations).toBe(0);
  });

  it('fails with every reason when no allowed remedy fits', async () => {
    const s = scenario({
      groups: [{ name: 'cache', count: 2, instanceType: 'r5d.large', instanceStore: true }],
      events: { affected: 1, mix: { 'system-reboot': 1 }, slots: ['P2D'], deadlineShare: 0 },
      behaviour: { rebootMigrationSuccess: 0, throttling: false },
    });
    const { rollout } = await simulate(s, config());
    expect(rollout.items[0]?.reason).toMatch(
      /no fallback fits \(stop-start: not allowed or not possible for this instance; reschedule: the event has no NotBeforeDeadline\)$/,
    );
  });
});

describe('(d) dry run', () => {
  it('reports planned reschedules as dry run, not as not-rescheduled, and calls nothing', async () => {
    const s = scenario({
      events: { affected: 1, mix: { 'instance-reboot': 1 }, slots: ['P3D'], deadlineShare: 1 },
    });
    const { outcome, rollout, plan } = await simulate(s, config({ dryRun: true }));
    expect(plan.batches.flatMap((b) => b.items.map((i) => i.remedy))).toEqual(Array(40).fill('reschedule'));
    expect(rollout.items.map((i) => i.outcome)).toEqual(Array(40).fill('dry-run'));
    expect(outcome.apiCalls.ModifyInstanceEventStartTime).toBeUndefined();
  });
});

/** A fleet whose replies to reboot and stop are lost after EC2 acted (a 5xx or a timeout after acceptance). */
function losingReplies(fleet: FleetPort): FleetPort {
  const lost = (outcomes: ActionOutcome[]) =>
    outcomes.map((o) => ({ instanceId: o.instanceId, ok: false, ambiguous: true, error: 'InternalError' }));
  return new Proxy(fleet, {
    get(target, prop, receiver) {
      if (prop === 'reboot' || prop === 'stop')
        return async (ids: readonly string[]) => lost(await target[prop](ids));
      return Reflect.get(target, prop, receiver);
    },
  });
}

describe('(e) exactly once: an ambiguous reply is settled by re-reading EC2, never by sending again', () => {
  it('reboots once and verifies by what EC2 shows', async () => {
    const cfg = config({ waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S' }] });
    const { world, ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 4 }] }), cfg);
    const result = await runLocalRollout(
      plan,
      cfg,
      { ...ports, fleet: losingReplies(ports.fleet) },
      {
        region,
        limits: new Map([
          ['az=us-east-1a', 4],
          ['az=us-east-1b', 4],
        ]),
      },
    );
    // One RebootInstances per batch, never a second for the same ids.
    expect(world.apiCalls.RebootInstances).toBe(plan.batches.length);
    expect(result.items.map((i) => i.outcome)).toEqual(Array(4).fill('verified'));
    expect(ports.ledger.entries.filter((e) => e.kind === 'ambiguous')).toHaveLength(4);
  });

  it('stops once, then starts what it stopped and verifies', async () => {
    const cfg = config({
      waves: [{ name: 'all', maxParallel: 2, bake: 'PT0S' }],
      instanceStoreDisposable: true,
    });
    const s = scenario({
      groups: [{ name: 'web', count: 2 }],
      events: { affected: 1, mix: { 'instance-stop': 1 }, slots: ['P3D'] },
    });
    const { world, ports, plan } = await planned(s, cfg);
    const result = await runLocalRollout(
      plan,
      cfg,
      { ...ports, fleet: losingReplies(ports.fleet) },
      {
        region,
        limits: new Map([
          ['az=us-east-1a', 2],
          ['az=us-east-1b', 2],
        ]),
      },
    );
    expect(world.apiCalls.StopInstances).toBe(1);
    expect(world.apiCalls.StartInstances).toBe(1);
    expect(result.items.map((i) => i.outcome)).toEqual(['verified', 'verified']);
  });
});

describe('(f) group capacity and call times', () => {
  it('drops at preflight an item whose group is full of earlier failures still down', async () => {
    // One group of 4 with limit 1: batch 0's instance never comes back; the budget lets the rollout go on.
    const cfg = config({
      groupBy: ['tag:team'],
      maxUnavailablePerGroup: 1,
      waves: [{ name: 'all', maxParallel: 1, bake: 'PT0S', failureBudget: 1 }],
    });
    const s = scenario({
      groups: [{ name: 'db', count: 4, tags: { team: 'db' } }],
      behaviour: { neverHealthyRate: 1, throttling: false },
    });
    const { outcome, rollout } = await simulate(s, cfg);
    expect(rollout.items.filter((i) => i.outcome === 'failed')).toHaveLength(1);
    expect(
      rollout.items.filter((i) => i.reason?.startsWith('group-capacity: tag:team=db already has 1')),
    ).toHaveLength(3);
    expect(outcome.limitViolations).toBe(0);
  });

  it('fails a never-healthy instance impairedFor after its checks turn impaired, not at the timeout', async () => {
    const cfg = config({
      remedies: { 'system-reboot': ['reboot-migrate'] },
      verification: { timeout: 'PT30M', impairedFor: 'PT4M' },
      waves: [{ name: 'all', maxParallel: 1, bake: 'PT0S', failureBudget: 1 }],
    });
    const s = scenario({
      groups: [{ name: 'web', count: 1 }],
      events: { affected: 1, mix: { 'system-reboot': 1 }, slots: ['P2D'], deadlineShare: 1 },
      behaviour: { neverHealthyRate: 1, rebootMigrationSuccess: 1, throttling: false },
    });
    const run = await simulate(s, cfg);
    const failed = run.events.find((e) => e.detailType === 'Instance Remedy Failed');
    const started = run.events.find((e) => e.detailType === 'Batch Started');
    expect(String(failed?.detail.reason)).toMatch(/^status checks impaired for 4m /);
    // Reboot (≤ 3 min) + checks (≤ 6 min) + 4 min impaired + a poll: well inside the 30-minute timeout.
    const took = Date.parse(failed?.time ?? '') - Date.parse(started?.time ?? '');
    expect(took).toBeGreaterThanOrEqual(4 * MINUTE);
    expect(took).toBeLessThanOrEqual(15 * MINUTE);
  });

  it('does not move an event into a slot whose group is full of earlier failures', async () => {
    const cfg = config({
      groupBy: ['tag:team'],
      maxUnavailablePerGroup: 1,
      leadTime: 'PT1H',
      remedies: { 'system-reboot': ['reboot-migrate'], 'instance-reboot': ['reschedule'] },
      waves: [{ name: 'all', maxParallel: 1, bake: 'PT0S', failureBudget: 5 }],
    });
    const s = scenario({
      groups: [
        { name: 'a', count: 1, tags: { team: 'db' } },
        { name: 'b', count: 1, tags: { team: 'db' } },
      ],
      // Seed 2: the first instance has a system-reboot on day 1, the second an instance-reboot on day 3.
      events: {
        affected: 1,
        mix: { 'system-reboot': 1, 'instance-reboot': 1 },
        slots: ['P1D', 'P3D'],
        deadlineShare: 1,
      },
      behaviour: { neverHealthyRate: 1, rebootMigrationSuccess: 1, throttling: false },
      seed: 2,
    });
    const run = await simulate(s, cfg);
    const remedies = run.plan.batches.map((b) => b.items[0]?.remedy);
    if (remedies[0] !== 'reboot-migrate' || remedies[1] !== 'reschedule')
      throw new Error(`seed gives ${remedies.join(',')}`);
    expect(
      run.events.filter(
        (e) => e.detailType === 'Notice Skipped' && String(e.detail.reason).startsWith('group-capacity'),
      ),
    ).toHaveLength(1);
    expect(run.outcome.apiCalls.ModifyInstanceEventStartTime).toBeUndefined();
  });

  it('calls a reschedule before the original NotBefore when the slot is later, with AWS rules and margin', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    const notBefore = now + 4 * 60 * MINUTE;
    const later = now + 30 * 60 * MINUTE;
    expect(callAtFor(notBefore, later, now)).toBe(notBefore - 5 * MINUTE - RESCHEDULE_CALL_MARGIN);
    const earlier = now + 2 * 60 * MINUTE;
    expect(callAtFor(notBefore, earlier, now)).toBe(earlier - 60 * MINUTE - RESCHEDULE_CALL_MARGIN);
    expect(callAtFor(notBefore, now + 70 * MINUTE, now)).toBe(now);
  });

  it('moves an event to a slot later than its NotBefore in time (the call lands before NotBefore − 5 min)', async () => {
    const cfg = config({
      windows: [
        {
          days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'],
          start: '22:00',
          end: '23:00',
          timeZone: 'UTC',
        },
      ],
      leadTime: 'PT1H',
    });
    const s = scenario({
      groups: [{ name: 'web', count: 2 }],
      events: { affected: 1, mix: { 'instance-reboot': 1 }, slots: ['PT6H'], deadlineShare: 1 },
    });
    const { outcome, plan } = await simulate(s, cfg);
    const first = plan.batches[0];
    expect(first && Date.parse(first.startAt)).toBeGreaterThan(Date.parse(s.start) + 6 * 60 * MINUTE);
    expect(outcome.apiCalls.ModifyInstanceEventStartTime).toBe(2);
    expect(outcome.clearedByForestall).toBe(2);
  });
});

describe('the whole fleet limits used by the tests', () => {
  it('groupLimits counts the whole group', async () => {
    const cfg = config();
    const { ports } = await planned(scenario({ groups: [{ name: 'web', count: 4 }] }), cfg);
    expect(groupLimits(await ports.fleet.describeFacts(), cfg).get('az=us-east-1a')).toBe(1);
  });
});

describe('halt and approval', () => {
  it('halts at the next step when an operator sets the flag: later batches untouched, reschedules not made', async () => {
    const cfg = config({ waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S', failureBudget: 0 }] });
    const { world, ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 12 }] }), cfg);
    const reporter = {
      emit: async (event: Parameters<typeof ports.reporter.emit>[0], id: string) => {
        await ports.reporter.emit(event, id);
        if (event.detailType === 'Batch Completed' && event.detail.batchIndex === 0)
          await ports.ledger.requestHalt(plan.rolloutId, 'change freeze');
      },
    };
    const result = await runLocalRollout(plan, cfg, { ...ports, reporter }, { region, limits: new Map() });
    expect(plan.batches.length).toBeGreaterThan(1);
    expect(result.halted).toBe(true);
    expect(result.haltReason).toBe('halted by an operator: change freeze');
    expect(result.batches).toHaveLength(1);
    expect(result.notRun).toBe(12 - (plan.batches[0]?.items.length ?? 0));
    expect(world.apiCalls.RebootInstances).toBe(1);
    expect(ports.reporter.count('Rollout Halted')).toBe(1);
  });

  it('waits for an approval that comes later, and halts when none comes within the timeout', async () => {
    const cfg = config({
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S', approval: true }],
      maxUnavailablePerGroup: '100%',
    });
    const { world, ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 2 }] }), cfg);
    let asked = 0;
    const approvals = {
      request: async () => {
        asked++;
      },
      // The operator answers two hours after the request.
      decision: async () =>
        world.now >= Date.parse(plan.batches[0]?.startAt ?? '') + 2 * 3_600_000
          ? ('approved' as const)
          : undefined,
    };
    const result = await runLocalRollout(plan, cfg, { ...ports, approvals }, { region, limits: new Map() });
    expect(asked).toBe(1);
    expect(result.items.map((i) => i.outcome)).toEqual(['verified', 'verified']);
    const never = await planned(scenario({ groups: [{ name: 'web', count: 2 }] }), cfg);
    const silent = { request: async () => {}, decision: async () => undefined };
    const halted = await runLocalRollout(
      never.plan,
      cfg,
      { ...never.ports, approvals: silent },
      { region, limits: new Map() },
    );
    expect(halted.haltReason).toBe('batch 0 (all) was not approved within 24h');
    const requested = never.ports.reporter.events.find((e) => e.detailType === 'Approval Requested');
    const gaveUp = never.ports.reporter.events.find((e) => e.detailType === 'Rollout Halted');
    const waited = Date.parse(gaveUp?.time ?? '') - Date.parse(requested?.time ?? '');
    expect(waited).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(waited).toBeLessThanOrEqual(24 * 3_600_000 + 5 * 60_000); // within a poll or so
    expect(never.world.apiCalls.RebootInstances).toBeUndefined();
  });
});
