/** Pins each Auto Scaling semantic the simulator promises (AWS-FACTS §9), through its AWS-shaped API. */

import { parseConfig } from '../../lambda/core/config';
import { Rng } from '../../sim/rng';
import { buildFleet, parseScenario, regionOf } from '../../sim/scenario';
import { simulate } from '../../sim/simulate';
import { errorCode, group, HOUR, idOf, MIN, region, stateName, T0 } from './region';

const web = (ids: readonly string[], decrement: boolean) => ({
  AutoScalingGroupName: 'web',
  InstanceIds: ids,
  ShouldDecrementDesiredCapacity: decrement,
});
const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => idOf(from + k));
const stopEvent = {
  instanceId: idOf(0),
  eventId: 'instance-event-stop',
  code: 'instance-stop',
  notBefore: T0 + 48 * HOUR,
  notAfter: T0 + 50 * HOUR,
};

describe('Auto Scaling health checks: an unhealthy InService member is replaced', () => {
  it('replaces a member stopped without Standby: new id in service, old terminated, its event gone as `replaced`', () => {
    const w = region({ members: 4, events: [stopEvent] });
    w.advanceTo(T0 + 30_000);
    w.stopInstances([idOf(0)]);
    w.advanceTo(T0 + MIN); // the health check after the stop
    expect(w.replacedByAsg).toEqual([idOf(0)]);
    const during = group(w);
    expect(during.members[idOf(0)]).toBe('Terminating');
    const [fresh, ...more] = Object.keys(during.members).filter((id) => !ids(0, 4).includes(id));
    expect(more).toEqual([]);
    expect(fresh).toBeDefined();
    expect(during.members[fresh ?? '']).toBe('Pending');
    expect(during.desired).toBe(4);

    w.advanceTo(T0 + 5 * MIN);
    const after = group(w);
    expect(after.members[idOf(0)]).toBeUndefined();
    expect(after.members[fresh ?? '']).toBe('InService');
    expect(stateName(w, idOf(0))).toBe('terminated');
    expect(stateName(w, fresh ?? '')).toBe('running');
    expect(errorCode(() => w.startInstances([idOf(0)]))).toBe('IncorrectInstanceState');
    expect(w.eventResolutions()).toEqual([
      expect.objectContaining({
        eventId: 'instance-event-stop',
        resolvedBy: 'replaced',
        resolvedAt: T0 + MIN,
      }),
    ]);
    // The outage lasts until the replacement is in service (launched at T0+1min, 3 min to launch).
    expect(w.outagesUntil(T0 + HOUR)).toEqual([
      { instanceId: idOf(0), from: T0 + 30_000, to: T0 + 4 * MIN, cause: 'forestall' },
    ]);
  });

  it('never replaces a member in Standby: stopped, started, back in service, same id', () => {
    const w = region({ members: 4, events: [stopEvent] });
    w.autoscaling.enterStandby(web([idOf(0)], true));
    expect(group(w)).toMatchObject({ desired: 3, members: { [idOf(0)]: 'Standby' } });
    w.stopInstances([idOf(0)]);
    w.advanceTo(T0 + 30 * MIN);
    w.startInstances([idOf(0)]);
    w.advanceTo(T0 + 40 * MIN);
    expect(w.replacedByAsg).toEqual([]);
    expect(w.eventResolutions()[0]?.resolvedBy).toBe('forestall');
    w.autoscaling.exitStandby({ AutoScalingGroupName: 'web', InstanceIds: [idOf(0)] });
    expect(group(w)).toMatchObject({ desired: 4, members: { [idOf(0)]: 'Pending' } });
    w.advanceTo(T0 + 41 * MIN);
    expect(group(w).members).toEqual(Object.fromEntries(ids(0, 4).map((id) => [id, 'InService'])));
  });

  it('replaces a member handed back from Standby still stopped, at the next check', () => {
    const w = region({ members: 2 });
    w.autoscaling.enterStandby(web([idOf(0)], true));
    w.stopInstances([idOf(0)]);
    const azs = () =>
      (w.autoscaling.describeAutoScalingGroups().AutoScalingGroups[0] as { AvailabilityZones: string[] })
        .AvailabilityZones;
    expect(azs()).toEqual(['us-east-1a', 'us-east-1b']);
    w.advanceTo(T0 + 10 * MIN);
    w.autoscaling.exitStandby({ AutoScalingGroupName: 'web', InstanceIds: [idOf(0)] });
    expect(azs()).toEqual(['us-east-1a', 'us-east-1b']);
    w.advanceTo(T0 + 12 * MIN);
    expect(w.replacedByAsg).toEqual([idOf(0)]);
  });

  it('tolerates impaired status checks for asgImpairedTolerance, then replaces the member', () => {
    const w = region({ members: 2, behaviour: { neverHealthyRate: 1, asgImpairedTolerance: 10 * MIN } });
    w.rebootInstances([idOf(0)]); // down 2 min, then 3 min of checks that end impaired at T0+5min
    w.advanceTo(T0 + 14 * MIN);
    expect(w.replacedByAsg).toEqual([]);
    w.advanceTo(T0 + 16 * MIN);
    expect(w.replacedByAsg).toEqual([idOf(0)]);
  });

  it('replaces members AWS itself stopped for their event (the event was AWS`s)', () => {
    const w = region({ members: 2, events: [stopEvent] });
    w.advanceTo(T0 + 48 * HOUR + 5 * MIN);
    expect(w.replacedByAsg).toEqual([idOf(0)]);
    expect(w.eventResolutions()[0]?.resolvedBy).toBe('aws');
  });

  it('does nothing with its health checks off (asgHealthCheckInterval 0)', () => {
    const w = region({ members: 2, behaviour: { asgHealthCheckInterval: 0 } });
    w.stopInstances([idOf(0)]);
    w.advanceTo(T0 + HOUR);
    expect(w.replacedByAsg).toEqual([]);
    expect(stateName(w, idOf(0))).toBe('stopped');
  });

  it('starts stopped members in Standby and counts only running ones in desired capacity', () => {
    const w = region({ members: 3, stopped: [1] });
    expect(group(w)).toMatchObject({ desired: 2, members: { [idOf(1)]: 'Standby', [idOf(0)]: 'InService' } });
    w.advanceTo(T0 + HOUR);
    expect(w.replacedByAsg).toEqual([]);
  });
});

