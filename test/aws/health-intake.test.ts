/**
 * The health-intake handler against moto on every Health fixture: the right instances are looked at (the
 * DescribeInstanceStatus calls counted at the server), backup copies and other services are not, and a
 * duplicated delivery reports nothing twice.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClients } from '../../lambda/aws/clients';
import { DynamoNoticeLedger } from '../../lambda/aws/notice-ledger';
import { handler } from '../../lambda/handlers/health-intake';
import { handler as poll } from '../../lambda/handlers/poll';
import type { BusCapture } from './moto/aws-resources';
import { launch, testEc2 } from './moto/fleet';
import { delivered, handlerResources, lambdaContext } from './moto/handlers';
import { useMoto } from './moto/server';

const moto = useMoto();
const DAY = 86_400_000;
let bus: BusCapture;
/** Fixture instance id → the moto instance standing in for it. */
const real = new Map<string, string>();

/** A fixture with its instance ids replaced by moto's. */
function fixture(name: string): unknown {
  let text = readFileSync(join(__dirname, '..', 'fixtures', 'shared', `${name}.json`), 'utf8');
  for (const [from, to] of real) text = text.replaceAll(from, to);
  return JSON.parse(text);
}

async function lookedAt(): Promise<string[][]> {
  return (await moto.server().requests())
    .filter((r) => r.action === 'DescribeInstanceStatus')
    .map((r) =>
      Object.entries(r.params ?? {})
        .filter(([k]) => k.startsWith('InstanceId.'))
        .map(([, v]) => v)
        .sort(),
    );
}

beforeAll(async () => {
  bus = await handlerResources({ regions: ['us-east-1'] });
  const ids = await launch(testEc2(), { count: 4 });
  ids.forEach((id, i) => {
    real.set(`i-0a1b2c3d4e5f6000${i + 1}`, id);
  });
  const nb = new Date(Math.floor(Date.now() / 1000) * 1000 + 10 * DAY);
  await moto.server().seedEvents([
    { instanceId: ids[0] as string, code: 'system-reboot', notBefore: nb },
    { instanceId: ids[1] as string, code: 'instance-reboot', notBefore: nb },
    { instanceId: ids[2] as string, code: 'instance-retirement', notBefore: nb },
  ]);
});

beforeEach(() => moto.server().resetRequests());

const id = (n: number) => real.get(`i-0a1b2c3d4e5f6000${n}`) as string;

describe('health-intake handler', () => {
  it('a system-reboot notice naming the instance by id: looks at it and reports it, source health', async () => {
    await handler(fixture('health-event-system-reboot'), lambdaContext('h-1', 'health'));
    expect(await lookedAt()).toEqual([[id(1)]]);
    const events = await delivered(bus);
    expect(events.map((e) => [e['detail-type'], e.detail.instanceId, e.detail.source])).toEqual([
      ['Notice Discovered', id(1), 'health'],
    ]);
  });

  it('a duplicated delivery looks again and reports nothing', async () => {
    await handler(fixture('health-event-system-reboot'), lambdaContext('h-2', 'health'));
    expect(await lookedAt()).toEqual([[id(1)]]);
    expect(await delivered(bus)).toEqual([]);
  });

  it('an instance named by ARN is looked at', async () => {
    await handler(fixture('health-event-instance-reboot-arn'), lambdaContext('h-3', 'health'));
    expect(await lookedAt()).toEqual([[id(2)]]);
    expect((await delivered(bus)).map((e) => e.detail.instanceId)).toEqual([id(2)]);
  });

  it('the backup copy and a non-EC2 event make no call to EC2 and no event', async () => {
    await handler(fixture('health-event-backup-copy'), lambdaContext('h-4', 'health'));
    await handler(fixture('health-event-not-ec2'), lambdaContext('h-5', 'health'));
    expect(await lookedAt()).toEqual([]);
    expect(await delivered(bus)).toEqual([]);
  });

  it('two pages of one notice make one look at both instances', async () => {
    await handler(fixture('health-event-paged'), lambdaContext('h-6', 'health'));
    expect(await lookedAt()).toEqual([[id(1), id(3)].sort()]);
    expect((await delivered(bus)).map((e) => e.detail.instanceId)).toEqual([id(3)]);
  });

  it('a later poll reports nothing the Health looks already reported', async () => {
    await poll({}, lambdaContext('p-1'));
    expect(await delivered(bus)).toEqual([]);
    const ledger = new DynamoNoticeLedger(createClients('us-east-1').ledger, 'forestall-ledger');
    expect((await ledger.notices('us-east-1')).map((n) => n.source)).toEqual(['health', 'health', 'health']);
  });
});
