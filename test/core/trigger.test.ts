/** When the poll starts a rollout, and which notices the rollout plans (lambda/core/trigger.ts). */
import { parseConfig } from '../../lambda/core/config';
import type { NoticeRecord } from '../../lambda/core/notice-ledger';
import { decideTrigger, dueNotices, rolloutIdFor } from '../../lambda/core/trigger';

const HOUR = 3_600_000;
const now = Date.parse('2026-12-01T00:00:00Z');
const config = parseConfig({ leadTime: 'PT48H', pollIntervalMinutes: 10 });

function notice(id: string, notBefore: number, over: Partial<NoticeRecord> = {}): NoticeRecord {
  return {
    region: 'us-east-1',
    instanceId: id,
    eventId: `ev-${id}`,
    code: 'system-reboot',
    description: 'scheduled',
    notBefore,
    source: 'poll',
    state: 'open',
    firstSeen: now - HOUR,
    lastSeen: now,
    history: [],
    version: 1,
    ...over,
  };
}

describe('the rollout trigger', () => {
  it('calls a notice due when NotBefore − leadTime falls before the next poll', () => {
    const due = notice('a', now + 48 * HOUR + 9 * 60_000); // due in 9 min: before the next poll
    const notYet = notice('b', now + 48 * HOUR + 11 * 60_000);
    const cleared = notice('c', now + HOUR, { state: 'cleared' });
    expect(dueNotices([due, notYet, cleared], now, config).map((n) => n.instanceId)).toEqual(['a']);
  });

  it('starts when a due notice exists and no rollout ever ran in the Region', () => {
    expect(decideTrigger([notice('a', now + HOUR)], undefined, now, config)).toEqual({
      start: true,
      due: 1,
      fresh: 1,
    });
    expect(decideTrigger([notice('a', now + 72 * HOUR)], undefined, now, config)).toMatchObject({
      start: false,
    });
  });

  it('never starts while a rollout runs, or after one halted until it is released', () => {
    const due = [notice('a', now + HOUR)];
    const running = { rolloutId: 'r1', status: 'running' as const, claimedAt: now - HOUR };
    expect(decideTrigger(due, running, now, config)).toMatchObject({
      start: false,
      why: expect.stringMatching(/running/),
    });
    expect(decideTrigger(due, { ...running, status: 'halted' }, now, config)).toMatchObject({
      start: false,
      why: expect.stringMatching(/release/),
    });
  });

  it('after a completed rollout, starts again only for notices first seen, or due, after its claim', () => {
    const claimedAt = now - HOUR;
    const previous = { rolloutId: 'r1', status: 'completed' as const, claimedAt };
    const seenBefore = notice('a', now + HOUR, { firstSeen: claimedAt - 1 });
    expect(decideTrigger([seenBefore], previous, now, config)).toMatchObject({ start: false });
    const seenAfter = notice('b', now + HOUR, { firstSeen: claimedAt + 1 });
    expect(decideTrigger([seenBefore, seenAfter], previous, now, config)).toEqual({
      start: true,
      due: 2,
      fresh: 1,
    });
    // Seen long ago, but it only became due after the last rollout was planned (its due time passed since).
    const dueLater = notice('c', claimedAt + 48 * HOUR + 11 * 60_000, { firstSeen: claimedAt - 10 * HOUR });
    expect(decideTrigger([dueLater], previous, claimedAt + 11 * 60_000 + HOUR, config)).toMatchObject({
      start: true,
    });
    const dueThen = notice('d', claimedAt + 48 * HOUR + 9 * 60_000, { firstSeen: claimedAt - 10 * HOUR });
    expect(decideTrigger([dueThen], previous, now, config)).toMatchObject({ start: false });
  });

  it('calls a notice due when its due time is exactly the next poll (inclusive)', () => {
    const atNextPoll = notice('a', now + 48 * HOUR + 10 * 60_000);
    expect(dueNotices([atNextPoll], now, config).map((n) => n.instanceId)).toEqual(['a']);
  });

  it('counts as planned a notice seen at the claiming poll, or due exactly by the poll after the claim', () => {
    const claimedAt = now - HOUR;
    const previous = { rolloutId: 'r1', status: 'completed' as const, claimedAt };
    // The claiming poll synced first (its start time is the notice's firstSeen), then claimed, maybe in the same ms.
    const seenAtClaim = notice('a', now + HOUR, { firstSeen: claimedAt });
    expect(decideTrigger([seenAtClaim], previous, now, config)).toMatchObject({ start: false });
    // Due at the claim (NotBefore − leadTime = claim + poll interval): the claimed rollout planned it.
    const dueAtClaim = notice('b', claimedAt + 48 * HOUR + 10 * 60_000, { firstSeen: claimedAt - HOUR });
    expect(decideTrigger([dueAtClaim], previous, now, config)).toMatchObject({ start: false });
  });

  // Review: freshness judged on the window in force when the previous rollout was claimed. A notice known before
  // the claim but not due then (its NotBefore was 10 days out) was not planned; AWS then moved it earlier, so
  // it is due now. Its *current* due time is before the claim, so `dueAt > seenBy + poll` calls it planned
  // already, and no rollout ever takes it: AWS's own schedule applies, silently.
  it('starts for a notice that AWS moved earlier after the last claim (it was not due, so not planned, then)', () => {
    const claimedAt = now - HOUR;
    const previous = { rolloutId: 'r1', status: 'completed' as const, claimedAt };
    const movedEarlier = notice('e', now + 3 * HOUR, {
      firstSeen: claimedAt - 10 * HOUR,
      history: [{ at: claimedAt + 10 * 60_000, notBefore: now + 240 * HOUR }],
    });
    expect(decideTrigger([movedEarlier], previous, now, config)).toMatchObject({ start: true, fresh: 1 });
  });

  it('names rollouts for the Region and the millisecond, valid in an execution name', () => {
    expect(rolloutIdFor('eu-west-1', Date.parse('2026-12-01T10:20:30.456Z'))).toBe(
      'fs-eu-west-1-20261201T102030456',
    );
  });
});