describe('EnterStandby and ExitStandby refuse what AWS refuses (ValidationError for the whole call)', () => {
  it('takes at most 20 instance ids', () => {
    const w = region({ members: 25 });
    expect(errorCode(() => w.autoscaling.enterStandby(web(ids(0, 21), true)))).toBe('ValidationError');
    expect(group(w).desired).toBe(25);
    w.autoscaling.enterStandby(web(ids(0, 20), true));
    expect(group(w).desired).toBe(5);
    expect(
      errorCode(() => w.autoscaling.exitStandby({ AutoScalingGroupName: 'web', InstanceIds: ids(0, 21) })),
    ).toBe('ValidationError');
  });

  it('refuses an instance that is not InService, or not in the group', () => {
    const w = region({ members: 3, stopped: [2] });
    expect(errorCode(() => w.autoscaling.enterStandby(web([idOf(0), idOf(2)], true)))).toBe(
      'ValidationError',
    );
    expect(group(w).members[idOf(0)]).toBe('InService'); // one bad id spoils the call
    expect(errorCode(() => w.autoscaling.enterStandby(web(['i-00000000000000fff'], true)))).toBe(
      'ValidationError',
    );
    expect(
      errorCode(() => w.autoscaling.exitStandby({ AutoScalingGroupName: 'web', InstanceIds: [idOf(0)] })),
    ).toBe('ValidationError');
  });

  it('refuses to decrement desired capacity below MinSize', () => {
    const w = region({ members: 4, minSize: 3 });
    expect(errorCode(() => w.autoscaling.enterStandby(web(ids(0, 2), true)))).toBe('ValidationError');
    w.autoscaling.enterStandby(web([idOf(0)], true));
    expect(group(w).desired).toBe(3);
    expect(errorCode(() => w.autoscaling.enterStandby(web([idOf(1)], true)))).toBe('ValidationError');
  });

  it('without a decrement launches a replacement that counts toward the group', () => {
    const w = region({ members: 4, minSize: 4 });
    w.autoscaling.enterStandby(web([idOf(0)], false));
    const g = group(w);
    expect(g.desired).toBe(4);
    const fresh = Object.keys(g.members).filter((id) => !ids(0, 4).includes(id));
    expect(fresh).toHaveLength(1);
    expect(g.members[fresh[0] ?? '']).toBe('Pending');
    w.advanceTo(T0 + 3 * MIN);
    expect(group(w).members[fresh[0] ?? '']).toBe('InService');
    expect(stateName(w, fresh[0] ?? '')).toBe('running');
    expect(w.replacedByAsg).toEqual([]);
  });

  it('ExitStandby refuses to raise desired capacity above MaxSize', () => {
    const w = region({ members: 4, minSize: 4, maxSize: 4 });
    w.autoscaling.enterStandby(web([idOf(0)], false));
    expect(
      errorCode(() => w.autoscaling.exitStandby({ AutoScalingGroupName: 'web', InstanceIds: [idOf(0)] })),
    ).toBe('ValidationError');
    expect(group(w)).toMatchObject({ desired: 4, members: { [idOf(0)]: 'Standby' } });
  });

  it('refuses with ResourceContention at resourceContentionRate', () => {
    const always = region({ members: 4, behaviour: { resourceContentionRate: 1 } });
    expect(errorCode(() => always.autoscaling.enterStandby(web([idOf(0)], true)))).toBe('ResourceContention');
    expect(group(always).members[idOf(0)]).toBe('InService');
    const half = region({ members: 40, behaviour: { resourceContentionRate: 0.5 } });
    const codes = ids(0, 40).map((id) => errorCode(() => half.autoscaling.enterStandby(web([id], false))));
    expect(codes.filter((c) => c === 'ResourceContention').length).toBeGreaterThan(5);
    expect(codes.filter((c) => c === '').length).toBeGreaterThan(5);
  });
});

