/** `forestall plan`: AWS CLI JSON in, plan out (table or --json). */
import type { Config } from '../lambda/core/config';
import { parseInstances, regionOfAz } from '../lambda/core/facts';
import { parseInstanceStatuses } from '../lambda/core/notice';
import { planRollout } from '../lambda/core/planner';
import { formatRelative, isoSeconds } from '../lambda/core/time';
import type { InstanceFacts, Notice, Plan, PlanBatch } from '../lambda/core/types';
import { emptyWaves } from '../lambda/core/wave-coverage';
import { localSpan, windowZoneAt } from '../lambda/core/windows';
import { loadConfig, type Output, parseNow, readInstanceTypes, readJson, UsageError } from './io';
import { paragraph, table } from './table';

export interface PlanOptions {
  instances: string;
  statuses: string;
  config?: string;
  instanceTypes?: string;
  region?: string;
  now?: string;
  json?: boolean;
}

/** The exit code of `forestall plan` when some notices cannot be remedied before their deadline. */
export const EXIT_INFEASIBLE = 3;

/** Prints the plan; returns the exit code: 0, or EXIT_INFEASIBLE when some notices are infeasible. */
export function runPlan(opts: PlanOptions, io: Output, clock: () => number): number {
  const config = loadConfig(opts.config);
  const now = parseNow(opts.now, clock);
  const input = readPlanInput(opts, config, io);
  for (const w of emptyWaves(input.facts, config)) io.err(`warning: wave "${w.wave}" ${w.why}`);
  const plan = planRollout(input.notices, input.facts, config, now, input.unreadable);
  if (opts.json) io.out(JSON.stringify(plan, null, 2));
  else io.out(formatPlan(plan, config));
  const unknownStore = plan.skipped.filter((s) =>
    s.reason.includes('(give describe-instance-types output'),
  ).length;
  if (unknownStore > 0 && opts.instanceTypes === undefined) {
    io.err(
      `hint: ${unknownStore} event(s) skipped because the instance store of their type is unknown; add --instance-types with the output of \`aws ec2 describe-instance-types --instance-types TYPE...\``,
    );
  }
  if (plan.infeasible.length === 0) return 0;
  io.err(
    `forestall: ${plan.infeasible.length} notice(s) infeasible: AWS performs them on its own schedule (exit code ${EXIT_INFEASIBLE})`,
  );
  return EXIT_INFEASIBLE;
}

interface PlanInput {
  readonly notices: Notice[];
  readonly facts: InstanceFacts[];
  /** Instance id → where its malformed describe-instances record is, and what is wrong with it. */
  readonly unreadable: Map<string, string>;
}

/** Reads the files (statuses first), checks the Region, and warns of each record it could not read. */
function readPlanInput(opts: PlanOptions, config: Config, io: Output): PlanInput {
  const types = readInstanceTypes(opts.instanceTypes);
  const rawStatuses = readJson(opts.statuses, '--statuses');
  const parsedFacts = parseInstances(readJson(opts.instances, '--instances'), '', types);
  const region = regionOfInput(opts, config, parsedFacts.facts);
  const statuses = parseInstanceStatuses(rawStatuses, region);
  if (statuses.statuses.length === 0 && statuses.rejected.length > 0) {
    throw new UsageError(`--statuses ${opts.statuses}: ${statuses.rejected[0]?.reason}`);
  }
  if (parsedFacts.facts.length === 0 && parsedFacts.rejected.length > 0) {
    throw new UsageError(`--instances ${opts.instances}: ${parsedFacts.rejected[0]?.reason}`);
  }
  for (const r of [...statuses.rejected, ...parsedFacts.rejected])
    io.err(`warning: ignored ${r.where}${r.instanceId ? ` (${r.instanceId})` : ''}: ${r.reason}`);
  const unreadable = new Map<string, string>();
  for (const r of parsedFacts.rejected)
    if (r.instanceId !== undefined) unreadable.set(r.instanceId, `${r.where}: ${r.reason}`);
  return {
    notices: statuses.notices,
    facts: parsedFacts.facts.map((f) => ({ ...f, region })),
    unreadable,
  };
}

/**
 * The Region the files come from: --region, else the one the instances' Availability Zones name, else the
 * config's first. Refused when --region contradicts the zones, or when a --config does not list it.
 */
/**
 * The Region the files are from: `--region`, else the one the instances' zones name, else the config's
 * first; refused when it contradicts the zones, or a given config does not list it (plan and drill).
 */
