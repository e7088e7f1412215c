import {
  assessItem,
  gateWave,
  MIGRATION_GRACE,
  preflightObjection,
  type WaveItemState,
} from '../../lambda/core/rollout';
import type { InstanceStatus, Notice } from '../../lambda/core/types';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const item = (over: Partial<WaveItemState> = {}): WaveItemState => ({
  instanceId: 'i-0abc',
  eventIds: ['e-1'],
  codes: ['system-reboot'],
  remedy: 'reboot-migrate',
  deadline: NOW + 48 * 3_600_000,
  groupIds: ['asg=web'],
  phase: 'verifying',
  actedAt: NOW,
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

describe('assessItem: a remedy counts only when EC2 shows the event gone and the instance healthy', () => {
  it('does not count a successful-looking reboot while the event is still open', () => {
    expect(assessItem(item(), status(), NOW + 60_000, NOW + 1_200_000)).toEqual({ next: 'wait' });
    expect(assessItem(item(), status(), NOW + 1_200_000, NOW + 1_200_000)).toEqual({
      next: 'failed',
      reason:
        'event still open after the verification timeout: e-1 (the reboot did not migrate the instance; a user reboot leaves the event open)',
    });
  });

  it('does not count a cleared event while status checks are not ok', () => {
    const s = status({ notices: [ev('completed')], instanceStatus: 'initializing' });
    expect(assessItem(item(), s, NOW + 60_000, NOW + 1_200_000)).toEqual({ next: 'wait' });
    expect(
      assessItem(item(), { ...s, instanceStatus: 'impaired' }, NOW + 1_200_000, NOW + 1_200_000),
    ).toEqual({
      next: 'failed',
      reason: 'event cleared but not healthy: state running, instance status impaired, system status ok',
    });
  });

  it('verifies when the event is [Completed] or gone and both checks are ok', () => {
    expect(assessItem(item(), status({ notices: [ev('completed')] }), NOW, NOW + 1)).toEqual({
      next: 'verified',
    });
    expect(assessItem(item(), status({ notices: [] }), NOW, NOW + 1)).toEqual({ next: 'verified' });
    expect(assessItem(item(), status({ notices: [ev('canceled')] }), NOW, NOW + 1)).toEqual({
      next: 'verified',
    });
  });

  it('falls back only after the grace, only when healthy, only when allowed', () => {
    expect(
      assessItem(item({ fallback: 'stop-start' }), status(), NOW + MIGRATION_GRACE - 1, NOW + 1_200_000),
    ).toEqual({ next: 'wait' });
    expect(
      assessItem(item({ fallback: 'stop-start' }), status(), NOW + MIGRATION_GRACE, NOW + 1_200_000),
    ).toEqual({ next: 'fallback' });
    expect(
      assessItem(
        item({ fallback: 'stop-start' }),
        status({ instanceStatus: 'initializing' }),
        NOW + MIGRATION_GRACE,
        NOW + 1_200_000,
      ),
    ).toEqual({ next: 'wait' });
    expect(assessItem(item(), status(), NOW + MIGRATION_GRACE, NOW + 1_200_000)).toEqual({ next: 'wait' });
  });

  it('starts a stop-start item once it is stopped, and fails a terminated one', () => {
    expect(
      assessItem(
        item({ remedy: 'stop-start', phase: 'stopping' }),
        status({ state: 'stopped' }),
        NOW,
        NOW + 1,
      ),
    ).toEqual({ next: 'start' });
    expect(
      assessItem(
        item({ remedy: 'stop-start', phase: 'stopping' }),
        status({ state: 'stopping' }),
        NOW,
        NOW + 1,
      ),
    ).toEqual({ next: 'wait' });
    expect(assessItem(item(), undefined, NOW, NOW + 1)).toEqual({
      next: 'failed',
      reason: 'instance terminated or no longer described',
    });
  });
});

describe('preflightObjection', () => {
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
  const optIn = { key: 'forestall:managed', value: 'true' };

  it('goes ahead when the event is open and time remains', () => {
    expect(
      preflightObjection(item({ phase: 'pending' }), status(), facts, optIn, NOW, 1_200_000, 7_200_000),
    ).toBeUndefined();
  });

  it('drops an item whose deadline can no longer be met', () => {
    expect(
      preflightObjection(
        item({ deadline: NOW + 3 * 3_600_000 }),
        status(),
        facts,
        optIn,
        NOW + 3_600_000,
        1_200_000,
        7_200_000,
      ),
    ).toBe('deadline-passed: remedy + verification would end after deadline - margin (0m left)');
  });

  it('keeps a rescheduled item whose event AWS completed at the slot, drops one that was not moved', () => {
    const slot = NOW + 3_600_000;
    const r = item({ remedy: 'reschedule', slot, codes: ['instance-reboot'] });
    expect(
      preflightObjection(
        r,
        status({ notices: [ev('completed', slot)] }),
        facts,
        optIn,
        slot,
        1_200_000,
        7_200_000,
      ),
    ).toBeUndefined();
    expect(
      preflightObjection(
        r,
        status({ notices: [ev('active', slot + 1)] }),
        facts,
        optIn,
        slot,
        1_200_000,
        7_200_000,
      ),
    ).toBe('not-rescheduled: the event starts 2026-12-01T01:00:00.001Z, not at the planned slot');
  });
});

describe('gateWave', () => {
  const items = (phases: WaveItemState['phase'][]) => phases.map((phase) => item({ phase }));
  it('halts when failures exceed the budget, counting only items acted on', () => {
    expect(gateWave(items(['verified', 'failed', 'dropped']), { kind: 'count', value: 0 })).toEqual({
      halt: true,
      failures: 1,
      budget: 0,
      acted: 2,
    });
    expect(gateWave(items(['verified', 'failed']), { kind: 'count', value: 1 })).toMatchObject({
      halt: false,
    });
    expect(
      gateWave(items(Array(20).fill('verified').concat(['failed'])), { kind: 'percent', value: 5 }),
    ).toMatchObject({ halt: false, budget: 1 });
    expect(
      gateWave(items(Array(19).fill('verified').concat(['failed'])), { kind: 'percent', value: 4 }),
    ).toMatchObject({ halt: true, budget: 0 });
  });
});
