import { type ConfigInput, parseConfig } from '../../lambda/core/config';
import { batchApiCaps, planRollout, RESCHEDULE_CALL_MARGIN } from '../../lambda/core/planner';
import { rescheduleCallAt } from '../../lambda/core/reschedule-timing';
import type { InstanceFacts, Notice } from '../../lambda/core/types';
import { instanceFacts } from './facts-fixture';

const NOW = Date.parse('2026-12-01T00:00:00Z'); // a Tuesday
const H = 3_600_000;

const facts = (i: number, over: Partial<InstanceFacts> = {}): InstanceFacts =>
  instanceFacts(`i-${String(i).padStart(17, '0')}`, over);
const notice = (i: number, code: string, notBeforeHours: number, over: Partial<Notice> = {}): Notice => ({
  instanceId: `i-${String(i).padStart(17, '0')}`,
  region: 'us-east-1',
  eventId: `instance-event-${i}`,
  code,
  description: 'scheduled',
  notBefore: NOW + notBeforeHours * H,
  source: 'poll',
  state: 'active',
  ...over,
});
const cfg = (over: ConfigInput = {}) =>
  parseConfig({
    maxUnavailablePerGroup: 10,
    waves: [{ name: 'all', maxParallel: 10, bake: 'PT0S' }],
    ...over,
  });

