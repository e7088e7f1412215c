/**
 * startRolloutIfDue (lambda/handlers/trigger.ts) without AWS: the Region's claim, the first execution's start
 * under its deterministic name, and the restart of a claim whose start was lost.
 */
import { ExecutionAlreadyExists, type StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { DynamoRegionRollouts, RegionRollout } from '../../lambda/aws/region-rollouts';
import { parseConfig } from '../../lambda/core/config';
import type { NoticeLedgerPort, NoticeRecord } from '../../lambda/core/notice-ledger';
import { executionName, firstTurn } from '../../lambda/core/sfn-moves';
import { startRolloutIfDue, type TriggerDeps } from '../../lambda/handlers/trigger';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const MINUTE = 60_000;
const REGION = 'us-east-1';
const config = parseConfig({ leadTime: 'PT48H', pollIntervalMinutes: 10 });

const due: NoticeRecord = {
  region: REGION,
  instanceId: 'i-01',
  eventId: 'instance-event-1',
  code: 'system-reboot',
  description: 'scheduled',
  notBefore: NOW + 3_600_000,
  source: 'poll',
  state: 'open',
  firstSeen: NOW - MINUTE,
  lastSeen: NOW,
  history: [],
  version: 1,
};

/** The Region record, as DynamoRegionRollouts keeps it (claim: a conditional put). */
class Regions {
  constructor(public record?: RegionRollout) {}
  async current() {
    return this.record;
  }
  async release(_region: string, rolloutId: string) {
    if (this.record?.rolloutId !== rolloutId) return false;
    this.record = undefined;
    return true;
  }
  async claim(region: string, rolloutId: string, now: number) {
    if (this.record && this.record.status !== 'completed') return false;
    this.record = { region, rolloutId, claimedAt: now, status: 'running' };
    return true;
  }
}

function deps(
  regions: Regions,
  opts: { planned?: boolean; send?: (c: StartExecutionCommand) => Promise<unknown> } = {},
) {
  const sent: StartExecutionCommand[] = [];
  const d: TriggerDeps = {
    config,
    notices: { notices: async () => [due] } as unknown as NoticeLedgerPort,
    regions: regions as unknown as DynamoRegionRollouts,
    planned: async () => opts.planned ?? false,
    sfn: {
      send: (async (c: StartExecutionCommand) => {
        sent.push(c);
        return opts.send ? opts.send(c) : {};
      }) as never,
    },
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:forestall-rollout',
  };
  return { d, sent };
}

const refused = () =>
  Promise.reject(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

describe('startRolloutIfDue', () => {
  it('claims the Region and starts the first execution under its deterministic name', async () => {
    const regions = new Regions();
    const { d, sent } = deps(regions);
    const r = await startRolloutIfDue(d, REGION, NOW);
    expect(r).toEqual({ started: regions.record?.rolloutId });
    expect(sent.map((c) => c.input.name)).toEqual([
      executionName(firstTurn(String(regions.record?.rolloutId), REGION)),
    ]);
  });

  it('starts again, under the same name, a claim whose start was lost (the poll died after claiming)', async () => {
    const held: RegionRollout = {
      region: REGION,
      rolloutId: 'fs-us-east-1-20261130T235000000',
      claimedAt: NOW - 10 * MINUTE,
      status: 'running',
    };
    const { d, sent } = deps(new Regions(held));
    expect(await startRolloutIfDue(d, REGION, NOW)).toEqual({ restarted: held.rolloutId });
    expect(sent.map((c) => c.input.name)).toEqual([executionName(firstTurn(held.rolloutId, REGION))]);
  });

  it('leaves a fresh claim alone (its first execution may still be planning), and a planned one', async () => {
    const held: RegionRollout = {
      region: REGION,
      rolloutId: 'fs-us-east-1-20261130T235000000',
      claimedAt: NOW - MINUTE,
      status: 'running',
    };
    const young = deps(new Regions(held));
    expect(await startRolloutIfDue(young.d, REGION, NOW)).toMatchObject({ waiting: expect.any(String) });
    expect(young.sent).toHaveLength(0);
    const planned = deps(new Regions({ ...held, claimedAt: NOW - 10 * MINUTE }), { planned: true });
    expect(await startRolloutIfDue(planned.d, REGION, NOW)).toMatchObject({ waiting: expect.any(String) });
    expect(planned.sent).toHaveLength(0);
  });

  // Review: Step Functions refuses a start under the name of an execution that has *ended* (ExecutionAlreadyExists;
  // a running one with the same input is answered idempotently). A first execution that failed before its Plan
  // stored the rollout (Plan's retries exhausted) is such a name: the restart is refused, swallowed, and every
  // poll reports `restarted` while nothing runs; the Region is held `running` for good (and `forestall release`
  // refuses a rollout whose stored state does not show it ended). The trigger must not claim a restart it did
  // not make.
  it('does not report a restart that Step Functions refused because the first execution ended', async () => {
    const held: RegionRollout = {
      region: REGION,
      rolloutId: 'fs-us-east-1-20261130T235000000',
      claimedAt: NOW - 60 * MINUTE,
      status: 'running',
    };
    const { d, sent } = deps(new Regions(held), { send: refused });
    const r = await startRolloutIfDue(d, REGION, NOW);
    expect(sent).toHaveLength(1);
    expect(r).not.toEqual({ restarted: held.rolloutId });
    expect(r).toMatchObject({ waiting: expect.stringContaining(held.rolloutId) });
    // The Region is given back: the next poll claims it for a new rollout and starts that one.
    const again = await startRolloutIfDue(d, REGION, NOW + MINUTE);
    expect(again).toEqual({ started: expect.stringMatching(/^fs-us-east-1-/) });
  });
});
