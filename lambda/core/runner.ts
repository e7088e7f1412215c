/**
 * The rollout steps the Lambdas call (preflight, act, verify, gate, bake check), written against ports.
 * The state machine only sequences them; runLocalRollout sequences them in-process for the CLI, tests and
 * the simulator. No AWS import, no clock read (the Clock port tells the time).
 */
import type { Config } from './config';
import type { ForestallEvent } from './events';
import type { ActionOutcome, Ports } from './ports';
import { whyNotStopStart } from './remedy';
import {
  assessItem,
  type GateResult,
  gateWave,
  isFinal,
  isHealthy,
  preflightObjection,
  type WaveItemState,
  type WaveState,
} from './rollout';
import { iso } from './time';
import { type InstanceFacts, type InstanceStatus, isEventCode, type Plan, type PlanWave } from './types';

/** Ids per mutating call (EC2 documents no maximum; AWS-FACTS §5) and per DescribeInstanceStatus (100). */
export const ACTION_BATCH = 50;
export const DESCRIBE_BATCH = 100;

export interface RolloutContext {
  readonly region: string;
  /** Limit per group id, from the whole fleet at plan time. */
  readonly limits: ReadonlyMap<string, number>;
  /** Instances this rollout left out of service (failed items), with their groups: they use group capacity. */
  readonly unavailable: Map<string, readonly string[]>;
}

