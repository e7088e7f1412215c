import { parseConfig } from '../../lambda/core/config';
import { chooseRemedy } from '../../lambda/core/remedy';
import type { InstanceFacts, Notice } from '../../lambda/core/types';

const facts = (over: Partial<InstanceFacts> = {}): InstanceFacts => ({
  instanceId: 'i-0abc',
  region: 'us-east-1',
  instanceType: 'm5.large',
  az: 'us-east-1a',
  tags: {},
  rootDevice: 'ebs',
  instanceStore: 'none',
  lifecycle: 'on-demand',
  rebootMigration: 'default',
  state: 'running',
  ...over,
});
const notice = (code: string, over: Partial<Notice> = {}): Notice => ({
  instanceId: 'i-0abc',
  region: 'us-east-1',
  eventId: 'e-1',
  code,
  description: '',
  notBefore: 0,
  source: 'poll',
  state: 'active',
  ...over,
});
const policy = parseConfig({});

describe('chooseRemedy (AWS-FACTS "What this means", table 2)', () => {
  it.each([
    ['system-reboot, migration on', notice('system-reboot'), facts(), 'reboot-migrate'],
    [
      'system-reboot, migration disabled',
      notice('system-reboot'),
      facts({ rebootMigration: 'disabled' }),
      'stop-start',
    ],
    [
      'system-reboot, migration unknown',
      notice('system-reboot'),
      facts({ rebootMigration: 'unknown' }),
      'stop-start',
    ],
    [
      'system-reboot, no migration, instance-store root, deadline',
      notice('system-reboot', { notBeforeDeadline: 1 }),
      facts({ rebootMigration: 'disabled', rootDevice: 'instance-store', instanceStore: 'present' }),
      'reschedule',
    ],
    [
      'instance-reboot with a deadline',
      notice('instance-reboot', { notBeforeDeadline: 1 }),
      facts(),
      'reschedule',
    ],
    ['instance-reboot without a deadline', notice('instance-reboot'), facts(), 'stop-start'],
    ['instance-stop, EBS', notice('instance-stop'), facts(), 'stop-start'],
    ['instance-retirement, EBS', notice('instance-retirement'), facts(), 'stop-start'],
    [
      'instance-retirement, instance-store root',
      notice('instance-retirement'),
      facts({ rootDevice: 'instance-store', instanceStore: 'present' }),
      'needs-replacement',
    ],
    ['system-maintenance by default policy', notice('system-maintenance'), facts(), 'report-only'],
  ])('%s → %s', (_name, n, f, remedy) => {
    expect(chooseRemedy(n, f, policy).remedy).toBe(remedy);
  });

  it('never reboots for instance-reboot, even when an operator lists nothing else that applies', () => {
    const c = chooseRemedy(
      notice('instance-reboot'),
      facts({ rootDevice: 'instance-store', instanceStore: 'present' }),
      policy,
    );
    expect(c).toEqual({
      remedy: null,
      reason:
        'no allowed remedy applies (reschedule: event has no NotBeforeDeadline; stop-start: instance-store root cannot be stopped)',
    });
  });

  it('keeps its own guard when a config that skipped validation lists reboot-migrate for instance-reboot', () => {
    // The schema refuses this config (config.test.ts); a config object built elsewhere (a stale stored copy,
    // a hand-built one in a handler) must still never get a reboot for instance-reboot.
    const unvalidated = {
      ...policy,
      remedies: { ...policy.remedies, 'instance-reboot': ['reboot-migrate'] as const },
    };
    expect(chooseRemedy(notice('instance-reboot'), facts(), unvalidated)).toEqual({
      remedy: null,
      reason: 'no allowed remedy applies (reboot-migrate: a reboot does not clear instance-reboot)',
    });
    expect(() => parseConfig({ remedies: { 'instance-reboot': ['reboot-migrate'] } })).toThrow(
      /remedies\.instance-reboot: reboot-migrate never clears an instance-reboot event/,
    );
  });

  it('refuses stop-start when instance store would lose data, unless the operator says it is disposable', () => {
    const f = facts({ instanceType: 'r5d.large', instanceStore: 'present' });
    expect(chooseRemedy(notice('instance-stop'), f, policy).reason).toBe(
      'no allowed remedy applies (stop-start: r5d.large has instance-store volumes whose data a stop loses (set instanceStoreDisposable if that is fine))',
    );
    expect(
      chooseRemedy(notice('instance-stop'), f, parseConfig({ instanceStoreDisposable: true })).remedy,
    ).toBe('stop-start');
  });

  it('does not assume unknown instance store is empty', () => {
    expect(
      chooseRemedy(notice('instance-stop'), facts({ instanceStore: 'unknown' }), policy).reason,
    ).toContain(
      'instance store of m5.large unknown (give describe-instance-types output, or set instanceStoreDisposable)',
    );
  });

  it('does not stop a Spot instance', () => {
    expect(chooseRemedy(notice('instance-stop'), facts({ lifecycle: 'spot' }), policy).reason).toContain(
      'Spot instance: a user stop works only for persistent requests',
    );
  });

  it('follows the operator order and narrowing', () => {
    const narrow = parseConfig({ remedies: { 'system-reboot': ['reschedule', 'reboot-migrate'] } });
    expect(chooseRemedy(notice('system-reboot', { notBeforeDeadline: 1 }), facts(), narrow).remedy).toBe(
      'reschedule',
    );
    expect(chooseRemedy(notice('system-reboot'), facts(), narrow).remedy).toBe('reboot-migrate');
  });

  it('skips codes EC2 may add later instead of guessing', () => {
    expect(chooseRemedy(notice('instance-teleport'), facts(), policy)).toEqual({
      remedy: null,
      reason: 'unsupported event code "instance-teleport"',
    });
  });
});
