/** `forestall plan`: AWS CLI JSON in, plan out (table or --json). */
import { parseInstances, parseInstanceTypes } from '../lambda/core/facts';
import { parseInstanceStatuses } from '../lambda/core/notice';
import { planRollout } from '../lambda/core/planner';
import type { Plan } from '../lambda/core/types';
import { loadConfig, type Output, parseNow, readJson, UsageError } from './io';
import { table } from './table';

export interface PlanOptions {
  instances: string;
  statuses: string;
  config?: string;
  instanceTypes?: string;
  region?: string;
  now?: string;
  json?: boolean;
}

export function runPlan(opts: PlanOptions, io: Output, clock: () => number): void {
  const config = loadConfig(opts.config);
  const region = opts.region ?? config.regions[0] ?? 'us-east-1';
  const now = parseNow(opts.now, clock);
  let types: Map<string, boolean> | undefined;
  if (opts.instanceTypes !== undefined) {
    try {
      types = parseInstanceTypes(readJson(opts.instanceTypes, '--instance-types'));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--instance-types ${opts.instanceTypes}: ${(e as Error).message}`);
    }
  }
  const statuses = parseInstanceStatuses(readJson(opts.statuses, '--statuses'), region);
  const facts = parseInstances(readJson(opts.instances, '--instances'), region, types);
  if (statuses.statuses.length === 0 && statuses.rejected.length > 0) {
    throw new UsageError(`--statuses ${opts.statuses}: ${statuses.rejected[0]?.reason}`);
  }
  if (facts.facts.length === 0 && facts.rejected.length > 0) {
    throw new UsageError(`--instances ${opts.instances}: ${facts.rejected[0]?.reason}`);
  }
  for (const r of [...statuses.rejected, ...facts.rejected])
    io.err(`warning: ignored ${r.where}: ${r.reason}`);
  const plan = planRollout(statuses.notices, facts.facts, config, now);
  if (opts.json) io.out(JSON.stringify(plan, null, 2));
  else io.out(formatPlan(plan, config.dryRun));
  const unknownStore = plan.skipped.filter((s) =>
    s.reason.includes('(give describe-instance-types output'),
  ).length;
  if (unknownStore > 0 && types === undefined) {
    io.err(
      `hint: ${unknownStore} event(s) skipped because the instance store of their type is unknown; add --instance-types with the output of \`aws ec2 describe-instance-types --instance-types TYPE...\``,
    );
  }
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function formatPlan(plan: Plan, dryRun: boolean): string {
  const items = plan.batches.reduce((n, b) => n + b.items.length, 0);
  const cut = plan.batches.filter((b) => b.limitedBy !== undefined).length;
  const lines = [
    `Rollout ${plan.rolloutId} (now ${plan.generatedAt})${dryRun ? ' [dryRun: remedies are recorded, not applied]' : ''}`,
    `${count(plan.batches.length, 'batch', 'batches')}${cut > 0 ? ` (${cut} cut short by EC2 API throughput: LIMIT api)` : ''}, ${count(items, 'item', 'items')}; ${plan.skipped.length} skipped; ${plan.infeasible.length} infeasible`,
    '',
  ];
  if (plan.batches.length > 0) {
    // The LIMIT column only when some batch has one, so the usual table stays as narrow as before.
    const limit = (b: Plan['batches'][number]) => (cut > 0 ? [b.limitedBy ?? ''] : []);
    const rows = plan.batches.flatMap((b) =>
      b.items.map((it) => [
        String(b.index),
        b.wave,
        b.startAt,
        b.endBy,
        ...limit(b),
        it.instanceId,
        it.code,
        it.remedy,
        it.deadline,
        Object.entries(it.groups)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
        it.reason ?? '',
      ]),
    );
    lines.push(
      table(
        [
          'BATCH',
          'WAVE',
          'START (UTC)',
          'END BY (UTC)',
          ...(cut > 0 ? ['LIMIT'] : []),
          'INSTANCE',
          'CODE',
          'REMEDY',
          'DEADLINE',
          'GROUPS',
          'NOTE',
        ],
        rows,
      ),
      '',
    );
  }
  if (plan.infeasible.length > 0) {
    lines.push('Infeasible (AWS acts on its own schedule):');
    lines.push(
      table(
        ['INSTANCE', 'EVENT', 'CODE', 'DEADLINE', 'REASON'],
        plan.infeasible.map((s) => [s.instanceId, s.eventId, s.code, s.deadline, s.reason]),
      ),
      '',
    );
  }
  if (plan.skipped.length > 0) {
    lines.push('Skipped:');
    lines.push(
      table(
        ['INSTANCE', 'EVENT', 'CODE', 'REASON'],
        plan.skipped.map((s) => [s.instanceId, s.eventId, s.code, s.reason]),
      ),
    );
  }
  return lines.join('\n').trimEnd();
}
