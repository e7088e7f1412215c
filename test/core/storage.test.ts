/** Storage bounds: every stored record ≤ 350 KB and the Step Functions payload ≤ 8 KB, whatever the batch size. */
import { parseConfig } from '../../lambda/core/config';
import { startRollout } from '../../lambda/core/machine/init';
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