export function regionOfInput(
  opts: { readonly region?: string; readonly instances: string; readonly config?: string },
  config: Config,
  facts: readonly InstanceFacts[],
): string {
  const zones = new Map<string, Set<string>>();
  for (const f of facts) {
    const r = regionOfAz(f.az);
    if (r !== undefined) zones.set(r, (zones.get(r) ?? new Set()).add(f.az));
  }
  const list = (r: string) => [...(zones.get(r) ?? [])].sort().join(', ');
  const found = [...zones.keys()].sort();
  if (found.length > 1)
    throw new UsageError(
      `--instances ${opts.instances} holds instances of ${found.length} Regions (${found.map((r) => `${r}: ${list(r)}`).join('; ')}): give one Region's describe-instances output`,
    );
  const data = found[0];
  if (opts.region !== undefined && data !== undefined && opts.region !== data)
    throw new UsageError(
      `--region ${opts.region} does not match --instances ${opts.instances}: its instances are in ${data} (${list(data)})`,
    );
  const region = opts.region ?? data ?? config.regions[0] ?? 'us-east-1';
  if (opts.config !== undefined && !config.regions.includes(region)) {
    const from =
      opts.region !== undefined ? '--region' : `the Region of the instances' zones ${list(region)}`;
    throw new UsageError(
      `Region ${region} (${from}) is not in the regions of config ${opts.config} (${config.regions.join(', ')}): add it there, or give the config of that Region`,
    );
  }
  return region;
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * The plan as text within 120 columns: a line per batch (its slot in UTC, how far ahead, and in its window's
 * time zone), its items under it, one column per `groupBy` key; an item planned unusually has a NOTE number,
 * its reason printed once below the table. Skipped and infeasible notices follow, their reasons wrapped.
 */
export function formatPlan(plan: Plan, config: Pick<Config, 'dryRun' | 'groupBy' | 'windows'>): string {
  const now = Date.parse(plan.generatedAt);
  const items = plan.batches.reduce((n, b) => n + b.items.length, 0);
  const cut = plan.batches.filter((b) => b.limitedBy !== undefined).length;
  const lines = [
    `Rollout ${plan.rolloutId}, planned at ${isoSeconds(now)}${config.dryRun ? ' [dryRun: remedies are recorded, not applied]' : ''}`,
    `${count(plan.batches.length, 'batch', 'batches')}${cut > 0 ? ` (${cut} cut short by EC2 API throughput)` : ''}, ${count(items, 'item', 'items')}; ${plan.skipped.length} skipped; ${plan.infeasible.length} infeasible`,
    '',
  ];
  if (plan.batches.length > 0) lines.push(formatBatches(plan, config, now), '');
  if (plan.infeasible.length > 0) {
    lines.push(`Infeasible (${plan.infeasible.length}; AWS acts on its own schedule):`);
    const rows = plan.infeasible.map((s) => [
      s.instanceId,
      s.code,
      isoSeconds(Date.parse(s.deadline)),
      s.reason,
    ]);
    lines.push(table(['INSTANCE', 'CODE', 'DEADLINE (UTC)', 'REASON'], rows, { wrapLast: true }), '');
  }
  if (plan.skipped.length > 0) {
    lines.push(`Skipped (${plan.skipped.length}):`);
    const rows = plan.skipped.map((s) => [s.instanceId, s.code, s.reason]);
    lines.push(table(['INSTANCE', 'CODE', 'REASON'], rows, { wrapLast: true }));
  }
  return lines.join('\n').trimEnd();
}

function formatBatches(plan: Plan, config: Pick<Config, 'groupBy' | 'windows'>, now: number): string {
  const notes = new Map<string, string>(); // reason → its number
  for (const b of plan.batches)
    for (const it of b.items)
      if (it.reason !== undefined && !notes.has(it.reason)) notes.set(it.reason, String(notes.size + 1));
  const rows = plan.batches.flatMap((b) => [
    batchHeading(b, config, now),
    ...b.items.map((it) => [
      it.instanceId,
      it.code,
      it.remedy,
      isoSeconds(Date.parse(it.deadline)),
      ...config.groupBy.map((k) => it.groups[k] ?? '-'),
      ...(notes.size > 0 ? [it.reason === undefined ? '' : (notes.get(it.reason) ?? '')] : []),
    ]),
  ]);
  const header = [
    'INSTANCE',
    'CODE',
    'REMEDY',
    'DEADLINE (UTC)',
    ...config.groupBy.map((k) => (k.startsWith('tag:') ? k : k.toUpperCase())),
    ...(notes.size > 0 ? ['NOTE'] : []),
  ];
  const text = table(header, rows, { shrink: config.groupBy.map((_k, i) => 4 + i) });
  if (notes.size === 0) return text;
  return [text, 'Notes:', ...[...notes].map(([reason, n]) => paragraph(reason, `  ${n}  `, '     '))].join(
    '\n',
  );
}

/** `batch 0 canary, 2 instances: START to END (in 2d1h; Wed 02:00-02:20 Europe/Berlin)`, wrapped. */
function batchHeading(b: PlanBatch, config: Pick<Config, 'windows'>, now: number): string {
  const start = Date.parse(b.startAt);
  const end = Date.parse(b.endBy);
  const zone = windowZoneAt(config.windows, start);
  const when = `${formatRelative(start, now)}${zone ? `; ${localSpan(start, end, zone)} ${zone}` : ''}`;
  const instances = count(new Set(b.items.map((i) => i.instanceId)).size, 'instance', 'instances');
  const api = b.limitedBy === 'api' ? '; cut short by EC2 API throughput' : '';
  return paragraph(
    `batch ${b.index} ${b.wave}, ${instances}: ${isoSeconds(start)} to ${isoSeconds(end)} (${when})${api}`,
  );
}
