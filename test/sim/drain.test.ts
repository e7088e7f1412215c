/** SimDrain (the drain port) over the simulated Auto Scaling and ELB APIs: shapes parsed, errors pinned, retries. */
import { ASG_TAG } from '../../lambda/core/facts';
import { SimEc2 } from '../../sim/ec2';
import { SimDrain, simPorts } from '../../sim/ports';
import { Rng } from '../../sim/rng';
import { FIXED, group, idOf, instance, MIN, region, T0, TG } from './region';

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => idOf(from + k));
const drainOf = (w: SimEc2) => new SimDrain(w, new Rng(2));

describe('SimDrain: Auto Scaling Standby', () => {
  it('describes groups as AutoScalingGroupState and omits unknown names', async () => {
    const w = region({ members: 3, minSize: 1, maxSize: 5, stopped: [2] });
    expect(await drainOf(w).describeGroups(['web', 'nope', 'web'])).toEqual([
      {
        name: 'web',
        minSize: 1,
        maxSize: 5,
        desiredCapacity: 2,
        members: { [idOf(0)]: 'InService', [idOf(1)]: 'InService', [idOf(2)]: 'Standby' },
      },
    ]);
  });

  it('enters and exits Standby; one bad id fails the call at AWS and is pinned on that id', async () => {
    const w = region({ members: 4, stopped: [3] });
    const drain = drainOf(w);
    const out = await drain.enterStandby('web', [idOf(0), idOf(3), idOf(1)], true);
    expect(out.map((o) => [o.instanceId, o.ok])).toEqual([
      [idOf(0), true],
      [idOf(3), false],
      [idOf(1), true],
    ]);
    expect(out[1]?.error).toBe(`ValidationError: The instance ${idOf(3)} is not in InService.`);
    expect(out[1]?.retryable).toBeUndefined();
    expect(w.apiCalls.EnterStandby).toBe(4); // the batch, then one call per id
    expect(group(w)).toMatchObject({ desired: 1, members: { [idOf(0)]: 'Standby', [idOf(1)]: 'Standby' } });
    expect((await drain.exitStandby('web', [idOf(0), idOf(1)])).every((o) => o.ok)).toBe(true);
    expect(group(w).desired).toBe(3);
  });

  it('refuses more than STANDBY_BATCH ids without calling AWS', async () => {
    const w = region({ members: 25 });
    const out = await drainOf(w).enterStandby('web', ids(0, 21), true);
    expect(out).toHaveLength(21);
    expect(out.every((o) => !o.ok && o.error?.startsWith('ValidationError: at most 20'))).toBe(true);
    expect(w.apiCalls.EnterStandby).toBeUndefined();
  });

  it('retries ResourceContention, and reports it retryable when it outlasts the retries', async () => {
    const w = region({ members: 4, behaviour: { resourceContentionRate: 1 } });
    const out = await drainOf(w).enterStandby('web', [idOf(0)], true);
    expect(out).toEqual([expect.objectContaining({ instanceId: idOf(0), ok: false, retryable: true })]);
    expect(w.apiCalls.EnterStandby).toBe(8);
    expect(w.now).toBeGreaterThan(T0); // it backed off
    const some = region({ members: 4, behaviour: { resourceContentionRate: 0.5 } });
    expect((await drainOf(some).enterStandby('web', [idOf(0)], true))[0]?.ok).toBe(true);
  });

  it('rides out Auto Scaling throttling', async () => {
    const w = region({ members: 2, behaviour: { throttling: true } });
    const drain = drainOf(w);
    for (let k = 0; k < 60; k++) expect(await drain.describeGroups(['web'])).toHaveLength(1);
    expect(w.throttled).toBeGreaterThan(0);
  });
});

describe('SimDrain: target groups', () => {
  /** Two direct targets and an Auto Scaling group of two members attached to the same target group. */
  function mixed(): SimEc2 {
    const specs = [
      instance(0, { tags: { [ASG_TAG]: 'web' } }),
      instance(1, { tags: { [ASG_TAG]: 'web' } }),
      instance(2),
      instance(3),
    ];
    return new SimEc2(T0, specs, [], FIXED, new Rng(1), {
      autoScalingGroups: [
        {
          name: 'web',
          minSize: 0,
          maxSize: 4,
          desiredCapacity: 2,
          instanceIds: ids(0, 2),
          targetGroupArns: [TG],
        },
      ],
      targetGroups: [{ arn: TG, name: 'web', deregistrationDelayMs: 60_000, instanceIds: ids(2, 4) }],
    });
  }

  it('describes only direct registrations (not Auto Scaling members), with the group`s delay', async () => {
    const w = mixed();
    const drain = drainOf(w);
    expect(await drain.describeTargets(ids(0, 4))).toEqual([
      { targetGroupArn: TG, instanceId: idOf(2), state: 'healthy', deregistrationDelayMs: 60_000 },
      { targetGroupArn: TG, instanceId: idOf(3), state: 'healthy', deregistrationDelayMs: 60_000 },
    ]);
    expect(await drain.describeTargets([idOf(3)])).toHaveLength(1);
  });

  it('deregisters (draining, then gone) and registers again (initial, then healthy)', async () => {
    const w = mixed();
    const drain = drainOf(w);
    expect((await drain.deregisterTargets(TG, [idOf(2)])).every((o) => o.ok)).toBe(true);
    expect((await drain.describeTargets([idOf(2)]))[0]?.state).toBe('draining');
    w.advanceTo(T0 + MIN);
    expect(await drain.describeTargets([idOf(2)])).toEqual([]);
    const bad = await drain.registerTargets(TG, [idOf(2), 'i-00000000000000fff']);
    expect(bad.map((o) => o.ok)).toEqual([true, false]);
    expect(bad[1]?.error).toMatch(/^InvalidTarget: /);
    expect((await drain.describeTargets([idOf(2)]))[0]?.state).toBe('initial');
    w.advanceTo(T0 + 4 * MIN);
    expect((await drain.describeTargets([idOf(2)]))[0]?.state).toBe('healthy');
  });

  it('is part of simPorts', () => {
    const ports = simPorts(region({ members: 1 }), 'us-east-1', new Rng(2));
    expect(ports.drain).toBeInstanceOf(SimDrain);
  });
});
