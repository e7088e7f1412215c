/**
 * LedgerPort over the ledger table (the one the notice ledger uses, lib/ledger.ts), @aws-sdk/lib-dynamodb.
 *
 * Items of a rollout, pk `ROLLOUT#<rolloutId>`:
 * - sk `PLAN`: the plan's head (generatedAt, batch count, how many skipped / infeasible);
 * - sk `PLAN#<batch:6>#<chunk:5>`: a batch's items as JSON chunks of ≤ 300 KB (a 10,000-item batch is a few
 *   MB, over DynamoDB's 400 KB item limit); chunk 0 also holds the batch's other fields and the chunk count;
 * - sk `STEP`: the stored step's head, the commit point: step number, chunk set, chunk count, and record 0;
 * - sk `STEP#<step:10>#<set>#<n:5>`: records 1… of that step. `<set>` is a hash of the step's records, so two
 *   writers of one step number never overwrite each other's chunks;
 * - sk `LOG#<id>`: one history line, written once; `seq` (from the `LOGSEQ` counter item) keeps the order in
 *   which lines were recorded, which the ids' sort order does not;
 * - sk `HALT`: the operator's halt reason.
 * Claims, pk `CLAIM#<key>`, sk `CLAIM` (their keys name no rollout): the claim time, the call's outcome once
 * recorded, and a TTL (`expiresAt`) CLAIM_RETENTION_MS after the claim.
 *
 * saveStep writes the chunks first under their new step and set, invisible to readers, then flips the head
 * with a condition on the step it replaces: the flip is the commit, so a crash in between leaves only orphan
 * chunks of a step never committed. One TransactWriteItems is not used: it is limited to 4 MB (a 5,000-item
 * step is already 11 records and 2.9 MB) and costs twice the write units. After a flip, chunks of earlier steps
 * (superseded ones, and orphans of losers and crashes) are deleted; a reader that finds its step's chunks
 * gone re-reads the head. Every read is strongly consistent: a driver must see the step it just wrote.
 */
import { createHash } from 'node:crypto';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { RECORD_LIMIT } from '../core/machine/storage';
import type { ActionOutcome, LedgerEntry, LedgerPort } from '../core/ports';
import type { Plan, PlanBatch } from '../core/types';
import { conditional } from './notice-ledger';

/** How long a claim (and its outcome) stays: far longer than any replay of the step that made it. */
export const CLAIM_RETENTION_MS = 90 * 86_400_000;
/** Target bytes of a plan chunk's items (DynamoDB's item limit is 400 KB). */
const PLAN_CHUNK_TARGET = 300 * 1024;
/** BatchWriteItem takes at most 25 requests. */
const BATCH_WRITE = 25;
const BATCH_ATTEMPTS = 8;
/** Re-reads of the head when a concurrent save swept the chunks being read. */
const LOAD_ATTEMPTS = 5;

type Item = Record<string, unknown>;

const rolloutPk = (rolloutId: string) => `ROLLOUT#${rolloutId}`;
const claimPk = (key: string) => `CLAIM#${key}`;
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const stepPrefix = (step: number) => `STEP#${pad(step, 10)}#`;
const planPrefix = (batch: number) => `PLAN#${pad(batch, 6)}#`;

function text(item: Item | undefined, name: string): string {
  const v = item?.[name];
  if (typeof v !== 'string') throw new Error(`ledger item ${item?.pk}/${item?.sk} has no ${name}`);
  return v;
}

/** Names the chunk set of one step's records (length-prefixed, so no two lists hash alike by concatenation). */
function chunkSet(records: readonly string[]): string {
  const h = createHash('sha256');
  for (const r of records) h.update(`${Buffer.byteLength(r, 'utf8')}:`).update(r);
  return h.digest('hex').slice(0, 16);
}

