import { formatStatus, type RegionStatus } from '../../cli/status';

const region = (
  state: Partial<NonNullable<NonNullable<RegionStatus['rollout']>['state']>>,
): RegionStatus => ({
  region: 'us-east-1',
  notices: [],
  rollout: {
    rolloutId: 'fs-1',
    region: 'running',
    claimedAt: '2026-12-01T00:00:00.000Z',
    state: { status: 'running', step: 9, batchCount: 2, batchesDone: 2, carried: 0, ...state },
    pendingApprovals: [],
  },
});

describe('forestall status', () => {
  it('names a batch after the planned ones a carry-over batch, and counts the instances carried', () => {
    const text = formatStatus([
      region({ current: { index: 2, wave: 'main', stage: 'verify', items: 3 }, carried: 4 }),
    ]);
    expect(text).toContain(
      'rollout fs-1: running, 2 of 2 batches done, carry-over batch 2 (main, 3 instance(s)) at verify; 4 instance(s) carried to a later batch (group full)',
    );
  });

  it('names a planned batch by its place in the plan and says nothing of carried instances when none are', () => {
    const text = formatStatus([
      region({ current: { index: 1, wave: 'main', stage: 'act', items: 5 }, batchesDone: 1 }),
    ]);
    expect(text).toContain('1 of 2 batches done, batch 1 of 2 (main, 5 instance(s)) at act');
    expect(text).not.toContain('carried');
  });
});
