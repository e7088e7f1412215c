/**
 * One rollout at a time per Region (lambda/aws/region-rollouts.ts) against moto's DynamoDB: the claim is a
 * conditional put that only an empty Region, or one whose last rollout completed, admits.
 */
import { createClients } from '../../lambda/aws/clients';
import { DynamoRegionRollouts } from '../../lambda/aws/region-rollouts';
import { createLedgerTable } from './moto/aws-resources';
import { useMoto } from './moto/server';

useMoto();
const REGION = 'us-east-1';
const T = Date.parse('2026-12-01T00:00:00Z');
let tables = 0;
const regions = async () =>
  new DynamoRegionRollouts(createClients(REGION).ledger, await createLedgerTable(`regions-${++tables}`));

describe('DynamoRegionRollouts', () => {
  it('admits one claim while a rollout runs: a second poll (or a Health look) is refused', async () => {
    const r = await regions();
    expect(await r.claim(REGION, 'r1', T)).toBe(true);
    expect(await r.claim(REGION, 'r2', T + 1)).toBe(false);
    expect(await r.current(REGION)).toMatchObject({ rolloutId: 'r1', status: 'running', claimedAt: T });
    // Another Region is its own.
    expect(await r.claim('eu-west-1', 'r3', T)).toBe(true);
  });

  it('admits the next claim once the rollout completed, never while it is held halted', async () => {
    const r = await regions();
    expect(await r.claim(REGION, 'r1', T)).toBe(true);
    expect(await r.finish(REGION, 'r1', undefined)).toBe(true);
    expect(await r.claim(REGION, 'r2', T + 1)).toBe(true);
    expect(await r.finish(REGION, 'r2', { reason: 'gate' })).toBe(true);
    expect(await r.claim(REGION, 'r3', T + 2)).toBe(false);
    expect(await r.current(REGION)).toMatchObject({ rolloutId: 'r2', status: 'halted', reason: 'gate' });
    // Only the holder finishes or releases it; released, the Region is free again.
    expect(await r.finish(REGION, 'r1', undefined)).toBe(false);
    expect(await r.release(REGION, 'r1')).toBe(false);
    expect(await r.release(REGION, 'r2')).toBe(true);
    expect(await r.claim(REGION, 'r3', T + 3)).toBe(true);
  });
});
