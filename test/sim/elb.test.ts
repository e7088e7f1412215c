/** Pins the load-balancer target semantics and traffic disruption (AWS-FACTS §9), through the ELB API's shapes. */
import type { SimEc2 } from '../../sim/ec2';
import { errorCode, group, idOf, MIN, region, T0, TG } from './region';

const targets = (...ids: string[]) => ({ TargetGroupArn: TG, Targets: ids.map((Id) => ({ Id })) });

function health(w: SimEc2, id: string): { State: string; Reason?: string } {
  const out = w.elb.describeTargetHealth(targets(id)) as {
    TargetHealthDescriptions: Array<{ TargetHealth: { State: string; Reason?: string } }>;
  };
  const h = out.TargetHealthDescriptions[0]?.TargetHealth;
  if (!h) throw new Error('no target health');
  return h;
}

function listed(w: SimEc2): string[] {
  const out = w.elb.describeTargetHealth({ TargetGroupArn: TG }) as {
    TargetHealthDescriptions: Array<{ Target: { Id: string } }>;
  };
  return out.TargetHealthDescriptions.map((d) => d.Target.Id);
}

describe('targets registered directly in a target group', () => {
  it('deregistration: draining for the deregistration delay, then gone (unused, NotRegistered)', () => {
    const w = region({ direct: { count: 2, delay: 120 } });
    expect(health(w, idOf(0)).State).toBe('healthy');
    w.elb.deregisterTargets(targets(idOf(0)));
    expect(health(w, idOf(0))).toMatchObject({
      State: 'draining',
      Reason: 'Target.DeregistrationInProgress',
    });
    w.advanceTo(T0 + 119_999);
    expect(health(w, idOf(0)).State).toBe('draining');
    expect(listed(w)).toEqual([idOf(0), idOf(1)]);
    w.advanceTo(T0 + 120_000);
    expect(health(w, idOf(0))).toEqual({
      State: 'unused',
      Reason: 'Target.NotRegistered',
      Description: 'Target is not registered to the target group',
    });
    expect(listed(w)).toEqual([idOf(1)]);
    expect(w.elb.describeTargetGroupAttributes({ TargetGroupArn: TG }).Attributes).toContainEqual({
      Key: 'deregistration_delay.timeout_seconds',
      Value: '120',
    });
  });

  it('registration: initial, then healthy once the instance runs with ok checks (unhealthy meanwhile)', () => {
    const w = region({ direct: { count: 1, delay: 300 } });
    w.elb.deregisterTargets(targets(idOf(0)));
    w.advanceTo(T0 + 5 * MIN);
    w.rebootInstances([idOf(0)]); // 2 min down, 3 min of status checks: ok at T0+10min
    w.elb.registerTargets(targets(idOf(0)));
    expect(health(w, idOf(0))).toMatchObject({ State: 'initial', Reason: 'Elb.RegistrationInProgress' });
    w.advanceTo(T0 + 5 * MIN + 150_000);
    expect(health(w, idOf(0))).toMatchObject({ State: 'unhealthy', Reason: 'Target.FailedHealthChecks' });
    w.advanceTo(T0 + 10 * MIN);
    expect(health(w, idOf(0))).toEqual({ State: 'healthy' });
  });

  it('refuses to register a stopped instance, and shows a registered one that stops as unused', () => {
    const w = region({ direct: { count: 2, delay: 300 }, stopped: [1] });
    expect(health(w, idOf(1))).toMatchObject({ State: 'unused', Reason: 'Target.InvalidState' });
    w.elb.deregisterTargets(targets(idOf(1)));
    w.advanceTo(T0 + 10 * MIN);
    expect(errorCode(() => w.elb.registerTargets(targets(idOf(1))))).toBe('InvalidTarget');
    expect(errorCode(() => w.elb.registerTargets(targets('i-00000000000000fff')))).toBe('InvalidTarget');
    expect(errorCode(() => w.elb.registerTargets({ ...targets(idOf(0)), TargetGroupArn: `${TG}x` }))).toBe(
      'TargetGroupNotFound',
    );
  });
});

