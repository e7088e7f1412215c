/**
 * Crash and resume (issue acceptance): random fleets and configs; the driver "crashes" before random
 * commands of random steps (everything in memory is dropped; the run resumes from the ledger alone) and
 * must reach the same outcome, the same ledger and the same EC2 calls as an uninterrupted run: no event is
 * acted on twice. Throttling is off here so that replayed reads cannot shift the simulated clock.
 */
import fc from 'fast-check';
import type { Config } from '../../lambda/core/config';
import {
  type LocalRolloutOptions,
  resumeLocalRollout,
  runLocalRollout,
  SimulatedCrash,
} from '../../lambda/core/local-driver';
import { groupLimits, planRollout } from '../../lambda/core/planner';
import { SimEc2 } from '../../sim/ec2';
import { simPorts } from '../../sim/ports';
import { Rng } from '../../sim/rng';
import { buildFleet, type Scenario } from '../../sim/scenario';
import { configArb } from '../core/arbitraries';
import { scenarioArb } from './arbitraries';

const MUTATING = ['RebootInstances', 'StopInstances', 'StartInstances', 'ModifyInstanceEventStartTime'];

interface CrashPlan {
  readonly seed: number;
  /** Chance of a crash before any one command. */
  readonly rate: number;
  readonly max: number;
}

async function run(scenario: Scenario, config: Config, crashes?: CrashPlan) {
  const fleet = buildFleet(scenario);
  const behaviour = { ...fleet.behaviour, throttling: false };
  const world = new SimEc2(fleet.start, fleet.instances, fleet.events, behaviour, new Rng(scenario.seed + 1));
  const ports = simPorts(world, scenario.region, new Rng(scenario.seed + 2));
  const statuses = await ports.fleet.listScheduled();
  const facts = await ports.fleet.describeFacts();
  const plan = planRollout(
    statuses.flatMap((s) => s.notices),
    facts,
    config,
    world.now,
  );
  const dice = new Rng(crashes?.seed ?? 0);
  let crashed = 0;
  const opts: LocalRolloutOptions = {
    region: scenario.region,
    limits: groupLimits(facts, config),
    crashAt: () => crashes !== undefined && crashed < crashes.max && dice.chance(crashes.rate),
  };
  let result: Awaited<ReturnType<typeof runLocalRollout>> | undefined;
  try {
    result = await runLocalRollout(plan, config, ports, opts);
  } catch (e) {
    if (!(e instanceof SimulatedCrash)) throw e;
    crashed++;
  }
  while (!result) {
    try {
      // A new run knows only the rollout id and what the ports (the world and the ledger) hold.
      result = await resumeLocalRollout(plan.rolloutId, config, ports, opts);
    } catch (e) {
      if (!(e instanceof SimulatedCrash)) throw e;
      crashed++;
    }
  }
  const mutating = Object.fromEntries(MUTATING.map((a) => [a, world.apiCalls[a] ?? 0]));
  const ledger = ports.ledger.entries.map((e) => JSON.stringify(e)).sort();
  return {
    result,
    mutating,
    ledger,
    crashed,
    resolutions: world.eventResolutions(),
    events: ports.reporter.ids,
  };
}

describe('crash and resume (fast-check, 200 random fleets and configs)', () => {
  it('reaches the same outcome, ledger and EC2 calls as an uninterrupted run', async () => {
    const crashesArb = fc.record({
      seed: fc.nat(1_000_000),
      rate: fc.integer({ min: 2, max: 30 }).map((p) => p / 100),
      max: fc.integer({ min: 1, max: 12 }),
    });
    let runsThatCrashed = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, configArb, crashesArb, async (scenario, cfg, crashPlan) => {
        const config = { ...cfg, dryRun: false };
        const clean = await run(scenario, config);
        const crashed = await run(scenario, config, crashPlan);
        if (crashed.crashed > 0) runsThatCrashed++;
        expect(crashed.result).toEqual(clean.result);
        expect(crashed.ledger).toEqual(clean.ledger);
        expect(crashed.mutating).toEqual(clean.mutating);
        expect(crashed.resolutions).toEqual(clean.resolutions);
        expect(crashed.events).toEqual(clean.events);
      }),
      { numRuns: 200 },
    );
    // The property is not vacuous: most runs really died and resumed at least once.
    expect(runsThatCrashed).toBeGreaterThan(100);
  });
});
