import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAutoScalingGroups } from '../../lambda/core/drain-shapes';
import {
  instanceStoreFromTypeName,
  parseInstances,
  parseInstanceTypes,
  regionOfAz,
} from '../../lambda/core/facts';
import { noticeStateOf, parseInstanceStatuses } from '../../lambda/core/notice';

const aws = (f: string) =>
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'aws', f), 'utf8'));

describe('parseInstanceStatuses (describe-instance-status --include-all-instances)', () => {
  const parsed = parseInstanceStatuses(aws('describe-instance-status.json'), 'us-east-1');

  it('reads every event, with its times, deadline and state', () => {
    expect(parsed.rejected).toEqual([]);
    expect(parsed.notices).toHaveLength(7);
    expect(parsed.notices[0]).toEqual({
      instanceId: 'i-0a1b2c3d4e5f60001',
      region: 'us-east-1',
      eventId: 'instance-event-0d59937288b749b32',
      code: 'system-reboot',
      description: 'The instance is scheduled for a reboot',
      notBefore: Date.parse('2026-12-03T20:00:00.000Z'),
      notAfter: Date.parse('2026-12-03T22:00:00.000Z'),
      notBeforeDeadline: Date.parse('2026-12-10T20:00:00.000Z'),
      source: 'poll',
      state: 'active',
    });
    expect(parsed.notices.map((n) => n.state)).toEqual([
      'active',
      'active',
      'active',
      'active',
      'active',
      'completed',
      'canceled',
    ]);
  });

  it('keeps a stopped instance with an event (IncludeAllInstances) and an instance with two events', () => {
    expect(parsed.statuses.find((s) => s.instanceId === 'i-0a1b2c3d4e5f60004')).toMatchObject({
      state: 'stopped',
      instanceStatus: 'not-applicable',
    });
    expect(parsed.statuses.find((s) => s.instanceId === 'i-0a1b2c3d4e5f60005')?.notices).toHaveLength(2);
  });

  it('accepts SDK v3 Date objects and several pages', () => {
    const page = {
      InstanceStatuses: [
        {
          InstanceId: 'i-0abc',
          InstanceState: { Name: 'running' },
          Events: [
            {
              InstanceEventId: 'e-1',
              Code: 'system-reboot',
              Description: 'x',
              NotBefore: new Date('2026-12-03T20:00:00Z'),
            },
          ],
        },
      ],
    };
    const r = parseInstanceStatuses([page, { InstanceStatuses: [] }], 'eu-west-1', 'health');
    expect(r.notices[0]).toMatchObject({
      notBefore: Date.parse('2026-12-03T20:00:00Z'),
      region: 'eu-west-1',
      source: 'health',
    });
  });

  it('rejects malformed entries with a reason and keeps the rest', () => {
    const r = parseInstanceStatuses(
      {
        InstanceStatuses: [
          { InstanceId: 'not-an-id' },
          {
            InstanceId: 'i-0abc',
            Events: [
              { InstanceEventId: 'e-1', Code: 'system-reboot', NotBefore: 'next tuesday' },
              { Code: 'system-reboot', NotBefore: '2026-12-03T20:00:00Z' },
              { InstanceEventId: 'e-3', Code: 'instance-stop', NotBefore: '2026-12-03T20:00:00Z' },
            ],
          },
        ],
      },
      'us-east-1',
    );
    expect(r.notices.map((n) => n.eventId)).toEqual(['e-3']);
    expect(r.rejected).toEqual([
      {
        where: 'InstanceStatuses[0]',
        reason: 'InstanceId: expected an instance id like "i-0123456789abcdef0"',
      },
      {
        where: 'InstanceStatuses[1].Events[0] (i-0abc)',
        reason: 'NotBefore, NotAfter or NotBeforeDeadline is not a valid timestamp',
      },
      {
        where: 'InstanceStatuses[1].Events[1] (i-0abc)',
        reason: 'InstanceEventId: Invalid input: expected string, received undefined',
      },
    ]);
  });

  it('says what is wrong with a file that is not describe-instance-status output', () => {
    expect(parseInstanceStatuses({ Reservations: [] }, 'us-east-1').rejected).toEqual([
      {
        where: 'page 0',
        reason: 'no InstanceStatuses array: is this `aws ec2 describe-instance-status` output?',
      },
    ]);
  });

  it.each([
    ['[Completed] The instance is scheduled for a reboot', 'completed'],
    ['[Canceled] The instance is scheduled for a reboot', 'canceled'],
    ['The instance is running on degraded hardware', 'active'],
  ])('treats "%s" as %s', (d, s) => expect(noticeStateOf(d)).toBe(s));
});

