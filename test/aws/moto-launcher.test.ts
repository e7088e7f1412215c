/** The moto launcher itself: scheduled events, filters, pagination, rescheduling rules, completion semantics. */
import {
  DescribeInstanceStatusCommand,
  type DescribeInstanceStatusCommandInput,
  EC2Client,
  type InstanceStatus,
  ModifyInstanceEventStartTimeCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { MotoServer, useMoto } from './moto/server';

const moto = useMoto();
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
let ec2: EC2Client;

async function run(count: number): Promise<string[]> {
  const r = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: count,
      MaxCount: count,
      InstanceType: 'm5.large',
    }),
  );
  return (r.Instances ?? []).map((i) => i.InstanceId ?? '');
}

async function statuses(input: DescribeInstanceStatusCommandInput): Promise<InstanceStatus[]> {
  return (await ec2.send(new DescribeInstanceStatusCommand(input))).InstanceStatuses ?? [];
}

async function eventsOf(instanceId: string) {
  const [s] = await statuses({ InstanceIds: [instanceId], IncludeAllInstances: true });
  return s?.Events ?? [];
}

function errorName(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'no error',
    (e: Error) => e.name,
  );
}

beforeAll(() => {
  ec2 = new EC2Client({ maxAttempts: 1 });
});

describe('moto launcher: DescribeInstanceStatus', () => {
  let ids: string[];
  beforeAll(async () => {
    ids = await run(12);
    const now = Date.now();
    await moto.server().seedEvents([
      {
        instanceId: ids[0] as string,
        code: 'system-reboot',
        notBefore: new Date(now + 3 * DAY),
        eventId: 'instance-event-00000000000000001',
      },
      { instanceId: ids[1] as string, code: 'instance-reboot', notBefore: new Date(now + 3 * DAY) },
      { instanceId: ids[2] as string, code: 'instance-stop', notBefore: new Date(now + 4 * DAY) },
    ]);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [ids[2] as string] }));
  });

  it('returns the seeded events with their times, through the SDK', async () => {
    const [s] = await statuses({ InstanceIds: [ids[0] as string] });
    expect(s?.Events?.[0]).toMatchObject({
      Code: 'system-reboot',
      InstanceEventId: 'instance-event-00000000000000001',
    });
    expect(s?.Events?.[0]?.NotBefore).toBeInstanceOf(Date);
  });

  it('filters on event.code and instance-state-name, and hides stopped instances without IncludeAllInstances', async () => {
    const codes = { Name: 'event.code', Values: ['system-reboot', 'instance-stop'] };
    const withAll = await statuses({ Filters: [codes], IncludeAllInstances: true });
    expect(withAll.map((s) => s.InstanceId).sort()).toEqual([ids[0], ids[2]].sort());
    const runningOnly = await statuses({ Filters: [codes] });
    expect(runningOnly.map((s) => s.InstanceId)).toEqual([ids[0]]);
    const stopped = await statuses({
      Filters: [{ Name: 'instance-state-name', Values: ['stopped'] }],
      IncludeAllInstances: true,
    });
    expect(stopped.map((s) => s.InstanceId)).toEqual([ids[2]]);
  });

  it('paginates with MaxResults and NextToken', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await ec2.send(
        new DescribeInstanceStatusCommand({ IncludeAllInstances: true, MaxResults: 5, NextToken: token }),
      );
      expect((r.InstanceStatuses ?? []).length).toBeLessThanOrEqual(5);
      seen.push(...(r.InstanceStatuses ?? []).map((s) => s.InstanceId ?? ''));
      token = r.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(Math.ceil(seen.length / 5));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));
  });

  it('refuses MaxResults with InstanceIds, and more than 100 ids', async () => {
    expect(await errorName(statuses({ InstanceIds: [ids[0] as string], MaxResults: 5 }))).toBe(
      'InvalidParameterCombination',
    );
    const many = Array.from({ length: 101 }, () => ids[0] as string);
    expect(await errorName(statuses({ InstanceIds: many }))).toBe('InvalidParameterValue');
  });

  it('logs each request with its parameters and the server time it arrived', async () => {
    await moto.server().resetRequests();
    const before = Date.now();
    await statuses({ Filters: [{ Name: 'event.code', Values: ['system-reboot'] }], MaxResults: 5 });
    const log = await moto.server().requests();
    expect(log).toEqual([
      {
        service: 'ec2',
        action: 'DescribeInstanceStatus',
        region: 'us-east-1',
        at: expect.any(String),
        params: { 'Filter.1.Name': 'event.code', 'Filter.1.Value.1': 'system-reboot', MaxResults: '5' },
      },
    ]);
    expect(Date.parse(String(log[0]?.at))).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(String(log[0]?.at))).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('runs its clock ahead when told (the end-to-end suite’s virtual time)', async () => {
    await moto.server().setClockOffset(86_400_000);
    await moto.server().resetRequests();
    await statuses({});
    const [entry] = await moto.server().requests();
    await moto.server().setClockOffset(0);
    expect(Date.parse(String(entry?.at)) - Date.now()).toBeGreaterThan(86_400_000 - 60_000);
  });
});

