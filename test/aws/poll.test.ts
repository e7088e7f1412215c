/**
 * The poll handler against moto through the real SDK: 300 instances in 3 Auto Scaling groups with mixed
 * events (and 5 in a second Region); events arrive on an SQS queue behind a rule on the `forestall` bus.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { EC2Client as Ec2, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { createClients } from '../../lambda/aws/clients';
import { DynamoNoticeLedger } from '../../lambda/aws/notice-ledger';
import { EVENT_CODES } from '../../lambda/core/types';
import { handler } from '../../lambda/handlers/poll';
import type { BusCapture } from './moto/aws-resources';
import { launch } from './moto/fleet';
import { delivered, handlerResources, lambdaContext } from './moto/handlers';
import { type SeedEvent, useMoto } from './moto/server';

const moto = useMoto();
const DAY = 86_400_000;
const PAGE = 25;
let bus: BusCapture;
let ec2: EC2Client;
let ledger: DynamoNoticeLedger;
let seeded: SeedEvent[];

beforeAll(async () => {
  bus = await handlerResources({ regions: ['us-east-1', 'eu-west-1'] }, PAGE);
  ec2 = new Ec2({ region: 'us-east-1', maxAttempts: 1 });
  ledger = new DynamoNoticeLedger(createClients('us-east-1').ledger, 'forestall-ledger');
  const ids: string[] = [];
  for (const asg of ['web', 'api', 'worker'])
    ids.push(
      ...(await launch(ec2, {
        count: 100,
        tags: { 'aws:autoscaling:groupName': asg, 'forestall:managed': 'true' },
      })),
    );
  const eu = await launch(new Ec2({ region: 'eu-west-1', maxAttempts: 1 }), { count: 5 });
  const now = Math.floor(Date.now() / 1000) * 1000; // EC2 reports whole seconds
  // 90 active events across the groups (every 3rd instance... spread), 5 completed ones, 5 in eu-west-1.
  seeded = ids
    .slice(0, 270)
    .filter((_, i) => i % 3 === 0)
    .map((instanceId, i) => ({
      instanceId,
      code: EVENT_CODES[i % EVENT_CODES.length] as string,
      notBefore: new Date(now + (2 + (i % 10)) * DAY),
      ...(i % 5 === 0 ? { notBeforeDeadline: new Date(now + 20 * DAY) } : {}),
    }));
  const history = ids.slice(280, 285).map((instanceId) => ({
    instanceId,
    code: 'system-reboot',
    notBefore: new Date(now - DAY),
    description: '[Completed] The instance was rebooted',
  }));
  const euEvents = eu.map((instanceId) => ({
    instanceId,
    code: 'instance-stop',
    notBefore: new Date(now + 4 * DAY),
  }));
  await moto.server().seedEvents([...seeded, ...history, ...euEvents]);
  // Stopped instances keep their events: only IncludeAllInstances finds them.
  const stopped = seeded
    .filter((e) => e.code === 'instance-stop')
    .slice(0, 5)
    .map((e) => e.instanceId);
  await ec2.send(new StopInstancesCommand({ InstanceIds: stopped }));
});

beforeEach(() => moto.server().resetRequests());

describe('poll handler', () => {
  it('puts every active event in the ledger and one Notice Discovered each on the bus', async () => {
    const result = await handler({}, lambdaContext('poll-1'));
    expect(result['us-east-1']).toMatchObject({
      discovered: 90,
      changed: 0,
      cleared: 0,
      sent: 90,
      unsent: 0,
      lostRaces: 0,
    });
    expect(result['eu-west-1']).toMatchObject({ discovered: 5, sent: 5 });
    const open = (await ledger.notices('us-east-1')).filter((n) => n.state === 'open');
    expect(open.map((n) => n.instanceId).sort()).toEqual(seeded.map((e) => e.instanceId).sort());
    expect(open.every((n) => n.pending === undefined && n.source === 'poll')).toBe(true);
    const events = await delivered(bus);
    expect(events).toHaveLength(95);
    expect(events.every((e) => e['detail-type'] === 'Notice Discovered')).toBe(true);
    expect(new Set(events.map((e) => `${e.detail.instanceId}#${e.detail.eventId}`)).size).toBe(95);
    expect(events.filter((e) => e.detail.region === 'eu-west-1')).toHaveLength(5);
    expect(events[0]?.detail.account).toBe('123456789012');
  });

  it('pages through DescribeInstanceStatus with the event-code filter and IncludeAllInstances', async () => {
    await handler({}, lambdaContext('poll-2'));
    const calls = (await moto.server().requests()).filter(
      (r) => r.action === 'DescribeInstanceStatus' && r.region === 'us-east-1',
    );
    // 90 active + 5 completed instances match the filter: 4 pages of 25.
    expect(calls).toHaveLength(4);
    for (const c of calls)
      expect(c.params).toMatchObject({
        'Filter.1.Name': 'event.code',
        IncludeAllInstances: 'true',
        MaxResults: String(PAGE),
      });
    expect(calls.filter((c) => c.params?.NextToken !== undefined)).toHaveLength(3);
  });

  it('a second poll emits nothing and writes nothing', async () => {
    await handler({}, lambdaContext('poll-3'));
    const log = await moto.server().requests();
    expect(log.filter((r) => r.action === 'PutEvents')).toHaveLength(0);
    // The two Regions' locks only: taken and given back.
    expect(
      log
        .filter((r) => r.service === 'dynamodb' && r.action !== 'Query')
        .map((r) => r.action)
        .sort(),
    ).toEqual(['DeleteItem', 'DeleteItem', 'PutItem', 'PutItem']);
    expect(await delivered(bus)).toEqual([]);
  });

  it('completed, gone and moved events give Notice Cleared and Notice Changed once', async () => {
    const [done, gone, moved] = seeded as [SeedEvent, SeedEvent, SeedEvent];
    const byId = new Map((await ledger.notices('us-east-1')).map((n) => [n.instanceId, n]));
    const eventId = (e: SeedEvent) => byId.get(e.instanceId)?.eventId ?? '';
    await moto.server().clearEvent(done.instanceId, eventId(done), 'completed');
    await moto.server().clearEvent(gone.instanceId, eventId(gone), 'gone');
    const newStart = new Date(moved.notBefore.getTime() - DAY);
    await moto.server().seedEvents([{ ...moved, eventId: eventId(moved), notBefore: newStart }]);
    const result = await handler({}, lambdaContext('poll-4'));
    expect(result['us-east-1']).toMatchObject({ discovered: 0, changed: 1, cleared: 2 });
    const events = await delivered(bus);
    expect(events.map((e) => [e['detail-type'], e.detail.instanceId, e.detail.why]).sort()).toEqual(
      [
        ['Notice Changed', moved.instanceId, undefined],
        ['Notice Cleared', done.instanceId, 'completed'],
        ['Notice Cleared', gone.instanceId, 'gone'],
      ].sort(),
    );
    const changed = events.find((e) => e['detail-type'] === 'Notice Changed');
    expect(changed?.detail.notBefore).toBe(newStart.toISOString());
    expect((changed?.detail.previous as { notBefore?: string } | undefined)?.notBefore).toBe(
      moved.notBefore.toISOString(),
    );
    await handler({}, lambdaContext('poll-5'));
    expect(await delivered(bus)).toEqual([]);
  });

  it('skips a Region whose lock another poll holds', async () => {
    expect(await ledger.acquireLock('eu-west-1', 'other-poll', Date.now(), 60_000)).toBe(true);
    const result = await handler({}, lambdaContext('poll-6'));
    expect(result['eu-west-1']).toBe('busy');
    expect(result['us-east-1']).toMatchObject({ discovered: 0 });
    await ledger.releaseLock('eu-west-1', 'other-poll');
  });
});