describe('parseInstances (describe-instances)', () => {
  const types = parseInstanceTypes(aws('describe-instance-types.json'));
  const { facts, rejected } = parseInstances(aws('describe-instances.json'), 'us-east-1', types);
  const byId = new Map(facts.map((f) => [f.instanceId, f]));

  it('reads tags, AZ, ASG, root device, lifecycle, reboot migration and state', () => {
    expect(rejected).toEqual([]);
    expect(byId.get('i-0a1b2c3d4e5f60001')).toMatchObject({
      az: 'us-east-1a',
      asgName: 'web-asg',
      rootDevice: 'ebs',
      instanceStore: 'none',
      lifecycle: 'on-demand',
      rebootMigration: 'default',
      state: 'running',
    });
    expect(byId.get('i-0a1b2c3d4e5f60001')?.tags['forestall:wave']).toBe('canary');
    expect(byId.get('i-0a1b2c3d4e5f60004')?.state).toBe('stopped');
    expect(byId.get('i-0a1b2c3d4e5f60005')).toMatchObject({
      rootDevice: 'instance-store',
      instanceStore: 'present',
    });
    expect(byId.get('i-0a1b2c3d4e5f60006')).toMatchObject({ lifecycle: 'spot', rebootMigration: 'disabled' });
  });

  it('knows NVMe instance store only from describe-instance-types, else from the type name, else says unknown', () => {
    expect(byId.get('i-0a1b2c3d4e5f60003')?.instanceStore).toBe('present');
    const withoutTypes = new Map(
      parseInstances(aws('describe-instances.json'), 'us-east-1').facts.map((f) => [f.instanceId, f]),
    );
    expect(withoutTypes.get('i-0a1b2c3d4e5f60003')?.instanceStore).toBe('present'); // r5d: the "d" says so
    expect(withoutTypes.get('i-0a1b2c3d4e5f60001')?.instanceStore).toBe('unknown'); // m5: never assumed none
  });

  it.each([
    ['r5d.large', 'present'],
    ['m5ad.xlarge', 'present'],
    ['c6gd.medium', 'present'],
    ['i4i.2xlarge', 'present'],
    ['im4gn.large', 'present'],
    ['d3en.xlarge', 'present'],
    ['h1.2xlarge', 'present'],
    ['m5.large', 'unknown'],
    ['g5.xlarge', 'unknown'],
    ['t3.micro', 'unknown'],
    ['u-6tb1.metal', 'unknown'],
  ])('reads %s as %s', (t, k) => expect(instanceStoreFromTypeName(t)).toBe(k));

  it('reads an ephemeral block-device mapping as instance store, and rejects broken entries with a reason', () => {
    const r = parseInstances(
      {
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-0abc',
                InstanceType: 'm3.medium',
                Placement: { AvailabilityZone: 'us-east-1a' },
                State: { Name: 'running' },
                BlockDeviceMappings: [{ DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }],
              },
            ],
          },
          { ReservationId: 'r-1' },
          { Instances: [{ InstanceId: 'i-0def', State: { Name: 'running' } }] },
        ],
      },
      'us-east-1',
    );
    expect(r.facts.map((f) => [f.instanceId, f.instanceStore])).toEqual([['i-0abc', 'present']]);
    expect(r.rejected).toEqual([
      { where: 'Reservations[1]', reason: 'no Instances array' },
      {
        where: 'Reservations[2].Instances[0]',
        reason: 'Placement: Invalid input: expected object, received undefined',
        instanceId: 'i-0def', // so that its events can say their record was malformed
      },
    ]);
    // With several pages, the page is named too.
    const pages = parseInstances(
      [{ Reservations: [] }, { Reservations: [{ Instances: [{}] }] }],
      'us-east-1',
    );
    expect(pages.rejected).toEqual([
      {
        where: 'page 1 Reservations[0].Instances[0]',
        reason: 'InstanceId: Invalid input: expected string, received undefined',
      },
    ]);
  });

  it.each([
    ['eu-west-1a', 'eu-west-1'],
    ['us-west-2-lax-1a', 'us-west-2'], // a Local Zone
    ['us-east-1-wl1-bos-wlz-1', 'us-east-1'], // a Wavelength Zone
    ['us-gov-west-1b', 'us-gov-west-1'],
    ['ap-southeast-3c', 'ap-southeast-3'],
    ['us-east-1', undefined], // a Region is not a zone
    ['a', undefined],
  ])('reads the Region of zone %s as %s', (az, region) => expect(regionOfAz(az)).toBe(region));

  it('rejects a file that is not describe-instance-types output', () => {
    expect(() => parseInstanceTypes({ Reservations: [] })).toThrow(
      'not `aws ec2 describe-instance-types` output: no InstanceTypes array',
    );
  });
});

describe('parseAutoScalingGroups (describe-auto-scaling-groups)', () => {
  const group = (Instances: unknown) => ({
    AutoScalingGroups: [
      { AutoScalingGroupName: 'web', MinSize: 1, MaxSize: 4, DesiredCapacity: 2, Instances, Tags: [] },
    ],
  });

  it('reads the sizes and each member lifecycle state (extra fields ignored; no Instances: no members)', () => {
    const members = [
      { InstanceId: 'i-1', LifecycleState: 'InService', HealthStatus: 'Healthy' },
      { InstanceId: 'i-2', LifecycleState: 'Standby' },
    ];
    expect(parseAutoScalingGroups(group(members))).toEqual([
      {
        name: 'web',
        minSize: 1,
        maxSize: 4,
        desiredCapacity: 2,
        members: { 'i-1': 'InService', 'i-2': 'Standby' },
      },
    ]);
    expect(parseAutoScalingGroups(group(undefined))[0]?.members).toEqual({});
  });

  it('keeps every id an own key in reply order, as Object.fromEntries would (even `__proto__`)', () => {
    const ids = ['__proto__', 'i-b', '12', 'i-a', 'i-b'];
    const members = parseAutoScalingGroups(
      group(ids.map((InstanceId, k) => ({ InstanceId, LifecycleState: `s${k}` }))),
    )[0]?.members;
    const expected = Object.fromEntries(ids.map((id, k) => [id, `s${k}`]));
    expect(Object.getPrototypeOf(members)).toBe(Object.prototype);
    expect(Object.entries(members ?? {})).toEqual(Object.entries(expected));
  });

  it.each([
    ['Instances not an array', {}],
    ['a member not an object', [null]],
    ['a member that is an array', [['i-1', 'InService']]],
    ['a member without a string id', [{ InstanceId: 1, LifecycleState: 'InService' }]],
    ['a member without a lifecycle state', [{ InstanceId: 'i-1' }]],
  ])('refuses %s', (_why, Instances) => {
    expect(() => parseAutoScalingGroups(group(Instances))).toThrow(
      'not DescribeAutoScalingGroups output: no AutoScalingGroups array',
    );
  });
});
