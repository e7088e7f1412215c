/**
 * The operator commands (approve, halt, status, release) run in-process against moto: DynamoDB for real,
 * CloudFormation for the table lookup, and Step Functions through moto's endpoint (whose request log shows
 * what SendTaskSuccess carried). The rollout they act on is a real one: the local driver runs the machine
 * with DynamoRolloutLedger and LedgerApprovals over the same table, and stops where the machine asks the
 * operator, as a Step Functions execution waiting for its task token would.
 */
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { SFNClient } from '@aws-sdk/client-sfn';
import { run } from '../../cli/main';
import { LedgerApprovals } from '../../lambda/aws/approvals';
import { createClients } from '../../lambda/aws/clients';
import { DynamoNoticeLedger } from '../../lambda/aws/notice-ledger';
import { DynamoRegionRollouts } from '../../lambda/aws/region-rollouts';
import { DynamoRolloutLedger } from '../../lambda/aws/rollout-ledger';
import { resumeLocalRollout, runLocalRollout } from '../../lambda/core/local-driver';
import type { NoticeRecord } from '../../lambda/core/notice-ledger';
import { groupLimits } from '../../lambda/core/planner';
import type { ApprovalPort, ApprovalRequest, Ports } from '../../lambda/core/ports';
import { config, planned, scenario } from '../sim/helpers';
import { createLedgerTable } from './moto/aws-resources';
import { useMoto } from './moto/server';

const moto = useMoto();
const doc = () => createClients('us-east-1').ledger;
let tables = 0;
const freshTable = () => createLedgerTable(`operate-${++tables}`);

async function cli(clock: number, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, () => clock);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The operator is asked: the request is stored, then the run stops (once per token), like a waiting execution. */
class Asked extends Error {}
class StopWhenAsked implements ApprovalPort {
  private readonly seen = new Set<string>();
  constructor(private readonly inner: LedgerApprovals) {}
  async request(req: ApprovalRequest): Promise<void> {
    await this.inner.request(req);
    if (this.seen.has(req.token)) return;
    this.seen.add(req.token);
    throw new Asked(req.token);
  }
  decision(token: string) {
    return this.inner.decision(token);
  }
}

const cfg = config({
  waves: [{ name: 'all', maxParallel: 2, bake: 'PT0S', failureBudget: 0, approval: true }],
  maxUnavailablePerGroup: '100%',
});

/** A 4-instance Region whose rollout (2 batches, each approved) is stored and waits for batch 0's approval. */
async function rolloutWaitingForApproval() {
  const table = await freshTable();
  const { ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 4 }] }), cfg);
  const ledger = new DynamoRolloutLedger(doc(), table);
  const approvals = new LedgerApprovals(doc(), table, () => ports.clock.now());
  const rig: Ports = { ...ports, ledger, approvals: new StopWhenAsked(approvals) };
  const limits = groupLimits(await ports.fleet.describeFacts(), cfg);
  expect(
    await new DynamoRegionRollouts(doc(), table).claim('us-east-1', plan.rolloutId, ports.clock.now()),
  ).toBe(true);
  await expect(runLocalRollout(plan, cfg, rig, { region: 'us-east-1', limits })).rejects.toThrow(Asked);
  const id = plan.rolloutId;
  return {
    table,
    id,
    plan,
    ledger,
    approvals,
    now: () => ports.clock.now(),
    resume: () => resumeLocalRollout(id, cfg, rig),
  };
}

const notice = (
  over: Partial<NoticeRecord> & Pick<NoticeRecord, 'instanceId' | 'notBefore'>,
): NoticeRecord => ({
  region: 'us-east-1',
  eventId: `instance-event-${over.instanceId.slice(-4)}`,
  code: 'system-reboot',
  description: 'scheduled reboot',
  source: 'poll',
  state: 'open',
  firstSeen: 0,
  lastSeen: 0,
  history: [],
  version: 1,
  ...over,
});

const user = process.env.USER;
afterAll(() => {
  process.env.USER = user;
});

const H = 3_600_000;
const NOW = Date.parse('2026-12-01T00:00:00Z');