/** DescribeInstanceStatus for any number of ids, 100 a call; absent ids are terminated or unknown. */
export async function describeStatuses(
  ports: Ports,
  ids: readonly string[],
): Promise<Map<string, InstanceStatus>> {
  const pages = await Promise.all(chunks(ids, DESCRIBE_BATCH).map((c) => ports.fleet.describeStatus(c)));
  return new Map(pages.flat().map((s) => [s.instanceId, s]));
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

async function emit(
  ports: Ports,
  detailType: ForestallEvent['detailType'],
  detail: ForestallEvent['detail'],
): Promise<void> {
  await ports.reporter.emit({ detailType, time: iso(ports.clock.now()), detail });
}

/** Records one step of one item in the ledger (the full history an operator can audit). */
async function recordItem(
  ports: Ports,
  state: WaveState,
  item: WaveItemState,
  kind: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await ports.ledger.record({
    rolloutId: state.rolloutId,
    at: ports.clock.now(),
    waveIndex: state.waveIndex,
    instanceId: item.instanceId,
    kind,
    detail,
  });
}

function itemDetail(state: WaveState, item: WaveItemState): ForestallEvent['detail'] {
  return {
    rolloutId: state.rolloutId,
    region: state.region,
    waveIndex: state.waveIndex,
    instanceId: item.instanceId,
    eventId: item.eventIds.join(','),
    code: item.codes.join(','),
    remedy: item.remedy,
    deadline: iso(item.deadline),
  };
}

/** Plan items of one entry, one per instance. */
export function waveItems(
  wave: PlanWave,
  groupIdsOf: (groups: Readonly<Record<string, string>>) => string[],
): WaveItemState[] {
  const byInstance = new Map<string, WaveItemState>();
  for (const it of wave.items) {
    const prev = byInstance.get(it.instanceId);
    const deadline = Date.parse(it.deadline);
    if (prev) {
      byInstance.set(it.instanceId, {
        ...prev,
        eventIds: [...prev.eventIds, it.eventId],
        codes: [...prev.codes, it.code],
        deadline: Math.min(prev.deadline, deadline),
      });
    } else {
      byInstance.set(it.instanceId, {
        instanceId: it.instanceId,
        eventIds: [it.eventId],
        codes: [it.code],
        remedy: it.remedy,
        deadline,
        groupIds: groupIdsOf(it.groups),
        phase: 'pending',
        ...(it.remedy === 'reschedule' ? { slot: Date.parse(wave.startAt) } : {}),
      });
    }
  }
  return [...byInstance.values()];
}

/**
 * Before the whole rollout: ModifyInstanceEventStartTime for every `reschedule` item, to its entry's slot
 * (the call must come at least 60 minutes before the new start, so it cannot wait for the wave).
 * A failure is reported; preflight then drops the item (`not-rescheduled`) and AWS keeps its own time.
 * Returns how many reschedules failed.
 */
export async function scheduleReschedules(
  ports: Ports,
  config: Config,
  plan: Plan,
  region: string,
): Promise<number> {
  let failed = 0;
  for (const wave of plan.waves) {
    for (const item of wave.items) {
      if (item.remedy !== 'reschedule') continue;
      const key = `${plan.rolloutId}#reschedule#${item.instanceId}#${item.eventId}`;
      if (!(await ports.ledger.claim(key, ports.clock.now()))) continue;
      const slot = Date.parse(wave.startAt);
      if (config.dryRun) {
        await ports.ledger.record({
          rolloutId: plan.rolloutId,
          at: ports.clock.now(),
          instanceId: item.instanceId,
          eventId: item.eventId,
          kind: 'dry-run',
          detail: { action: 'reschedule', notBefore: wave.startAt },
        });
        continue;
      }
      const out = await ports.fleet.reschedule(item.instanceId, item.eventId, slot);
      await ports.ledger.record({
        rolloutId: plan.rolloutId,
        at: ports.clock.now(),
        instanceId: item.instanceId,
        eventId: item.eventId,
        kind: out.ok ? 'rescheduled' : 'reschedule-failed',
        detail: { notBefore: wave.startAt, ...(out.error ? { error: out.error } : {}) },
      });
      if (!out.ok) {
        failed++;
        await emit(ports, 'Instance Remedy Failed', {
          rolloutId: plan.rolloutId,
          region,
          instanceId: item.instanceId,
          eventId: item.eventId,
          code: item.code,
          remedy: 'reschedule',
          deadline: item.deadline,
          reason: `ModifyInstanceEventStartTime failed: ${out.error ?? 'unknown error'}; AWS keeps the event's own time`,
        });
      }
    }
  }
  return failed;
}

/** Re-reads the entry's instances and keeps only those still safe and useful to act on. */
export async function preflight(
  ports: Ports,
  config: Config,
  plan: Plan,
  waveIndex: number,
  ctx: RolloutContext,
  groupIdsOf: (g: Readonly<Record<string, string>>) => string[],
): Promise<WaveState> {
  const wave = plan.waves[waveIndex];
  if (!wave) throw new Error(`plan ${plan.rolloutId} has no entry ${waveIndex}`);
  const now = ports.clock.now();
  const items = waveItems(wave, groupIdsOf);
  const ids = items.map((i) => i.instanceId);
  const statuses = await describeStatuses(ports, ids);
  const facts = new Map(
    (await Promise.all(chunks(ids, DESCRIBE_BATCH).map((c) => ports.fleet.describeFacts(c))))
      .flat()
      .map((f) => [f.instanceId, f]),
  );
  const state: WaveState = {
    rolloutId: plan.rolloutId,
    region: ctx.region,
    waveIndex,
    name: wave.name,
    plannedStart: Date.parse(wave.startAt),
    startedAt: now,
    verifyBy: now + config.verification.timeout,
    items,
  };
  const used = new Map<string, number>();
  for (const groups of ctx.unavailable.values()) for (const g of groups) used.set(g, (used.get(g) ?? 0) + 1);
  for (const item of items) {
    const objection = preflightObjection(
      item,
      statuses.get(item.instanceId),
      facts.get(item.instanceId),
      config.optInTag,
      now,
      config.verification.timeout,
      config.deadlineMargin,
    );
    const full = item.groupIds.find((g) => (used.get(g) ?? 0) >= (ctx.limits.get(g) ?? 1));
    const reason =
      objection ??
      (full === undefined
        ? undefined
        : `group-capacity: ${full} already has ${used.get(full)} instance(s) out of service after earlier failures`);
    if (reason !== undefined) {
      item.phase = 'dropped';
      item.reason = reason;
      await recordItem(ports, state, item, 'dropped', { reason });
      await emit(ports, 'Notice Skipped', { ...itemDetail(state, item), reason });
      continue;
    }
    for (const g of item.groupIds) used.set(g, (used.get(g) ?? 0) + 1);
    if (item.remedy === 'reschedule') {
      const own =
        statuses.get(item.instanceId)?.notices.filter((n) => item.eventIds.includes(n.eventId)) ?? [];
      item.windowEnd = own.reduce((m, n) => Math.max(m, n.notAfter ?? n.notBefore), now);
    }
    const f = facts.get(item.instanceId);
    if (item.remedy === 'reboot-migrate' && f && canFallBackToStopStart(item, f, config))
      item.fallback = 'stop-start';
  }
  return state;
}

/** Stop-start as the fallback of a reboot migration: allowed by the policy for every code, and possible. */
function canFallBackToStopStart(item: WaveItemState, facts: InstanceFacts, config: Config): boolean {
  const allowed = item.codes.every((c) => isEventCode(c) && config.remedies[c].includes('stop-start'));
  return allowed && whyNotStopStart(facts, config) === undefined;
}

function applyOutcomes(
  state: WaveState,
  outcomes: readonly ActionOutcome[],
  onOk: (item: WaveItemState) => void,
  now: number,
): WaveItemState[] {
  const byId = new Map(state.items.map((i) => [i.instanceId, i]));
  const failed: WaveItemState[] = [];
  for (const o of outcomes) {
    const item = byId.get(o.instanceId);
    if (!item) continue;
    if (o.ok) {
      item.actedAt = now;
      onOk(item);
    } else if (!o.retryable) {
      item.phase = 'failed';
      item.reason = `API error: ${o.error ?? 'unknown'}`;
      failed.push(item);
    }
  }
  return failed;
}

/** Applies each item's remedy (claimed first, so a duplicate invocation never acts twice). */
export async function act(ports: Ports, config: Config, state: WaveState): Promise<WaveState> {
  const now = ports.clock.now();
  state.startedAt = now;
  state.verifyBy = now + config.verification.timeout;
  const claimed: WaveItemState[] = [];
  for (const item of state.items) {
    if (item.phase !== 'pending') continue;
    const key = `${state.rolloutId}#${state.waveIndex}#${item.instanceId}#${item.remedy}`;
    if (!(await ports.ledger.claim(key, now))) {
      item.phase = item.remedy === 'stop-start' ? 'stopping' : 'verifying'; // acted by an earlier invocation: verify only
      continue;
    }
    await recordItem(ports, state, item, 'act-begin', { remedy: item.remedy, dryRun: config.dryRun });
    if (config.dryRun) {
      item.phase = 'dry-run';
      item.reason = `dryRun: would ${item.remedy}`;
    } else if (item.remedy === 'reschedule') {
      // Moved at rollout start (preflight dropped it if that failed); AWS performs it in the event window
      // that starts at this entry's slot.
      item.phase = 'verifying';
      item.actedAt = now;
      item.verifyBy = Math.max(now, item.windowEnd ?? now) + config.verification.timeout;
      state.verifyBy = Math.max(state.verifyBy, item.verifyBy);
    } else claimed.push(item);
  }
  await dispatch(ports, state, claimed);
  return state;
}

/** One mutating action for these items, 50 ids a call; returns the items that failed for good. */
async function callBatched(
  ports: Ports,
  state: WaveState,
  ids: readonly string[],
  call: (batch: readonly string[]) => Promise<ActionOutcome[]>,
  nextPhase: WaveItemState['phase'],
): Promise<WaveItemState[]> {
  const now = ports.clock.now();
  const failed: WaveItemState[] = [];
  for (const batch of chunks(ids, ACTION_BATCH)) {
    const onOk = (i: WaveItemState) => {
      i.phase = nextPhase;
    };
    failed.push(...applyOutcomes(state, await call(batch), onOk, now));
  }
  return failed;
}

/** The API calls for claimed reboot and stop items, batched. Throttled ones stay `pending` for the next pass. */
async function dispatch(ports: Ports, state: WaveState, items: readonly WaveItemState[]): Promise<void> {
  const ids = (remedy: WaveItemState['remedy']) =>
    items.filter((i) => i.remedy === remedy).map((i) => i.instanceId);
  const failed = [
    ...(await callBatched(ports, state, ids('reboot-migrate'), (b) => ports.fleet.reboot(b), 'verifying')),
    ...(await callBatched(ports, state, ids('stop-start'), (b) => ports.fleet.stop(b), 'stopping')),
  ];
  for (const item of items) {
    if (item.phase === 'pending') item.reason = 'throttled: retried on the next verification pass';
  }
  for (const item of failed) await reportFailure(ports, state, item);
}

export async function reportFailure(ports: Ports, state: WaveState, item: WaveItemState): Promise<void> {
  await recordItem(ports, state, item, 'failed', { reason: item.reason });
  await emit(ports, 'Instance Remedy Failed', {
    ...itemDetail(state, item),
    reason: item.reason ?? 'unknown',
  });
}

/**
 * One verification pass: starts stopped stop-start items, retries throttled actions, and settles items whose
 * event is gone and whose status checks are ok. `done` when every item is final.
 */
export async function verify(ports: Ports, state: WaveState): Promise<{ state: WaveState; done: boolean }> {
  const now = ports.clock.now();
  const open = state.items.filter((i) => !isFinal(i));
  await dispatch(
    ports,
    state,
    open.filter((i) => i.phase === 'pending'),
  );
  const statuses = await describeStatuses(
    ports,
    open.map((i) => i.instanceId),
  );
  const toStart: string[] = [];
  const toFallBack: WaveItemState[] = [];
  for (const item of open) {
    if (item.phase === 'pending') {
      if (now < state.verifyBy) continue;
      item.phase = 'failed';
      item.reason = 'API throttled until the verification timeout: the remedy was never applied';
      await reportFailure(ports, state, item);
      continue;
    }
    const a = assessItem(item, statuses.get(item.instanceId), now, item.verifyBy ?? state.verifyBy);
    if (a.next === 'fallback') toFallBack.push(item);
    else if (a.next === 'start') toStart.push(item.instanceId);
    else if (a.next === 'verified') {
      item.phase = 'verified';
      item.verifiedAt = now;
      await recordItem(ports, state, item, 'verified', { remedy: item.remedy });
      await emit(ports, 'Instance Remedied', {
        ...itemDetail(state, item),
        durationSeconds: Math.round((now - (item.actedAt ?? now)) / 1000),
      });
    } else if (a.next === 'failed') {
      item.phase = 'failed';
      item.reason = a.reason;
      await reportFailure(ports, state, item);
    }
  }
  const failed: WaveItemState[] = [];
  for (const item of toFallBack) {
    item.reason = 'reboot migration did not clear the event; falling back to stop-start';
    await recordItem(ports, state, item, 'fallback', { from: 'reboot-migrate', to: 'stop-start' });
  }
  failed.push(
    ...(await callBatched(
      ports,
      state,
      toFallBack.map((i) => i.instanceId),
      (b) => ports.fleet.stop(b),
      'stopping',
    )),
    ...(await callBatched(ports, state, toStart, (b) => ports.fleet.start(b), 'starting')),
  );
  for (const item of failed) await reportFailure(ports, state, item);
  return { state, done: state.items.every(isFinal) };
}

/** Gate: failures over budget halt the rollout. */
export function gate(config: Config, state: WaveState): GateResult {
  const wave = config.waves.find((w) => w.name === state.name);
  return gateWave(state.items, wave?.failureBudget ?? { kind: 'count', value: 0 });
}

export function describeGate(g: GateResult): string {
  return `${g.failures} failed of ${g.acted} (budget ${g.budget})`;
}

/** After the bake time, verified instances must still be healthy; any that are not count as failures. */
export async function bakeCheck(ports: Ports, state: WaveState): Promise<void> {
  const verified = state.items.filter((i) => i.phase === 'verified');
  const statuses = await describeStatuses(
    ports,
    verified.map((v) => v.instanceId),
  );
  for (const item of verified) {
    const s = statuses.get(item.instanceId);
    if (s && isHealthy(s)) continue;
    item.phase = 'failed';
    item.reason = `unhealthy during bake: ${s ? `${s.state}, instance ${s.instanceStatus}, system ${s.systemStatus}` : 'no longer described'}`;
    await reportFailure(ports, state, item);
  }
}