describe('moto launcher: ModifyInstanceEventStartTime follows AWS-FACTS §3', () => {
  let id: string;
  const now = Date.now();
  const modify = (eventId: string, at: number) =>
    ec2.send(
      new ModifyInstanceEventStartTimeCommand({
        InstanceId: id,
        InstanceEventId: eventId,
        NotBefore: new Date(at),
      }),
    );

  beforeAll(async () => {
    [id = ''] = await run(1);
    await moto.server().seedEvents([
      {
        instanceId: id,
        eventId: 'instance-event-0000000000000000a',
        code: 'system-reboot',
        notBefore: new Date(now + 3 * DAY),
        notAfter: new Date(now + 3 * DAY + 120 * MIN),
        notBeforeDeadline: new Date(now + 7 * DAY),
      },
      {
        instanceId: id,
        eventId: 'instance-event-0000000000000000b',
        code: 'instance-stop',
        notBefore: new Date(now + 3 * DAY),
      },
      {
        instanceId: id,
        eventId: 'instance-event-0000000000000000c',
        code: 'instance-reboot',
        notBefore: new Date(now + 4 * MIN),
        notBeforeDeadline: new Date(now + 7 * DAY),
      },
    ]);
  });

  it('refuses an event without NotBeforeDeadline, a start past the deadline, one under 60 minutes away, and an event starting within 5 minutes', async () => {
    expect(await errorName(modify('instance-event-0000000000000000b', now + DAY))).toBe(
      'InvalidParameterValue',
    );
    expect(await errorName(modify('instance-event-0000000000000000a', now + 8 * DAY))).toBe(
      'InvalidParameterValue',
    );
    expect(await errorName(modify('instance-event-0000000000000000a', now + 50 * MIN))).toBe(
      'InvalidParameterValue',
    );
    expect(await errorName(modify('instance-event-0000000000000000c', now + DAY))).toBe(
      'InvalidParameterValue',
    );
    expect(await errorName(modify('instance-event-0000000000000000z', now + DAY))).toBe(
      'InvalidInstanceEventID.NotFound',
    );
  });

  it('moves the event (its window keeps its length) and returns it', async () => {
    const at = Math.ceil((now + DAY) / 1000) * 1000;
    const r = await modify('instance-event-0000000000000000a', at);
    expect(r.Event?.NotBefore?.getTime()).toBe(at);
    const [moved] = (await eventsOf(id)).filter(
      (e) => e.InstanceEventId === 'instance-event-0000000000000000a',
    );
    expect(moved?.NotBefore?.getTime()).toBe(at);
    expect(moved?.NotAfter?.getTime()).toBe(at + 120 * MIN);
  });
});

describe('moto launcher: completion per AWS-FACTS §1', () => {
  it('a reboot completes system-reboot only when migration succeeds, never instance-reboot; stop-start removes open events', async () => {
    const [migrates = '', fails = '', inPlace = '', stopStart = ''] = await run(4);
    const nb = new Date(Date.now() + 3 * DAY);
    await moto.server().seedEvents(
      [
        { instanceId: migrates, code: 'system-reboot', notBefore: nb },
        { instanceId: fails, code: 'system-reboot', notBefore: nb },
        { instanceId: inPlace, code: 'instance-reboot', notBefore: nb },
        { instanceId: stopStart, code: 'instance-retirement', notBefore: nb },
      ],
      { [fails]: 'fails' },
    );
    await ec2.send(new RebootInstancesCommand({ InstanceIds: [migrates, fails, inPlace] }));
    expect((await eventsOf(migrates))[0]?.Description).toMatch(/^\[Completed\] /);
    expect((await eventsOf(fails))[0]?.Description).not.toMatch(/^\[Completed\]/);
    expect((await eventsOf(inPlace))[0]?.Description).not.toMatch(/^\[Completed\]/);

    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopStart] }));
    expect(await eventsOf(stopStart)).toHaveLength(1);
    await ec2.send(new StartInstancesCommand({ InstanceIds: [stopStart] }));
    expect(await eventsOf(stopStart)).toEqual([]);
  });

  it('clears an event the way AWS finishes it, through the seed route', async () => {
    const [id = ''] = await run(1);
    const [eventId = ''] = await moto
      .server()
      .seedEvents([{ instanceId: id, code: 'system-maintenance', notBefore: new Date(Date.now() + DAY) }]);
    await moto.server().clearEvent(id, eventId, 'canceled');
    expect((await eventsOf(id))[0]?.Description).toMatch(/^\[Canceled\] /);
    await moto.server().clearEvent(id, eventId, 'gone');
    expect(await eventsOf(id)).toEqual([]);
  });
});

describe('moto launcher: injected faults', () => {
  it('answers a 5xx after the reboot took effect (a lost reply)', async () => {
    const [id = ''] = await run(1);
    await moto
      .server()
      .seedEvents([{ instanceId: id, code: 'system-reboot', notBefore: new Date(Date.now() + DAY) }]);
    await moto
      .server()
      .injectFaults([{ action: 'RebootInstances', status: 503, code: 'Unavailable', after: true }]);
    const err = await ec2
      .send(new RebootInstancesCommand({ InstanceIds: [id] }))
      .catch((e: { $metadata?: { httpStatusCode?: number } }) => e);
    expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(503);
    expect((await eventsOf(id))[0]?.Description).toMatch(/^\[Completed\] /);
  });
});

describe('moto launcher: lifecycle', () => {
  it('a second launcher starts on another free port and stops by PID', async () => {
    const other = await MotoServer.start();
    expect(other.endpoint).not.toBe(moto.server().endpoint);
    const pid = other.pid as number;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await other.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
