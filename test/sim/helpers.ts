/** Small simulated fleets and configs for rollout tests. */
import { type Config, type ConfigInput, parseConfig } from '../../lambda/core/config';
import { planRollout } from '../../lambda/core/planner';
import { type SimBehaviour, SimEc2 } from '../../sim/ec2';
import { simPorts } from '../../sim/ports';
import { Rng } from '../../sim/rng';
import { buildFleet, parseScenario, type Scenario } from '../../sim/scenario';

export function scenario(over: Partial<Record<keyof Scenario, unknown>>): Scenario {
  return parseScenario({
    start: '2026-12-01T00:00:00Z',
    azs: ['us-east-1a', 'us-east-1b'],
    groups: [{ asg: 'web', count: 40 }],
    events: { affected: 1, mix: { 'system-reboot': 1 }, slots: ['P3D'] },
    behaviour: { rebootMigrationSuccess: 1, throttling: false },
    ...over,
  });
}

export const config = (over: ConfigInput = {}) =>
  parseConfig({
    dryRun: false,
    maxUnavailablePerGroup: '50%',
    waves: [{ name: 'all', maxParallel: '50%', bake: 'PT0S', failureBudget: 0 }],
    ...over,
  });

/** A simulated Region for a scenario, its ports, and the plan the real planner makes for it now. */
export async function planned(s: Scenario, cfg: Config, behaviour: Partial<SimBehaviour> = {}) {
  const fleet = buildFleet(s);
  const world = new SimEc2(
    fleet.start,
    fleet.instances,
    fleet.events,
    { ...fleet.behaviour, ...behaviour },
    new Rng(1),
  );
  const ports = simPorts(world, 'us-east-1', new Rng(2));
  const ids = fleet.instances.map((i) => i.instanceId);
  const notices = (await ports.fleet.listScheduled()).flatMap((x) => x.notices);
  const plan = planRollout(notices, await ports.fleet.describeFacts(), cfg, world.now);
  return { fleet, world, ports, ids, plan };
}
