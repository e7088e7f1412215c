/** The machine's pure judgements: what preflight keeps, and when an item is verified, waits or failed. */
import { parseConfig } from '../../lambda/core/config';
import { objection } from '../../lambda/core/machine/preflight';
import type { ItemState } from '../../lambda/core/machine/state';
import { assess, MIGRATION_GRACE, noteImpaired } from '../../lambda/core/machine/verify';
import type { InstanceStatus, Notice } from '../../lambda/core/types';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const config = parseConfig({ dryRun: false, verification: { timeout: 'PT20M' }, deadlineMargin: 'PT2H' });
const item = (over: Partial<ItemState> = {}): ItemState => ({
  instanceId: 'i-0abc',
  eventIds: ['e-1'],
  codes: ['system-reboot'],
  remedy: 'reboot-migrate',
  tried: [],
  deadline: NOW + 48 * 3_600_000,
  notBefore: NOW + 48 * 3_600_000,
  groupIds: ['asg=web'],
  phase: 'verifying',
  actedAt: NOW,
  verifyBy: NOW + 1_200_000,
  ...over,
});
const ev = (state: Notice['state'], notBefore = NOW + 3_600_000): Notice => ({
  instanceId: 'i-0abc',
  region: 'us-east-1',
  eventId: 'e-1',
  code: 'system-reboot',
  description: '',
  notBefore,
  source: 'poll',
  state,
});
const status = (over: Partial<InstanceStatus> = {}): InstanceStatus => ({
  instanceId: 'i-0abc',
  state: 'running',
  instanceStatus: 'ok',
  systemStatus: 'ok',
  notices: [ev('active')],
  ...over,
});

describe('assess: a remedy counts only when EC2 shows the event gone and the instance healthy', () => {
  it('does not count a successful-looking reboot while the event is still open', () => {
    expect(assess(item(), status(), NOW + 60_000)).toBe('wait');
    expect(assess(item(), status(), NOW + MIGRATION_GRACE)).toBe(
      'remedy-failed: the reboot did not migrate the instance; a user reboot leaves the event open',
    );
    expect(assess(item(), status(), NOW + MIGRATION_GRACE - 1)).toBe('wait');
  });

  it('does not count a cleared event while status checks are not ok', () => {
    const s = status({ notices: [ev('completed')], instanceStatus: 'initializing' });
    expect(assess(item(), s, NOW + 60_000)).toBe('wait');
    expect(assess(item(), { ...s, instanceStatus: 'impaired' }, NOW + 1_200_000)).toBe(
      'event cleared but not healthy: state running, instance status impaired, system status ok',
    );
  });

  it('fails an instance whose checks stay impaired for impairedFor, without waiting for the timeout', () => {
    const impairedFor = 5 * 60_000;
    const cleared = status({ notices: [ev('completed')], instanceStatus: 'impaired' });
    const it0 = item({ impairedSince: NOW + 60_000 });
    expect(assess(it0, cleared, NOW + 60_000 + impairedFor - 1, impairedFor)).toBe('wait');
    expect(assess(it0, cleared, NOW + 60_000 + impairedFor, impairedFor)).toBe(
      'status checks impaired for 5m (instance status impaired, system status ok): failed before the verification timeout (verification.impairedFor)',
    );
    // The event still open is named; ok checks are never judged impaired, whatever impairedSince says.
    const open = status({ systemStatus: 'impaired', instanceStatus: 'initializing' });
    expect(assess(it0, open, NOW + 60_000 + impairedFor, impairedFor)).toContain(', e-1 still open)');
    expect(assess(it0, status({ notices: [] }), NOW + 60_000 + impairedFor, impairedFor)).toBe('verified');
  });

  it('starts the impaired clock at the first impaired read and resets it on any read without one', () => {
    const it0 = item();
    noteImpaired(it0, status({ instanceStatus: 'impaired' }), NOW);
    noteImpaired(it0, status({ systemStatus: 'impaired' }), NOW + 60_000);
    expect(it0.impairedSince).toBe(NOW);
    noteImpaired(it0, status({ instanceStatus: 'initializing' }), NOW + 120_000);
    expect(it0.impairedSince).toBeUndefined();
    noteImpaired(it0, status({ state: 'stopped', instanceStatus: 'impaired' }), NOW + 180_000);
    expect(it0.impairedSince).toBeUndefined();
    noteImpaired(it0, status({ systemStatus: 'impaired' }), NOW + 240_000);
    expect(it0.impairedSince).toBe(NOW + 240_000);
    noteImpaired(it0, undefined, NOW + 300_000);
    expect(it0.impairedSince).toBeUndefined();
  });

  it('verifies when the event is [Completed], [Canceled] or gone and both checks are ok', () => {
    expect(assess(item(), status({ notices: [ev('completed')] }), NOW)).toBe('verified');
    expect(assess(item(), status({ notices: [] }), NOW)).toBe('verified');
    expect(assess(item(), status({ notices: [ev('canceled')] }), NOW)).toBe('verified');
  });

  it('waits for a stopping instance, fails a terminated one, and never re-sends an ambiguous stop', () => {
    const stopping = item({ remedy: 'stop-start', phase: 'stopping' });
    expect(assess(stopping, status({ state: 'stopping' }), NOW)).toBe('wait');
    expect(assess(stopping, status({ state: 'stopped' }), NOW)).toBe('stopped');
    expect(assess(stopping, status({ state: 'stopping' }), NOW + 1_200_000)).toBe(
      'did not stop before the verification timeout (state stopping)',
    );
    expect(assess(item(), undefined, NOW)).toBe('instance terminated or no longer described');
    const ambiguous = { ...stopping, ambiguous: true };
    expect(assess(ambiguous, status(), NOW + MIGRATION_GRACE - 1)).toBe('wait');
    expect(assess(ambiguous, status(), NOW + MIGRATION_GRACE)).toMatch(/not sent again$/);
  });

  it('judges a stop-start that left the event open as a failed remedy (it may fall back)', () => {
    expect(assess(item({ remedy: 'stop-start', phase: 'starting' }), status(), NOW)).toBe(
      'remedy-failed: the stop-start did not clear e-1',
    );
  });
});

