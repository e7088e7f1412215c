/**
 * The opt-in re-check (OptInFleet over Ec2Fleet, OptInDrain over AwsDrain) against the moto launcher, through
 * the real SDK: an instance or group whose tag went since planning gets no mutating request at all (counted
 * at the server), the others are acted on as usual, and putting back in service is never refused.
 */
import { CreateTagsCommand, DeleteTagsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { AwsDrain } from '../../lambda/aws/asg-drain';
import { createClients } from '../../lambda/aws/clients';
import { Ec2Fleet } from '../../lambda/aws/ec2-fleet';
import { notOptedIn, OptInDrain, OptInFleet } from '../../lambda/aws/opt-in';
import { createGroup, createTargetGroup, members, untagGroup } from './moto/drain';
import { launch, testEc2 } from './moto/fleet';
import { type LoggedRequest, useMoto } from './moto/server';

const moto = useMoto();
const TAG = { key: 'forestall:managed', value: 'true' };
const OPTED_IN = { [TAG.key]: TAG.value };
const NOT_TOUCHED = notOptedIn(TAG);
const NO_WAIT = { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } };
let ec2: EC2Client;
let ec2Fleet: Ec2Fleet;
let fleet: OptInFleet;
let drain: OptInDrain;

beforeAll(() => {
  ec2 = testEc2();
  const clients = createClients('us-east-1');
  ec2Fleet = new Ec2Fleet('us-east-1', clients.ec2Read, clients.ec2Write, NO_WAIT);
  fleet = new OptInFleet(ec2Fleet, TAG);
  drain = new OptInDrain(new AwsDrain(clients, NO_WAIT), ec2Fleet, TAG);
});

beforeEach(() => moto.server().resetRequests());

async function calls(action: string): Promise<LoggedRequest[]> {
  return (await moto.server().requests()).filter((r) => r.action === action);
}

/** Instance ids a logged request named (EC2 `InstanceId.N`, Auto Scaling `InstanceIds.member.N`, ELB targets). */
function idsOf(r: LoggedRequest): string[] {
  return Object.entries(r.params ?? {})
    .filter(([k]) => /^(InstanceId\.\d+|InstanceIds\.member\.\d+|Targets\.member\.\d+\.Id)$/.test(k))
    .map(([, v]) => v);
}

async function sentTo(action: string): Promise<string[]> {
  return (await calls(action)).flatMap(idsOf);
}

describe('OptInFleet', () => {
  it('reboots only the instances still tagged key=value; the others are refused without a request', async () => {
    const tagged = await launch(ec2, { count: 3, tags: OPTED_IN });
    const [wrongValue = ''] = await launch(ec2, { count: 1, tags: { [TAG.key]: 'false' } });
    const [untagged = ''] = await launch(ec2, { count: 1 });
    const out = await fleet.reboot([tagged[0] ?? '', wrongValue, ...tagged.slice(1), untagged]);
    expect(out.map((o) => o.instanceId)).toEqual([tagged[0], wrongValue, ...tagged.slice(1), untagged]);
    expect(out.filter((o) => o.ok).map((o) => o.instanceId)).toEqual(tagged);
    for (const id of [wrongValue, untagged])
      expect(out.find((o) => o.instanceId === id)).toEqual({ instanceId: id, ok: false, error: NOT_TOUCHED });
    expect(NOT_TOUCHED).toBe('opt-in tag forestall:managed=true no longer on the instance: not touched');
    expect(await calls('RebootInstances')).toHaveLength(1);
    expect((await sentTo('RebootInstances')).sort()).toEqual([...tagged].sort());
    // The re-check read the tags first.
    const log = (await moto.server().requests()).map((r) => r.action);
    expect(log.indexOf('DescribeInstances')).toBeLessThan(log.indexOf('RebootInstances'));
  });

  it('a tag removed since planning stops a stop, a start and a reschedule; none is sent', async () => {
    const [gone = '', kept = ''] = await launch(ec2, { count: 2, tags: OPTED_IN });
    await ec2.send(new DeleteTagsCommand({ Resources: [gone], Tags: [{ Key: TAG.key }] }));
    expect(await fleet.stop([gone])).toEqual([{ instanceId: gone, ok: false, error: NOT_TOUCHED }]);
    expect(await fleet.start([gone])).toEqual([{ instanceId: gone, ok: false, error: NOT_TOUCHED }]);
    const [eventId = ''] = await moto.server().seedEvents([
      {
        instanceId: gone,
        code: 'system-reboot',
        notBefore: new Date(Date.now() + 5 * 86_400_000),
        notBeforeDeadline: new Date(Date.now() + 9 * 86_400_000),
      },
    ]);
    const slot = Date.now() + 2 * 86_400_000;
    expect(await fleet.reschedule(gone, eventId, slot)).toEqual({
      instanceId: gone,
      ok: false,
      error: NOT_TOUCHED,
    });
    for (const action of ['StopInstances', 'StartInstances', 'ModifyInstanceEventStartTime'])
      expect(await calls(action)).toHaveLength(0);

    // Tagged again: acted on.
    await ec2.send(new CreateTagsCommand({ Resources: [gone], Tags: [{ Key: TAG.key, Value: TAG.value }] }));
    expect(await fleet.reschedule(gone, eventId, slot)).toEqual({ instanceId: gone, ok: true });
    expect((await fleet.stop([gone, kept])).every((o) => o.ok)).toBe(true);
    expect((await fleet.start([gone, kept])).every((o) => o.ok)).toBe(true);
    expect(await calls('ModifyInstanceEventStartTime')).toHaveLength(1);
  });

  it('an instance that no longer exists is not touched either; reads pass through', async () => {
    const [id = ''] = await launch(ec2, { count: 1, tags: OPTED_IN });
    const out = await fleet.reboot([id, 'i-0000000000000dead']);
    expect(out).toEqual([
      { instanceId: id, ok: true },
      { instanceId: 'i-0000000000000dead', ok: false, error: NOT_TOUCHED },
    ]);
    expect(await sentTo('RebootInstances')).toEqual([id]);
    expect((await fleet.describeFacts([id]))[0]?.tags).toMatchObject(OPTED_IN);
  });
});

