/**
 * npm run bench: how long planRollout takes for large fleets (goal: 100,000 notices in < 1 s on one core),
 * and how long the AWS-shape parsers take for the same fleet. Prints a table and writes JSON to
 * bench/results/plan.json. Usage: npm run bench [-- --notices 100000 --runs 5]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConfigInput, parseConfig } from '../lambda/core/config';
import { parseInstances } from '../lambda/core/facts';
import { parseInstanceStatuses } from '../lambda/core/notice';
import { planRollout } from '../lambda/core/planner';
import { SimEc2 } from '../sim/ec2';
import { Rng } from '../sim/rng';
import { buildFleet, parseScenario } from '../sim/scenario';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

const notices = arg('notices', 100_000);
const runs = arg('runs', 5);
const NOW = Date.parse('2026-12-01T00:00:00Z');

function fleetOf(n: number, asgs: number) {
  // Every instance gets exactly one event: n notices over asgs ASGs in 3 AZs, AWS's usual few mass slots.
  const scenario = parseScenario({
    name: 'bench',
    seed: 7,
    start: new Date(NOW).toISOString(),
    azs: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    groups: Array.from({ length: asgs }, (_, i) => ({
      asg: `asg-${i}`,
      count: Math.ceil(n / asgs),
      canary: 1,
      tags: { team: `team-${i % 17}` },
    })),
    events: {
      affected: 1,
      mix: {
        'system-reboot': 40,
        'instance-reboot': 30,
        'instance-stop': 10,
        'instance-retirement': 10,
        'system-maintenance': 10,
      },
      slots: ['P2D', 'P3D', 'P4DT12H', 'P6D', 'P9D'],
    },
    behaviour: { throttling: false },
  });
  const fleet = buildFleet(scenario);
  const world = new SimEc2(
    fleet.start,
    fleet.instances.slice(0, n),
    fleet.events.filter((e) => !e.description?.startsWith('[Completed]')).slice(0, n),
    fleet.behaviour,
    new Rng(1),
  );
  // One unpaginated page each: the shape `aws ec2 describe-instance-status --include-all-instances` prints.
  return {
    statusJson: world.describeInstanceStatus({ IncludeAllInstances: true }),
    instancesJson: world.describeInstances({}),
  };
}

const configs: Record<string, ConfigInput> = {
  'no windows, ASG+AZ limits': { dryRun: false, instanceStoreDisposable: true },
  'windows (Berlin, 3 days/week), canary + main': {
    dryRun: false,
    instanceStoreDisposable: true,
    windows: [{ days: ['TUE', 'WED', 'THU'], start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' }],
    waves: [
      { name: 'canary', match: { tags: { 'forestall:wave': 'canary' } }, maxParallel: 200, bake: 'PT30M' },
      { name: 'main', maxParallel: '10%', bake: 'PT15M', failureBudget: '5%' },
    ],
  },
  'groupBy asg+az+tag:team 10%, daily windows (New York)': {
    dryRun: false,
    instanceStoreDisposable: true,
    groupBy: ['asg', 'az', 'tag:team'],
    maxUnavailablePerGroup: '10%',
    windows: [
      {
        days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'],
        start: '01:00',
        end: '06:00',
        timeZone: 'America/New_York',
      },
    ],
    waves: [{ name: 'all', maxParallel: '10%', bake: 'PT5M' }],
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const rows: Array<Record<string, string | number>> = [];
process.stderr.write(`building a fleet of ${notices} instances with one event each...\n`);
const { statusJson, instancesJson } = fleetOf(notices, 200);

const parseTimes: number[] = [];
let parsed = {
  notices: parseInstanceStatuses(statusJson, 'us-east-1').notices,
  facts: parseInstances(instancesJson, 'us-east-1').facts,
};
for (let r = 0; r < runs; r++) {
  const t = performance.now();
  parsed = {
    notices: parseInstanceStatuses(statusJson, 'us-east-1').notices,
    facts: parseInstances(instancesJson, 'us-east-1').facts,
  };
  parseTimes.push(performance.now() - t);
}
rows.push({
  case: 'parse describe-instance-status + describe-instances',
  notices: parsed.notices.length,
  medianMs: Math.round(median(parseTimes)),
  maxMs: Math.round(Math.max(...parseTimes)),
  batches: '-',
  apiLimited: '-',
  planned: '-',
  infeasible: '-',
});

for (const [name, input] of Object.entries(configs)) {
  const config = parseConfig(input);
  planRollout(parsed.notices, parsed.facts, config, NOW); // warm-up (JIT)
  const times: number[] = [];
  let plan = planRollout(parsed.notices, parsed.facts, config, NOW);
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    plan = planRollout(parsed.notices, parsed.facts, config, NOW);
    times.push(performance.now() - t);
  }
  const planned = plan.batches.reduce((n, w) => n + w.items.length, 0);
  rows.push({
    case: `planRollout: ${name}`,
    notices: parsed.notices.length,
    medianMs: Math.round(median(times)),
    maxMs: Math.round(Math.max(...times)),
    batches: plan.batches.length,
    // Batches that EC2's API throughput, not maxParallel nor group limits, cut short.
    apiLimited: plan.batches.filter((b) => b.limitedBy === 'api').length,
    planned,
    infeasible: plan.infeasible.length,
  });
  process.stderr.write(
    `  ${name}: median ${median(times).toFixed(0)} ms (${planned} planned, ${plan.skipped.length} skipped, ${plan.infeasible.length} infeasible)\n`,
  );
}

const header = ['case', 'notices', 'medianMs', 'maxMs', 'batches', 'apiLimited', 'planned', 'infeasible'];
const widths = header.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
process.stdout.write(
  `${[line(header), ...rows.map((r) => line(header.map((h) => String(r[h]))))].join('\n')}\n`,
);
const out = join(__dirname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'plan.json'), `${JSON.stringify({ node: process.version, runs, rows }, null, 2)}\n`);
process.stderr.write(`wrote ${join(out, 'plan.json')}\n`);
