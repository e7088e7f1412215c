/**
 * The rollout steps the Lambdas call (preflight, act, verify, gate, bake check), written against ports.
 * The state machine only sequences them; runLocalRollout sequences them in-process for the CLI, tests and
 * the simulator. No AWS import, no clock read (the Clock port tells the time).
 */
import type { Config } from './config';
import type { ForestallEvent } from './events';
import { groupIds } from './planner';
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
import { type InstanceFacts, type InstanceStatus, isEventCode, type Plan, type PlanBatch } from './types';

/** Ids per mutating call (EC2 documents no maximum; AWS-FACTS §5) and per DescribeInstanceStatus (100). */
export const ACTION_BATCH = 50;
export const DESCRIBE_BATCH = 100;

export interface RolloutContext {
  readonly region: string;
  /** Limit per group id, from the whole fleet at plan time. */
  readonly limits: ReadonlyMap<string, number>;
  /** Instances this rollout left out of service (failed items), with their groups: they use group capacity. */
  readonly unavailable: Map<string, readonly string[]>;
  /** Instances Forestall stopped and has not started again (their verification timed out mid-way). */
  readonly restart: Set<string>;
  /** Events moved into each entry so far, counted per group. */
  readonly moved: Map<number, Map<string, number>>;
}

function downByGroup(ctx: RolloutContext): Map<string, number> {
  const used = new Map<string, number>();
  for (const groups of ctx.unavailable.values()) for (const g of groups) used.set(g, (used.get(g) ?? 0) + 1);
  return used;
}

/**
 * Starts again every instance Forestall stopped whose stop-start did not finish (it timed out while the
 * instance was still stopping, or StartInstances failed). Returns how many are still waiting.
 */
export async function restartStopped(ports: Ports, rolloutId: string, ctx: RolloutContext): Promise<number> {
  if (ctx.restart.size === 0) return 0;
  const statuses = await describeStatuses(ports, [...ctx.restart]);
  const stopped: string[] = [];
  for (const id of [...ctx.restart]) {
    const s = statuses.get(id);
    if (s?.state === 'stopped') stopped.push(id);
    else if (s?.state !== 'stopping') ctx.restart.delete(id); // running again, or gone
  }
  for (const batch of chunks(stopped, ACTION_BATCH)) {
    for (const o of await ports.fleet.start(batch)) {
      await ports.ledger.record({
        rolloutId,
        at: ports.clock.now(),
        instanceId: o.instanceId,
        kind: o.ok ? 'restarted' : 'restart-failed',
        detail: o.error ? { error: o.error } : {},
      });
      if (o.ok || !o.retryable) ctx.restart.delete(o.instanceId);
    }
  }
  return ctx.restart.size;
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
export function waveItems(wave: PlanBatch): WaveItemState[] {
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
        groupIds: groupIds(it.groups),
        phase: 'pending',
        ...(it.remedy === 'reschedule' ? { slot: Date.parse(wave.startAt) } : {}),
      });
    }
  }
  return [...byInstance.values()];
}

/** Calls ModifyInstanceEventStartTime this long before AWS's limits (event start - 5 min, new start - 60 min). */
export const RESCHEDULE_CALL_MARGIN = 15 * 60_000;

export interface RescheduleCall {
  readonly waveIndex: number;
  readonly instanceId: string;
  readonly eventId: string;
  readonly code: string;
  readonly deadline: string;
  readonly slot: number;
  /** As late as AWS allows, so that a halt or a failure before then still leaves AWS its own time. */
  readonly callAt: number;
  readonly groupIds: readonly string[];
}

/** The ModifyInstanceEventStartTime calls of a plan, in the order they fall due. */
export function rescheduleCalls(
  plan: Plan,
  originalNotBefore: ReadonlyMap<string, number>,
  now: number,
): RescheduleCall[] {
  const calls: RescheduleCall[] = [];
  plan.batches.forEach((wave, waveIndex) => {
    const slot = Date.parse(wave.startAt);
    for (const it of wave.items) {
      if (it.remedy !== 'reschedule') continue;
      const original = originalNotBefore.get(it.eventId) ?? now;
      const callAt = Math.max(
        now,
        Math.min(original - RESCHEDULE_CALL_MARGIN, slot - 60 * 60_000 - RESCHEDULE_CALL_MARGIN),
      );
      calls.push({
        waveIndex,
        instanceId: it.instanceId,
        eventId: it.eventId,
        code: it.code,
        deadline: it.deadline,
        slot,
        callAt,
        groupIds: groupIds(it.groups),
      });
    }
  });
  return calls.sort(
    (a, b) => a.callAt - b.callAt || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0),
  );
}

