/**
 * (d') The approval wait's race (lambda/handlers/approval-wait.ts): the operator decides, or halts, after the
 * Step asked for approval but before the AwaitApproval task stored its token. `forestall approve` / `halt`
 * found no token to wake, so the AwaitApproval handler must wake its own execution, at once; otherwise the
 * execution waits for a SendTaskSuccess nobody sends (here: the harness gives up after 60 s and the
 * execution fails; in AWS it hangs until the task's 24 h timeout).
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LedgerApprovals } from '../../lambda/aws/approvals';
import { DynamoRolloutLedger } from '../../lambda/aws/rollout-ledger';
import { delivered } from '../aws/moto/handlers';
import { useMoto } from '../aws/moto/server';
import { baseConfig, idsIn, MUTATING, poll, schedule, standalone, type World, world } from './fixture';

const TABLE = 'forestall-ledger';

describe('e2e (d): a decision or a halt that lands before the approval wait stored its token', () => {
  const moto = useMoto();
  let w: World;
  let canary: string[];
  let main: string[];
  const early: number[] = [];

  beforeAll(async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const config = baseConfig({
      waves: [
        {
          name: 'canary',
          match: { tags: { 'forestall:wave': 'canary' } },
          maxParallel: 1,
          bake: 'PT10M',
          failureBudget: 0,
        },
        { name: 'main', maxParallel: 1, bake: 'PT5M', failureBudget: 0, approval: true },
      ],
    });
    w = await world(moto.server(), config, {
      // The Step asked for approval; before AwaitApproval runs, the operator answers (batch 1) or halts (batch 2).
      afterStep: async (_input, output) => {
        if (output.next !== 'approval') return;
        const rolloutId = String(output.rolloutId);
        const batch = Number(output.approvalBatch);
        if (early.includes(batch)) return;
        early.push(batch);
        if (early.length === 1)
          await new LedgerApprovals(doc, TABLE).decide(rolloutId, batch, 'approved', 'e2e');
        else await new DynamoRolloutLedger(doc, TABLE).requestHalt(rolloutId, 'e2e: halt before the token');
      },
    });
    canary = await standalone(w, 1, { 'forestall:wave': 'canary' });
    main = await standalone(w, 3);
    await schedule(w, [...canary, ...main], 'system-reboot');
    await moto.server().resetRequests();
    await poll();
    await w.sfn.drain();
  }, 300_000);

  it('woke its own execution both times: every execution succeeded', async () => {
    expect(early).toHaveLength(2);
    expect(w.sfn.runs.filter((r) => r.status !== 'succeeded')).toEqual([]);
    const woken = (await moto.server().requests()).filter((r) => r.action === 'SendTaskSuccess');
    const outputs = woken.map((r) => JSON.parse(String(r.params?.output)) as Record<string, unknown>);
    expect(outputs).toEqual([{ decision: 'approved', batch: early[0] }, { halt: true }]);
  });

  it('acted on the approved batch, then halted before the next one touched anything', async () => {
    const events = await delivered(w.bus);
    const halted = events.filter((e) => e['detail-type'] === 'Rollout Halted');
    expect(halted).toHaveLength(1);
    expect(String(halted[0]?.detail.reason)).toMatch(/halt before the token/);
    const touched = new Set(
      (await moto.server().requests()).filter((r) => MUTATING.has(r.action)).flatMap(idsIn),
    );
    expect(touched.has(canary[0] ?? '')).toBe(true);
    expect(main.filter((id) => touched.has(id))).toHaveLength(1);
  });
});
