/**
 * ApprovalPort over the ledger table: the ledger is the source of truth for an operator's decision, and Step
 * Functions is only woken by it. One item per approval, pk `ROLLOUT#<rolloutId>`, sk `APPROVAL#<batch:6>`.
 *
 * The machine asks once (`request`), then reads `decision` at each step. In AWS a `.waitForTaskToken` state
 * stores its task token on the item (`attachTaskToken`); `forestall approve` records the decision (`decide`)
 * and wakes the execution with SendTaskSuccess (`wakeExecution`). Both writes are conditional updates of the
 * one item that return it as it is after the write, so whichever lands second sees the other's: if the
 * decision came first, attachTaskToken returns it and the token's owner wakes itself; if the token came
 * first, decide returns it and the operator wakes the execution. Exactly one of them sends SendTaskSuccess.
 */
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ApprovalPort, ApprovalRequest } from '../core/ports';
import { conditional } from './notice-ledger';

export type ApprovalState = 'pending' | 'approved' | 'rejected';
export type Decision = Exclude<ApprovalState, 'pending'>;

/** One batch's approval as the ledger holds it. Times are epoch milliseconds. */
export interface ApprovalRecord {
  /** The machine's token, `${rolloutId}:${batch}`. */
  readonly token: string;
  readonly rolloutId: string;
  readonly batch: number;
  readonly wave: string;
  readonly requestedAt: number;
  readonly state: ApprovalState;
  /** Who decided (an IAM principal or a user name) and when. */
  readonly decidedBy?: string;
  readonly decidedAt?: number;
  /** The Step Functions task token of the execution waiting for this decision, once it stored it. */
  readonly taskToken?: string;
}

/** A decision that cannot be recorded as asked: nothing pending, already decided, or ambiguous. */
export class ApprovalError extends Error {
  override readonly name = 'ApprovalError';
}

const pk = (rolloutId: string) => `ROLLOUT#${rolloutId}`;
const sk = (batch: number) => `APPROVAL#${String(batch).padStart(6, '0')}`;

/** Splits the machine's token `${rolloutId}:${batch}` (batch.ts runApproval) at its last colon. */
export function parseApprovalToken(token: string): { rolloutId: string; batch: number } {
  const at = token.lastIndexOf(':');
  const rolloutId = token.slice(0, at);
  const batch = token.slice(at + 1);
  if (at <= 0 || !/^\d{1,6}$/.test(batch))
    throw new ApprovalError(`approval token "${token}" is not <rolloutId>:<batch>`);
  return { rolloutId, batch: Number(batch) };
}

function fromItem(item: Record<string, unknown>): ApprovalRecord {
  const { pk: _pk, sk: _sk, ...record } = item;
  return record as unknown as ApprovalRecord;
}

/** `approved by alice at 2026-12-01T10:00:00.000Z`. */
export function decidedText(a: ApprovalRecord): string {
  const at = a.decidedAt === undefined ? 'an unknown time' : new Date(a.decidedAt).toISOString();
  return `${a.state} by ${a.decidedBy ?? 'an unknown operator'} at ${at}`;
}

