/**
 * Runs a whole rollout in-process through the runner steps, in the order the state machine will use:
 * per entry: wait for slot, preflight, [approval], act, verify loop, bake check, gate. Reschedule calls are
 * made while waiting, each as late as AWS allows; instances Forestall stopped are always started again.
 */
import type { Config } from './config';
import type { Ports } from './ports';
import type { GateResult, WaveState } from './rollout';
import {
  act,
  bakeCheck,
  describeGate,
  describeStatuses,
  gate,
  preflight,
  type RolloutContext,
  rescheduleCalls,
  rescheduleOne,
  restartStopped,
  verify,
} from './runner';
import { formatDuration, iso } from './time';
import type { Plan } from './types';

export interface WaveOutcome {
  readonly state: WaveState;
  readonly gate: GateResult;
  readonly finishedAt: number;
}

export interface RolloutResult {
  readonly rolloutId: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly waves: readonly WaveOutcome[];
  readonly halted: boolean;
  readonly haltReason?: string;
  /** Instances of entries that never ran because the rollout halted: AWS's own schedule applies to them. */
  readonly notRun: number;
}

export interface LocalRolloutOptions {
  readonly region: string;
  readonly limits: ReadonlyMap<string, number>;
  readonly progress?: (line: string) => void;
}

export async function runLocalRollout(
  plan: Plan,
  config: Config,
  ports: Ports,
  opts: LocalRolloutOptions,
): Promise<RolloutResult> {
  const say = opts.progress ?? (() => {});
  const { clock, ledger, reporter } = ports;
  const base = { rolloutId: plan.rolloutId, region: opts.region };
  const startedAt = clock.now();
  await ledger.putPlan(plan);
  const itemCount = plan.batches.reduce((n, w) => n + w.items.length, 0);
  await reporter.emit({
    detailType: 'Rollout Planned',
    time: iso(startedAt),
    detail: {
      ...base,
      entries: plan.batches.length,
      items: itemCount,
      skipped: plan.skipped.length,
      infeasible: plan.infeasible.length,
      dryRun: config.dryRun,
    },
  });
  for (const s of plan.skipped)
    await reporter.emit({ detailType: 'Notice Skipped', time: iso(startedAt), detail: { ...base, ...s } });
  for (const s of plan.infeasible)
    await reporter.emit({ detailType: 'Plan Infeasible', time: iso(startedAt), detail: { ...base, ...s } });

  const ctx: RolloutContext = {
    region: opts.region,
    limits: opts.limits,
    unavailable: new Map(),
    restart: new Set(),
    moved: new Map(),
  };
  const waves: WaveOutcome[] = [];
  let haltReason: string | undefined;

  // Reschedule calls fall due while the rollout waits; a halt cancels those not yet made.
  const toMove = plan.batches.flatMap((w) =>
    w.items.filter((i) => i.remedy === 'reschedule').map((i) => i.instanceId),
  );
  const originals = new Map<string, number>();
  for (const s of (await describeStatuses(ports, [...new Set(toMove)])).values()) {
    for (const n of s.notices) originals.set(n.eventId, n.notBefore);
  }
  const calls = rescheduleCalls(plan, originals, clock.now());
  let nextCall = 0;
  const advance = async (t: number): Promise<void> => {
    for (let c = calls[nextCall]; c && c.callAt <= t && haltReason === undefined; c = calls[++nextCall]) {
      if (clock.now() < c.callAt) await clock.sleepUntil(c.callAt);
      const outcome = await rescheduleOne(ports, config, plan, c, ctx);
      if (outcome === 'failed' || outcome === 'skipped')
        say(`reschedule of ${c.instanceId} ${outcome}; AWS keeps its own time`);
    }
    if (clock.now() < t) await clock.sleepUntil(t);
  };

  for (let index = 0; index < plan.batches.length && haltReason === undefined; index++) {
    const entry = plan.batches[index];
    if (!entry) break;
    const waveConfig = config.waves.find((w) => w.name === entry.wave);
    await advance(Date.parse(entry.startAt));
    await restartStopped(ports, plan.rolloutId, ctx);
    const state = await preflight(ports, config, plan, index, ctx);
    const live = state.items.filter((i) => i.phase === 'pending').length;
    if (waveConfig?.approval && live > 0) {
      const decision = await ports.approvals.decide(plan.rolloutId, index, entry.wave);
      await ledger.record({ ...base, at: clock.now(), waveIndex: index, kind: `approval-${decision}` });
      if (decision === 'rejected') {
        haltReason = `entry ${index} (${entry.wave}) was not approved`;
        break;
      }
    }
    await reporter.emit({
      detailType: 'Batch Started',
      time: iso(clock.now()),
      detail: { ...base, waveIndex: index, name: entry.wave, items: state.items.length, acting: live },
    });
    say(
      `entry ${index} ${entry.wave} at ${iso(clock.now())}: ${live} to remedy, ${state.items.length - live} dropped at preflight`,
    );
    await act(ports, config, state);
    for (;;) {
      const { done } = await verify(ports, state);
      if (done) break;
      await advance(
        Math.min(clock.now() + config.verification.pollInterval, Math.max(state.verifyBy, clock.now() + 1)),
      );
    }
    const bake = waveConfig?.bake ?? 0;
    if (bake > 0 && state.items.some((i) => i.phase === 'verified')) {
      await advance(clock.now() + bake);
      await bakeCheck(ports, state);
    }
    for (const item of state.items) {
      if (item.phase !== 'failed') continue;
      ctx.unavailable.set(item.instanceId, item.groupIds);
      if (item.stopIssued && !item.startIssued) ctx.restart.add(item.instanceId);
    }
    const g = gate(config, state);
    const verified = state.items.filter((i) => i.phase === 'verified').length;
    await reporter.emit({
      detailType: 'Batch Completed',
      time: iso(clock.now()),
      detail: {
        ...base,
        waveIndex: index,
        name: entry.wave,
        verified,
        failed: g.failures,
        budget: g.budget,
        dropped: state.items.filter((i) => i.phase === 'dropped').length,
      },
    });
    say(
      `entry ${index} ${entry.wave} done at ${iso(clock.now())}: ${verified} verified, ${describeGate(g)}, took ${formatDuration(clock.now() - state.startedAt)}`,
    );
    waves.push({ state, gate: g, finishedAt: clock.now() });
    if (g.halt) haltReason = `entry ${index} (${entry.wave}): ${describeGate(g)}`;
  }

  // Never leave behind an instance Forestall stopped: start the stragglers once they are stopped.
  for (let tries = 0; (await restartStopped(ports, plan.rolloutId, ctx)) > 0 && tries < 60; tries++) {
    await clock.sleepUntil(clock.now() + config.verification.pollInterval);
  }
  if (ctx.restart.size > 0) say(`could not start again: ${[...ctx.restart].join(', ')}`);
  const unrescheduled = calls.length - nextCall;
  if (unrescheduled > 0)
    say(`${unrescheduled} reschedule(s) not made after the halt; AWS keeps those events' own times`);
  const notRun = plan.batches
    .slice(waves.length)
    .reduce((n, w) => n + new Set(w.items.map((i) => i.instanceId)).size, 0);
  const finishedAt = clock.now();
  if (haltReason !== undefined) {
    await ledger.record({ ...base, at: finishedAt, kind: 'halted', detail: { reason: haltReason, notRun } });
    await reporter.emit({
      detailType: 'Rollout Halted',
      time: iso(finishedAt),
      detail: {
        ...base,
        reason: haltReason,
        notRun,
        note: 'AWS acts on its own schedule for the instances not remedied; rescheduled events keep their new times',
      },
    });
    say(`HALTED: ${haltReason}; ${notRun} instance(s) left to AWS's own schedule`);
  }
  await reporter.emit({
    detailType: 'Rollout Completed',
    time: iso(finishedAt),
    detail: {
      ...base,
      halted: haltReason !== undefined,
      entriesRun: waves.length,
      durationSeconds: Math.round((finishedAt - startedAt) / 1000),
    },
  });
  return {
    rolloutId: plan.rolloutId,
    startedAt,
    finishedAt,
    waves,
    halted: haltReason !== undefined,
    ...(haltReason === undefined ? {} : { haltReason }),
    notRun,
  };
}
