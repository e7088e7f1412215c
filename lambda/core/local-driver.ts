/**
 * Runs a whole rollout in-process through the runner steps, in the order the state machine will use:
 * reschedules, then per entry: wait for slot, preflight, [approval], act, verify loop, gate, bake check.
 */
import type { Config } from './config';
import { groupIds } from './planner';
import type { Ports } from './ports';
import type { GateResult, WaveState } from './rollout';
import {
  act,
  bakeCheck,
  describeGate,
  gate,
  preflight,
  type RolloutContext,
  scheduleReschedules,
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
  const itemCount = plan.waves.reduce((n, w) => n + w.items.length, 0);
  await reporter.emit({
    detailType: 'Rollout Planned',
    time: iso(startedAt),
    detail: {
      ...base,
      entries: plan.waves.length,
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

  const rescheduleFailures = await scheduleReschedules(ports, config, plan, opts.region);
  if (rescheduleFailures > 0)
    say(`${rescheduleFailures} reschedule(s) failed; AWS keeps those events' own times`);
  const ctx: RolloutContext = { region: opts.region, limits: opts.limits, unavailable: new Map() };
  const waves: WaveOutcome[] = [];
  let haltReason: string | undefined;

  for (let index = 0; index < plan.waves.length && haltReason === undefined; index++) {
    const entry = plan.waves[index];
    if (!entry) break;
    const waveConfig = config.waves.find((w) => w.name === entry.name);
    const slot = Date.parse(entry.startAt);
    if (clock.now() < slot) await clock.sleepUntil(slot);
    const state = await preflight(ports, config, plan, index, ctx, groupIds);
    const live = state.items.filter((i) => i.phase === 'pending').length;
    if (waveConfig?.approval && live > 0) {
      const decision = await ports.approvals.decide(plan.rolloutId, index, entry.name);
      await ledger.record({ ...base, at: clock.now(), waveIndex: index, kind: `approval-${decision}` });
      if (decision === 'rejected') {
        haltReason = `entry ${index} (${entry.name}) was not approved`;
        break;
      }
    }
    await reporter.emit({
      detailType: 'Wave Started',
      time: iso(clock.now()),
      detail: { ...base, waveIndex: index, name: entry.name, items: state.items.length, acting: live },
    });
    say(
      `entry ${index} ${entry.name} at ${iso(clock.now())}: ${live} to remedy, ${state.items.length - live} dropped at preflight`,
    );
    await act(ports, config, state);
    for (;;) {
      const { done } = await verify(ports, state);
      if (done) break;
      await clock.sleepUntil(
        Math.min(clock.now() + config.verification.pollInterval, Math.max(state.verifyBy, clock.now() + 1)),
      );
    }
    const bake = waveConfig?.bake ?? 0;
    if (bake > 0 && state.items.some((i) => i.phase === 'verified')) {
      await clock.sleepUntil(clock.now() + bake);
      await bakeCheck(ports, state);
    }
    for (const item of state.items) {
      if (item.phase === 'failed') ctx.unavailable.set(item.instanceId, item.groupIds);
    }
    const g = gate(config, state);
    const verified = state.items.filter((i) => i.phase === 'verified').length;
    await reporter.emit({
      detailType: 'Wave Completed',
      time: iso(clock.now()),
      detail: {
        ...base,
        waveIndex: index,
        name: entry.name,
        verified,
        failed: g.failures,
        budget: g.budget,
        dropped: state.items.filter((i) => i.phase === 'dropped').length,
      },
    });
    say(
      `entry ${index} ${entry.name} done at ${iso(clock.now())}: ${verified} verified, ${describeGate(g)}, took ${formatDuration(clock.now() - state.startedAt)}`,
    );
    waves.push({ state, gate: g, finishedAt: clock.now() });
    if (g.halt) haltReason = `entry ${index} (${entry.name}): ${describeGate(g)}`;
  }

  const notRun = plan.waves
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
