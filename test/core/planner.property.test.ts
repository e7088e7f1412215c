import fc from 'fast-check';
import { MIGRATION_FALLBACK_SHARE, maxReschedulesWithin } from '../../lambda/core/api-limits';
import { resolveLimit } from '../../lambda/core/config';
import {
  batchApiCaps,
  planRollout,
  RESCHEDULE_CALL_MARGIN,
  RESCHEDULE_MIN_LEAD,
} from '../../lambda/core/planner';
import {
  RESCHEDULE_SPREAD_MAX,
  rescheduleCallAt,
  rescheduleSpread,
} from '../../lambda/core/reschedule-timing';
import type { Plan } from '../../lambda/core/types';
import { WindowCalendar } from '../../lambda/core/windows';
import { massScenarioArb, type Scenario, scenarioArb } from './arbitraries';

function plan(s: Scenario): Plan {
  return planRollout(s.notices, s.facts, s.config, s.now);
}

/** Group sizes recomputed here from the whole fleet, independent of the planner's own bookkeeping. */
function limitOf(s: Scenario, key: string, value: string): number {
  const size = s.facts.filter((f) =>
    key === 'asg' ? f.asgName === value : key === 'az' ? f.az === value : f.tags[key.slice(4)] === value,
  ).length;
  return resolveLimit(s.config.maxUnavailablePerGroup, size);
}

