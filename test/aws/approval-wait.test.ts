/**
 * The AwaitApproval task's handler against moto: it stores the task token on the batch's approval and waits;
 * it wakes its own execution when the decision came first; a missing approval fails the task clearly.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LedgerApprovals } from '../../lambda/aws/approvals';
import { handler } from '../../lambda/handlers/approval-wait';
import { handlerResources } from './moto/handlers';
import { useMoto } from './moto/server';

const ROLLOUT = 'fs-us-east-1-20261201T000000000';

describe('approval-wait handler', () => {
  const moto = useMoto();
  let approvals: LedgerApprovals;

  beforeAll(async () => {
    await handlerResources({ regions: ['us-east-1'] });
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    approvals = new LedgerApprovals(doc, String(process.env.FORESTALL_TABLE));
  });

  const woken = async () =>
    (await moto.server().requests())
      .filter((r) => r.action === 'SendTaskSuccess')
      .map((r) => r.params?.taskToken);

  it('stores the token and waits while the approval is pending', async () => {
    await approvals.request({ rolloutId: ROLLOUT, batch: 1, wave: 'main', token: `${ROLLOUT}:1` });
    await moto.server().resetRequests();
    expect(await handler({ rolloutId: ROLLOUT, batch: 1, taskToken: 'tt-1' })).toEqual({ state: 'pending' });
    expect((await approvals.get(ROLLOUT, 1))?.taskToken).toBe('tt-1');
    expect(await woken()).toEqual([]);
  });

  it('wakes its own execution when the operator decided before the token was stored', async () => {
    await approvals.request({ rolloutId: ROLLOUT, batch: 2, wave: 'main', token: `${ROLLOUT}:2` });
    await approvals.decide(ROLLOUT, 2, 'approved', 'ops');
    await moto.server().resetRequests();
    expect(await handler({ Payload: { rolloutId: ROLLOUT, batch: 2, taskToken: 'tt-2' } })).toEqual({
      state: 'approved',
    });
    expect(await woken()).toEqual(['tt-2']);
  });

  it('fails clearly, waking nothing, when no approval was requested for the batch', async () => {
    await moto.server().resetRequests();
    await expect(handler({ rolloutId: ROLLOUT, batch: 9, taskToken: 'tt-9' })).rejects.toThrow(
      /no approval request for batch 9/,
    );
    expect(await woken()).toEqual([]);
  });

  it('rejects a malformed input naming the field', async () => {
    await expect(handler({ rolloutId: ROLLOUT, batch: -1, taskToken: 'x' })).rejects.toThrow(
      /approval input: .*batch/,
    );
  });
});
