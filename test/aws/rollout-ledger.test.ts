/**
 * The DynamoDB rollout ledger against moto: the LedgerPort contract its in-memory twin passes too, what the
 * item layout leaves in the table, and a whole simulated rollout whose every step goes through DynamoDB.
 */
import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { createClients } from '../../lambda/aws/clients';
import { CLAIM_RETENTION_MS, DynamoRolloutLedger } from '../../lambda/aws/rollout-ledger';
import { parseConfig } from '../../lambda/core/config';
import { runLocalRollout } from '../../lambda/core/local-driver';
import { RECORD_LIMIT, toRecords } from '../../lambda/core/machine/storage';
import { groupLimits } from '../../lambda/core/planner';
import { bigSteps } from '../contract/big-rollout';
import { describeLedgerContract } from '../contract/ledger-contract';
import { config, planned, scenario } from '../sim/helpers';
import { createLedgerTable } from './moto/aws-resources';
import { useMoto } from './moto/server';

useMoto();
let tables = 0;

async function fresh(): Promise<{ ledger: DynamoRolloutLedger; doc: DynamoDBDocumentClient; table: string }> {
  const doc = createClients('us-east-1').ledger;
  const table = await createLedgerTable(`rollout-ledger-${++tables}`);
  return { ledger: new DynamoRolloutLedger(doc, table), doc, table };
}

/** The sort keys (and sizes) of a partition's items, as DynamoDB holds them. */
async function items(doc: DynamoDBDocumentClient, table: string, pk: string) {
  const out: { sk: string; size: number; item: Record<string, unknown> }[] = [];
  const pages = paginateQuery(
    { client: doc },
    { TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } },
  );
  for await (const page of pages)
    for (const item of page.Items ?? [])
      out.push({ sk: String(item.sk), size: Buffer.byteLength(JSON.stringify(item), 'utf8'), item });
  return out;
}

const chunkKeys = async (doc: DynamoDBDocumentClient, table: string, rolloutId: string) =>
  (await items(doc, table, `ROLLOUT#${rolloutId}`)).filter((i) => i.sk.startsWith('STEP#')).map((i) => i.sk);

describeLedgerContract('DynamoRolloutLedger', async () => (await fresh()).ledger);