describe('planRollout', () => {
  it('plans only instances whose opt-in tag has the configured value, not any value', () => {
    const p = planRollout(
      [notice(1, 'system-reboot', 50), notice(2, 'system-reboot', 50)],
      [facts(1, { tags: { 'forestall:managed': 'false' } }), facts(2)],
      cfg(),
      NOW,
    );
    expect(p.skipped.map((s) => [s.instanceId.slice(-1), s.reason.split(':')[0]])).toEqual([
      ['1', 'not-opted-in'],
    ]);
    expect(p.batches.flatMap((b) => b.items.map((i) => i.instanceId.slice(-1)))).toEqual(['2']);
  });

  it('plans a remedy in the first window after NotBefore - leadTime', () => {
    const p = planRollout(
      [notice(1, 'system-reboot', 72)],
      [facts(1)],
      cfg({ windows: [{ days: ['THU'], start: '02:00', end: '05:00', timeZone: 'UTC' }] }),
      NOW,
    );
    expect(p.batches).toEqual([
      {
        index: 0,
        wave: 'all',
        startAt: '2026-12-03T02:00:00.000Z',
        endBy: '2026-12-03T02:20:00.000Z',
        items: [
          {
            instanceId: 'i-00000000000000001',
            eventId: 'instance-event-1',
            code: 'system-reboot',
            remedy: 'reboot-migrate',
            notBefore: '2026-12-04T00:00:00.000Z',
            deadline: '2026-12-04T00:00:00.000Z',
            groups: { asg: 'web', az: 'us-east-1a' },
          },
        ],
      },
    ]);
  });

  it('uses the latest earlier window when none lies between NotBefore - leadTime and the deadline, and says so', () => {
    const p = planRollout(
      [notice(1, 'system-reboot', 72)],
      [facts(1)],
      cfg({
        leadTime: 'PT12H',
        windows: [{ days: ['TUE', 'WED'], start: '02:00', end: '05:00', timeZone: 'UTC' }],
      }),
      NOW,
    );
    expect(p.batches[0]?.startAt).toBe('2026-12-02T02:00:00.000Z');
    expect(p.batches[0]?.items[0]?.reason).toBe(
      'earlier-window: no allowed window between NotBefore - leadTime and the deadline; planned in the latest earlier window',
    );
  });

  it('plans outside the windows at the latest safe slot when no window comes before the deadline, and says so', () => {
    const p = planRollout(
      [notice(1, 'system-reboot', 30)],
      [facts(1)],
      cfg({ windows: [{ days: ['SUN'], start: '02:00', end: '05:00', timeZone: 'UTC' }] }),
      NOW,
    );
    expect(p.batches[0]?.startAt).toBe('2026-12-02T03:40:00.000Z'); // 30h - 2h margin - 20m verification
    expect(p.batches[0]?.items[0]?.reason).toBe(
      'outside-window: no allowed window before the deadline; planned at the latest safe slot',
    );
  });

  it('runs the canary wave first, ahead of leadTime when the later waves need it, then bakes', () => {
    const p = planRollout(
      [notice(1, 'system-reboot', 200), notice(2, 'system-reboot', 50)],
      [facts(1, { tags: { 'forestall:managed': 'true', 'forestall:wave': 'canary' } }), facts(2)],
      cfg({
        waves: [
          { name: 'canary', match: { tags: { 'forestall:wave': 'canary' } }, maxParallel: 1, bake: 'PT30M' },
          { name: 'main', maxParallel: 5, bake: 'PT0S' },
        ],
      }),
      NOW,
    );
    expect(p.batches.map((w) => [w.wave, w.startAt])).toEqual([
      ['canary', '2026-12-01T02:00:00.000Z'],
      ['main', '2026-12-01T02:50:00.000Z'],
    ]);
    expect(p.batches[0]?.items[0]?.reason).toMatch(/^ahead-of-later-waves:/);
  });

  it('splits one group into entries so that its limit, counted on the whole group, holds', () => {
    const fleet = Array.from({ length: 10 }, (_, i) => facts(i));
    const p = planRollout(
      fleet.slice(0, 6).map((_f, i) => notice(i, 'instance-stop', 100)),
      fleet,
      cfg({ maxUnavailablePerGroup: '20%', groupBy: ['asg'] }),
      NOW,
    );
    expect(p.batches.map((w) => w.items.length)).toEqual([2, 2, 2]);
  });

  it('spreads an entry across groups when deadlines tie', () => {
    const fleet = [0, 1, 2, 3].map((i) => facts(i, { asgName: i < 2 ? 'web' : 'api' }));
    const p = planRollout(
      fleet.map((_f, i) => notice(i, 'instance-stop', 100)),
      fleet,
      cfg({ groupBy: ['asg'], waves: [{ name: 'all', maxParallel: 2, bake: 'PT0S' }] }),
      NOW,
    );
    expect(p.batches[0]?.items.map((i) => i.groups.asg).sort()).toEqual(['api', 'web']);
  });

  it('reschedules no sooner than 60 minutes + the call margin from now and never past NotBeforeDeadline', () => {
    const p = planRollout(
      [notice(1, 'instance-reboot', 2, { notBeforeDeadline: NOW + 100 * H })],
      [facts(1)],
      cfg(),
      NOW,
    );
    expect(p.batches[0]?.items[0]).toMatchObject({
      remedy: 'reschedule',
      deadline: '2026-12-05T04:00:00.000Z',
    });
    expect(p.batches[0]?.startAt).toBe('2026-12-01T01:15:00.000Z');
  });

  it('plans a reschedule slot whole-minute and >= now + 75 min even when now carries seconds and ms', () => {
    const now = NOW + 37_123;
    const p = planRollout(
      [notice(1, 'instance-reboot', 2, { notBeforeDeadline: NOW + 100 * H })],
      [facts(1)],
      cfg(),
      now,
    );
    const slot = Date.parse(p.batches[0]?.startAt ?? '');
    expect(RESCHEDULE_CALL_MARGIN).toBe(15 * 60_000);
    expect(slot).toBeGreaterThanOrEqual(now + 75 * 60_000);
    expect(slot % 60_000).toBe(0);
    expect(p.batches[0]?.startAt).toBe('2026-12-01T01:16:00.000Z');
    // The machine calls at min(NotBefore - 20 min, slot - 75 min): never before the plan was made.
    const item = p.batches[0]?.items[0];
    expect(item?.notBefore).toBe('2026-12-01T02:00:00.000Z');
    expect(rescheduleCallAt(Date.parse(item?.notBefore ?? ''), slot, now)).toBe(slot - 75 * 60_000);
  });

  it('keeps slots on whole minutes when NotBefore, the verification timeout and bake carry seconds', () => {
    const sec = 1000;
    const fleet = [1, 2].map((i) => facts(i));
    const p = planRollout(
      [
        notice(1, 'system-reboot', 72, { notBefore: NOW + 72 * H + 30 * sec }), // earliest: NotBefore - 48h, up
        notice(2, 'system-reboot', 72, { notBefore: NOW + 72 * H + 30 * sec }),
      ],
      fleet,
      cfg({
        waves: [{ name: 'all', maxParallel: 1, bake: 'PT10S' }],
        verification: { timeout: 'PT20M20S' },
      }),
      NOW,
    );
    expect(p.batches.map((b) => b.startAt)).toEqual(['2026-12-02T00:01:00.000Z', '2026-12-02T00:22:00.000Z']);
    // No window before the deadline: the latest safe slot, rounded down so it still meets it.
    const late = planRollout(
      [notice(1, 'system-reboot', 30, { notBefore: NOW + 30 * H + 30 * sec })],
      [facts(1)],
      cfg({ windows: [{ days: ['SUN'], start: '02:00', end: '05:00', timeZone: 'UTC' }] }),
      NOW,
    );
    expect(late.batches[0]?.startAt).toBe('2026-12-02T03:40:00.000Z');
  });

  it('starts batches on a whole minute when now carries milliseconds', () => {
    const now = NOW + 12_345;
    const p = planRollout([notice(1, 'instance-stop', 30)], [facts(1)], cfg({ leadTime: 'P2D' }), now);
    expect(p.generatedAt).toBe('2026-12-01T00:00:12.345Z');
    expect(p.batches.map((b) => b.startAt)).toEqual(['2026-12-01T00:01:00.000Z']);
  });

  it('reports a reschedule too late when the event starts within 5 min + the call margin (18 min away)', () => {
    const p = planRollout(
      [
        notice(1, 'instance-reboot', 18 / 60, { notBeforeDeadline: NOW + 50 * H }),
        notice(2, 'instance-reboot', 21 / 60, { notBeforeDeadline: NOW + 50 * H }),
        notice(3, 'instance-reboot', 20 / 60, { notBeforeDeadline: NOW + 50 * H }),
      ],
      [facts(1), facts(2), facts(3)],
      cfg(),
      NOW,
    );
    expect(p.infeasible.map((i) => [i.instanceId.slice(-1), i.reason.split(':')[0]])).toEqual([
      ['1', 'too-late-to-reschedule'],
      ['3', 'too-late-to-reschedule'], // exactly 20 min: the call would be due now, with no margin left
    ]);
    const item = p.batches[0]?.items[0];
    expect(item?.instanceId).toBe('i-00000000000000002');
    const callAt = rescheduleCallAt(
      Date.parse(item?.notBefore ?? ''),
      Date.parse(p.batches[0]?.startAt ?? ''),
      NOW,
    );
    // min(NotBefore - 20 min = now + 1 min, slot - 75 min = now): due at once, never before now.
    expect(callAt).toBe(NOW);
  });

  it('reports what cannot be done in time, with the reason and the deadline', () => {
    const p = planRollout(
      [
        notice(1, 'instance-stop', 2),
        notice(2, 'instance-reboot', 0.05, { notBeforeDeadline: NOW + 50 * H }),
      ],
      [facts(1), facts(2)],
      cfg(),
      NOW,
    );
    expect(p.batches).toEqual([]);
    expect(p.infeasible).toEqual([
      {
        instanceId: 'i-00000000000000001',
        eventId: 'instance-event-1',
        code: 'instance-stop',
        reason:
          'deadline-too-close: needs 2h20m before the deadline (deadlineMargin + verification), 2h left',
        deadline: '2026-12-01T02:00:00.000Z',
      },
      {
        instanceId: 'i-00000000000000002',
        eventId: 'instance-event-2',
        code: 'instance-reboot',
        reason:
          'too-late-to-reschedule: the event starts within 20m (AWS refuses within 5m, plus the call margin)',
        deadline: '2026-12-03T02:00:00.000Z',
      },
    ]);
  });

  it('says how long ago an event started, whatever its remedy, rather than that its deadline is too close', () => {
    const p = planRollout(
      [
        notice(1, 'instance-stop', -60.25),
        notice(2, 'instance-reboot', -0.5, { notBeforeDeadline: NOW + 50 * H }),
        notice(3, 'system-reboot', 0),
      ],
      [facts(1), facts(2), facts(3)],
      cfg(),
      NOW,
    );
    expect(p.batches).toEqual([]);
    expect(p.infeasible.map((i) => [i.instanceId.slice(-1), i.reason])).toEqual([
      [
        '1',
        'already-started: started 2d12h ago (NotBefore 2026-11-28T11:45:00Z); AWS performs it within its window, on its own schedule',
      ],
      [
        '2',
        'already-started: started 30m ago (NotBefore 2026-11-30T23:30:00Z); AWS performs it within its window, on its own schedule',
      ],
      [
        '3',
        'already-started: started now (NotBefore 2026-12-01T00:00:00Z); AWS performs it within its window, on its own schedule',
      ],
    ]);
    // One minute ahead has not started: the deadline is what stops it.
    const soon = planRollout([notice(1, 'instance-stop', 1 / 60)], [facts(1)], cfg(), NOW);
    expect(soon.infeasible[0]?.reason).toMatch(/^deadline-too-close: .*, 1m left$/);
  });

  it('reports no-slot when earlier entries use up the time before a deadline', () => {
    const fleet = [1, 2].map((i) => facts(i));
    const p = planRollout(
      fleet.map((_f, i) => notice(i + 1, 'instance-stop', 2.7)),
      fleet,
      cfg({ waves: [{ name: 'all', maxParallel: 1, bake: 'PT10M' }] }),
      NOW,
    );
    expect(p.batches).toHaveLength(1);
    expect(p.infeasible[0]?.reason).toBe(
      'no-slot: earlier waves and batches, group limits and EC2 API throughput leave no slot in a window before the deadline',
    );
  });

  it('skips with a reason: not opted in, stopped, inactive, unknown instance, second event, unknown code', () => {
    const p = planRollout(
      [
        notice(1, 'system-reboot', 50),
        notice(2, 'system-reboot', 50),
        notice(3, 'system-reboot', 50, { description: '[Completed] x', state: 'completed' }),
        notice(4, 'system-reboot', 50),
        notice(5, 'system-reboot', 50),
        notice(5, 'instance-reboot', 60, { eventId: 'instance-event-5b', notBeforeDeadline: NOW + 90 * H }),
        notice(6, 'instance-teleport', 50),
      ],
      [facts(1, { tags: {} }), facts(2, { state: 'stopped' }), facts(3), facts(5), facts(6)],
      cfg(),
      NOW,
    );
    expect(p.skipped.map((s) => [s.instanceId.slice(-1), s.reason])).toEqual([
      ['1', 'not-opted-in: lacks tag forestall:managed=true; AWS acts at NotBefore'],
      ['2', 'instance-not-running: instance is stopped; nothing to take out of service'],
      ['3', 'inactive: event completed'],
      ['4', 'unknown-instance: not in the describe-instances data'],
      [
        '5',
        'second-event: i-00000000000000005 is planned for instance-event-5 first; the next poll plans this one',
      ],
      ['6', 'unsupported-code: "instance-teleport" is not a documented event code; AWS acts at NotBefore'],
    ]);
  });

  it('points to the malformed describe-instances record of an instance, not to missing data', () => {
    const p = planRollout(
      [notice(1, 'system-reboot', 50), notice(2, 'system-reboot', 50), notice(3, 'system-reboot', 50)],
      [facts(3)],
      cfg(),
      NOW,
      new Map([
        ['i-00000000000000001', 'Reservations[0].Instances[4]: Placement: expected object'],
        ['i-00000000000000003', 'Reservations[0].Instances[5]: State: expected object'], // listed twice: one read
      ]),
    );
    expect(p.skipped.map((s) => [s.instanceId.slice(-1), s.reason])).toEqual([
      [
        '1',
        'malformed-instance: its describe-instances record could not be read (Reservations[0].Instances[4]: Placement: expected object); AWS acts at NotBefore',
      ],
      ['2', 'unknown-instance: not in the describe-instances data'],
    ]);
    expect(p.batches.flatMap((b) => b.items.map((i) => i.instanceId))).toEqual(['i-00000000000000003']);
  });

  it('covers two events of one instance with one stop-start when it clears both', () => {
    const p = planRollout(
      [
        notice(1, 'system-reboot', 50),
        notice(1, 'instance-retirement', 80, { eventId: 'instance-event-1b' }),
      ],
      [facts(1)],
      cfg(),
      NOW,
    );
    expect(p.batches[0]?.items.map((i) => [i.eventId, i.remedy])).toEqual([
      ['instance-event-1', 'stop-start'],
      ['instance-event-1b', 'stop-start'],
    ]);
  });

  describe('EC2 API throughput (AWS-FACTS §6)', () => {
    const mass = (n: number, code: string, over: (i: number) => Partial<InstanceFacts> = () => ({})) => {
      const fleet = Array.from({ length: n }, (_, i) => facts(i, over(i)));
      const events = fleet.map((_f, i) =>
        notice(i, code, 100, code === 'instance-reboot' ? { notBeforeDeadline: NOW + 200 * H } : {}),
      );
      return { fleet, events };
    };
    const unlimited = (over: ConfigInput = {}) =>
      cfg({
        maxUnavailablePerGroup: '100%',
        waves: [{ name: 'all', maxParallel: '100%', bake: 'PT0S' }],
        ...over,
      });

    it('caps a batch at what StartInstances, RebootInstances and ModifyInstanceEventStartTime admit', () => {
      // 20 min verification: 8 min for starts at half of 1,000 + 2/s; reschedules within the 15 min margin.
      expect(batchApiCaps(20 * 60_000)).toEqual({ stopStart: 980, reboot: 61_250, reschedule: 2275 });
      expect(batchApiCaps(5 * 60_000)).toEqual({ stopStart: 100, reboot: 8750, reschedule: 2275 });
    });

    it('cuts a 5,000-instance stop-start wave with maxParallel 100% into batches the API admits, and says so', () => {
      const { fleet, events } = mass(5000, 'instance-stop');
      const p = planRollout(events, fleet, unlimited(), NOW);
      expect(p.infeasible).toEqual([]);
      expect(p.batches.map((b) => [b.items.length, b.limitedBy])).toEqual([
        [980, 'api'],
        [980, 'api'],
        [980, 'api'],
        [980, 'api'],
        [980, 'api'],
        [100, undefined], // the rest: nothing was held back
      ]);
      expect('limitedBy' in (p.batches[5] ?? {})).toBe(false);
    });

    it('keeps starts for a quarter of the reboot-migrates: a failed migration falls back to a stop-start', () => {
      // Two groups, so that stop-starts held back do not hold back the reboot-migrates with them.
      const { fleet, events } = mass(2000, 'system-reboot', (i) =>
        i % 2 ? { rebootMigration: 'default' } : { rebootMigration: 'disabled', asgName: 'api' },
      );

      const p = planRollout(events, fleet, unlimited(), NOW);
      const count = (b: number, remedy: string) =>
        p.batches[b]?.items.filter((i) => i.remedy === remedy).length;
      // Pairs cost 1 + 0.25 starts: 784 pairs use all 980; then 216 more migrations alone cost 54.
      expect([count(0, 'stop-start'), count(0, 'reboot-migrate')]).toEqual([784, 784]);
      expect(p.batches[0]?.limitedBy).toBe('api');
      expect([count(1, 'stop-start'), count(1, 'reboot-migrate')]).toEqual([216, 216]);
    });

    it('holds up to four times the stop-start cap of reboot-migrates alone', () => {
      const { fleet, events } = mass(5000, 'system-reboot', () => ({ rebootMigration: 'default' }));
      const p = planRollout(events, fleet, unlimited(), NOW);
      expect(p.batches.map((b) => [b.items.length, b.limitedBy])).toEqual([
        [3920, 'api'],
        [1080, undefined],
      ]);
    });

    it('caps reschedules at the calls that fit within the call margin when the slot is as early as AWS allows', () => {
      const { fleet, events } = mass(3000, 'instance-reboot');
      const p = planRollout(events, fleet, unlimited({ leadTime: 'P30D' }), NOW);
      expect(p.batches.map((b) => [b.items.length, b.limitedBy, b.startAt])).toEqual([
        [2275, 'api', '2026-12-01T01:15:00.000Z'],
        [725, undefined, '2026-12-01T01:35:00.000Z'],
      ]);
    });

    it('counts a reschedule call per event: an instance with two events takes two of the 2,275', () => {
      const { fleet, events } = mass(1200, 'instance-reboot');
      const second = events.map((n) => ({ ...n, eventId: `${n.eventId}-b` }));
      const p = planRollout([...events, ...second], fleet, unlimited({ leadTime: 'P30D' }), NOW);
      expect(p.batches.map((b) => [b.items.length, b.limitedBy])).toEqual([
        [2274, 'api'],
        [126, undefined],
      ]);
    });

    it('lets a later reschedule batch hold the calls the hour before its latest call time admits, no more', () => {
      // Slot 52 h: calls from 50 h 45 min - 60 min on (11,275 at 2.5/s and the margin); the next batch at
      // 52 h 20 min may call only after the first one's calls are done (51 h): 5 min more, 3,025 calls.
      const { fleet, events } = mass(15_000, 'instance-reboot');
      const p = planRollout(events, fleet, unlimited(), NOW);
      expect(p.batches.map((b) => [b.items.length, b.limitedBy, b.startAt])).toEqual([
        [11_275, 'api', '2026-12-03T04:00:00.000Z'],
        [3025, 'api', '2026-12-03T04:20:00.000Z'],
        [700, undefined, '2026-12-03T04:40:00.000Z'],
      ]);
    });

    it("a reschedule due first in a group does not hold back that group's other remedies", () => {
      // web: five stop-starts at 100 h and a reschedule due at 60 h, ready from 75 min; api: four
      // stop-starts at 50 h. At most 3 per ASG: batch 1 at once, batch 2 after a 1-hour bake, when the
      // reschedule is ready and first in web. api's fourth sets batch 2's kind, and web's stop-starts join.
      const fleet = [
        ...Array.from({ length: 6 }, (_, k) => facts(k)),
        ...Array.from({ length: 4 }, (_, k) => facts(10 + k, { asgName: 'api' })),
      ];
      const events = [
        ...Array.from({ length: 5 }, (_, k) => notice(k, 'instance-stop', 100)),
        notice(5, 'instance-reboot', 60, { notBeforeDeadline: NOW + 70 * H }),
        ...Array.from({ length: 4 }, (_, k) => notice(10 + k, 'instance-stop', 50)),
      ];
      const config = unlimited({
        leadTime: 'P30D',
        groupBy: ['asg'],
        maxUnavailablePerGroup: 3,
        waves: [{ name: 'all', maxParallel: '100%', bake: 'PT1H' }],
      });
      const p = planRollout(events, fleet, config, NOW);
      expect(p.batches.map((b) => b.items.map((i) => i.instanceId.slice(-2)))).toEqual([
        ['00', '01', '02', '10', '11', '12'],
        ['03', '04', '13'],
        ['05'],
      ]);
    });

    it('never mixes reschedules with remedies Forestall applies in one batch', () => {
      // 1,000 stop-starts in asg web, 100 reschedules in asg api: room for 20 reschedules in the first batch,
      // but a batch holding one could not start early, so they wait for a batch of their own.
      const stops = mass(1000, 'instance-stop');
      const resched = Array.from({ length: 100 }, (_, k) => facts(5000 + k, { asgName: 'api' }));
      const p = planRollout(
        [
          ...stops.events,
          ...resched.map((_f, k) =>
            notice(5000 + k, 'instance-reboot', 100, { notBeforeDeadline: NOW + 200 * H }),
          ),
        ],
        [...stops.fleet, ...resched],
        unlimited({ waves: [{ name: 'all', maxParallel: 1000, bake: 'PT0S' }] }),
        NOW,
      );
      expect(
        p.batches.map((b) => [b.items.length, [...new Set(b.items.map((i) => i.remedy))], b.limitedBy]),
      ).toEqual([
        [980, ['stop-start'], 'api'],
        [20, ['stop-start'], undefined],
        [100, ['reschedule'], undefined],
      ]);
    });
  });
});
