/**
 * LedgerApprovals against moto's DynamoDB, and wakeExecution against moto's Step Functions endpoint (moto
 * accepts any task token, so "no execution waits on it" is an injected TaskDoesNotExist in SFN's own JSON
 * error shape, which the SDK maps to its exception class as it would AWS's).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import {
  ApprovalError,
  LedgerApprovals,
  parseApprovalToken,
  wakeExecution,
} from '../../lambda/aws/approvals';
import { createClients } from '../../lambda/aws/clients';
import type { ApprovalRequest } from '../../lambda/core/ports';
import { createLedgerTable } from './moto/aws-resources';
import { useMoto } from './moto/server';

const moto = useMoto();
const T0 = Date.parse('2026-12-01T10:00:00Z');
let tables = 0;
let clock = T0;

async function fresh(): Promise<LedgerApprovals> {
  clock = T0;
  const table = await createLedgerTable(`approvals-${++tables}`);
  return new LedgerApprovals(createClients('us-east-1').ledger, table, () => clock);
}

const req = (batch: number, rolloutId = 'fs-20261201T10-abc'): ApprovalRequest => ({
  rolloutId,
  batch,
  wave: batch === 0 ? 'canary' : 'main',
  token: `${rolloutId}:${batch}`,
});

describe('LedgerApprovals', () => {
  it('records a request once: a replayed request keeps the first time and the decision', async () => {
    const a = await fresh();
    await a.request(req(0));
    clock += 60_000;
    await a.request(req(0));
    expect(await a.get('fs-20261201T10-abc', 0)).toEqual({
      token: 'fs-20261201T10-abc:0',
      rolloutId: 'fs-20261201T10-abc',
      batch: 0,
      wave: 'canary',
      requestedAt: T0,
      state: 'pending',
    });
    await a.decide('fs-20261201T10-abc', 0, 'approved', 'alice');
    await a.request(req(0));
    expect(await a.decision('fs-20261201T10-abc:0')).toBe('approved');
  });

  it('answers decision() by the token: undefined while pending, then the decision of that batch only', async () => {
    const a = await fresh();
    await a.request(req(0));
    await a.request(req(1));
    expect(await a.decision('fs-20261201T10-abc:0')).toBeUndefined();
    await a.decide('fs-20261201T10-abc', 1, 'rejected', 'bob');
    expect(await a.decision('fs-20261201T10-abc:0')).toBeUndefined();
    expect(await a.decision('fs-20261201T10-abc:1')).toBe('rejected');
    expect(await a.decision('fs-20261201T10-abc:7')).toBeUndefined();
  });

  it('parses the machine token at its last colon and refuses a malformed one', () => {
    expect(parseApprovalToken('fs-20261201T10-abc:12')).toEqual({
      rolloutId: 'fs-20261201T10-abc',
      batch: 12,
    });
    expect(parseApprovalToken('a:b:3')).toEqual({ rolloutId: 'a:b', batch: 3 });
    for (const bad of ['fs-1', ':3', 'fs-1:', 'fs-1:x', 'fs-1:-1'])
      expect(() => parseApprovalToken(bad)).toThrow(ApprovalError);
  });

  it('refuses a second decision, saying who decided and when', async () => {
    const a = await fresh();
    await a.request(req(0));
    clock = T0 + 3_600_000;
    const first = await a.decide('fs-20261201T10-abc', 0, 'approved', 'alice');
    expect(first).toMatchObject({ batch: 0, state: 'approved', decidedBy: 'alice', decidedAt: clock });
    clock += 60_000;
    await expect(a.decide('fs-20261201T10-abc', 0, 'rejected', 'bob')).rejects.toThrow(
      'batch 0 of rollout fs-20261201T10-abc was already approved by alice at 2026-12-01T11:00:00.000Z',
    );
    expect(await a.get('fs-20261201T10-abc', 0)).toMatchObject({ state: 'approved', decidedBy: 'alice' });
  });

  it('returns the stored task token with the decision when the execution attached it first', async () => {
    const a = await fresh();
    await a.request(req(0));
    expect(await a.attachTaskToken('fs-20261201T10-abc', 0, 'tt-1')).toBe('pending');
    const decided = await a.decide('fs-20261201T10-abc', 0, 'approved', 'alice');
    expect(decided.taskToken).toBe('tt-1');
  });

  it('race: a decision recorded before the token is attached comes back to the attaching execution', async () => {
    const a = await fresh();
    await a.request(req(0));
    const decided = await a.decide('fs-20261201T10-abc', 0, 'rejected', 'alice');
    expect(decided.taskToken).toBeUndefined(); // nothing for the operator to wake...
    expect(await a.attachTaskToken('fs-20261201T10-abc', 0, 'tt-1')).toBe('rejected'); // ...so it wakes itself
    expect(await a.attachTaskToken('fs-20261201T10-abc', 3, 'tt-2')).toBe('missing');
    expect(await a.get('fs-20261201T10-abc', 3)).toBeUndefined();
  });

  it('decides the one pending approval when no batch is named', async () => {
    const a = await fresh();
    await a.request(req(0));
    await a.decide('fs-20261201T10-abc', 0, 'approved', 'alice');
    await a.request(req(1));
    const decided = await a.decide('fs-20261201T10-abc', undefined, 'approved', 'bob');
    expect(decided).toMatchObject({ batch: 1, wave: 'main', decidedBy: 'bob' });
    expect(await a.pending('fs-20261201T10-abc')).toEqual([]);
  });

  it('refuses to guess between several pending approvals, and says when none is pending', async () => {
    const a = await fresh();
    await expect(a.decide('fs-x', undefined, 'approved', 'alice')).rejects.toThrow(
      'rollout fs-x has no pending approval (none was requested)',
    );
    await a.request(req(0, 'fs-x'));
    await a.request(req(2, 'fs-x'));
    await expect(a.decide('fs-x', undefined, 'approved', 'alice')).rejects.toThrow(
      'rollout fs-x has 2 pending approvals (batches 0, 2): name one with --batch',
    );
    expect((await a.pending('fs-x')).map((p) => p.batch)).toEqual([0, 2]);
    await a.decide('fs-x', 2, 'approved', 'alice');
    await a.decide('fs-x', 0, 'approved', 'bob');
    await expect(a.decide('fs-x', undefined, 'approved', 'carol')).rejects.toThrow(
      /no pending approval \(the last, batch 2, was approved by alice at 2026-12-01T10:00:00.000Z\)/,
    );
    await expect(a.decide('fs-x', 5, 'approved', 'carol')).rejects.toThrow(
      'rollout fs-x has no approval request for batch 5',
    );
  });

  it('keeps rollouts apart', async () => {
    const a = await fresh();
    await a.request(req(0, 'fs-a'));
    await a.request(req(0, 'fs-b'));
    await a.decide('fs-a', undefined, 'approved', 'alice');
    expect(await a.decision('fs-b:0')).toBeUndefined();
    expect((await a.pending('fs-b')).map((p) => p.rolloutId)).toEqual(['fs-b']);
  });
});

describe('wakeExecution', () => {
  const sfn = () => new SFNClient({ region: 'us-east-1', maxAttempts: 1 });

  it('sends SendTaskSuccess with the task token and the output as JSON', async () => {
    await moto.server().resetRequests();
    expect(await wakeExecution(sfn(), 'tt-42', { decision: 'approved', batch: 1 })).toBe('woken');
    const sent = (await moto.server().requests()).filter((r) => r.action === 'SendTaskSuccess');
    expect(sent.map((r) => r.params)).toEqual([
      { taskToken: 'tt-42', output: '{"decision":"approved","batch":1}' },
    ]);
  });

  it.each(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken'])(
    'answers not-waiting when Step Functions says %s',
    async (code) => {
      await moto.server().injectFaults([{ action: 'SendTaskSuccess', status: 400, code }]);
      expect(await wakeExecution(sfn(), 'tt-gone', { halt: true })).toBe('not-waiting');
    },
  );

  it('passes any other error on', async () => {
    await moto
      .server()
      .injectFaults([{ action: 'SendTaskSuccess', status: 400, code: 'AccessDeniedException' }]);
    await expect(wakeExecution(sfn(), 'tt-1', {})).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
