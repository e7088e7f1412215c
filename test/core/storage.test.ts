/** Storage bounds: every stored record ≤ 350 KB and the Step Functions payload ≤ 8 KB, whatever the batch size. */
import { parseConfig } from '../../lambda/core/config';
import { advance } from '../../lambda/core/machine/advance';
import { startRollout } from '../../lambda/core/machine/init';
import { cloneState } from '../../lambda/core/machine/state';
import { fromRecords, RECORD_LIMIT, stepReference, toRecords } from '../../lambda/core/machine/storage';
import { bigPlan, bigSteps, BIG_NOW as NOW } from '../contract/big-rollout';

const config = parseConfig({ dryRun: false });
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('storage shape for AWS', () => {
  it('splits a 5,000-instance batch into records of at most 350 KB, reassembled exactly', () => {
    const [first, preflight, dropped] = bigSteps(5000, config);
    expect(first.state.reschedules).toHaveLength(2500);
    expect(preflight.state.current?.items).toHaveLength(5000);
    expect(dropped.commands.length).toBeGreaterThan(10_000);
    for (const step of [first, preflight, dropped]) {
      const records = toRecords(step);
      expect(records.length).toBeGreaterThan(1);
      for (const r of records) expect(bytes(r)).toBeLessThanOrEqual(RECORD_LIMIT);
      const back = fromRecords(records);
      expect(back.state).toEqual(step.state);
      expect(back.commands).toEqual(step.commands);
      expect(bytes(JSON.stringify(stepReference(step)))).toBeLessThanOrEqual(8 * 1024);
    }
  });

  it('halves a chunk whose entries grow past the size the first ones suggested, and keeps their order', () => {
    const first = startRollout({
      plan: bigPlan(10),
      config,
      region: 'us-east-1',
      limits: new Map(),
      now: NOW,
    });
    // One tiny entry suggests ~276,000 per chunk; then 40 of 100 KB: 2 or 3 per record.
    const commands = [10, ...Array.from({ length: 40 }, () => 100 * 1024)].map((size, k) => ({
      kind: 'record' as const,
      id: `c-${k}`,
      entry: { rolloutId: 'fs-big', at: NOW, kind: 'not-restarted', detail: { blob: 'x'.repeat(size) } },
    }));
    const records = toRecords({ state: first.state, commands });
    const chunks = records.filter((r) => r.startsWith('{"kind":"commands"'));
    expect(chunks.length).toBeGreaterThanOrEqual(14);
    for (const r of records) expect(bytes(r)).toBeLessThanOrEqual(RECORD_LIMIT);
    expect(fromRecords(records).commands).toEqual(commands);
  });

  it('refuses a stored step with a missing chunk instead of guessing', () => {
    const first = startRollout({
      plan: bigPlan(3000),
      config,
      region: 'us-east-1',
      limits: new Map(),
      now: NOW,
    });
    const records = toRecords(first);
    expect(() => fromRecords(records.slice(0, -1))).toThrow(/chunk\(s\), expected/);
    expect(() =>
      fromRecords([
        JSON.stringify({
          kind: 'head',
          state: { version: 99 },
          chunks: { items: 0, reschedules: 0, commands: 0 },
        }),
      ]),
    ).toThrow(/stored rollout state is invalid: version/);
  });
});

describe('state copies', () => {
  it('cloneState copies deeply, as structuredClone did, and keeps a `__proto__` record key a key', () => {
    const [, preflight] = bigSteps(50, config);
    const state = { ...preflight.state, down: JSON.parse('{"__proto__":["asg=x"],"i-1":["asg=y"]}') };
    const copy = cloneState(state);
    expect(copy).toEqual(structuredClone(state));
    expect(Object.getPrototypeOf(copy.down)).toBe(Object.prototype);
    expect(Object.keys(copy.down)).toEqual(['__proto__', 'i-1']);
    const item = copy.current?.items[0];
    if (!item) throw new Error('no item');
    item.eventIds.push('changed');
    copy.limits.x = 1;
    expect(state.current?.items[0]?.eventIds).toHaveLength(1);
    expect(state.limits.x).toBeUndefined();
  });

  it('advance leaves the state it was given as it was', () => {
    const [, preflight] = bigSteps(50, config);
    const before = JSON.stringify(preflight.state);
    const next = advance(preflight.state, [], Date.parse('2026-12-02T00:00:01Z'), config);
    expect(next.state.step).toBe(preflight.state.step + 1);
    expect(JSON.stringify(preflight.state)).toBe(before);
  });
});