/**
 * One reschedule, claimed first. Not made while an earlier failure of this rollout is still out of service
 * in one of the instance's groups (AWS would act at the slot whatever preflight then finds). Whatever is not
 * rescheduled is dropped at preflight (`not-rescheduled`) and AWS keeps the event's own time.
 */
export async function rescheduleOne(
  ports: Ports,
  config: Config,
  plan: Plan,
  call: RescheduleCall,
  ctx: RolloutContext,
): Promise<'rescheduled' | 'skipped' | 'failed' | 'dry-run' | 'duplicate'> {
  const detail = {
    rolloutId: plan.rolloutId,
    region: ctx.region,
    waveIndex: call.waveIndex,
    instanceId: call.instanceId,
    eventId: call.eventId,
    code: call.code,
    remedy: 'reschedule',
    deadline: call.deadline,
  };
  const record = (kind: string, extra: Record<string, unknown>) =>
    ports.ledger.record({
      rolloutId: plan.rolloutId,
      at: ports.clock.now(),
      waveIndex: call.waveIndex,
      instanceId: call.instanceId,
      eventId: call.eventId,
      kind,
      detail: { notBefore: iso(call.slot), ...extra },
    });
  if (
    !(await ports.ledger.claim(
      `${plan.rolloutId}#reschedule#${call.instanceId}#${call.eventId}`,
      ports.clock.now(),
    ))
  )
    return 'duplicate';
  if (config.dryRun) {
    await record('dry-run', { action: 'reschedule' });
    return 'dry-run';
  }
  // AWS will act at the slot whatever preflight then finds: move the event only while its groups, counting
  // earlier failures still down and the events already moved into this entry, have room for it.
  const moved = ctx.moved.get(call.waveIndex) ?? new Map<string, number>();
  const used = downByGroup(ctx);
  const full = call.groupIds.find(
    (g) => (used.get(g) ?? 0) + (moved.get(g) ?? 0) >= (ctx.limits.get(g) ?? 1),
  );
  if (full !== undefined) {
    const reason = `group-capacity: ${full} has earlier failures still out of service; AWS keeps the event's own time`;
    await record('reschedule-skipped', { reason });
    await emit(ports, 'Notice Skipped', { ...detail, reason });
    return 'skipped';
  }
  const out = await ports.fleet.reschedule(call.instanceId, call.eventId, call.slot);
  await record(out.ok ? 'rescheduled' : 'reschedule-failed', out.error ? { error: out.error } : {});
  if (out.ok) {
    for (const g of call.groupIds) moved.set(g, (moved.get(g) ?? 0) + 1);
    ctx.moved.set(call.waveIndex, moved);
    return 'rescheduled';
  }
  await emit(ports, 'Instance Remedy Failed', {
    ...detail,
    reason: `ModifyInstanceEventStartTime failed: ${out.error ?? 'unknown error'}; AWS keeps the event's own time`,
  });
  return 'failed';
}

/** Re-reads the entry's instances and keeps only those still safe and useful to act on. */
export async function preflight(
  ports: Ports,
  config: Config,
  plan: Plan,
  waveIndex: number,
  ctx: RolloutContext,
): Promise<WaveState> {
  const wave = plan.batches[waveIndex];
  if (!wave) throw new Error(`plan ${plan.rolloutId} has no entry ${waveIndex}`);
  const now = ports.clock.now();
  const items = waveItems(wave);
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
    name: wave.wave,
    plannedStart: Date.parse(wave.startAt),
    startedAt: now,
    verifyBy: now + config.verification.timeout,
    items,
  };
  // Earlier failures still out of service use their groups' capacity; those that recovered free it.
  const earlier = await describeStatuses(ports, [...ctx.unavailable.keys()]);
  for (const [id, s] of earlier) if (isHealthy(s)) ctx.unavailable.delete(id);
  const used = downByGroup(ctx);
  const objections = new Map(
    items.map((item) => [
      item,
      preflightObjection(
        item,
        statuses.get(item.instanceId),
        facts.get(item.instanceId),
        config.optInTag,
        now,
        config.verification.timeout,
        config.deadlineMargin,
      ),
    ]),
  );
  // Rescheduled events happen at the slot regardless: count them first, then admit the rest within limits.
  const ordered = [
    ...items.filter((i) => i.remedy === 'reschedule'),
    ...items.filter((i) => i.remedy !== 'reschedule'),
  ];
  for (const item of ordered) {
    const full =
      item.remedy === 'reschedule'
        ? undefined
        : item.groupIds.find((g) => (used.get(g) ?? 0) >= (ctx.limits.get(g) ?? 1));
    const reason =
      objections.get(item) ??
      (full === undefined
        ? undefined
        : `group-capacity: ${full} already has ${used.get(full)} instance(s) out of service`);
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
      if (nextPhase === 'stopping') i.stopIssued = true;
      if (nextPhase === 'starting') i.startIssued = true;
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
