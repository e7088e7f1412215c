/**
 * The benchmark's baselines (sim/strategies.ts) driving the simulated Region: what operators do today, with
 * the consequences AWS-FACTS §1, §6 and §9 predict.
 */
import { HOUR, MINUTE } from '../../lambda/core/time';
import { type Outage, SimApiError, SimEc2 } from '../../sim/ec2';
import { Rng } from '../../sim/rng';
import { buildFleet, type Fleet, parseScenario, regionOf } from '../../sim/scenario';
import { type BaselineTask, runFixedRate, runOnReceipt } from '../../sim/strategies';

const START = '2026-12-01T00:00:00Z';
const T0 = Date.parse(START);

interface FleetOptions {
  readonly groups: readonly Record<string, unknown>[];
  readonly mix: Record<string, number>;
  readonly behaviour?: Record<string, unknown>;
  readonly seed?: number;
}

function fleetOf(o: FleetOptions): Fleet {
  const scenario = parseScenario({
    start: START,
    seed: o.seed ?? 7,
    azs: ['us-east-1a', 'us-east-1b'],
    groups: o.groups,
    events: { affected: 1, mix: o.mix, slots: ['P3D'], history: 0 },
    behaviour: { rebootMigrationSuccess: 1, throttling: false, ...o.behaviour },
  });
  return buildFleet(scenario);
}

/** The tasks a baseline gets: each instance with its active events (what the poll would hand it). */
function tasksOf(fleet: Fleet): BaselineTask[] {
  const byInstance = new Map<string, { eventIds: string[]; codes: string[] }>();
  for (const e of fleet.events) {
    if (e.description?.startsWith('[Completed]')) continue;
    const t = byInstance.get(e.instanceId) ?? { eventIds: [], codes: [] };
    t.eventIds.push(e.eventId);
    t.codes.push(e.code);
    byInstance.set(e.instanceId, t);
  }
  return [...byInstance].map(([instanceId, t]) => ({ instanceId, ...t }));
}

/** A Region that records which instances each RebootInstances / StopInstances call named. */
class RecordingEc2 extends SimEc2 {
  readonly callsFor = new Map<string, number>();
  private count(ids: readonly string[]): void {
    for (const id of ids) this.callsFor.set(id, (this.callsFor.get(id) ?? 0) + 1);
  }
  override rebootInstances(ids: readonly string[]): void {
    this.count(ids);
    super.rebootInstances(ids);
  }
  override stopInstances(ids: readonly string[]): void {
    this.count(ids);
    super.stopInstances(ids);
  }
}

function recording(fleet: Fleet): RecordingEc2 {
  return new RecordingEc2(
    fleet.start,
    fleet.instances,
    fleet.events,
    fleet.behaviour,
    new Rng(11),
    fleet.topology,
  );
}

/** A Region whose mutating calls are always throttled: every SDK attempt fails. */
class ThrottledEc2 extends RecordingEc2 {
  override rebootInstances(ids: readonly string[]): void {
    super.rebootInstances([]); // counted as a call, acts on nothing
    for (const id of ids) this.callsFor.set(id, (this.callsFor.get(id) ?? 0) + 1);
    throw new SimApiError('RequestLimitExceeded', 'Request limit exceeded (RebootInstances).');
  }
}

const resolution = (world: SimEc2, eventId: string) =>
  world.eventResolutions().find((r) => r.eventId === eventId)?.resolvedBy;

/** The most outages of `cause` open at one instant. */
function peakOverlap(outages: readonly Outage[], cause: Outage['cause']): number {
  const edges = outages
    .filter((o) => o.cause === cause)
    .flatMap((o) => [
      [o.from, 1],
      [o.to, -1],
    ])
    .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0)); // ends before starts
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) {
    open += d ?? 0;
    peak = Math.max(peak, open);
  }
  return peak;
}

