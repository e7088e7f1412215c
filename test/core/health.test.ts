/** The AWS Health parser on every Health fixture (test/fixtures/shared, copied from ../shared/fixtures). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { healthLooks, instanceIdOf, mergeHealthPages, parseHealthEvent } from '../../lambda/core/health';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'shared', `${name}.json`), 'utf8'));

describe('parseHealthEvent', () => {
  it('reads a system-reboot notice naming the instance by bare id', () => {
    const p = parseHealthEvent(fixture('health-event-system-reboot'));
    expect(p).toEqual({
      kind: 'look',
      look: {
        eventArn: expect.stringContaining('AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED_ABC123'),
        communicationId: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b',
        eventTypeCode: 'AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED',
        region: 'us-east-1',
        account: '123456789012',
        instanceIds: ['i-0a1b2c3d4e5f60001'],
        startTime: Date.parse('2026-12-03T20:00:00Z'),
        endTime: Date.parse('2026-12-03T22:00:00Z'),
        statusCode: 'upcoming',
        pages: [1],
        totalPages: 1,
      },
    });
  });

  it('reads an instance named by ARN', () => {
    const p = parseHealthEvent(fixture('health-event-instance-reboot-arn'));
    expect(p.kind === 'look' && p.look.instanceIds).toEqual(['i-0a1b2c3d4e5f60002']);
  });

  it('drops the backup copy and a non-EC2 event, saying why', () => {
    expect(parseHealthEvent(fixture('health-event-backup-copy'))).toEqual({
      kind: 'ignored',
      reason: 'backup-copy',
    });
    expect(parseHealthEvent(fixture('health-event-not-ec2'))).toEqual({ kind: 'ignored', reason: 'not-ec2' });
  });

  it('drops EC2 events of another category, and says what is wrong with a malformed event', () => {
    const issue = fixture('health-event-system-reboot') as { detail: Record<string, unknown> };
    const other = { ...issue, detail: { ...issue.detail, eventTypeCategory: 'issue' } };
    expect(parseHealthEvent(other)).toEqual({ kind: 'ignored', reason: 'not-scheduled-change' });
    const broken = { ...issue, detail: { ...issue.detail, eventArn: 7 } };
    expect(parseHealthEvent(broken)).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^detail\.eventArn: /),
    });
    expect(parseHealthEvent({ source: 'aws.ec2' })).toMatchObject({ kind: 'invalid' });
  });
});

describe('merging pages', () => {
  it('merges the two pages of one notice into one look with both instances', () => {
    const { looks, dropped } = healthLooks(fixture('health-event-paged') as unknown[]);
    expect(dropped).toEqual([]);
    expect(looks).toHaveLength(1);
    expect(looks[0]).toMatchObject({
      instanceIds: ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60003'],
      pages: [1, 2],
      totalPages: 2,
    });
  });

  it('a duplicated delivery merges into the same look; different notices stay apart', () => {
    const sys = fixture('health-event-system-reboot');
    const { looks, dropped } = healthLooks([
      sys,
      sys,
      fixture('health-event-instance-reboot-arn'),
      fixture('health-event-backup-copy'),
      fixture('health-event-not-ec2'),
    ]);
    expect(looks.map((l) => l.instanceIds)).toEqual([['i-0a1b2c3d4e5f60001'], ['i-0a1b2c3d4e5f60002']]);
    expect(dropped).toEqual([
      { index: 3, reason: 'backup-copy' },
      { index: 4, reason: 'not-ec2' },
    ]);
    expect(mergeHealthPages([])).toEqual([]);
  });
});

describe('instanceIdOf', () => {
  it.each([
    ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60001'],
    ['i-12345678', 'i-12345678'],
    ['arn:aws:ec2:eu-west-1:123456789012:instance/i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60002'],
    ['arn:aws:ec2:eu-west-1:123456789012:dedicated-host/h-0a1b2c3d4e5f60002', undefined],
    ['mydb', undefined],
    ['xi-0a1b2c3d4e5f60001', undefined],
  ])('%s → %s', (value, id) => {
    expect(instanceIdOf(value)).toBe(id);
  });
});