// Small random fleets explore the rules; mass events (thousands of one kind) reach EC2's API caps.
describe.each([
  ['1,000 random fleets and configs', scenarioArb, 1000],
  ['30 mass events', massScenarioArb, 30],
])('planRollout invariants (fast-check, %s each)', (_name, arb: fc.Arbitrary<Scenario>, numRuns: number) => {
  const RUNS = { numRuns };

  it('fits every batch to EC2 API throughput: starts (stop-starts, a share of reboot-migrates), reboots, reschedules', () => {
    fc.assert(
      fc.property(arb, (s) => {
        const caps = batchApiCaps(s.config.verification.timeout);
        let callsFree = s.now; // when the previous reschedule batch's calls are all made
        // An instance's reschedule takes one call per event: the most any instance needs.
        const eventsOf = new Map<string, Set<string>>();
        for (const n of s.notices)
          eventsOf.set(n.instanceId, (eventsOf.get(n.instanceId) ?? new Set()).add(n.eventId));
        const mostCalls = Math.max(1, ...[...eventsOf.values()].map((e) => e.size));
        for (const b of plan(s).batches) {
          const count = (remedies: readonly string[]) =>
            new Set(b.items.filter((i) => remedies.includes(i.remedy)).map((i) => i.instanceId)).size;
          const reboots = count(['reboot-migrate']);
          // Starts kept: one per stop-start, a share per reboot-migrate (its fallback).
          const starts = count(['stop-start']) + MIGRATION_FALLBACK_SHARE * reboots;
          expect(starts).toBeLessThanOrEqual(caps.stopStart);
          expect(reboots).toBeLessThanOrEqual(caps.reboot);
          // A reschedule batch's calls, spread back from the latest call time as the machine spreads them
          // (init.ts), start no earlier than the plan and the previous batch's calls, and all fit by then.
          const slot = Date.parse(b.startAt);
          const latestCall = slot - RESCHEDULE_MIN_LEAD - RESCHEDULE_CALL_MARGIN;
          const room = Math.min(RESCHEDULE_SPREAD_MAX, Math.max(0, latestCall - callsFree));
          const calls = b.items.filter((i) => i.remedy === 'reschedule').length;
          expect(rescheduleSpread(calls)).toBeLessThanOrEqual(room);
          expect(calls).toBeLessThanOrEqual(maxReschedulesWithin(RESCHEDULE_CALL_MARGIN + room));
          const fullOfReschedules = rescheduleSpread(calls + mostCalls) > room;
          if (calls > 0) callsFree = slot - RESCHEDULE_MIN_LEAD;
          // Marked only when a cap is reached (so it is what held more back): no room for one more start.
          if (b.limitedBy !== undefined) {
            expect(b.limitedBy).toBe('api');
            expect(caps.stopStart - starts < 1 || reboots === caps.reboot || fullOfReschedules).toBe(true);
          }
        }
      }),
      numRuns === 1000 ? RUNS : { numRuns: 100 },
    );
  });

  it('plans no action to end after its deadline minus the margin (event window included), nor to start before now', () => {
    fc.assert(
      fc.property(arb, (s) => {
        const byId = new Map(s.notices.map((n) => [`${n.instanceId}/${n.eventId}`, n]));
        for (const w of plan(s).batches) {
          const start = Date.parse(w.startAt);
          const end = Date.parse(w.endBy);
          expect(start).toBeGreaterThanOrEqual(s.now);
          expect(start % 60_000).toBe(0); // slots are whole minutes
          // Verification timeout, plus the event window of rescheduled events (AWS acts anywhere in it).
          const window = Math.max(
            0,
            ...w.items
              .filter((i) => i.remedy === 'reschedule')
              .map((i) => {
                const n = byId.get(`${i.instanceId}/${i.eventId}`);
                return n?.notAfter === undefined ? 0 : n.notAfter - n.notBefore;
              }),
          );
          expect(end - start).toBe(s.config.verification.timeout + window);
          for (const item of w.items) {
            const n = byId.get(`${item.instanceId}/${item.eventId}`);
            if (!n) throw new Error(`planned item ${item.eventId} is not an input notice`);
            expect(item.notBefore).toBe(new Date(n.notBefore).toISOString());
            expect(end).toBeLessThanOrEqual(Date.parse(item.deadline) - s.config.deadlineMargin);
            if (item.remedy === 'reschedule') {
              // Room for delays between deciding and the call arriving at AWS (AWS-FACTS §10).
              expect(start).toBeGreaterThanOrEqual(s.now + RESCHEDULE_MIN_LEAD + RESCHEDULE_CALL_MARGIN);
              expect(Math.min(n.notBefore - 20 * 60_000, start - 75 * 60_000)).toBeGreaterThanOrEqual(s.now);
              expect(rescheduleCallAt(n.notBefore, start, s.now)).toBeLessThanOrEqual(start - 75 * 60_000);
              expect(start).toBeLessThanOrEqual(n.notBeforeDeadline ?? Number.NaN);
            } else {
              expect(end).toBeLessThanOrEqual(n.notBefore - s.config.deadlineMargin);
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('never has more of one group out of service at any instant than the limit of the whole group', () => {
    fc.assert(
      fc.property(arb, (s) => {
        const p = plan(s);
        // Sweep: +1 at startAt, -1 at endBy, per group, each instance once per batch.
        const deltas: Array<{ t: number; g: string; d: number; key: string; value: string }> = [];
        for (const w of p.batches) {
          const seen = new Set<string>();
          for (const item of w.items) {
            if (seen.has(item.instanceId)) continue;
            seen.add(item.instanceId);
            for (const [key, value] of Object.entries(item.groups)) {
              deltas.push({ t: Date.parse(w.startAt), g: `${key}=${value}`, d: 1, key, value });
              deltas.push({ t: Date.parse(w.endBy), g: `${key}=${value}`, d: -1, key, value });
            }
          }
        }
        deltas.sort((a, b) => a.t - b.t || a.d - b.d);
        const live = new Map<string, number>();
        for (const e of deltas) {
          const n = (live.get(e.g) ?? 0) + e.d;
          live.set(e.g, n);
          expect(n).toBeLessThanOrEqual(limitOf(s, e.key, e.value));
        }
      }),
      RUNS,
    );
  });

  it('plans only instances that carry the opt-in tag', () => {
    fc.assert(
      fc.property(arb, (s) => {
        const tagged = new Set(
          s.facts.filter((f) => f.tags['forestall:managed'] === 'true').map((f) => f.instanceId),
        );
        for (const w of plan(s).batches)
          for (const item of w.items) expect(tagged.has(item.instanceId)).toBe(true);
      }),
      RUNS,
    );
  });

  it('never gives instance-reboot a reboot, nor stop-start to an instance-store root or unwanted instance store', () => {
    fc.assert(
      fc.property(arb, (s) => {
        const facts = new Map(s.facts.map((f) => [f.instanceId, f]));
        for (const w of plan(s).batches) {
          for (const item of w.items) {
            if (item.code === 'instance-reboot') expect(item.remedy).not.toBe('reboot-migrate');
            const f = facts.get(item.instanceId);
            if (item.remedy === 'stop-start') {
              expect(f?.rootDevice).toBe('ebs');
              if (!s.config.instanceStoreDisposable) expect(f?.instanceStore).toBe('none');
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('gives the byte-identical plan for the same input, in any input order', () => {
    fc.assert(
      fc.property(arb, fc.integer(), (s, seed) => {
        const first = JSON.stringify(plan(s));
        expect(JSON.stringify(plan(s))).toBe(first);
        const shuffle = <T>(xs: readonly T[]) => {
          const out = [...xs];
          let r = seed;
          for (let i = out.length - 1; i > 0; i--) {
            r = (r * 1103515245 + 12345) | 0;
            const j = Math.abs(r) % (i + 1);
            [out[i], out[j]] = [out[j] as T, out[i] as T];
          }
          return out;
        };
        expect(JSON.stringify(planRollout(shuffle(s.notices), shuffle(s.facts), s.config, s.now))).toBe(
          first,
        );
      }),
      RUNS,
    );
  });

  it('puts every notice in exactly one of batches, skipped, infeasible', () => {
    fc.assert(
      fc.property(arb, (s) => {
        const p = plan(s);
        const out = [
          ...p.batches.flatMap((w) => w.items.map((i) => `${i.instanceId}/${i.eventId}`)),
          ...p.skipped.map((i) => `${i.instanceId}/${i.eventId}`),
          ...p.infeasible.map((i) => `${i.instanceId}/${i.eventId}`),
        ].sort();
        expect(out).toEqual(s.notices.map((n) => `${n.instanceId}/${n.eventId}`).sort());
      }),
      RUNS,
    );
  });

  it('runs batches one after another in config wave order, each starting in a window or saying why not', () => {
    fc.assert(
      fc.property(arb, (s) => {
        const p = plan(s);
        const calendar = new WindowCalendar(s.config.windows, s.now, s.now + 60 * 86_400_000);
        const order = s.config.waves.map((w) => w.name);
        let prevEnd = Number.NEGATIVE_INFINITY;
        let prevWave = 0;
        for (const w of p.batches) {
          const start = Date.parse(w.startAt);
          const waveIdx = order.indexOf(w.wave);
          expect(start).toBeGreaterThanOrEqual(prevEnd);
          expect(waveIdx).toBeGreaterThanOrEqual(prevWave);
          prevEnd = Date.parse(w.endBy) + (s.config.waves[waveIdx]?.bake ?? 0);
          prevWave = waveIdx;
          if (!calendar.contains(start)) {
            for (const item of w.items) expect(item.reason).toMatch(/^outside-window:/);
          }
          const maxParallel = s.config.waves[waveIdx]?.maxParallel;
          if (maxParallel?.kind === 'count') {
            expect(new Set(w.items.map((i) => i.instanceId)).size).toBeLessThanOrEqual(maxParallel.value);
          }
        }
      }),
      RUNS,
    );
  });
});
