/**
 * The Auto Scaling / ELB DrainPort adapter against the moto launcher, through the real SDK; requests and their
 * parameters counted at the server. moto's Standby rules (20 ids, MinSize, MaxSize, membership) and
 * DescribeTargetGroups paging come from the launcher's Auto Scaling and ELBv2 section.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { AwsDrain } from '../../lambda/aws/asg-drain';
import { createClients } from '../../lambda/aws/clients';
import type { ActionOutcome } from '../../lambda/core/ports';
import { createGroup, createTargetGroup } from './moto/drain';
import { launch, testEc2 } from './moto/fleet';
import { type LoggedRequest, useMoto } from './moto/server';

const moto = useMoto();
const NO_WAIT = { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } };
let ec2: EC2Client;
let drain: AwsDrain;

beforeAll(() => {
  ec2 = testEc2();
  drain = new AwsDrain(createClients('us-east-1'), NO_WAIT);
});

beforeEach(() => moto.server().resetRequests());

async function calls(action: string): Promise<LoggedRequest[]> {
  return (await moto.server().requests()).filter((r) => r.action === action);
}

/** The values of a logged request's list parameter (`InstanceIds.member.1`, ...), in order. */
function listParam(r: LoggedRequest | undefined, prefix: string): string[] {
  return Object.entries(r?.params ?? {})
    .filter(([k]) => k.startsWith(`${prefix}.member.`))
    .sort(([a], [b]) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
    .map(([, v]) => v);
}

async function group(name: string) {
  const [g] = await drain.describeGroups([name]);
  if (!g) throw new Error(`no group ${name}`);
  return g;
}

const okIds = (out: readonly ActionOutcome[]) => out.filter((o) => o.ok).map((o) => o.instanceId);

describe('AwsDrain.describeGroups', () => {
  it('reads sizes and lifecycle states, ≤ 50 names a call, paginated, unknown names absent', async () => {
    const names = ['dg-a', 'dg-b', 'dg-c'];
    for (const name of names) await createGroup(ec2, { name, min: 1, max: 4, desired: 2 });
    const paged = new AwsDrain(createClients('us-east-1'), { ...NO_WAIT, pageSize: 2 });
    await moto.server().resetRequests();
    const unknown = Array.from({ length: 48 }, (_, i) => `dg-missing-${i}`);
    const groups = await paged.describeGroups([...names, ...unknown, 'dg-a']);
    expect(groups.map((g) => g.name).sort()).toEqual(names);
    const a = groups.find((g) => g.name === 'dg-a');
    expect(a).toMatchObject({ minSize: 1, maxSize: 4, desiredCapacity: 2 });
    expect(Object.values(a?.members ?? {})).toEqual(['InService', 'InService']);
    // 51 distinct names: 50 + 1; the first call's 3 groups come in 2 pages of MaxRecords 2.
    const asked = await calls('DescribeAutoScalingGroups');
    expect(asked.map((r) => listParam(r, 'AutoScalingGroupNames').length)).toEqual([50, 50, 1]);
    expect(asked.map((r) => r.params?.MaxRecords)).toEqual(['2', '2', '2']);
    expect(asked[1]?.params?.NextToken).toBeDefined();
    expect(await drain.describeGroups([])).toEqual([]);
  });
});

describe('AwsDrain Standby', () => {
  it('with decrement: desired capacity drops, nothing is launched, ExitStandby raises it again', async () => {
    const ids = await createGroup(ec2, { name: 'sb-dec', min: 1, max: 5, desired: 3 });
    const two = ids.slice(0, 2);
    const out = await drain.enterStandby('sb-dec', two, true);
    expect(out).toEqual(two.map((instanceId) => ({ instanceId, ok: true })));
    const [call] = await calls('EnterStandby');
    expect(call?.params).toMatchObject({
      AutoScalingGroupName: 'sb-dec',
      ShouldDecrementDesiredCapacity: 'true',
    });
    expect(listParam(call, 'InstanceIds')).toEqual(two);
    let g = await group('sb-dec');
    expect(g.desiredCapacity).toBe(1);
    expect(Object.keys(g.members)).toHaveLength(3);
    for (const id of two) expect(g.members[id]).toBe('Standby');

    expect(okIds(await drain.exitStandby('sb-dec', two))).toEqual(two);
    g = await group('sb-dec');
    expect(g.desiredCapacity).toBe(3);
    for (const id of two) expect(g.members[id]).toBe('InService');
  });

  it('without decrement: desired capacity stays and the group launches replacements', async () => {
    const ids = await createGroup(ec2, { name: 'sb-keep', min: 2, max: 6, desired: 2 });
    const out = await drain.enterStandby('sb-keep', ids, false);
    expect(okIds(out)).toEqual(ids);
    expect((await calls('EnterStandby'))[0]?.params?.ShouldDecrementDesiredCapacity).toBe('false');
    const g = await group('sb-keep');
    expect(g.desiredCapacity).toBe(2);
    const inService = Object.keys(g.members).filter((id) => g.members[id] === 'InService');
    expect(inService).toHaveLength(2);
    expect(inService.filter((id) => ids.includes(id))).toEqual([]);
    for (const id of ids) expect(g.members[id]).toBe('Standby');
    // Back in service: desired rises by their number (4 ≤ MaxSize 6).
    expect(okIds(await drain.exitStandby('sb-keep', ids))).toEqual(ids);
    expect((await group('sb-keep')).desiredCapacity).toBe(4);
  });

  it('a decrement below MinSize is refused: the batch is split and the id past MinSize fails, not retryable', async () => {
    const ids = await createGroup(ec2, { name: 'sb-min', min: 2, max: 4, desired: 3 });
    const [first = '', second = ''] = ids;
    const out = await drain.enterStandby('sb-min', [first, second], true);
    expect(out[0]).toEqual({ instanceId: first, ok: true });
    expect(out[1]).toMatchObject({ instanceId: second, ok: false });
    expect(out[1]?.error).toMatch(/^ValidationError: AutoScalingGroup sb-min has min-size=2/);
    expect(out[1]?.retryable).toBeUndefined();
    expect(out[1]?.ambiguous).toBeUndefined();
    // The pair, then each alone.
    expect((await calls('EnterStandby')).map((r) => listParam(r, 'InstanceIds'))).toEqual([
      [first, second],
      [first],
      [second],
    ]);
    expect((await group('sb-min')).desiredCapacity).toBe(2);
  });

  it('sends at most 20 ids a call: 20 go in one request, 21 are refused before any request', async () => {
    const ids = await createGroup(ec2, { name: 'sb-20', min: 0, max: 30, desired: 21 });
    const out21 = await drain.enterStandby('sb-20', ids, true);
    expect(out21.every((o) => !o.ok && /at most 20 instance ids/.test(o.error ?? ''))).toBe(true);
    expect(await calls('EnterStandby')).toHaveLength(0);
    expect((await drain.exitStandby('sb-20', ids)).some((o) => o.ok)).toBe(false);
    expect(await calls('ExitStandby')).toHaveLength(0);

    const twenty = ids.slice(0, 20);
    expect(okIds(await drain.enterStandby('sb-20', twenty, true))).toEqual(twenty);
    const sent = await calls('EnterStandby');
    expect(sent.map((r) => listParam(r, 'InstanceIds').length)).toEqual([20]);
    expect(okIds(await drain.exitStandby('sb-20', twenty))).toEqual(twenty);
    expect((await calls('ExitStandby')).map((r) => listParam(r, 'InstanceIds').length)).toEqual([20]);
    expect((await group('sb-20')).desiredCapacity).toBe(21);
  });

  it('a member not in the group fails alone; the others enter Standby', async () => {
    const ids = await createGroup(ec2, { name: 'sb-split', min: 0, max: 4, desired: 2 });
    const [stranger = ''] = await launch(ec2, { count: 1 });
    const out = await drain.enterStandby('sb-split', [...ids, stranger], true);
    expect(okIds(out)).toEqual(ids);
    expect(out[2]?.error).toMatch(
      /^ValidationError: The instance i-\w+ is not part of Auto Scaling group sb-split/,
    );
    const missing = await drain.enterStandby('sb-no-such-group', ids, true);
    expect(missing.every((o) => !o.ok && /AutoScalingGroup name not found/.test(o.error ?? ''))).toBe(true);
  });

  it('throttling and ResourceContention are retried; a 5xx is ambiguous and never re-sent', async () => {
    const ids = await createGroup(ec2, { name: 'sb-faults', min: 0, max: 6, desired: 3 });
    const [a = '', b = '', c = ''] = ids;
    await moto.server().injectFaults([
      { action: 'EnterStandby', status: 400, code: 'Throttling' },
      { action: 'EnterStandby', status: 500, code: 'ResourceContention' },
    ]);
    expect(okIds(await drain.enterStandby('sb-faults', [a], true))).toEqual([a]);
    expect(await calls('EnterStandby')).toHaveLength(3);

    await moto.server().resetRequests();
    await moto.server().injectFaults([{ action: 'EnterStandby', status: 400, code: 'Throttling', times: 5 }]);
    const throttled = await drain.enterStandby('sb-faults', [b], true);
    expect(throttled).toEqual([{ instanceId: b, ok: false, retryable: true, error: 'RequestLimitExceeded' }]);
    expect(await calls('EnterStandby')).toHaveLength(NO_WAIT.retry.maxAttempts);

    await moto.server().resetRequests();
    await moto
      .server()
      .injectFaults([{ action: 'EnterStandby', status: 500, code: 'InternalFailure', after: true }]);
    const lost = await drain.enterStandby('sb-faults', [b, c], true);
    expect(lost.every((o) => !o.ok && o.ambiguous === true && /^InternalFailure/.test(o.error ?? ''))).toBe(
      true,
    );
    expect(await calls('EnterStandby')).toHaveLength(1);
    // It took effect: re-reading the group settles it.
    const g = await group('sb-faults');
    expect([g.members[b], g.members[c]]).toEqual(['Standby', 'Standby']);
  });
});

describe('AwsDrain targets', () => {
  let direct: string[];
  let asgMembers: string[];
  let directArn: string;
  let asgArn: string;

  beforeAll(async () => {
    direct = await launch(ec2, { count: 3 });
    directArn = await createTargetGroup(ec2, 'tg-direct', { delaySeconds: 45, instanceIds: direct });
    asgArn = await createTargetGroup(ec2, 'tg-asg');
    await createTargetGroup(ec2, 'tg-ip', { targetType: 'ip' });
    asgMembers = await createGroup(ec2, {
      name: 'tg-web',
      min: 0,
      max: 4,
      desired: 2,
      targetGroupArns: [asgArn],
    });
  });

  it('describes direct registrations only (not an attached group’s members), with the delay; target groups read once', async () => {
    const paged = new AwsDrain(createClients('us-east-1'), { ...NO_WAIT, pageSize: 1 });
    const regs = await paged.describeTargets([...direct, ...asgMembers]);
    expect(regs.map((r) => r.instanceId).sort()).toEqual([...direct].sort());
    expect(regs.every((r) => r.targetGroupArn === directArn && r.deregistrationDelayMs === 45_000)).toBe(
      true,
    );
    expect(regs.every((r) => r.state === 'healthy')).toBe(true);
    // moto registered the group's members in the attached target group itself.
    const health = await calls('DescribeTargetHealth');
    expect(health.map((r) => r.params?.TargetGroupArn).sort()).toEqual([asgArn, directArn].sort());
    // Three target groups, one a page; the attributes of the two instance target groups.
    const pages = await calls('DescribeTargetGroups');
    expect(pages.map((r) => r.params?.PageSize)).toEqual(['1', '1', '1']);
    expect(await calls('DescribeTargetGroupAttributes')).toHaveLength(2);

    await moto.server().resetRequests();
    expect(await paged.describeTargets([direct[0] ?? ''])).toHaveLength(1);
    expect(await calls('DescribeTargetGroups')).toHaveLength(0);
    expect(await calls('DescribeTargetGroupAttributes')).toHaveLength(0);
  });

  it('deregisters and registers again; a target not registered fails alone', async () => {
    const [a = '', b = '', c = ''] = direct;
    const out = await drain.deregisterTargets(directArn, [a, b]);
    expect(okIds(out)).toEqual([a, b]);
    expect((await calls('DeregisterTargets'))[0]?.params).toMatchObject({
      TargetGroupArn: directArn,
      'Targets.member.1.Id': a,
      'Targets.member.2.Id': b,
    });
    expect((await drain.describeTargets(direct)).map((r) => r.instanceId)).toEqual([c]);

    const again = await drain.deregisterTargets(directArn, [a, c]);
    expect(again[0]).toMatchObject({ instanceId: a, ok: false });
    expect(again[0]?.error).toMatch(/^InvalidTarget/);
    expect(again[1]).toEqual({ instanceId: c, ok: true });

    expect(okIds(await drain.registerTargets(directArn, [a, b, c]))).toEqual([a, b, c]);
    expect((await drain.describeTargets(direct)).map((r) => r.instanceId).sort()).toEqual([...direct].sort());
  });
});
