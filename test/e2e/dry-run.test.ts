/**
 * (c) Dry run (the default config): the whole rollout runs and reports what it would do, and no mutating
 * request reaches the server (counted at the server).
 */
import { delivered } from '../aws/moto/handlers';
import { useMoto } from '../aws/moto/server';
import {
  baseConfig,
  group,
  MUTATING,
  openEvents,
  poll,
  schedule,
  standalone,
  type World,
  world,
} from './fixture';

describe('e2e (c): dry run', () => {
  const moto = useMoto();
  let w: World;
  let ids: string[];

  beforeAll(async () => {
    w = await world(moto.server(), baseConfig({ dryRun: true }));
    const web = await group(w, 'web', 3);
    const solo = await standalone(w, 2, { 'forestall:wave': 'canary' });
    ids = [...web, ...solo];
    await schedule(w, web, 'instance-stop');
    await schedule(w, solo, 'system-reboot');
    await moto.server().resetRequests();
    await poll();
    await w.sfn.drain();
  }, 300_000);

  it('sends no mutating request to EC2, Auto Scaling or ELBv2', async () => {
    const log = await moto.server().requests();
    expect(log.filter((r) => MUTATING.has(r.action)).map((r) => r.action)).toEqual([]);
    expect(log.filter((r) => r.action === 'DescribeInstanceStatus').length).toBeGreaterThan(0);
  });

  it('runs to the end, reports every instance as a dry run, and leaves every event open', async () => {
    const events = await delivered(w.bus);
    expect(events.filter((e) => e['detail-type'] === 'Rollout Completed')).toHaveLength(1);
    const completed = events.filter((e) => e['detail-type'] === 'Batch Completed');
    expect(completed.reduce((n, e) => n + Number(e.detail.dryRun), 0)).toBe(ids.length);
    expect((await openEvents(w, ids)).size).toBe(ids.length);
    expect(w.sfn.runs.every((r) => r.status === 'succeeded')).toBe(true);
  });
});