describe('DynamoRolloutLedger: what the layout leaves in the table', () => {
  it('keeps only the committed step’s chunks: superseded steps and losers’ orphans are swept', async () => {
    const { ledger, doc, table } = await fresh();
    const recs = (tag: string, n: number) => Array.from({ length: n + 1 }, (_, k) => `{"${tag}":${k}}`);
    expect(await ledger.saveStep('r1', 0, recs('a', 3), undefined)).toBe(true);
    expect(await chunkKeys(doc, table, 'r1')).toHaveLength(3);
    // A loser writes its chunks, then its flip is refused: they are orphans no head points at.
    expect(await ledger.saveStep('r1', 1, recs('lost', 2), 9)).toBe(false);
    expect(await chunkKeys(doc, table, 'r1')).toHaveLength(5);
    expect(await ledger.saveStep('r1', 1, recs('b', 4), 0)).toBe(true);
    expect(await ledger.loadStep('r1')).toEqual(recs('b', 4));
    // Step 0's chunks are gone; the loser's step-1 orphans stay until the next commit sweeps below step 2.
    expect(await chunkKeys(doc, table, 'r1')).toHaveLength(6);
    expect(await ledger.saveStep('r1', 2, recs('c', 1), 1)).toBe(true);
    const left = await chunkKeys(doc, table, 'r1');
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^STEP#0000000002#[0-9a-f]{16}#00000$/);
  });

  it('stores a 5,000-item step as one item per record, each under 400 KB, and sweeps the previous one', async () => {
    const { ledger, doc, table } = await fresh();
    const steps = bigSteps(5000, parseConfig({ dryRun: false }));
    let expected: number | undefined;
    for (const step of steps) {
      const records = toRecords(step);
      expect(await ledger.saveStep('fs-test', step.state.step, records, expected)).toBe(true);
      expected = step.state.step;
      const stored = await items(doc, table, 'ROLLOUT#fs-test');
      const chunks = stored.filter((i) => i.sk.startsWith('STEP#'));
      expect(chunks).toHaveLength(records.length - 1);
      for (const i of stored) expect(i.size).toBeLessThan(400 * 1024);
    }
  }, 120_000);

  it('refuses a record over 350 KB before writing anything', async () => {
    const { ledger, doc, table } = await fresh();
    const huge = 'x'.repeat(RECORD_LIMIT + 1);
    await expect(ledger.saveStep('r1', 0, ['{}', huge], undefined)).rejects.toThrow(/over 358400/);
    expect(await items(doc, table, 'ROLLOUT#r1')).toEqual([]);
  });

  it('gives a claim and its outcome a TTL 90 days after the claim', async () => {
    const { ledger, doc, table } = await fresh();
    const at = Date.parse('2026-12-01T00:00:00Z');
    await ledger.claim('call#r1/1', at);
    await ledger.putOutcome('call#r1/1', [{ instanceId: 'i-1', ok: true }]);
    const [claim] = await items(doc, table, 'CLAIM#call#r1/1');
    expect(claim?.item.expiresAt).toBe(Math.ceil((at + CLAIM_RETENTION_MS) / 1000));
    expect(claim?.item.at).toBe(at);
  });

  it('re-reads the head when another run commits and sweeps the step being read', async () => {
    const { ledger: writer, table } = await fresh();
    const recs = (step: number) => Array.from({ length: 4 }, (_, k) => `{"step":${step},"k":${k}}`);
    expect(await writer.saveStep('r1', 0, recs(0), undefined)).toBe(true);
    // The reader's client lets step 1 commit (sweeping step 0's chunks) between its head read and chunk query.
    const readerDoc = createClients('us-east-1').ledger;
    let interleaved = false;
    readerDoc.middlewareStack.add(
      (next) => async (args) => {
        if (!interleaved && JSON.stringify(args.input).includes('STEP#0000000000#')) {
          interleaved = true;
          expect(await writer.saveStep('r1', 1, recs(1), 0)).toBe(true);
        }
        return next(args);
      },
      { step: 'initialize', name: 'commitBetweenReads' },
    );
    expect(await new DynamoRolloutLedger(readerDoc, table).loadStep('r1')).toEqual(recs(1));
    expect(interleaved).toBe(true);
  });
});

describe('a simulated rollout whose ledger is DynamoDB', () => {
  it('reaches the same result, events and history as with the in-memory ledger', async () => {
    const cfg = config({ waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S', failureBudget: 2 }] });
    const s = scenario({
      groups: [
        { name: 'web', count: 12 },
        { name: 'db', count: 6 },
      ],
      events: { affected: 1, mix: { 'system-reboot': 2, 'instance-stop': 1 }, slots: ['P3D'] },
      // Half the reboot migrations fail: fallbacks to stop-start, so the history's order decides outcomes.
      behaviour: { rebootMigrationSuccess: 0.5, throttling: false },
    });
    const run = async (swap: boolean) => {
      const { ports, plan } = await planned(s, cfg);
      const limits = groupLimits(await ports.fleet.describeFacts(), cfg);
      const ledger = swap ? (await fresh()).ledger : ports.ledger;
      const result = await runLocalRollout(plan, cfg, { ...ports, ledger }, { region: 'us-east-1', limits });
      return { result, events: ports.reporter.events, history: await ledger.history(plan.rolloutId), ledger };
    };
    const memory = await run(false);
    const dynamo = await run(true);
    expect(memory.result.items).toHaveLength(18);
    expect(memory.result.items.filter((i) => i.fellBack).length).toBeGreaterThan(3);
    expect(memory.result.steps).toBeGreaterThan(100);
    expect(dynamo.result).toEqual(memory.result);
    expect(dynamo.events).toEqual(memory.events);
    expect(dynamo.history).toEqual(memory.history);
    const stored = await dynamo.ledger.loadStep(memory.result.rolloutId);
    expect(stored).toEqual(await memory.ledger.loadStep(memory.result.rolloutId));
  }, 120_000);
});