describe('DescribeAutoScalingGroups', () => {
  it('answers the AWS shape', () => {
    const w = region({ members: 2 });
    const out = w.autoscaling.describeAutoScalingGroups();
    expect(out).toEqual({
      AutoScalingGroups: [
        expect.objectContaining({
          AutoScalingGroupName: 'web',
          MinSize: 0,
          MaxSize: 4,
          DesiredCapacity: 2,
          HealthCheckType: 'EC2',
          Instances: [
            expect.objectContaining({
              InstanceId: idOf(0),
              LifecycleState: 'InService',
              HealthStatus: 'Healthy',
              AvailabilityZone: 'us-east-1a',
            }),
            expect.objectContaining({ InstanceId: idOf(1), AvailabilityZone: 'us-east-1b' }),
          ],
        }),
      ],
    });
    expect(
      w.autoscaling.describeAutoScalingGroups({ AutoScalingGroupNames: ['nope'] }).AutoScalingGroups,
    ).toEqual([]);
    expect(errorCode(() => w.autoscaling.describeAutoScalingGroups({ MaxRecords: 101 }))).toBe(
      'ValidationError',
    );
  });

  it('answers each member as it is now, after lifecycle changes and launches since an earlier call', () => {
    const w = region({ members: 3 });
    expect(group(w).members).toEqual({
      [idOf(0)]: 'InService',
      [idOf(1)]: 'InService',
      [idOf(2)]: 'InService',
    });
    w.autoscaling.enterStandby(web([idOf(0)], false)); // not decrementing: a replacement is launched
    const after = group(w).members;
    expect(after[idOf(0)]).toBe('Standby');
    const launched = Object.keys(after).filter((id) => !ids(0, 3).includes(id));
    expect(launched).toHaveLength(1);
    expect(after[launched[0] ?? '']).toBe('Pending');
    // The launched instance is in EC2's listing too, in instance id order, paged like the others.
    const listed = (
      w.describeInstances({ MaxResults: 5 }) as {
        Reservations: Array<{ Instances: Array<{ InstanceId: string }> }>;
      }
    ).Reservations.map((r) => r.Instances[0]?.InstanceId);
    expect(listed).toEqual([...ids(0, 3), ...launched].sort());
    const azs = () =>
      (w.autoscaling.describeAutoScalingGroups().AutoScalingGroups[0] as { AvailabilityZones: string[] })
        .AvailabilityZones;
    expect(azs()).toEqual(['us-east-1a', 'us-east-1b']);
    w.advanceTo(T0 + 10 * MIN);
    w.autoscaling.exitStandby({ AutoScalingGroupName: 'web', InstanceIds: [idOf(0)] });
    expect(azs()).toEqual(['us-east-1a', 'us-east-1b']);
    expect(group(w).members[idOf(0)]).toBe('Pending');
    expect(group(w).members[launched[0] ?? '']).toBe('InService');
  });

  it('throttles with its own bucket (Throttling)', () => {
    const w = region({ members: 2, behaviour: { throttling: true } });
    const codes = Array.from({ length: 60 }, () =>
      errorCode(() => w.autoscaling.describeAutoScalingGroups()),
    );
    expect(codes.filter((c) => c === 'Throttling').length).toBeGreaterThan(0);
    expect(w.describeInstances([idOf(0)])).toBeDefined(); // EC2's buckets are untouched
  });
});