describe('OptInDrain', () => {
  it('EnterStandby needs the tag on the group: an untagged group gets no request; ExitStandby is never refused', async () => {
    const ids = await createGroup(ec2, { name: 'oi-web', min: 0, max: 6, desired: 3, tags: OPTED_IN });
    const [a = '', b = '', c = ''] = ids;
    expect((await drain.enterStandby('oi-web', [a], true)).every((o) => o.ok)).toBe(true);

    await untagGroup('oi-web', TAG.key);
    await moto.server().resetRequests();
    const refused = await drain.enterStandby('oi-web', [b, c], true);
    const groupGone = notOptedIn(TAG, 'the Auto Scaling group oi-web');
    expect(refused).toEqual([b, c].map((instanceId) => ({ instanceId, ok: false, error: groupGone })));
    expect(await calls('EnterStandby')).toHaveLength(0);
    expect(await calls('DescribeAutoScalingGroups')).toHaveLength(1);

    // Putting back in service goes through (moto has no IAM; at AWS the policy would refuse it).
    expect(await drain.exitStandby('oi-web', [a])).toEqual([{ instanceId: a, ok: true }]);
    expect(await sentTo('ExitStandby')).toEqual([a]);
  });

  it('EnterStandby also skips a member whose own tag went; the others go in one request', async () => {
    const ids = await createGroup(ec2, { name: 'oi-api', min: 0, max: 6, desired: 3, tags: OPTED_IN });
    const [a = '', b = '', c = ''] = ids;
    await ec2.send(new CreateTagsCommand({ Resources: [b], Tags: [{ Key: TAG.key, Value: 'no' }] }));
    const out = await drain.enterStandby('oi-api', ids, false);
    expect(out).toEqual([
      { instanceId: a, ok: true },
      { instanceId: b, ok: false, error: NOT_TOUCHED },
      { instanceId: c, ok: true },
    ]);
    expect(await sentTo('EnterStandby')).toEqual([a, c]);
    expect(await members('oi-api')).toHaveLength(5);
  });

  it('DeregisterTargets skips an untagged instance; RegisterTargets is never refused', async () => {
    const tagged = await launch(ec2, { count: 2, tags: OPTED_IN });
    const [untagged = ''] = await launch(ec2, { count: 1 });
    const arn = await createTargetGroup(ec2, 'oi-tg', { instanceIds: [...tagged, untagged] });
    await moto.server().resetRequests();
    const out = await drain.deregisterTargets(arn, [untagged, ...tagged]);
    expect(out[0]).toEqual({ instanceId: untagged, ok: false, error: NOT_TOUCHED });
    expect(out.slice(1).every((o) => o.ok)).toBe(true);
    expect(await sentTo('DeregisterTargets')).toEqual(tagged);
    const regs = await drain.describeTargets([...tagged, untagged]);
    expect(regs.map((r) => r.instanceId)).toEqual([untagged]);

    await ec2.send(new DeleteTagsCommand({ Resources: tagged, Tags: [{ Key: TAG.key }] }));
    expect((await drain.registerTargets(arn, tagged)).every((o) => o.ok)).toBe(true);
    expect(await sentTo('RegisterTargets')).toEqual(tagged);
  });
});
