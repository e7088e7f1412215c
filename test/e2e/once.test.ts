/**
 * (e) One action per event, whatever is repeated: the same AWS Health event delivered twice, the rollout
 * started twice (a second poll, and the first execution's StartExecution sent again), and a Step whose reply
 * was lost after it acted (the state machine's Retry runs it again). Counted at the server's request log.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { executionName, firstTurn } from '../../lambda/core/sfn-moves';
import { handler as healthIntake } from '../../lambda/handlers/health-intake';
import { lambdaContext } from '../aws/moto/handlers';
import { useMoto } from '../aws/moto/server';
import {
  ACCOUNT,
  baseConfig,
  group,
  idsIn,
  openEvents,
  poll,
  schedule,
  standalone,
  type World,
  world,
} from './fixture';

/** An AWS Health scheduled change naming these instances (the shape of ../shared/fixtures). */
function healthEvent(ids: readonly string[]) {
  return {
    version: '0',
    id: 'e2e-health-1',
    'detail-type': 'AWS Health Event',
    source: 'aws.health',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [...ids],
    detail: {
      eventArn: 'arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_STOP_SCHEDULED/E2E',
      service: 'EC2',
      eventTypeCode: 'AWS_EC2_INSTANCE_STOP_SCHEDULED',
      eventTypeCategory: 'scheduledChange',
      eventScopeCode: 'ACCOUNT_SPECIFIC',
      communicationId: 'e2e-1',
      startTime: new Date(Date.now() + 3 * 86_400_000).toUTCString(),
      lastUpdatedTime: new Date().toUTCString(),
      statusCode: 'upcoming',
      eventRegion: 'us-east-1',
      eventDescription: [{ language: 'en_US', latestDescription: 'The instance is scheduled for a stop.' }],
      affectedEntities: ids.map((entityValue) => ({ entityValue, status: 'PENDING' })),
      affectedAccount: ACCOUNT,
      page: '1',
      totalPages: '1',
      backupEvent: 'false',
    },
  };
}

describe('e2e (e): one action per event', () => {
  const moto = useMoto();
  let w: World;
  let ids: string[];
  let lostReplies = 0;

  beforeAll(async () => {
    w = await world(moto.server(), baseConfig(), {
      // The first Step that stops instances loses its reply after acting: the Retry runs it again.
      afterStep: async () => {
        if (lostReplies > 0) return;
        const acted = (await moto.server().requests()).some((r) => r.action === 'StopInstances');
        if (acted) {
          lostReplies++;
          throw new Error('e2e: the reply of this Step was lost after it acted');
        }
      },
    });
    const web = await group(w, 'web', 2, { 'forestall:wave': 'early' });
    const solo = await standalone(w, 2);
    ids = [...web, ...solo];
    await schedule(w, ids, 'instance-stop');
    await moto.server().resetRequests();
    const event = healthEvent(ids);
    await healthIntake(event, lambdaContext('health-1', 'health-intake'));
    await healthIntake(event, lambdaContext('health-2', 'health-intake'));
    await poll();
    // The trigger's StartExecution sent again, as a retry of a start whose reply was lost.
    const started = (await moto.server().requests()).find((r) => r.action === 'StartExecution');
    const input = JSON.parse(String(started?.params?.input)) as { rolloutId: string };
    await new SFNClient({ region: 'us-east-1' }).send(
      new StartExecutionCommand({
        stateMachineArn: w.sfn.arn,
        name: executionName(firstTurn(input.rolloutId, 'us-east-1')),
        input: String(started?.params?.input),
      }),
    );
    await w.sfn.drain();
  }, 300_000);

  it('started one rollout: one first execution, though asked three more times', async () => {
    const first = w.sfn.runs.filter((r) => r.planned);
    expect(first).toHaveLength(1);
    expect(w.sfn.runs.every((r) => r.status === 'succeeded')).toBe(true);
  });

  it('retried the Step whose reply was lost', () => {
    expect(lostReplies).toBe(1);
    expect(w.sfn.runs.reduce((n, r) => n + (r.retries ?? 0), 0)).toBe(1);
  });

  it('stopped and started each instance exactly once, and cleared every event', async () => {
    const log = await moto.server().requests();
    for (const id of ids) {
      const count = (action: string) =>
        log.filter((r) => r.action === action && idsIn(r).includes(id)).length;
      expect({
        id,
        stop: count('StopInstances'),
        start: count('StartInstances'),
        reboot: count('RebootInstances'),
      }).toEqual({
        id,
        stop: 1,
        start: 1,
        reboot: 0,
      });
    }
    expect(await openEvents(w, ids)).toEqual(new Map());
  });
});