describe('on-receipt', () => {
  it('reboots at once; a user reboot clears system-reboot, but AWS still performs instance-reboot', () => {
    const fleet = fleetOf({
      groups: [{ name: 'plain', count: 12 }],
      mix: { 'system-reboot': 1, 'instance-reboot': 1 },
    });
    const world = regionOf(fleet, new Rng(3));
    const tasks = tasksOf(fleet);
    const codes = new Set(tasks.flatMap((t) => t.codes));
    expect(codes).toEqual(new Set(['system-reboot', 'instance-reboot']));

    const run = runOnReceipt(world, tasks, new Rng(4));
    expect(run.errors).toBe(0);
    expect(run.halted).toBe(false);
    expect(world.apiCalls.RebootInstances).toBe(tasks.length);
    expect(world.apiCalls.StopInstances).toBeUndefined();
    // Every instance went down at once, by the operator's hand.
    const mine = world.outagesUntil(world.now).filter((o) => o.cause === 'forestall');
    expect(new Set(mine.map((o) => o.instanceId))).toEqual(new Set(tasks.map((t) => t.instanceId)));
    for (const o of mine) expect(o.from).toBe(T0);
    // The operator believes every event handled.
    expect(run.actedOn).toEqual(new Set(tasks.flatMap((t) => t.eventIds)));

    world.advanceTo(world.lastEventTime() + HOUR);
    for (const t of tasks) {
      const [eventId] = t.eventIds;
      const by = resolution(world, eventId ?? '');
      if (t.codes[0] === 'system-reboot') expect(by).toBe('forestall');
      else expect(by).toBe('aws'); // acted on, yet performed by AWS: a second outage
    }
    const twice = tasks.filter((t) => t.codes[0] === 'instance-reboot').map((t) => t.instanceId);
    const aws = world.outagesUntil(world.now).filter((o) => o.cause === 'aws');
    expect(new Set(aws.map((o) => o.instanceId))).toEqual(new Set(twice));
  });

  it('stops then starts the other codes, and that clears them on an instance outside any group', () => {
    const fleet = fleetOf({ groups: [{ name: 'plain', count: 5 }], mix: { 'instance-stop': 1 } });
    const world = regionOf(fleet, new Rng(3));
    const tasks = tasksOf(fleet);
    const run = runOnReceipt(world, tasks, new Rng(4));
    expect(run.errors).toBe(0);
    expect(world.apiCalls.StopInstances).toBe(5);
    expect(world.apiCalls.StartInstances).toBe(5);
    expect(run.actedOn.size).toBe(5);
    world.advanceTo(world.now + 30 * MINUTE); // the start completes, before AWS's own time
    expect(world.replacedByAsg).toEqual([]);
    for (const t of tasks) expect(resolution(world, t.eventIds[0] ?? '')).toBe('forestall');
  });

  it('stops an Auto Scaling member without Standby: Auto Scaling replaces it, and that counts as an error', () => {
    const fleet = fleetOf({ groups: [{ asg: 'web', count: 6 }], mix: { 'instance-stop': 1 } });
    const world = regionOf(fleet, new Rng(3));
    const tasks = tasksOf(fleet);
    const run = runOnReceipt(world, tasks, new Rng(4));
    const ids = tasks.map((t) => t.instanceId);
    expect(new Set(world.replacedByAsg)).toEqual(new Set(ids));
    expect(run.errors).toBe(ids.length);
    expect(run.actedOn.size).toBe(0);
    expect(world.apiCalls.StartInstances).toBeUndefined();
    for (const t of tasks) expect(resolution(world, t.eventIds[0] ?? '')).toBe('replaced');
    // It sees the instance gone at once; it does not wait out the hour it gives a stop.
    expect(world.now - T0).toBeLessThan(10 * MINUTE);
  });

  it('under throttling, makes at most 3 SDK attempts in each of 3 Lambda invocations, then gives up', () => {
    const fleet = fleetOf({
      groups: [{ name: 'plain', count: 300 }],
      mix: { 'system-reboot': 1 },
      behaviour: { throttling: true },
    });
    const world = recording(fleet);
    const tasks = tasksOf(fleet);
    expect(tasks).toHaveLength(300);
    const run = runOnReceipt(world, tasks, new Rng(4));
    const failed = tasks.filter((t) => !run.actedOn.has(t.eventIds[0] ?? ''));
    expect(run.errors).toBe(failed.length);
    expect(run.errors).toBeGreaterThan(0);
    expect(run.errors).toBeLessThan(tasks.length);
    expect(world.throttled).toBeGreaterThan(0);
    for (const t of tasks) expect(world.callsFor.get(t.instanceId)).toBeLessThanOrEqual(9);
    for (const t of failed) expect(world.callsFor.get(t.instanceId)).toBe(9);
    const calls = [...world.callsFor.values()].reduce((n, k) => n + k, 0);
    expect(world.apiCalls.RebootInstances).toBe(calls);
    // The last invocation comes 1 + 2 minutes after the first; its three attempts within seconds.
    expect(world.now - T0).toBeGreaterThanOrEqual(3 * MINUTE);
    expect(world.now - T0).toBeLessThan(3 * MINUTE + 5_000);
  });

  it('always throttled: exactly 9 calls, an error, nothing acted on', () => {
    const fleet = fleetOf({ groups: [{ name: 'plain', count: 1 }], mix: { 'system-reboot': 1 } });
    const world = new ThrottledEc2(fleet.start, fleet.instances, fleet.events, fleet.behaviour, new Rng(1));
    const tasks = tasksOf(fleet);
    const run = runOnReceipt(world, tasks, new Rng(4));
    expect(world.callsFor.get(tasks[0]?.instanceId ?? '')).toBe(9);
    expect(run.errors).toBe(1);
    expect(run.actedOn.size).toBe(0);
    expect(world.now - T0).toBeGreaterThanOrEqual(3 * MINUTE);
  });

  it('refused outright (not a throttle): no SDK retries, but Lambda invokes it 3 times', () => {
    const fleet = fleetOf({
      groups: [{ name: 'plain', count: 1, stopped: 1 }],
      mix: { 'system-reboot': 1 },
    });
    const world = recording(fleet);
    const tasks = tasksOf(fleet);
    const run = runOnReceipt(world, tasks, new Rng(4));
    expect(world.callsFor.get(tasks[0]?.instanceId ?? '')).toBe(3); // IncorrectState each time
    expect(run.errors).toBe(1);
    expect(run.actedOn.size).toBe(0);
  });
});

