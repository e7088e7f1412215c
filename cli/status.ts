/** `forestall status`: per Region, the open notices by deadline and the rollout as the ledger last stored it. */
import { type DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { LedgerApprovals } from '../lambda/aws/approvals';
import { DynamoNoticeLedger } from '../lambda/aws/notice-ledger';
import { DynamoRegionRollouts, type RegionRolloutStatus } from '../lambda/aws/region-rollouts';
import { DynamoRolloutLedger } from '../lambda/aws/rollout-ledger';
import type { RolloutState } from '../lambda/core/machine/state';
import { fromRecords } from '../lambda/core/machine/storage';
import { formatRelative } from '../lambda/core/time';
import type { OperatorSession } from './aws';
import { loadConfig, type Output } from './io';
import { table } from './table';

export interface StatusOptions {
  region?: string;
  config?: string;
  table?: string;
  json?: boolean;
}

export interface NoticeStatus {
  readonly instanceId: string;
  readonly eventId: string;
  readonly code: string;
  /** NotBeforeDeadline when AWS gave one (the latest a reschedule may move it to), else NotBefore. */
  readonly deadline: string;
  readonly in: string;
  readonly description: string;
}

export interface RolloutStatus {
  readonly rolloutId: string;
  /** The Region record: `running`, or `halted` and holding the Region until `forestall release`. */
  readonly region: RegionRolloutStatus;
  readonly claimedAt: string;
  readonly reason?: string;
  /** The machine's stored state (absent while the rollout's first step is not yet stored). */
  readonly state?: {
    readonly status: 'running' | 'halted' | 'completed';
    readonly step: number;
    readonly batchCount: number;
    readonly batchesDone: number;
    /** Instances set aside for a later batch of their wave because a group was full (machine/carry.ts). */
    readonly carried: number;
    readonly current?: { index: number; wave: string; stage: string; items: number };
    /** The next batch to start, and when its slot opens. */
    readonly next?: { index: number; startAt: string; in: string };
    readonly haltReason?: string;
  };
  /** The operator's halt flag, once set (read by the rollout at its next step). */
  readonly haltRequested?: string;
  readonly pendingApprovals: { batch: number; wave: string; requestedAt: string; waiting: boolean }[];
}

export interface RegionStatus {
  readonly region: string;
  readonly notices: NoticeStatus[];
  readonly rollout?: RolloutStatus;
}

/** The rollout's state as last stored, or undefined when the ledger has no such rollout. */
export async function storedState(
  ledger: DynamoRolloutLedger,
  rolloutId: string,
): Promise<RolloutState | undefined> {
  const records = await ledger.loadStep(rolloutId);
  return records === undefined ? undefined : fromRecords(records).state;
}

const minute = (t: number) => `${new Date(t).toISOString().slice(0, 16)}Z`;

export async function runStatus(
  opts: StatusOptions,
  io: Output,
  clock: () => number,
  session: OperatorSession,
) {
  const name = await session.table(opts.table);
  const { doc } = session.aws;
  const now = clock();
  const regions = opts.region
    ? [opts.region]
    : opts.config
      ? loadConfig(opts.config).regions
      : await regionsInTable(doc, name);
  const out: RegionStatus[] = [];
  for (const region of regions) out.push(await regionStatus(doc, name, region, now));
  if (opts.json)
    io.out(JSON.stringify({ table: name, now: new Date(now).toISOString(), regions: out }, null, 2));
  else
    io.out(regions.length === 0 ? `No Region has notices or a rollout in table ${name}.` : formatStatus(out));
}

/** Regions with notices or a rollout record: a Scan of the keys (the table has no index by Region). */
async function regionsInTable(doc: DynamoDBDocumentClient, name: string): Promise<string[]> {
  const found = new Set<string>();
  const pages = paginateScan(
    { client: doc },
    {
      TableName: name,
      ProjectionExpression: 'pk',
      FilterExpression: 'begins_with(pk, :n) OR begins_with(pk, :r)',
      ExpressionAttributeValues: { ':n': 'NOTICE#', ':r': 'REGION#' },
    },
  );
  for await (const page of pages)
    for (const item of page.Items ?? []) found.add(String(item.pk).replace(/^[A-Z]+#/, ''));
  return [...found].sort();
}

export async function regionStatus(
  doc: DynamoDBDocumentClient,
  name: string,
  region: string,
  now: number,
): Promise<RegionStatus> {
  const notices = (await new DynamoNoticeLedger(doc, name).notices(region))
    .filter((n) => n.state === 'open')
    .map((n) => ({ n, deadline: n.notBeforeDeadline ?? n.notBefore }))
    .sort((a, b) => a.deadline - b.deadline || (a.n.instanceId < b.n.instanceId ? -1 : 1))
    .map(({ n, deadline }) => ({
      instanceId: n.instanceId,
      eventId: n.eventId,
      code: n.code,
      deadline: new Date(deadline).toISOString(),
      in: formatRelative(deadline, now),
      description: n.description,
    }));
  const held = await new DynamoRegionRollouts(doc, name).current(region);
  if (!held) return { region, notices };
  const ledger = new DynamoRolloutLedger(doc, name);
  const state = await storedState(ledger, held.rolloutId);
  const haltRequested = await ledger.haltRequested(held.rolloutId);
  const pending = await new LedgerApprovals(doc, name).pending(held.rolloutId);
  const b = state?.current;
  const nextIndex = b ? b.index + 1 : (state?.batch ?? 0);
  const slot = state?.slots[nextIndex];
  const rollout: RolloutStatus = {
    rolloutId: held.rolloutId,
    region: held.status,
    claimedAt: new Date(held.claimedAt).toISOString(),
    ...(held.reason === undefined ? {} : { reason: held.reason }),
    ...(state && {
      state: {
        status: state.status,
        step: state.step,
        batchCount: state.batchCount,
        batchesDone: state.results.length,
        carried: state.carried?.length ?? 0,
        ...(b && { current: { index: b.index, wave: b.wave, stage: b.stage, items: b.items.length } }),
        ...(slot &&
          state.status === 'running' && {
            next: {
              index: nextIndex,
              startAt: new Date(slot[0]).toISOString(),
              in: formatRelative(slot[0], now),
            },
          }),
        ...(state.haltReason === undefined ? {} : { haltReason: state.haltReason }),
      },
    }),
    ...(haltRequested === undefined ? {} : { haltRequested }),
    pendingApprovals: pending.map((a) => ({
      batch: a.batch,
      wave: a.wave,
      requestedAt: new Date(a.requestedAt).toISOString(),
      waiting: a.taskToken !== undefined,
    })),
  };
  return { region, notices, rollout };
}

function rolloutLines(r: RolloutStatus, region: string): string[] {
  const s = r.state;
  const head = `  rollout ${r.rolloutId}: ${s?.status ?? 'starting (no step stored yet)'}`;
  const lines: string[] = [];
  if (!s) lines.push(head);
  else {
    const which = (index: number) =>
      index < s.batchCount ? `batch ${index} of ${s.batchCount}` : `carry-over batch ${index}`;
    const at = s.current
      ? `${which(s.current.index)} (${s.current.wave}, ${s.current.items} instance(s)) at ${s.current.stage}`
      : `no batch under way`;
    const carried = s.carried > 0 ? `; ${s.carried} instance(s) carried to a later batch (group full)` : '';
    const next = s.next
      ? `; next batch ${s.next.index} at ${minute(Date.parse(s.next.startAt))} (${s.next.in})`
      : '';
    lines.push(`${head}, ${s.batchesDone} of ${s.batchCount} batches done, ${at}${next}${carried}`);
  }
  if (r.region === 'halted')
    lines.push(
      `  halted${r.reason ? `: ${r.reason}` : ''}; the Region stays held until: forestall release ${region} --rollout ${r.rolloutId}`,
    );
  else if (s?.haltReason) lines.push(`  halted: ${s.haltReason}`);
  if (r.haltRequested !== undefined) lines.push(`  halt requested: ${r.haltRequested}`);
  for (const a of r.pendingApprovals)
    lines.push(
      `  waiting for approval: batch ${a.batch} (${a.wave}) since ${minute(Date.parse(a.requestedAt))}${a.waiting ? '' : ' (execution not waiting yet)'}: forestall approve ${r.rolloutId} --batch ${a.batch} [--reject]`,
    );
  return lines;
}

export function formatStatus(regions: readonly RegionStatus[]): string {
  const out: string[] = [];
  for (const { region, notices, rollout } of regions) {
    out.push(`${region}:`);
    out.push(...(rollout ? rolloutLines(rollout, region) : ['  no rollout']));
    if (notices.length === 0) out.push('  no open notices');
    else {
      out.push(`  ${notices.length} open notice(s), by deadline:`);
      const rows = notices.map((n) => [
        minute(Date.parse(n.deadline)),
        n.in,
        n.instanceId,
        n.code,
        n.eventId,
      ]);
      out.push(
        ...table(['DEADLINE', 'IN', 'INSTANCE', 'CODE', 'EVENT'], rows)
          .split('\n')
          .map((l) => `  ${l}`),
      );
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}
