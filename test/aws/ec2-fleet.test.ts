/** The EC2 FleetPort adapter against the moto launcher, through the real SDK; requests counted at the server. */
import { DescribeInstanceStatusCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { countRetries, createClients } from '../../lambda/aws/clients';
import { Ec2Fleet } from '../../lambda/aws/ec2-fleet';
import { launch, testEc2 } from './moto/fleet';
import { useMoto } from './moto/server';

const moto = useMoto();
const DAY = 86_400_000;
const NO_WAIT = { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } };
let ec2: EC2Client;
let fleet: Ec2Fleet;

beforeAll(() => {
  ec2 = testEc2();
  const clients = createClients('us-east-1');
  fleet = new Ec2Fleet('us-east-1', clients.ec2Read, clients.ec2Write, NO_WAIT);
});

beforeEach(() => moto.server().resetRequests());

describe('Ec2Fleet reads', () => {
  let withEvents: string[];
  let plain: string[];
  beforeAll(async () => {
    withEvents = await launch(ec2, {
      count: 12,
      instanceType: 'r5d.large',
      tags: { 'aws:autoscaling:groupName': 'web' },
    });
    plain = await launch(ec2, { count: 140 });
    const now = Date.now();
    await moto.server().seedEvents(
      withEvents.map((instanceId, i) => ({
        instanceId,
        code: i % 2 ? 'system-reboot' : 'instance-retirement',
        notBefore: new Date(now + (i + 3) * DAY),
        ...(i % 2 ? { notBeforeDeadline: new Date(now + (i + 10) * DAY) } : {}),
      })),
    );
  });

  it('listScheduled filters on the event codes with IncludeAllInstances and MaxResults, and follows NextToken', async () => {
    const statuses = await fleet.listScheduled();
    expect(statuses.map((s) => s.instanceId).sort()).toEqual([...withEvents].sort());
    expect(
      statuses.flatMap((s) => s.notices).every((n) => n.region === 'us-east-1' && n.state === 'active'),
    ).toBe(true);
    const calls = (await moto.server().requests()).filter((r) => r.action === 'DescribeInstanceStatus');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.params).toMatchObject({
      'Filter.1.Name': 'event.code',
      'Filter.1.Value.1': 'instance-reboot',
      'Filter.1.Value.5': 'instance-stop',
      IncludeAllInstances: 'true',
      MaxResults: '1000',
    });
  });

  it('describeStatus asks for at most 100 ids a call, without MaxResults, and drops unknown ids', async () => {
    const ids = [...plain, 'i-0000000000000dead'];
    const statuses = await fleet.describeStatus(ids);
    expect(statuses).toHaveLength(plain.length);
    const calls = (await moto.server().requests()).filter((r) => r.action === 'DescribeInstanceStatus');
    for (const c of calls) {
      expect(c.params?.MaxResults).toBeUndefined();
      expect(c.params?.IncludeAllInstances).toBe('true');
      expect(
        Object.keys(c.params ?? {}).filter((k) => k.startsWith('InstanceId.')).length,
      ).toBeLessThanOrEqual(100);
    }
    // 141 ids: 100 + 41, and the second asked again without the unknown id.
    expect(calls).toHaveLength(3);
  });

  it('describeFacts reads instances in batches of 100 and asks DescribeInstanceTypes once per type', async () => {
    const facts = await fleet.describeFacts([...withEvents, ...plain]);
    expect(facts).toHaveLength(152);
    const r5d = facts.find((f) => f.instanceId === withEvents[0]);
    expect(r5d).toMatchObject({ instanceType: 'r5d.large', instanceStore: 'present', asgName: 'web' });
    expect(facts.find((f) => f.instanceId === plain[0])).toMatchObject({ instanceStore: 'none' });
    await fleet.describeFacts(withEvents);
    const log = await moto.server().requests();
    expect(log.filter((r) => r.action === 'DescribeInstances')).toHaveLength(3);
    expect(log.filter((r) => r.action === 'DescribeInstanceTypes')).toHaveLength(1);
  });

  it('describeFacts without ids pages through the whole Region', async () => {
    const facts = await fleet.describeFacts();
    expect(facts.length).toBeGreaterThanOrEqual(152);
    const calls = (await moto.server().requests()).filter((r) => r.action === 'DescribeInstances');
    expect(calls[0]?.params?.MaxResults).toBe('1000');
  });
});