/** JSON array texts of `list`, each ≤ `target` bytes of data. */
function chunkJson(list: readonly unknown[], target: number): string[] {
  const out: string[] = [];
  let data: string[] = [];
  let size = 0;
  for (const x of list) {
    const t = JSON.stringify(x);
    const n = Buffer.byteLength(t, 'utf8') + 1;
    if (n > target) throw new Error(`one plan item is ${n} bytes, over the ${target}-byte chunk size`);
    if (size + n > target) {
      out.push(`[${data.join(',')}]`);
      data = [];
      size = 0;
    }
    data.push(t);
    size += n;
  }
  out.push(`[${data.join(',')}]`);
  return out;
}

export class DynamoRolloutLedger implements LedgerPort {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putPlan(plan: Plan): Promise<void> {
    const pk = rolloutPk(plan.rolloutId);
    const items: Item[] = [
      {
        pk,
        sk: 'PLAN',
        generatedAt: plan.generatedAt,
        batches: plan.batches.length,
        skipped: plan.skipped.length,
        infeasible: plan.infeasible.length,
      },
    ];
    for (const { items: list, ...meta } of plan.batches) {
      const chunks = chunkJson(list, PLAN_CHUNK_TARGET);
      for (const [n, data] of chunks.entries())
        items.push({
          pk,
          sk: `${planPrefix(meta.index)}${pad(n, 5)}`,
          data,
          ...(n === 0 ? { meta: JSON.stringify(meta), chunks: chunks.length } : {}),
        });
    }
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  async getPlanBatch(rolloutId: string, index: number): Promise<PlanBatch | undefined> {
    const chunks = await this.query(rolloutId, { begins: planPrefix(index) });
    const [first] = chunks;
    if (!first) return undefined;
    const count = Number(first.chunks);
    if (chunks.length < count)
      throw new Error(`rollout ${rolloutId}: plan batch ${index} has ${chunks.length} of ${count} chunks`);
    const meta = JSON.parse(text(first, 'meta')) as Omit<PlanBatch, 'items'>;
    // Chunks past the count are left over from a larger plan stored earlier under the same id.
    const items = chunks.slice(0, count).flatMap((c) => JSON.parse(text(c, 'data')) as PlanBatch['items']);
    return { ...meta, items };
  }

