/**
 * NoticeLedgerPort over one DynamoDB table (@aws-sdk/lib-dynamodb). Items:
 * - notices: pk `NOTICE#<region>`, sk `<instanceId>#<eventId>`; cleared ones expire (TTL) after 90 days;
 * - locks: pk `LOCK`, sk `<region>`, with the owner and its expiry.
 * Every write carries a condition, so a duplicate writer learns it lost (false) instead of overwriting.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { NoticeLedgerPort, NoticeRecord } from '../core/notice-ledger';

/** The table's key and TTL attribute names, shared with the CDK construct that creates it. */
export const LEDGER_KEYS = { partitionKey: 'pk', sortKey: 'sk', timeToLive: 'expiresAt' } as const;
/** How long a cleared notice stays readable. */
export const CLEARED_RETENTION_MS = 90 * 86_400_000;

const noticePk = (region: string) => `NOTICE#${region}`;
const noticeSk = (r: { instanceId: string; eventId: string }) => `${r.instanceId}#${r.eventId}`;

/** A conditional write: false when its condition failed (another writer got there first). */
export async function conditional(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return false;
    throw e;
  }
}

function toItem(r: NoticeRecord) {
  return {
    pk: noticePk(r.region),
    sk: noticeSk(r),
    ...r,
    ...(r.state === 'cleared' ? { expiresAt: Math.floor((r.lastSeen + CLEARED_RETENTION_MS) / 1000) } : {}),
  };
}

function fromItem(item: Record<string, unknown>): NoticeRecord {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, ...record } = item;
  return record as unknown as NoticeRecord;
}

export class DynamoNoticeLedger implements NoticeLedgerPort {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async notices(region: string, instanceIds?: readonly string[]): Promise<NoticeRecord[]> {
    const prefixes = instanceIds ? instanceIds.map((id) => `${id}#`) : [''];
    const out: NoticeRecord[] = [];
    for (const prefix of prefixes) {
      const pages = paginateQuery(
        { client: this.doc },
        {
          TableName: this.table,
          KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': noticePk(region), ...(prefix ? { ':prefix': prefix } : {}) },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) out.push(...(page.Items ?? []).map(fromItem));
    }
    return out;
  }

  create(record: NoticeRecord): Promise<boolean> {
    return conditional(
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(record),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  replace(record: NoticeRecord): Promise<boolean> {
    return conditional(
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(record),
          ConditionExpression: 'version = :previous',
          ExpressionAttributeValues: { ':previous': record.version - 1 },
        }),
      ),
    );
  }

  reported(record: NoticeRecord): Promise<boolean> {
    return conditional(
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: noticePk(record.region), sk: noticeSk(record) },
          UpdateExpression: 'REMOVE pending',
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': record.version },
        }),
      ),
    );
  }

  acquireLock(region: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return conditional(
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: 'LOCK',
            sk: region,
            owner,
            until: now + ttlMs,
            expiresAt: Math.ceil((now + ttlMs) / 1000),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#until': 'until', '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      ),
    );
  }

  async releaseLock(region: string, owner: string): Promise<void> {
    await conditional(
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: 'LOCK', sk: region },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      ),
    );
  }
}