describe('fixed-rate', () => {
  const plain = (count: number, over: Record<string, unknown> = {}) =>
    fleetOf({ groups: [{ name: 'plain', count, ...over }], mix: { 'instance-stop': 1, 'system-reboot': 1 } });

  it('never has more than `concurrency` instances out at once, and goes in instance-id order', () => {
    const fleet = plain(30);
    const world = regionOf(fleet, new Rng(3));
    const tasks = tasksOf(fleet);
    const run = runFixedRate(world, tasks, new Rng(4), { concurrency: 4, maxErrors: 100 });
    expect(run.errors).toBe(0);
    expect(run.halted).toBe(false);
    expect(run.actedOn.size).toBe(30);
    expect(world.apiCalls.StopInstances).toBe(30);
    expect(world.apiCalls.StartInstances).toBe(30);
    const mine = world.outagesUntil(world.now).filter((o) => o.cause === 'forestall');
    expect(mine).toHaveLength(30);
    expect(peakOverlap(mine, 'forestall')).toBe(4);
    const byStart = [...mine].sort((a, b) => a.from - b.from || (a.instanceId < b.instanceId ? -1 : 1));
    const ids = tasks.map((t) => t.instanceId).sort();
    expect(byStart.slice(0, 4).map((o) => o.instanceId)).toEqual(ids.slice(0, 4));
    expect(byStart.map((o) => o.instanceId)).toEqual(ids);
    // Waits poll DescribeInstances every 15 s: several per instance.
    expect(run.polls).toBeGreaterThan(2 * 30);
  });

  it('with concurrency 1, one instance at a time', () => {
    const fleet = plain(6);
    const world = regionOf(fleet, new Rng(3));
    runFixedRate(world, tasksOf(fleet), new Rng(4), { concurrency: 1, maxErrors: 0 });
    expect(peakOverlap(world.outagesUntil(world.now), 'forestall')).toBe(1);
  });

  it('stops after more than maxErrors errors, leaving the rest untouched', () => {
    // Instance-store roots cannot stop: every StopInstances is refused.
    const fleet = plain(10, { rootDevice: 'instance-store' });
    const world = regionOf(fleet, new Rng(3));
    const tasks = tasksOf(fleet);
    const run = runFixedRate(world, tasks, new Rng(4), { concurrency: 1, maxErrors: 2 });
    expect(run.errors).toBe(3);
    expect(run.halted).toBe(true);
    expect(run.actedOn.size).toBe(0);
    expect(world.apiCalls.StopInstances).toBe(3);
    expect(world.outagesUntil(world.now).filter((o) => o.cause === 'forestall')).toEqual([]);
    // The rest are left to AWS.
    world.advanceTo(world.lastEventTime() + HOUR);
    for (const t of tasks) expect(resolution(world, t.eventIds[0] ?? '')).toBe('aws');
  });

  it('does not halt at exactly maxErrors errors', () => {
    const fleet = plain(3, { rootDevice: 'instance-store' });
    const world = regionOf(fleet, new Rng(3));
    const run = runFixedRate(world, tasksOf(fleet), new Rng(4), { concurrency: 1, maxErrors: 3 });
    expect(run.errors).toBe(3);
    expect(run.halted).toBe(false);
    expect(world.apiCalls.StopInstances).toBe(3);
  });

  it('finishes the instances in flight when it halts, and starts no more', () => {
    // Every instance times out: the first error frees a slot (1 error is not more than MaxErrors 1), the
    // second halts; the instances in flight then, and only they, still run to their end.
    const fleet = fleetOf({
      groups: [{ name: 'plain', count: 10 }],
      mix: { 'instance-stop': 1 },
      behaviour: { neverHealthyRate: 1 },
    });
    const world = regionOf(fleet, new Rng(3));
    const tasks = tasksOf(fleet);
    const run = runFixedRate(world, tasks, new Rng(4), { concurrency: 3, maxErrors: 1 });
    expect(world.apiCalls.StopInstances).toBe(4);
    expect(run.errors).toBe(4);
    expect(run.halted).toBe(true);
    const touched = new Set(
      world
        .outagesUntil(world.now)
        .filter((o) => o.cause === 'forestall')
        .map((o) => o.instanceId),
    );
    expect(touched).toEqual(
      new Set(
        tasks
          .map((t) => t.instanceId)
          .sort()
          .slice(0, 4),
      ),
    );
  });

  it('stopping Auto Scaling members without Standby gets them replaced; the wait sees them gone', () => {
    const fleet = fleetOf({ groups: [{ asg: 'web', count: 4 }], mix: { 'instance-stop': 1 } });
    const world = regionOf(fleet, new Rng(3));
    const tasks = tasksOf(fleet);
    const run = runFixedRate(world, tasks, new Rng(4), { concurrency: 2, maxErrors: 10 });
    expect(new Set(world.replacedByAsg)).toEqual(new Set(tasks.map((t) => t.instanceId)));
    expect(run.errors).toBe(4);
    expect(run.actedOn.size).toBe(0);
    expect(world.apiCalls.StartInstances).toBeUndefined();
    // Not the 20-minute timeout: each wait ends at the first poll after the replacement.
    expect(run.polls).toBeLessThanOrEqual(4 * 10);
    expect(world.now - T0).toBeLessThan(20 * MINUTE);
  });

  it('counts an instance that never comes back healthy as an error after the timeout', () => {
    const fleet = fleetOf({
      groups: [{ name: 'plain', count: 2 }],
      mix: { 'instance-stop': 1 },
      behaviour: { neverHealthyRate: 1 },
    });
    const world = regionOf(fleet, new Rng(3));
    const run = runFixedRate(world, tasksOf(fleet), new Rng(4), {
      concurrency: 2,
      maxErrors: 5,
      timeout: 10 * MINUTE,
    });
    expect(run.errors).toBe(2);
    expect(run.actedOn.size).toBe(0);
    expect(world.now - T0).toBeGreaterThanOrEqual(10 * MINUTE);
  });
});