export class LedgerApprovals implements ApprovalPort {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the request once: a repeated request (a replayed step) leaves the first, and any decision, as is. */
  async request(req: ApprovalRequest): Promise<void> {
    const record: ApprovalRecord = {
      token: req.token,
      rolloutId: req.rolloutId,
      batch: req.batch,
      wave: req.wave,
      requestedAt: this.now(),
      state: 'pending',
    };
    await conditional(
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: pk(req.rolloutId), sk: sk(req.batch), ...record },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async decision(token: string): Promise<Decision | undefined> {
    const { rolloutId, batch } = parseApprovalToken(token);
    const state = (await this.get(rolloutId, batch))?.state;
    return state === 'approved' || state === 'rejected' ? state : undefined;
  }

  /** The approval of one batch, if it was requested. */
  async get(rolloutId: string, batch: number): Promise<ApprovalRecord | undefined> {
    const r = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: pk(rolloutId), sk: sk(batch) },
        ConsistentRead: true,
      }),
    );
    return r.Item ? fromItem(r.Item) : undefined;
  }

  /** Every approval of a rollout, by batch. */
  async list(rolloutId: string): Promise<ApprovalRecord[]> {
    const out: ApprovalRecord[] = [];
    const pages = paginateQuery(
      { client: this.doc },
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
        ExpressionAttributeValues: { ':pk': pk(rolloutId), ':a': 'APPROVAL#' },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) out.push(...(page.Items ?? []).map(fromItem));
    return out;
  }

  /** The approvals of a rollout still waiting for a decision. */
  async pending(rolloutId: string): Promise<ApprovalRecord[]> {
    return (await this.list(rolloutId)).filter((a) => a.state === 'pending');
  }

  /**
   * Stores the task token of the execution waiting for this approval and returns the approval's state after
   * the write ('missing': never requested). 'approved' or 'rejected' means the decision came first: the
   * caller wakes its own execution, because the operator found no token to wake.
   */
  async attachTaskToken(
    rolloutId: string,
    batch: number,
    taskToken: string,
  ): Promise<ApprovalState | 'missing'> {
    let after: Record<string, unknown> | undefined;
    const stored = await conditional(
      this.doc
        .send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: pk(rolloutId), sk: sk(batch) },
            UpdateExpression: 'SET taskToken = :t',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':t': taskToken },
            ReturnValues: 'ALL_NEW',
          }),
        )
        .then((r) => {
          after = r.Attributes;
        }),
    );
    return stored && after ? fromItem(after).state : 'missing';
  }

  /**
   * Records the operator's decision if the approval is still pending. Without `batch`, decides the rollout's
   * one pending approval. Returns the approval as decided, with the task token to wake when one was stored.
   * Throws ApprovalError when there is nothing pending, when it was decided already (saying by whom and
   * when), or when several are pending and no batch was named.
   */
  async decide(
    rolloutId: string,
    batch: number | undefined,
    decision: Decision,
    by: string,
  ): Promise<ApprovalRecord> {
    const target = batch ?? (await this.onlyPending(rolloutId));
    let after: Record<string, unknown> | undefined;
    const decided = await conditional(
      this.doc
        .send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: pk(rolloutId), sk: sk(target) },
            UpdateExpression: 'SET #state = :d, decidedBy = :by, decidedAt = :at',
            ConditionExpression: '#state = :pending',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':d': decision,
              ':by': by,
              ':at': this.now(),
              ':pending': 'pending',
            },
            ReturnValues: 'ALL_NEW',
          }),
        )
        .then((r) => {
          after = r.Attributes;
        }),
    );
    if (decided && after) return fromItem(after);
    const prior = await this.get(rolloutId, target);
    if (!prior) throw new ApprovalError(`rollout ${rolloutId} has no approval request for batch ${target}`);
    throw new ApprovalError(`batch ${target} of rollout ${rolloutId} was already ${decidedText(prior)}`);
  }

  /** The batch of the rollout's single pending approval. */
  private async onlyPending(rolloutId: string): Promise<number> {
    const all = await this.list(rolloutId);
    const open = all.filter((a) => a.state === 'pending');
    const [first] = open;
    if (open.length > 1)
      throw new ApprovalError(
        `rollout ${rolloutId} has ${open.length} pending approvals (batches ${open.map((a) => a.batch).join(', ')}): name one with --batch`,
      );
    if (first) return first.batch;
    const last = all.at(-1);
    throw new ApprovalError(
      last
        ? `rollout ${rolloutId} has no pending approval (the last, batch ${last.batch}, was ${decidedText(last)})`
        : `rollout ${rolloutId} has no pending approval (none was requested)`,
    );
  }
}

/** SendTaskSuccess answers that no execution is waiting on this token (any more). */
const NOT_WAITING = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

/**
 * Wakes the execution waiting on `taskToken` with `output` as its task result. 'not-waiting' when Step
 * Functions knows no such wait (it ended, timed out, or the token is stale): harmless, because the execution
 * reads the decision from the ledger at its next step anyway.
 */
export async function wakeExecution(
  sfn: Pick<SFNClient, 'send'>,
  taskToken: string,
  output: Readonly<Record<string, unknown>>,
): Promise<'woken' | 'not-waiting'> {
  try {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    return 'woken';
  } catch (e) {
    if (NOT_WAITING.has((e as { name?: string }).name ?? '')) return 'not-waiting';
    throw e;
  }
}
