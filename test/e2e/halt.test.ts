/**
 * (b) A batch whose instances never get healthy: the rollout halts at its gate, the later batches are never
 * touched, the members are out of Standby again, and `Rollout Halted` is on the bus.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { run } from '../../cli/main';
import { DynamoRegionRollouts } from '../../lambda/aws/region-rollouts';
import { delivered } from '../aws/moto/handlers';
import { useMoto } from '../aws/moto/server';
import {
  baseConfig,
  group,
  idsIn,
  instanceStates,
  lifecycles,
  MUTATING,
  poll,
  schedule,
  standalone,
  type World,
  world,
} from './fixture';

describe('e2e (b): a batch that never gets healthy halts the rollout', () => {
  const moto = useMoto();
  let w: World;
  let api: string[];
  let web: string[];
  let canary: string[];
  let events: Awaited<ReturnType<typeof delivered>> = [];
  let first = '';

  beforeAll(async () => {
    let impaired = false;
    w = await world(moto.server(), baseConfig(), {
      // Once the early wave's members were stopped, their status checks fail for good.
      beforeStep: async () => {
        if (impaired) return;
        const stopped = (await moto.server().requests())
          .filter((r) => r.action === 'StopInstances')
          .flatMap(idsIn);
        if (api.some((id) => stopped.includes(id))) {
          await moto.server().setImpaired(api);
          impaired = true;
        }
      },
    });
    canary = await standalone(w, 1, { 'forestall:wave': 'canary' });
    api = await group(w, 'api', 2, { 'forestall:wave': 'early' });
    web = await group(w, 'web', 4);
    await schedule(w, canary, 'system-reboot');
    await schedule(w, [...api, ...web], 'instance-stop');
    await moto.server().resetRequests();
    await poll();
    await w.sfn.drain();
    events = await delivered(w.bus);
    const failed = events.filter((e) => e['detail-type'] === 'Instance Remedy Failed');
    first = String(failed[0]?.detail.instanceId);
  }, 300_000);

  it('halts at the failing batch and emits Rollout Halted', async () => {
    const halted = events.filter((e) => e['detail-type'] === 'Rollout Halted');
    expect(halted).toHaveLength(1);
    expect(String(halted[0]?.detail.reason)).toMatch(/early/);
    const failed = events
      .filter((e) => e['detail-type'] === 'Instance Remedy Failed')
      .map((e) => String(e.detail.instanceId));
    // The early wave goes one member at a time (1 unavailable per group): the first one fails, and halts.
    expect(failed).toHaveLength(1);
    expect(api).toContain(failed[0]);
    expect(w.sfn.runs.every((r) => r.status === 'succeeded')).toBe(true);
  });

  it('never touches the later batches', async () => {
    const touched = (await moto.server().requests()).filter((r) => MUTATING.has(r.action)).flatMap(idsIn);
    const later = [...api, ...web].filter((id) => id !== first);
    for (const id of later) expect({ id, touched: touched.includes(id) }).toEqual({ id, touched: false });
    expect(new Set(touched)).toEqual(new Set([...canary, first]));
  });

  it('holds the Region after the halt: no new rollout until `forestall release`, then the next one starts', async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const held = await new DynamoRegionRollouts(doc, 'forestall-ledger').current('us-east-1');
    expect(held).toMatchObject({ status: 'halted', reason: expect.stringMatching(/early/) });
    const again = await poll();
    expect(again['us-east-1']).toMatchObject({ rollout: { waiting: expect.stringMatching(/release/) } });
    const said: string[] = [];
    const io = { out: (s: string) => said.push(s), err: (s: string) => said.push(s) };
    const aws = { doc, sfn: new SFNClient({ region: 'us-east-1' }) };
    const code = await run(
      ['release', 'us-east-1', '--rollout', String(held?.rolloutId), '--table', 'forestall-ledger'],
      io,
      () => w.time.now(),
      aws,
    );
    expect({ code, said }).toMatchObject({ code: 0 });
    const next = await poll();
    expect(next['us-east-1']).toMatchObject({ rollout: { started: expect.any(String) } });
  });

  it('puts the failed members back in service: out of Standby, running', async () => {
    expect(Object.values(await lifecycles(['api', 'web']))).toEqual(Array(6).fill('InService'));
    expect(Object.values(await instanceStates(w, [...api, ...web]))).toEqual(Array(6).fill('running'));
  });
});