  async saveStep(
    rolloutId: string,
    step: number,
    records: readonly string[],
    expectedStep: number | undefined,
  ): Promise<boolean> {
    const [head, ...rest] = records;
    if (head === undefined) throw new Error(`rollout ${rolloutId}: a step has at least its head record`);
    if (!Number.isSafeInteger(step) || step < 0) throw new Error(`rollout ${rolloutId}: bad step ${step}`);
    for (const r of records) {
      const size = Buffer.byteLength(r, 'utf8');
      if (size > RECORD_LIMIT)
        throw new Error(`rollout ${rolloutId}: a step record is ${size} bytes, over ${RECORD_LIMIT}`);
    }
    const pk = rolloutPk(rolloutId);
    const set = chunkSet(records);
    const prefix = `${stepPrefix(step)}${set}#`;
    await this.batchWrite(
      rest.map((data, n) => ({ PutRequest: { Item: { pk, sk: `${prefix}${pad(n, 5)}`, data } } })),
    );
    const committed = await conditional(
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk, sk: 'STEP', step, set, chunks: rest.length, data: head },
          ...(expectedStep === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#step = :expected',
                ExpressionAttributeNames: { '#step': 'step' },
                ExpressionAttributeValues: { ':expected': expectedStep },
              }),
        }),
      ),
    );
    if (committed) await this.sweep(rolloutId, step);
    return committed;
  }

  async loadStep(rolloutId: string): Promise<readonly string[] | undefined> {
    for (let attempt = 0; attempt < LOAD_ATTEMPTS; attempt++) {
      const head = await this.get(rolloutPk(rolloutId), 'STEP');
      if (!head) return undefined;
      const step = Number(head.step);
      const chunks = await this.query(rolloutId, { begins: `${stepPrefix(step)}${text(head, 'set')}#` });
      if (chunks.length === head.chunks) return [text(head, 'data'), ...chunks.map((c) => text(c, 'data'))];
      // A newer step was committed and swept these chunks while we read: read the new head.
    }
    throw new Error(`rollout ${rolloutId}: the stored step's chunks kept changing or are missing`);
  }

  claim(key: string, at: number): Promise<boolean> {
    return conditional(
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: claimPk(key),
            sk: 'CLAIM',
            at,
            expiresAt: Math.ceil((at + CLAIM_RETENTION_MS) / 1000),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async claimed(key: string): Promise<boolean> {
    return (await this.get(claimPk(key), 'CLAIM'))?.at !== undefined;
  }

  async putOutcome(key: string, outcomes: readonly ActionOutcome[]): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: claimPk(key), sk: 'CLAIM' },
        UpdateExpression: 'SET outcomes = :o',
        ExpressionAttributeValues: { ':o': JSON.stringify(outcomes) },
      }),
    );
  }

  async getOutcome(key: string): Promise<readonly ActionOutcome[] | undefined> {
    const item = await this.get(claimPk(key), 'CLAIM');
    return item?.outcomes === undefined ? undefined : (JSON.parse(text(item, 'outcomes')) as ActionOutcome[]);
  }

  async record(id: string, entry: LedgerEntry): Promise<void> {
    const pk = rolloutPk(entry.rolloutId);
    // A replayed line takes a number and is then refused: a gap in `seq`, never a second line.
    const counter = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk, sk: 'LOGSEQ' },
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    await conditional(
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk, sk: `LOG#${id}`, seq: Number(counter.Attributes?.n), entry: JSON.stringify(entry) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async history(rolloutId: string): Promise<readonly LedgerEntry[]> {
    const lines = await this.query(rolloutId, { begins: 'LOG#' });
    return lines
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((l) => JSON.parse(text(l, 'entry')) as LedgerEntry);
  }

  async requestHalt(rolloutId: string, reason: string): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: rolloutPk(rolloutId), sk: 'HALT', reason } }),
    );
  }

  async haltRequested(rolloutId: string): Promise<string | undefined> {
    const item = await this.get(rolloutPk(rolloutId), 'HALT');
    return item === undefined ? undefined : text(item, 'reason');
  }

  /**
   * Deletes the chunks of steps before `step`: the superseded step's and any orphans. Best effort: the step
   * is committed already, and whatever stays is deleted by the next commit's sweep.
   */
  private async sweep(rolloutId: string, step: number): Promise<void> {
    try {
      const old = await this.query(rolloutId, { between: ['STEP#', stepPrefix(step)], keysOnly: true });
      await this.batchWrite(old.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })));
    } catch {
      // Orphan chunks are harmless (no head points at them); the next sweep retries.
    }
  }

  private async get(pk: string, sk: string): Promise<Item | undefined> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true }),
    );
    return r.Item;
  }

  /** Every item of a rollout whose sk starts with `begins` or lies in `between`, in sk order, all pages. */
  private async query(
    rolloutId: string,
    q: { begins: string } | { between: readonly [string, string]; keysOnly: true },
  ): Promise<Item[]> {
    const input: QueryCommandInput =
      'begins' in q
        ? {
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
            ExpressionAttributeValues: { ':pk': rolloutPk(rolloutId), ':a': q.begins },
            ConsistentRead: true,
          }
        : {
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
            ExpressionAttributeValues: {
              ':pk': rolloutPk(rolloutId),
              ':a': q.between[0],
              ':b': q.between[1],
            },
            ProjectionExpression: 'pk, sk',
            ConsistentRead: true,
          };
    const out: Item[] = [];
    for await (const page of paginateQuery({ client: this.doc }, input)) out.push(...(page.Items ?? []));
    return out;
  }

  /** BatchWriteItem in groups of 25, resending what DynamoDB left unprocessed (throttling) with backoff. */
  private async batchWrite(requests: readonly Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += BATCH_WRITE) {
      let pending = requests.slice(i, i + BATCH_WRITE);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt === BATCH_ATTEMPTS)
          throw new Error(`ledger: ${pending.length} write(s) still unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
        const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
        pending = r.UnprocessedItems?.[this.table] ?? [];
      }
    }
  }
}
