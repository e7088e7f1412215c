/** Storage bounds: every stored record ≤ 350 KB and the Step Functions payload ≤ 8 KB, whatever the batch size. */
import { parseConfig } from '../../lambda/core/config';
import { advance } from '../../lambda/core/machine/advance';
import type { Observation } from '../../lambda/core/machine/commands';
import { startRollout } from '../../lambda/core/machine/init';
import { fromRecords, RECORD_LIMIT, stepReference, toRecords } from '../../lambda/core/machine/storage';
import type { Plan, PlanBatch } from '../../lambda/core/types';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const config = parseConfig({ dryRun: false });
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function bigPlan(size: number): Plan {
  const items = Array.from({ length: size }, (_, k) => {
    const id = `i-${k.toString(16).padStart(17, '0')}`;
    return {
      instanceId: id,
      eventId: `instance-event-${k.toString(16).padStart(17, '0')}`,
      code: k % 2 ? 'system-reboot' : 'instance-reboot',
      remedy: k % 2 ? ('reboot-migrate' as const) : ('reschedule' as const),
      deadline: '2026-12-08T00:00:00.000Z',
      notBefore: '2026-12-04T00:00:00.000Z',
      groups: { asg: `service-with-a-long-name-${k % 40}`, az: `us-east-1${'abc'[k % 3]}` },
    };
  });
  const batch: PlanBatch = {
    index: 0,
    wave: 'main',
    startAt: '2026-12-02T00:00:00.000Z',
    endBy: '2026-12-02T02:20:00.000Z',
    items,
  };
  return {
    rolloutId: 'fs-test',
    generatedAt: '2026-12-01T00:00:00.000Z',
    batches: [batch],
    skipped: [],
    infeasible: [],
  };
}

describe('storage shape for AWS', () => {
  it('splits a 5,000-instance batch into records of at most 350 KB, reassembled exactly', () => {
    const plan = bigPlan(5000);
    const limits = new Map(Array.from({ length: 40 }, (_, k) => [`asg=service-with-a-long-name-${k}`, 50]));
    const first = startRollout({ plan, config, region: 'us-east-1', limits, now: NOW });
    expect(first.state.reschedules).toHaveLength(2500);
    const loaded = advance(first.state, [], Date.parse('2026-12-02T00:00:00Z'), config);
    const id = loaded.commands.find((c) => c.kind === 'load-batch')?.id ?? '';
    // Preflight with the batch loaded: its describes (50 of each) are the write-ahead commands.
    const preflight = advance(
      loaded.state,
      [{ kind: 'batch', id, batch: plan.batches[0] as PlanBatch }],
      Date.parse('2026-12-02T00:00:00Z'),
      config,
    );
    expect(preflight.state.current?.items).toHaveLength(5000);
    // No instance described: every item is dropped, 5,000 events and records in one step.
    const answers = preflight.commands.flatMap((c): Observation[] =>
      c.kind === 'describe-status'
        ? [{ kind: 'statuses', id: c.id, statuses: [] }]
        : c.kind === 'describe-facts'
          ? [{ kind: 'facts', id: c.id, facts: [] }]
          : [],
    );
    const dropped = advance(preflight.state, answers, Date.parse('2026-12-02T00:00:01Z'), config);
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
