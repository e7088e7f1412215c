/**
 * (d) Approval: a wave that needs approval waits (a `.waitForTaskToken` state) until `forestall approve`,
 * which records the decision and wakes the execution; `forestall halt` during the next approval wait stops
 * the rollout before that batch touches anything.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { run } from '../../cli/main';
import { LedgerApprovals } from '../../lambda/aws/approvals';
import { delivered } from '../aws/moto/handlers';
import { useMoto } from '../aws/moto/server';
import { baseConfig, idsIn, MUTATING, poll, schedule, standalone, type World, world } from './fixture';

const TABLE = 'forestall-ledger';

describe('e2e (d): approval and halt from the CLI', () => {
  const moto = useMoto();
  let w: World;
  let canary: string[];
  let main: string[];
  let rolloutId = '';
  const said: string[] = [];

  /** The operator CLI, in-process, with its AWS clients pointed at moto. */
  const cli = async (...argv: string[]) => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const io = { out: (s: string) => said.push(s), err: (s: string) => said.push(`ERR ${s}`) };
    return run([...argv, '--table', TABLE], io, () => w.time.now(), {
      doc,
      sfn: new SFNClient({ region: 'us-east-1' }),
    });
  };

  /** Resolves with the batch once an execution waits (task token stored) for its approval. */
  const pendingApproval = async (): Promise<number> => {
    const approvals = new LedgerApprovals(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      TABLE,
    );
    for (const until = Date.now() + 60_000; Date.now() < until; ) {
      // Waiting for real: the execution sits in its approval wait, its task token stored.
      const [pending] = await approvals.pending(rolloutId);
      if (pending?.taskToken) return pending.batch;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no approval was requested within 60 s');
  };

  beforeAll(async () => {
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
    w = await world(moto.server(), config);
    canary = await standalone(w, 1, { 'forestall:wave': 'canary' });
    main = await standalone(w, 3);
    await schedule(w, [...canary, ...main], 'system-reboot');
    await moto.server().resetRequests();
    const polled = await poll();
    rolloutId = String((polled['us-east-1'] as { rollout?: { started?: string } }).rollout?.started);
    const rollout = w.sfn.drain();
    // Batch 1 (the first of `main`) waits; the operator approves it.
    const first = await pendingApproval();
    expect(await cli('approve', rolloutId)).toBe(0);
    // Batch 2 waits in turn; the operator halts the rollout instead.
    for (;;) {
      const next = await pendingApproval();
      if (next !== first) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await cli('halt', rolloutId, '--reason', 'e2e: stop after one main batch')).toBe(0);
    await rollout;
  }, 300_000);

  it('waited for approval and went on only once approved', async () => {
    const events = await delivered(w.bus);
    const types = events.map((e) => e['detail-type']);
    expect(types.filter((t) => t === 'Approval Requested')).toHaveLength(2);
    const touched = new Set(
      (await moto.server().requests()).filter((r) => MUTATING.has(r.action)).flatMap(idsIn),
    );
    // The canary and the approved batch: one instance each.
    expect(touched.size).toBe(2);
    expect(touched.has(canary[0] ?? '')).toBe(true);
    expect(said.join('\n')).toMatch(/approved/i);
    const halted = events.filter((e) => e['detail-type'] === 'Rollout Halted');
    expect(halted).toHaveLength(1);
    expect(String(halted[0]?.detail.reason)).toMatch(/e2e: stop after one main batch/);
  });

  it('stopped before the next batch: its instances were never touched', async () => {
    const touched = new Set(
      (await moto.server().requests()).filter((r) => MUTATING.has(r.action)).flatMap(idsIn),
    );
    expect(main.filter((id) => !touched.has(id))).toHaveLength(2);
  });

  it('woke each approval wait with SendTaskSuccess on the token the execution stored', async () => {
    const woken = (await moto.server().requests()).filter((r) => r.action === 'SendTaskSuccess');
    const waits = w.sfn.runs.filter((r) => r.approvals > 0).map((r) => `task-token:${r.name}`);
    expect(waits).toHaveLength(2);
    // Each wait was woken (the halt may be sent twice: by the CLI and by the wait's own handler, by design).
    expect(new Set(woken.map((r) => String(r.params?.taskToken)))).toEqual(new Set(waits));
    expect(woken[0]?.params?.output).toBe(JSON.stringify({ decision: 'approved', batch: 1 }));
    expect(w.sfn.runs.every((r) => r.status === 'succeeded')).toBe(true);
  });
});
