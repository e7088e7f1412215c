/**
 * Carry-over (machine/carry.ts): an item preflight finds blocked only by a full group waits for the next
 * batch of its wave, then for carry-over batches after the planned ones, instead of being left to AWS.
 */
import { runLocalRollout } from '../../lambda/core/local-driver';
import { loadCarryOver, withCarried } from '../../lambda/core/machine/carry';
import { initialState } from '../../lambda/core/machine/init';
import type { ItemState } from '../../lambda/core/machine/state';
import { Step } from '../../lambda/core/machine/step';
import { batchApiCaps } from '../../lambda/core/planner';
import type { FleetPort } from '../../lambda/core/ports';
import { config, planned, scenario } from './helpers';

const region = 'us-east-1';
// Planned with 2 per AZ and batch; run with no limits known, so preflight admits 1 per AZ (the strictest).
const cfg = config({
  maxUnavailablePerGroup: 2,
  waves: [{ name: 'all', maxParallel: 4, bake: 'PT0S', failureBudget: 5 }],
});

describe('carry-over of items blocked by a full group', () => {
  it('runs the items its batch had no room for in a carry-over batch after the planned ones', async () => {
    const { ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 4 }] }), cfg);
    expect(plan.batches.map((b) => b.items.length)).toEqual([4]);
    const result = await runLocalRollout(plan, cfg, ports, { region, limits: new Map() });
    expect(result.items.map((i) => i.outcome)).toEqual(['verified', 'verified', 'verified', 'verified']);
    expect(result.items.filter((i) => i.batchIndex === 1)).toHaveLength(2);
    expect(result.batches.map((b) => [b.index, b.verified, b.dropped])).toEqual([
      [0, 2, 0],
      [1, 2, 0],
    ]);
    const history = await ports.ledger.history(plan.rolloutId);
    const carried = history.filter((e) => e.kind === 'carried');
    expect(carried).toHaveLength(2);
    expect(String(carried[0]?.detail?.reason)).toMatch(/^group-capacity: az=us-east-1\w already has 1 /);
  });

  it('puts carried items first into the next batch of their wave', async () => {
    const { ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 8 }] }), cfg);
    expect(plan.batches.map((b) => b.items.length)).toEqual([4, 4]);
    const result = await runLocalRollout(plan, cfg, ports, { region, limits: new Map() });
    expect(result.items.every((i) => i.outcome === 'verified')).toBe(true);
    const history = await ports.ledger.history(plan.rolloutId);
    const fromFirst = history
      .filter((e) => e.kind === 'carried' && e.batchIndex === 0)
      .map((e) => e.instanceId);
    expect(fromFirst).toHaveLength(2);
    const batchOf = new Map(result.items.map((i) => [i.instanceId, i.batchIndex]));
    expect(fromFirst.map((id) => batchOf.get(id ?? ''))).toEqual([1, 1]);
    // Two a batch: the six left after batch 0 take batches 1, 2 (carry-over) and 3.
    expect(result.batches.map((b) => b.verified)).toEqual([2, 2, 2, 2]);
  });

  it('drops the carried items with the halt reason when the rollout halts', async () => {
    const { ports, plan } = await planned(scenario({ groups: [{ name: 'web', count: 8 }] }), cfg);
    let calls = 0;
    const fleet: FleetPort = Object.create(ports.fleet);
    fleet.reboot = async (ids) => {
      if (++calls === 2) await ports.ledger.requestHalt(plan.rolloutId, 'change freeze');
      return ports.fleet.reboot(ids);
    };
    const result = await runLocalRollout(plan, cfg, { ...ports, fleet }, { region, limits: new Map() });
    expect(result.halted).toBe(true);
    // Batch 1 ran its 2 carried items; its 4 planned ones are carried on, then dropped by the halt.
    const dropped = result.items.filter((i) => i.outcome === 'dropped');
    expect(dropped).toHaveLength(4);
    expect(dropped.every((i) => i.reason === 'halted: halted by an operator: change freeze')).toBe(true);
    expect(result.items.filter((i) => i.outcome === 'verified')).toHaveLength(4);
  });
});

describe('withCarried', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  const item = (k: number): ItemState => ({
    instanceId: `i-${k}`,
    eventIds: [`e-${k}`],
    codes: ['instance-stop'],
    remedy: 'stop-start',
    tried: [],
    deadline: now + 86_400_000,
    notBefore: now + 86_400_000,
    groupIds: [],
    phase: 'pending',
  });
  const stepWith = (carried: number) => {
    const plan = {
      rolloutId: 'r',
      generatedAt: new Date(now).toISOString(),
      batches: [],
      skipped: [],
      infeasible: [],
    };
    const state = initialState({ plan, config: cfg, region, limits: new Map(), now });
    state.carried = Array.from({ length: carried }, (_, k) => ({
      wave: k % 2 ? 'all' : 'other',
      from: 0,
      item: item(k),
    }));
    return new Step(state, cfg, now, [], []);
  };
  const cap = batchApiCaps(cfg.verification.timeout).stopStart;

  it('adds the carried stop-starts of the wave only as far as the batch API cap allows', () => {
    const step = stepWith(2 * (cap + 1));
    const planned = [item(-1), item(-2)];
    const items = withCarried(step, 'all', planned);
    expect(items).toHaveLength(cap);
    expect(items.slice(-2)).toEqual(planned);
    expect(items.slice(0, 2).map((i) => i.instanceId)).toEqual(['i-1', 'i-3']);
    // Those of the wave that did not fit, and every one of the other wave, stay carried.
    expect(step.s.carried?.filter((c) => c.wave === 'all')).toHaveLength(3);
    expect(step.s.carried?.filter((c) => c.wave === 'other')).toHaveLength(cap + 1);
  });

  it('loads a carry-over batch for the earliest wave in config order (a wave the config lost comes last)', () => {
    const step = stepWith(3);
    expect(step.s.carried?.[0]?.wave).toBe('other');
    expect(loadCarryOver(step)).toBe(true);
    expect(step.s.current?.wave).toBe('all');
    expect(step.s.current?.items.map((i) => i.instanceId)).toEqual(['i-1']);
    expect(step.s.carried?.map((c) => c.wave)).toEqual(['other', 'other']);
  });
});