describe('traffic disruption: an instance that goes down while it takes traffic', () => {
  it('counts a serving instance rebooted, not one deregistered first (draining or drained)', () => {
    const w = region({ direct: { count: 3, delay: 60 } });
    w.rebootInstances([idOf(0)]);
    w.elb.deregisterTargets(targets(idOf(1), idOf(2)));
    w.rebootInstances([idOf(2)]); // draining: the load balancer sends it no new requests
    w.advanceTo(T0 + MIN);
    w.rebootInstances([idOf(1)]); // drained
    expect(w.disruptedWhileServing).toEqual([{ instanceId: idOf(0), at: T0, cause: 'forestall' }]);
  });

  it('counts AWS performing an event on a serving instance as AWS`s disruption', () => {
    const at = T0 + 48 * 60 * MIN;
    const w = region({
      direct: { count: 1, delay: 300 },
      events: [{ instanceId: idOf(0), eventId: 'instance-event-1', code: 'system-reboot', notBefore: at }],
    });
    w.advanceTo(at + MIN);
    expect(w.disruptedWhileServing).toEqual([{ instanceId: idOf(0), at, cause: 'aws' }]);
  });

  it('does not count an instance in no target group', () => {
    const w = region({ members: 2 });
    w.rebootInstances([idOf(0)]);
    expect(w.disruptedWhileServing).toEqual([]);
  });
});

describe('Auto Scaling group with a target group attached', () => {
  it('Standby drains the member first (EnteringStandby for the delay); a reboot then disrupts nothing', () => {
    const w = region({ members: 3, asgTargetGroupDelay: 120 });
    expect(listed(w)).toEqual([idOf(0), idOf(1), idOf(2)]);
    w.autoscaling.enterStandby({
      AutoScalingGroupName: 'web',
      InstanceIds: [idOf(0)],
      ShouldDecrementDesiredCapacity: true,
    });
    expect(group(w).members[idOf(0)]).toBe('EnteringStandby');
    expect(health(w, idOf(0)).State).toBe('draining');
    w.advanceTo(T0 + 2 * MIN);
    expect(group(w).members[idOf(0)]).toBe('Standby');
    expect(health(w, idOf(0)).State).toBe('unused');
    w.rebootInstances([idOf(0)]);
    w.rebootInstances([idOf(1)]); // still InService behind the load balancer
    expect(w.disruptedWhileServing.map((d) => d.instanceId)).toEqual([idOf(1)]);

    w.advanceTo(T0 + 10 * MIN);
    w.autoscaling.exitStandby({ AutoScalingGroupName: 'web', InstanceIds: [idOf(0)] });
    expect(health(w, idOf(0)).State).toBe('initial');
    w.advanceTo(T0 + 13 * MIN);
    expect(group(w).members[idOf(0)]).toBe('InService');
    expect(health(w, idOf(0)).State).toBe('healthy');
  });

  it('registers the replacement of a member it terminated, and drains the terminated one', () => {
    const w = region({ members: 2, asgTargetGroupDelay: 300 });
    w.stopInstances([idOf(0)]);
    w.advanceTo(T0 + MIN);
    expect(w.replacedByAsg).toEqual([idOf(0)]);
    expect(health(w, idOf(0)).State).toBe('draining');
    w.advanceTo(T0 + 4 * MIN);
    const fresh = Object.keys(group(w).members).find((id) => id !== idOf(1));
    expect(fresh).toBeDefined();
    expect(health(w, fresh ?? '').State).toBe('initial');
    w.advanceTo(T0 + 7 * MIN);
    expect(health(w, fresh ?? '').State).toBe('healthy');
    expect(w.disruptedWhileServing).toEqual([{ instanceId: idOf(0), at: T0, cause: 'forestall' }]);
  });
});