describe('preflight objection', () => {
  const facts = {
    instanceId: 'i-0abc',
    region: 'us-east-1',
    instanceType: 'm5.large',
    az: 'a',
    tags: { 'forestall:managed': 'true' },
    rootDevice: 'ebs' as const,
    instanceStore: 'none' as const,
    lifecycle: 'on-demand' as const,
    rebootMigration: 'default' as const,
    state: 'running' as const,
  };

  it('goes ahead when the event is open and time remains', () => {
    expect(objection(item({ phase: 'pending' }), status(), facts, config, NOW, false)).toBeUndefined();
  });

  it('drops an item whose deadline can no longer be met, to the minute', () => {
    const deadline = NOW + 3 * 3_600_000;
    expect(
      objection(item({ deadline }), status(), facts, config, deadline - 2 * 3_600_000 - 1_200_000, false),
    ).toBeUndefined();
    expect(objection(item({ deadline }), status(), facts, config, NOW + 3_600_000, false)).toBe(
      'deadline-passed: remedy + verification would end after deadline - margin (0m left)',
    );
  });

  it('keeps a rescheduled item whose event sits at the slot to the second, drops one that was not moved', () => {
    const slot = NOW + 3_600_000;
    const r = item({ remedy: 'reschedule', slot, codes: ['instance-reboot'] });
    expect(
      objection(r, status({ notices: [ev('completed', slot)] }), facts, config, slot, false),
    ).toBeUndefined();
    // AWS reports NotBefore to the second: the same second is the same slot.
    expect(
      objection(r, status({ notices: [ev('active', slot + 999)] }), facts, config, slot, false),
    ).toBeUndefined();
    expect(objection(r, status({ notices: [ev('active', slot + 1000)] }), facts, config, slot, false)).toBe(
      'not-rescheduled: the event starts 2026-12-01T01:00:01.000Z, not at the planned slot',
    );
    // In a dry run nothing was moved: the item is reported as a dry run, not as not-rescheduled.
    expect(
      objection(r, status({ notices: [ev('active', slot + 60_000)] }), facts, config, slot, true),
    ).toBeUndefined();
  });

  it('drops a terminated instance and one whose opt-in tag was removed', () => {
    expect(objection(item(), undefined, facts, config, NOW, false)).toBe('terminated: the instance is gone');
    expect(objection(item(), status(), { ...facts, tags: {} }, config, NOW, false)).toBe(
      'not-opted-in: the forestall:managed tag was removed since planning',
    );
  });
});
