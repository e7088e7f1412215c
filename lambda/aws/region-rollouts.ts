/**
 * One rollout at a time per Region: the Region's rollout record in the ledger table, pk `REGION#<region>`,
 * sk `ROLLOUT`. The poll claims it (a conditional put) before it starts a rollout's first execution, so two
 * polls, or a poll and a Health-triggered look, never start two rollouts in one Region. The record stays while
 * the rollout runs and after it halted (a halted rollout holds the Region until an operator releases it:
 * `forestall release`); a completed rollout leaves it `completed`, which the next claim may replace, and whose
 * claim time tells the trigger which notices that rollout already saw (lambda/core/trigger.ts).
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { conditional } from './notice-ledger';

export type RegionRolloutStatus = 'running' | 'halted' | 'completed';

export interface RegionRollout {
  readonly region: string;
  readonly rolloutId: string;
  /** When the poll claimed the Region (ms since the epoch). */
  readonly claimedAt: number;
  readonly status: RegionRolloutStatus;
  /** Why it halted, once it did. */
  readonly reason?: string;
}

const key = (region: string) => ({ pk: `REGION#${region}`, sk: 'ROLLOUT' });

export class DynamoRegionRollouts {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** The Region's rollout, if one runs or halted there. */
  async current(region: string): Promise<RegionRollout | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: key(region), ConsistentRead: true }),
    );
    return r.Item ? (r.Item as unknown as RegionRollout) : undefined;
  }

  /** Claims the Region for `rolloutId`; false while another rollout runs there or holds it halted. */
  claim(region: string, rolloutId: string, now: number): Promise<boolean> {
    const item: RegionRollout = { region, rolloutId, claimedAt: now, status: 'running' };
    return conditional(
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key(region), ...item },
          ConditionExpression: 'attribute_not_exists(pk) OR #s = :completed',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':completed': 'completed' },
        }),
      ),
    );
  }

  /** The rollout ended: `completed`, or `halted` (held until released). Idempotent; false if another holds it. */
  finish(region: string, rolloutId: string, halted: { reason: string } | undefined): Promise<boolean> {
    return conditional(
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key(region),
          UpdateExpression: halted ? 'SET #s = :s, reason = :r' : 'SET #s = :s',
          ConditionExpression: 'rolloutId = :id',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':id': rolloutId,
            ':s': halted ? 'halted' : 'completed',
            ...(halted ? { ':r': halted.reason } : {}),
          },
        }),
      ),
    );
  }

  /** Gives the Region back (an operator, after a halt) if `rolloutId` still holds it; false when it does not. */
  release(region: string, rolloutId: string): Promise<boolean> {
    return conditional(
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: key(region),
          ConditionExpression: 'rolloutId = :id',
          ExpressionAttributeValues: { ':id': rolloutId },
        }),
      ),
    );
  }
}