describe('forestall approve, status and halt on a real stored rollout', () => {
  it('shows the batch waiting, approves it, and the machine reads the decision and goes on', async () => {
    const r = await rolloutWaitingForApproval();
    const [slot0, slot1] = r.plan.batches.map((b) => b.startAt);
    let s = await cli(r.now(), 'status', '--region', 'us-east-1', '--table', r.table, '--json');
    expect(s.code).toBe(0);
    const first = JSON.parse(s.out).regions[0].rollout;
    expect(first).toMatchObject({
      rolloutId: r.id,
      region: 'running',
      state: {
        status: 'running',
        batchCount: 2,
        batchesDone: 0,
        current: { index: 0, wave: 'all', stage: 'approval', items: 2 },
        next: { index: 1, startAt: slot1 },
      },
      pendingApprovals: [{ batch: 0, wave: 'all', waiting: false }],
    });
    expect(first.haltRequested).toBeUndefined();
    expect(slot0).toBeDefined();

    process.env.USER = 'alice';
    const a = await cli(r.now(), 'approve', r.id, '--table', r.table);
    expect(a).toMatchObject({ code: 0, err: '' });
    expect(a.out).toBe(
      `Approved batch 0 (all) of rollout ${r.id} as alice: its execution was not waiting yet and reads the decision when it starts to; the batch goes on: preflight if EC2 may have changed, then drain and remedy.`,
    );
    await expect(r.resume()).rejects.toThrow(Asked); // batch 0 ran; batch 1 asks

    s = await cli(r.now(), 'status', '--region', 'us-east-1', '--table', r.table);
    expect(s.out).toContain(
      `rollout ${r.id}: running, 1 of 2 batches done, batch 1 of 2 (all, 2 instance(s)) at approval`,
    );
    expect(s.out).toContain(
      `waiting for approval: batch 1 (all) since ${new Date(r.now()).toISOString().slice(0, 16)}Z (execution not waiting yet): forestall approve ${r.id} --batch 1 [--reject]`,
    );
    const history = await r.ledger.history(r.id);
    expect(history.filter((e) => e.kind === 'verified').map((e) => e.batchIndex)).toEqual([0, 0]);
    expect(history.map((e) => e.kind)).toContain('approval-approved');
  });

  it('halt: writes the flag the rollout reads, wakes the waiting execution, and the rollout halts', async () => {
    const r = await rolloutWaitingForApproval();
    expect(await r.approvals.attachTaskToken(r.id, 0, 'tt-batch0')).toBe('pending');
    await moto.server().resetRequests();
    const h = await cli(r.now(), 'halt', r.id, '--reason', 'change freeze', '--table', r.table);
    expect(h.code).toBe(0);
    expect(h.out).toBe(
      `Halt requested for rollout ${r.id} ("change freeze"): it takes effect at the rollout's next step (before the next batch at the latest); the instances of batch 0 (all, at approval) are put back in service and no later batch starts. AWS's own schedule applies to the events left; the Region stays held until: forestall release us-east-1 --rollout ${r.id}. Woke the execution waiting for approval of batch 0.`,
    );
    expect(await r.ledger.haltRequested(r.id)).toBe('change freeze');
    const sent = (await moto.server().requests()).filter((q) => q.action === 'SendTaskSuccess');
    expect(sent.map((q) => q.params)).toEqual([{ taskToken: 'tt-batch0', output: '{"halt":true}' }]);

    const s = await cli(r.now(), 'status', '--region', 'us-east-1', '--table', r.table);
    expect(s.out).toContain('  halt requested: change freeze');
    const late = await cli(r.now(), 'approve', r.id, '--table', r.table);
    expect(late.err).toBe(
      `forestall: rollout ${r.id} halts at its next step (halt requested: change freeze): there is nothing to decide`,
    );
    const result = await r.resume();
    expect(result.halted).toBe(true);
    // Batch 0's instances were never taken out of service; batch 1 never ran (AWS's schedule applies).
    expect(result.items.map((i) => [i.batchIndex, i.outcome])).toEqual([
      [0, 'dropped'],
      [0, 'dropped'],
    ]);
    expect(result.notRun).toBe(2);
    const again = await cli(r.now(), 'halt', r.id, '--reason', 'again', '--table', r.table);
    expect(again.out).toMatch(new RegExp(`^rollout ${r.id} already halted .*: nothing to halt\\.$`));
  });

  it('approve wakes the execution with the stored token, and says so when none waits any more', async () => {
    const r = await rolloutWaitingForApproval();
    await r.approvals.attachTaskToken(r.id, 0, 'tt-0');
    await moto.server().resetRequests();
    const aws = {
      doc: doc(),
      sfn: new SFNClient({ region: 'us-east-1' }),
      identity: async () => 'arn:aws:iam::123456789012:user/bob',
    };
    const out: string[] = [];
    const code = await run(
      ['approve', r.id, '--batch', '0', '--reject', '--table', r.table],
      { out: (s) => out.push(s), err: (s) => out.push(s) },
      r.now,
      aws,
    );
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(
      /^Rejected batch 0 \(all\) of rollout \S+ as arn:aws:iam::123456789012:user\/bob: the waiting execution was woken; the rollout halts without touching/,
    );
    const sent = (await moto.server().requests()).filter((q) => q.action === 'SendTaskSuccess');
    expect(sent.map((q) => q.params)).toEqual([
      { taskToken: 'tt-0', output: '{"decision":"rejected","batch":0}' },
    ]);
    expect(await r.approvals.get(r.id, 0)).toMatchObject({
      state: 'rejected',
      decidedBy: 'arn:aws:iam::123456789012:user/bob',
    });
    // The machine reads the rejection from the ledger: the batch touches nothing.
    const result = await r.resume();
    expect(result.haltReason).toBe('batch 0 (all) was not approved');

    const twice = await cli(r.now(), 'approve', r.id, '--table', r.table);
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(/^forestall: rollout \S+ already halted \(batch 0 \(all\) was not approved\)/);
  });

  it('approve: not-waiting when Step Functions no longer knows the token; refusals are one line, exit 2', async () => {
    const r = await rolloutWaitingForApproval();
    await r.approvals.attachTaskToken(r.id, 0, 'tt-stale');
    await moto.server().injectFaults([{ action: 'SendTaskSuccess', status: 400, code: 'TaskTimedOut' }]);
    process.env.USER = 'carol';
    const a = await cli(r.now(), 'approve', r.id, '--table', r.table);
    expect(a.out).toContain(
      'as carol: no execution was waiting on it; the rollout reads the decision at its next step;',
    );
    const b = await cli(r.now(), 'approve', r.id, '--batch', '0', '--table', r.table);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/^forestall: batch 0 of rollout \S+ was already approved by carol at 20\d\d-/);
    const c = await cli(r.now(), 'approve', r.id, '--table', r.table);
    expect(c.err).toMatch(
      /^forestall: rollout \S+ has no pending approval \(the last, batch 0, was approved by carol/,
    );
    const d = await cli(r.now(), 'approve', 'fs-nope', '--table', r.table);
    expect(d.err).toBe(`forestall: no rollout fs-nope in table ${r.table}`);
    for (const x of [a, b, c, d]) expect(x.err.split('\n').length).toBeLessThanOrEqual(1);
  });

  it('approve without --batch refuses to choose between several pending approvals', async () => {
    const r = await rolloutWaitingForApproval();
    await r.approvals.request({ rolloutId: r.id, batch: 1, wave: 'all', token: `${r.id}:1` });
    const a = await cli(r.now(), 'approve', r.id, '--table', r.table);
    expect(a.code).toBe(2);
    expect(a.err).toBe(
      `forestall: rollout ${r.id} has 2 pending approvals (batches 0, 1): name one with --batch`,
    );
    expect((await r.approvals.pending(r.id)).length).toBe(2);
  });
});

