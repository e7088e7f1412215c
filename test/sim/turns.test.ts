/**
 * The Step Functions driver (lambda/core/turn.ts, played by sim/sfn-driver.ts) runs the same rollout as the
 * local loop, and keeps every execution's history bounded whatever the rollout's size (DESIGN.md "Bounded
 * history"): the turns each execution took, priced with the per-state history events the end-to-end suite
 * checks on the synthesized state machine.
 */
import { historyEvents, MAX_TURNS } from '../../lambda/core/sfn-moves';
import { massRollout } from '../../sim/mass-rollout';
import { simulate } from '../../sim/simulate';
import { config, scenario } from './helpers';

/** Standard executions fail at 25,000 events; the bar is 6,000. */
const HISTORY_BAR = 6_000;

describe('the Step Functions driver on the simulator', () => {
  it('gives the same outcome and events as the local loop', async () => {
    const s = scenario({
      groups: [
        { name: 'web', count: 30 },
        { name: 'api', count: 20 },
      ],
      events: { affected: 0.6, mix: { 'system-reboot': 1, 'instance-stop': 1 }, slots: ['P3D'], history: 0 },
    });
    const cfg = config({ leadTime: 'P2D' });
    const local = await simulate(s, cfg);
    const turns = await simulate(s, cfg, { driver: 'turns' });
    expect(turns.rollout.items).toEqual(local.rollout.items);
    expect(turns.rollout.halted).toBe(local.rollout.halted);
    expect(turns.events.map((e) => e.detailType)).toEqual(local.events.map((e) => e.detailType));
    expect(turns.outcome.clearedByForestall).toBe(local.outcome.clearedByForestall);
    expect(turns.outcome.clearedByForestall).toBeGreaterThan(0);
    // One execution per batch at least; each hands off to the next by name.
    expect(turns.executions?.length).toBeGreaterThanOrEqual(turns.plan.batches.length);
    expect(new Set(turns.executions?.map((e) => e.name)).size).toBe(turns.executions?.length);
  }, 60_000);

  it('bounds every execution whatever the rollout size: a 100,000-notice rollout stays under 6,000 events', () => {
    // An execution covers one batch and hands off after MAX_TURNS turns, so its history does not grow with
    // the rollout: the worst execution of any rollout, 100,000 notices included, is MAX_TURNS turns that
    // each end in a wait (or an approval wait), every Step attempt failing 5 times before it succeeds.
    const worstTurn = { planned: true, handedOff: true, turns: MAX_TURNS, waits: MAX_TURNS, approvals: 0 };
    const worst = historyEvents({ ...worstTurn, retries: 5 * MAX_TURNS });
    const approvals = historyEvents({ ...worstTurn, waits: 0, approvals: MAX_TURNS, retries: 5 * MAX_TURNS });
    expect(Math.max(worst, approvals)).toBeLessThan(HISTORY_BAR);
    // Without failures: the per-turn price the end-to-end suite measured (Step 5 + Choice 2 + Wait 2).
    expect(historyEvents({ ...worstTurn, retries: 0 })).toBe(2 + 2 + 5 + MAX_TURNS * 9 + 6 + 2);
  });

  it('runs a 4,000-notice rollout in short executions: one batch each, never more than MAX_TURNS turns', async () => {
    const { scenario: s, config: cfg } = massRollout(4_000);
    const run = await simulate(s, cfg, { driver: 'turns' });
    expect(run.outcome.notices).toBe(4_000);
    expect(run.outcome.halted).toBe(false);
    expect(run.outcome.clearedByForestall).toBeGreaterThan(3_800);
    const executions = run.executions ?? [];
    const shapes = executions.map((e, i) => ({
      ...e,
      planned: i === 0,
      handedOff: i < executions.length - 1,
    }));
    const events = shapes.map(historyEvents);
    process.stdout.write(
      `4k notices by turns: ${run.plan.batches.length} batches, ${executions.length} executions, max ${Math.max(...executions.map((e) => e.turns))} turns and ${Math.max(...events)} history events in one execution\n`,
    );
    expect(new Set(executions.map((e) => e.batch)).size).toBe(run.plan.batches.length);
    expect(executions.every((e) => e.turns <= MAX_TURNS)).toBe(true);
    expect(Math.max(...events)).toBeLessThan(HISTORY_BAR);
  }, 300_000);
});