describe('Ec2Fleet actions', () => {
  it('reboots in batches of 50', async () => {
    const ids = await launch(ec2, { count: 120 });
    const out = await fleet.reboot(ids);
    expect(out.every((o) => o.ok)).toBe(true);
    expect(await moto.server().count('RebootInstances')).toBe(3);
  });

  it('splits a refused stop id by id: the others stop, the protected one fails with AWS error code', async () => {
    const ids = await launch(ec2, { count: 4 });
    const [guarded = ''] = await launch(ec2, { count: 1, disableApiStop: true });
    const out = await fleet.stop([...ids, guarded]);
    expect(out.filter((o) => o.ok).map((o) => o.instanceId)).toEqual(ids);
    const failed = out.find((o) => o.instanceId === guarded);
    expect(failed).toMatchObject({ ok: false });
    expect(failed?.error).toMatch(/^OperationNotPermitted: /);
    expect(failed?.ambiguous).toBeUndefined();
    expect(await moto.server().count('StopInstances')).toBe(1 + 5);
    const started = await fleet.start(ids);
    expect(started.every((o) => o.ok)).toBe(true);
  });

  it('an unknown id fails alone with InvalidInstanceID.NotFound', async () => {
    const ids = await launch(ec2, { count: 2 });
    const out = await fleet.reboot([...ids, 'i-0000000000000beef']);
    expect(out.map((o) => o.ok)).toEqual([true, true, false]);
    expect(out[2]?.error).toMatch(/^InvalidInstanceID\.NotFound/);
  });

  it('retries throttling, then reports every id retryable', async () => {
    const ids = await launch(ec2, { count: 3 });
    await moto
      .server()
      .injectFaults([{ action: 'RebootInstances', status: 400, code: 'RequestLimitExceeded', times: 2 }]);
    expect((await fleet.reboot(ids)).every((o) => o.ok)).toBe(true);
    expect(await moto.server().count('RebootInstances')).toBe(3);
    await moto.server().resetRequests();
    await moto
      .server()
      .injectFaults([{ action: 'RebootInstances', status: 400, code: 'RequestLimitExceeded', times: 5 }]);
    const out = await fleet.reboot(ids);
    expect(out).toEqual(
      ids.map((instanceId) => ({ instanceId, ok: false, retryable: true, error: 'RequestLimitExceeded' })),
    );
    expect(await moto.server().count('RebootInstances')).toBe(NO_WAIT.retry.maxAttempts);
  });

  it('a 5xx after AWS took the reboot leaves every id ambiguous and is sent exactly once', async () => {
    const ids = await launch(ec2, { count: 3 });
    await moto.server().seedEvents(
      ids.map((instanceId) => ({
        instanceId,
        code: 'system-reboot',
        notBefore: new Date(Date.now() + DAY),
      })),
    );
    await moto
      .server()
      .injectFaults([{ action: 'RebootInstances', status: 503, code: 'Unavailable', after: true }]);
    const out = await fleet.reboot(ids);
    expect(out.every((o) => o.ambiguous === true && !o.ok && !o.retryable)).toBe(true);
    expect(await moto.server().count('RebootInstances')).toBe(1);
    // The reboot did happen: the system-reboot events completed (AWS-FACTS §1).
    const r = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: ids }));
    expect(r.InstanceStatuses?.every((s) => s.Events?.[0]?.Description?.startsWith('[Completed]'))).toBe(
      true,
    );
  });

  it('reschedules an event within its deadline and reports a refusal with its code', async () => {
    const [id = ''] = await launch(ec2, { count: 1 });
    const now = Date.now();
    const [eventId = ''] = await moto.server().seedEvents([
      {
        instanceId: id,
        code: 'instance-reboot',
        notBefore: new Date(now + 3 * DAY),
        notBeforeDeadline: new Date(now + 9 * DAY),
      },
    ]);
    const target = Math.ceil((now + 5 * DAY) / 60_000) * 60_000;
    expect(await fleet.reschedule(id, eventId, target)).toEqual({ instanceId: id, ok: true });
    const [status] = await fleet.describeStatus([id]);
    expect(status?.notices[0]?.notBefore).toBe(target);
    const refused = await fleet.reschedule(id, eventId, now + 10 * DAY);
    expect(refused).toMatchObject({ instanceId: id, ok: false });
    expect(refused.error).toMatch(/^InvalidParameterValue: /);
  });
});

describe('retry counts (the ApiRetries metric)', () => {
  it('counts the SDK retries of a throttled read and each throttled mutating call', async () => {
    const clients = createClients('us-east-1');
    let retries = 0;
    const counted = new Ec2Fleet(
      'us-east-1',
      countRetries(clients.ec2Read, (n) => (retries += n)),
      clients.ec2Write,
      {
        ...NO_WAIT,
        onThrottle: () => {
          retries += 1;
        },
      },
    );
    await moto
      .server()
      .injectFaults([
        { action: 'DescribeInstanceStatus', status: 400, code: 'RequestLimitExceeded', times: 2 },
      ]);
    await counted.listScheduled();
    expect(retries).toBe(2);
    const ids = await launch(ec2, { count: 2 });
    await moto
      .server()
      .injectFaults([{ action: 'RebootInstances', status: 400, code: 'RequestLimitExceeded', times: 1 }]);
    expect((await counted.reboot(ids)).every((o) => o.ok)).toBe(true);
    expect(retries).toBe(3);
  });
});