describe('forestall release', () => {
  it('refuses while the rollout runs, then gives a halted Region back', async () => {
    const r = await rolloutWaitingForApproval();
    const regions = new DynamoRegionRollouts(doc(), r.table);
    const running = await cli(r.now(), 'release', 'us-east-1', '--rollout', r.id, '--table', r.table);
    expect(running.code).toBe(2);
    expect(running.err).toBe(
      `forestall: rollout ${r.id} is still running in us-east-1 (batch 0, approval): halt it first (forestall halt ${r.id} --reason ...), then release it once it has halted`,
    );
    expect((await regions.current('us-east-1'))?.rolloutId).toBe(r.id);
    const other = await cli(r.now(), 'release', 'us-east-1', '--rollout', 'fs-other', '--table', r.table);
    expect(other.err).toBe(`forestall: us-east-1 is held by rollout ${r.id}, not fs-other`);

    await r.ledger.requestHalt(r.id, 'change freeze');
    await r.resume();
    await regions.finish('us-east-1', r.id, { reason: 'change freeze' });
    const s = await cli(r.now(), 'status', '--region', 'us-east-1', '--table', r.table);
    expect(s.out).toContain(
      `  halted: change freeze; the Region stays held until: forestall release us-east-1 --rollout ${r.id}`,
    );
    const ok = await cli(r.now(), 'release', 'us-east-1', '--rollout', r.id, '--table', r.table);
    expect(ok).toMatchObject({ code: 0, err: '' });
    expect(ok.out).toBe(
      `Released us-east-1 from rollout ${r.id} (halted: change freeze): the next poll starts a new rollout there if open notices call for one.`,
    );
    expect(await regions.current('us-east-1')).toBeUndefined();
    const none = await cli(r.now(), 'release', 'us-east-1', '--rollout', r.id, '--table', r.table);
    expect(none.err).toBe('forestall: no rollout holds us-east-1: there is nothing to release');
  });

  it('releases a Region whose record still says running once the stored rollout has ended', async () => {
    const r = await rolloutWaitingForApproval();
    await r.ledger.requestHalt(r.id, 'stop');
    await r.resume(); // halted, but the execution stopped before marking the Region record
    const ok = await cli(r.now(), 'release', 'us-east-1', '--rollout', r.id, '--table', r.table);
    expect(ok.code).toBe(0);
    expect(await new DynamoRegionRollouts(doc(), r.table).current('us-east-1')).toBeUndefined();
  });
});