describe('scenario groups with `asg` are Auto Scaling groups', () => {
  const scenario = (groups: unknown[]) =>
    parseScenario({
      start: '2026-12-01T00:00:00Z',
      azs: ['us-east-1a', 'us-east-1b'],
      groups,
      events: { affected: 0, mix: {}, slots: ['P3D'] },
    });

  it('sizes them by default from the members (desired = running, min = half, max = twice) and pages them', () => {
    const fleet = buildFleet(
      scenario([
        { asg: 'web', count: 9, stopped: 0.3 },
        { asg: 'api', count: 4 },
      ]),
    );
    const w = regionOf(fleet, new Rng(1));
    const web = group(w, 'web');
    const running = fleet.instances.filter(
      (i) => i.tags['aws:autoscaling:groupName'] === 'web' && i.state === 'running',
    );
    expect(running.length).toBeLessThan(9);
    expect(web).toMatchObject({ desired: running.length, min: Math.min(running.length, 5), max: 18 });
    expect(Object.values(web.members).filter((s) => s === 'Standby')).toHaveLength(9 - running.length);
    const first = w.autoscaling.describeAutoScalingGroups({ MaxRecords: 1 });
    expect(first.NextToken).toBeDefined();
    const second = w.autoscaling.describeAutoScalingGroups({ MaxRecords: 1, NextToken: first.NextToken });
    const names = [...first.AutoScalingGroups, ...second.AutoScalingGroups].map(
      (g) => (g as { AutoScalingGroupName: string }).AutoScalingGroupName,
    );
    expect(names).toEqual(['api', 'web']);
    expect(second.NextToken).toBeUndefined();
  });

  it('takes explicit sizes, and refuses sizes that cannot hold', () => {
    const w = regionOf(
      buildFleet(scenario([{ asg: 'web', count: 4, minSize: 4, maxSize: 6, desiredCapacity: 5 }])),
      new Rng(1),
    );
    // One more than the running members: the group launches it.
    expect(group(w)).toMatchObject({ desired: 5, min: 4, max: 6 });
    expect(Object.values(group(w).members).filter((s) => s === 'Pending')).toHaveLength(1);
    expect(() => scenario([{ asg: 'web', count: 4, minSize: 5, desiredCapacity: 4 }])).toThrow(
      /minSize <= desiredCapacity/,
    );
    expect(() => scenario([{ name: 'x', count: 4, minSize: 1 }])).toThrow(/need `asg`/);
    expect(() => buildFleet(scenario([{ asg: 'web', count: 4, desiredCapacity: 2 }]))).toThrow(
      /desiredCapacity 2 is below its 4 members running/,
    );
  });
});

describe('simulate() outcomes with Auto Scaling and a load balancer', () => {
  it('counts members replaced and traffic disrupted, for the rollout and for AWS alone', async () => {
    const s = parseScenario({
      start: '2026-12-01T00:00:00Z',
      azs: ['us-east-1a', 'us-east-1b'],
      groups: [{ asg: 'web', count: 10, targetGroup: 'web' }],
      events: { affected: 1, mix: { 'instance-stop': 1 }, slots: ['P3D'], history: 0 },
      behaviour: { throttling: false },
    });
    const config = parseConfig({
      dryRun: false,
      maxUnavailablePerGroup: '50%',
      waves: [{ name: 'all', maxParallel: '50%', bake: 'PT0S', failureBudget: '100%' }],
    });
    const { outcome } = await simulate(s, config);
    // AWS stops every member at its event; Auto Scaling replaces each one, and each stop cut traffic.
    expect(outcome.awsOnly).toMatchObject({ replacedByAsg: 10, disruptedWhileServing: 10 });
    // Forestall puts each member in Standby before its stop-start and back after: none replaced, no
    // traffic cut, every event cleared ahead of AWS.
    expect(outcome.replacedByAsg).toBe(0);
    expect(outcome.disruptedWhileServing.forestall).toBe(0);
    expect(outcome.clearedByForestall).toBe(10);
    expect(outcome.apiCalls.EnterStandby).toBeGreaterThan(0);
    expect(outcome.apiCalls.ExitStandby).toBe(outcome.apiCalls.EnterStandby);
  });
});
