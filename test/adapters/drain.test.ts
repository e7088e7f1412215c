/**
 * What moto cannot produce (aws-sdk-client-mock, no server): a call that gets no HTTP reply at all (a timeout
 * or a reset connection) is ambiguous and never re-sent; and the opt-in re-check's own read failing.
 * Throttling, ResourceContention and 5xx replies are served by the moto launcher (test/aws/drain.test.ts).
 */
import { AutoScalingClient, EnterStandbyCommand, ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import {
  DeregisterTargetsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsDrain } from '../../lambda/aws/asg-drain';
import { OptInFleet } from '../../lambda/aws/opt-in';
import { ThrottledError } from '../../lambda/core/batch';
import type { FleetPort } from '../../lambda/core/ports';

const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const region = 'us-east-1';
const clients = {
  autoScalingRead: new AutoScalingClient({ region }),
  autoScalingWrite: new AutoScalingClient({ region, maxAttempts: 1 }),
  elbRead: new ElasticLoadBalancingV2Client({ region }),
  elbWrite: new ElasticLoadBalancingV2Client({ region, maxAttempts: 1 }),
};
const drain = new AwsDrain(clients, { sleep: async () => {} });

beforeEach(() => {
  asg.reset();
  elb.reset();
});

describe('AwsDrain without a reply', () => {
  it('a timed-out EnterStandby is ambiguous for every id, sent once, never split', async () => {
    asg.on(EnterStandbyCommand).rejects(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    const out = await drain.enterStandby('web', ['i-1', 'i-2'], true);
    expect(out).toEqual([
      { instanceId: 'i-1', ok: false, ambiguous: true, error: 'TimeoutError: timed out' },
      { instanceId: 'i-2', ok: false, ambiguous: true, error: 'TimeoutError: timed out' },
    ]);
    expect(asg.commandCalls(EnterStandbyCommand)).toHaveLength(1);
  });

  it('a reset connection on ExitStandby or DeregisterTargets is ambiguous, sent once', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    asg.on(ExitStandbyCommand).rejects(reset);
    elb.on(DeregisterTargetsCommand).rejects(reset);
    expect((await drain.exitStandby('web', ['i-1', 'i-2'])).every((o) => o.ambiguous)).toBe(true);
    expect((await drain.deregisterTargets('arn:tg', ['i-1', 'i-2'])).every((o) => o.ambiguous)).toBe(true);
    expect(asg.commandCalls(ExitStandbyCommand)).toHaveLength(1);
    expect(elb.commandCalls(DeregisterTargetsCommand)).toHaveLength(1);
  });
});

describe('OptInFleet when the re-check cannot read the tags', () => {
  const TAG = { key: 'forestall:managed', value: 'true' };
  const failingFleet = (e: unknown) => {
    const reboot = jest.fn(async () => []);
    const fleet = {
      describeFacts: async () => {
        throw e;
      },
      reboot,
    } as unknown as FleetPort;
    return { fleet: new OptInFleet(fleet, TAG), reboot };
  };

  it('throttled: nothing is sent, every id retryable', async () => {
    const { fleet, reboot } = failingFleet(new ThrottledError(8, new Error('RequestLimitExceeded')));
    const out = await fleet.reboot(['i-1', 'i-2']);
    expect(out.every((o) => !o.ok && o.retryable === true && o.ambiguous === undefined)).toBe(true);
    expect(out[0]?.error).toBe(
      'opt-in re-check failed, not touched: ThrottledError: throttled after 8 attempts',
    );
    expect(reboot).not.toHaveBeenCalled();
  });

  it('refused (e.g. access denied): nothing is sent, failed, not retryable', async () => {
    const denied = { name: 'UnauthorizedOperation', $fault: 'client', $metadata: { httpStatusCode: 403 } };
    const { fleet, reboot } = failingFleet(denied);
    const out = await fleet.reboot(['i-1']);
    expect(out).toEqual([
      { instanceId: 'i-1', ok: false, error: 'opt-in re-check failed, not touched: UnauthorizedOperation' },
    ]);
    expect(reboot).not.toHaveBeenCalled();
  });
});