describe('forestall status: notices', () => {
  it('lists open notices by deadline (NotBeforeDeadline when given), per Region found in the table', async () => {
    const table = await freshTable();
    const notices = new DynamoNoticeLedger(doc(), table);
    await notices.create(notice({ instanceId: 'i-000000000000000a1', notBefore: NOW + 50 * H }));
    await notices.create(
      notice({ instanceId: 'i-000000000000000b2', notBefore: NOW + 5 * H, notBeforeDeadline: NOW + 100 * H }),
    );
    await notices.create(
      notice({ instanceId: 'i-000000000000000c3', notBefore: NOW + 28 * H, code: 'instance-stop' }),
    );
    await notices.create(notice({ instanceId: 'i-000000000000000d4', notBefore: NOW + H, state: 'cleared' }));
    await notices.create(
      notice({ instanceId: 'i-000000000000000e5', notBefore: NOW - 2 * H, region: 'eu-west-1' }),
    );
    const s = await cli(NOW, 'status', '--table', table);
    expect(s.code).toBe(0);
    expect(s.out).toBe(
      [
        'eu-west-1:',
        '  no rollout',
        '  1 open notice(s), by deadline:',
        '  DEADLINE           IN      INSTANCE             CODE           EVENT',
        '  2026-11-30T22:00Z  2h ago  i-000000000000000e5  system-reboot  instance-event-00e5',
        '',
        'us-east-1:',
        '  no rollout',
        '  3 open notice(s), by deadline:',
        '  DEADLINE           IN       INSTANCE             CODE           EVENT',
        '  2026-12-02T04:00Z  in 1d4h  i-000000000000000c3  instance-stop  instance-event-00c3',
        '  2026-12-03T02:00Z  in 2d2h  i-000000000000000a1  system-reboot  instance-event-00a1',
        '  2026-12-05T04:00Z  in 4d4h  i-000000000000000b2  system-reboot  instance-event-00b2',
      ].join('\n'),
    );
    const json = JSON.parse(
      (await cli(NOW, 'status', '--region', 'us-east-1', '--table', table, '--json')).out,
    );
    expect(
      json.regions[0].notices.map((n: { instanceId: string; in: string }) => [n.instanceId, n.in]),
    ).toEqual([
      ['i-000000000000000c3', 'in 1d4h'],
      ['i-000000000000000a1', 'in 2d2h'],
      ['i-000000000000000b2', 'in 4d4h'],
    ]);
  });
});

describe('where the table is', () => {
  afterEach(() => {
    delete process.env.FORESTALL_TABLE;
  });

  it('says so in one line when no --table, no FORESTALL_TABLE and no Forestall stack name it', async () => {
    const s = await cli(NOW, 'status', '--region', 'us-east-1');
    expect(s.code).toBe(2);
    expect(s.err).toMatch(
      /^forestall: cannot find the ledger table: no CloudFormation stack Forestall \(DescribeStacks: .*\); pass --table/,
    );
  });

  it('uses FORESTALL_TABLE, then the Forestall stack output LedgerTableName', async () => {
    const table = await freshTable();
    await new DynamoNoticeLedger(doc(), table).create(
      notice({ instanceId: 'i-00000000000000ff1', notBefore: NOW + H }),
    );
    process.env.FORESTALL_TABLE = table;
    expect((await cli(NOW, 'status', '--region', 'us-east-1')).out).toContain('i-00000000000000ff1');
    delete process.env.FORESTALL_TABLE;
    await new CloudFormationClient({ region: 'us-east-1' }).send(
      new CreateStackCommand({
        StackName: 'Forestall',
        TemplateBody: JSON.stringify({
          Resources: { Topic: { Type: 'AWS::SNS::Topic' } },
          Outputs: { LedgerTableName: { Value: table } },
        }),
      }),
    );
    const s = await cli(NOW, 'status', '--region', 'us-east-1');
    expect(s).toMatchObject({ code: 0, err: '' });
    expect(s.out).toContain('i-00000000000000ff1');
  });

  it('names the AWS call that failed, in one line', async () => {
    const s = await cli(NOW, 'status', '--region', 'us-east-1', '--table', 'no-such-table');
    expect(s.code).toBe(1);
    expect(s.err).toMatch(/^forestall: DynamoDB Query failed: ResourceNotFoundException: /);
    expect(s.err.split('\n')).toHaveLength(1);
  });
});
