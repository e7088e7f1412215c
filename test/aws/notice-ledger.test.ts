/** The DynamoDB notice ledger against moto: conditional writes refuse a second writer; the Region lock. */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createClients } from '../../lambda/aws/clients';
import { DynamoNoticeLedger } from '../../lambda/aws/notice-ledger';
import type { NoticeRecord } from '../../lambda/core/notice-ledger';
import { createLedgerTable } from './moto/aws-resources';
import { useMoto } from './moto/server';

useMoto();
let ledger: DynamoNoticeLedger;

const base: NoticeRecord = {
  region: 'eu-west-1',
  instanceId: 'i-0123456789abcdef0',
  eventId: 'instance-event-0aaaaaaaaaaaaaaaa',
  code: 'system-reboot',
  description: 'scheduled reboot',
  notBefore: Date.parse('2026-12-01T10:00:00Z'),
  source: 'poll',
  state: 'open',
  firstSeen: 1,
  lastSeen: 1,
  history: [],
  version: 1,
};

beforeAll(async () => {
  ledger = new DynamoNoticeLedger(createClients('us-east-1').ledger, await createLedgerTable('ledger'));
});

describe('DynamoNoticeLedger', () => {
  it('creates a notice once: a second create of the same key is refused', async () => {
    expect(await ledger.create(base)).toBe(true);
    expect(await ledger.create({ ...base, source: 'health' })).toBe(false);
    expect(await ledger.notices('eu-west-1')).toEqual([base]);
  });

  it('replaces only from the version it read: of two writers from one version, one wins', async () => {
    const a = { ...base, version: 2, notBefore: base.notBefore + 1 };
    const b = { ...base, version: 2, notBefore: base.notBefore + 2 };
    const results = await Promise.all([ledger.replace(a), ledger.replace(b)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await ledger.replace({ ...base, version: 2 })).toBe(false);
    // A writer that claims a version the ledger never had is refused too.
    expect(await ledger.replace({ ...base, version: 5 })).toBe(false);
    const [stored] = await ledger.notices('eu-west-1');
    expect(stored?.version).toBe(2);
  });

  it('drops a pending report only at the version that carried it', async () => {
    const [stored] = await ledger.notices('eu-west-1');
    const withPending = {
      ...(stored as NoticeRecord),
      version: 3,
      pending: [{ detailType: 'Notice Changed', detail: { x: 1 } }],
    };
    expect(await ledger.replace(withPending)).toBe(true);
    expect(await ledger.reported({ ...withPending, version: 2 })).toBe(false);
    expect((await ledger.notices('eu-west-1'))[0]?.pending).toEqual(withPending.pending);
    expect(await ledger.reported(withPending)).toBe(true);
    expect((await ledger.notices('eu-west-1'))[0]?.pending).toBeUndefined();
  });

  it('reads one instance’s notices, and gives cleared ones a TTL', async () => {
    const other = {
      ...base,
      instanceId: 'i-0fedcba9876543210',
      state: 'cleared' as const,
      cleared: 'gone' as const,
      lastSeen: 1_000_000,
    };
    await ledger.create(other);
    expect((await ledger.notices('eu-west-1', ['i-0fedcba9876543210'])).map((n) => n.instanceId)).toEqual([
      other.instanceId,
    ]);
    expect(await ledger.notices('us-east-2')).toEqual([]);
    const raw = await new DynamoDBClient({ region: 'us-east-1' }).send(
      new GetItemCommand({
        TableName: 'ledger',
        Key: { pk: { S: 'NOTICE#eu-west-1' }, sk: { S: `${other.instanceId}#${other.eventId}` } },
      }),
    );
    expect(raw.Item?.expiresAt?.N).toBe(String(Math.floor((1_000_000 + 90 * 86_400_000) / 1000)));
  });

  it('lends the Region lock to one owner until it expires or is released', async () => {
    expect(await ledger.acquireLock('eu-west-1', 'poll-1', 1000, 60_000)).toBe(true);
    expect(await ledger.acquireLock('eu-west-1', 'poll-2', 2000, 60_000)).toBe(false);
    expect(await ledger.acquireLock('eu-west-1', 'poll-1', 3000, 60_000)).toBe(true);
    expect(await ledger.acquireLock('us-west-2', 'poll-2', 3000, 60_000)).toBe(true);
    await ledger.releaseLock('eu-west-1', 'poll-2');
    expect(await ledger.acquireLock('eu-west-1', 'poll-2', 4000, 60_000)).toBe(false);
    expect(await ledger.acquireLock('eu-west-1', 'poll-2', 63_001, 60_000)).toBe(true);
    await ledger.releaseLock('eu-west-1', 'poll-2');
    expect(await ledger.acquireLock('eu-west-1', 'poll-3', 63_002, 60_000)).toBe(true);
  });
});
