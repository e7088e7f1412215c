/**
 * Lower bounds for the benchmark (README "Performance"): how soon, and with how few API calls, any rollout
 * that keeps the config's limits could remedy the planned instances in the simulated Region.
 *
 * Makespan: per config wave in order, rounds = max(ceil(n / maxParallel), ceil(n_g / limit_g) for every
 * group g), each round as long as the slowest of its remedies is expected to take (the simulator's duration
 * ranges: reboot + status checks; stop + start + status checks), plus the wave's bake between rounds; a round
 * starts only inside a window. Never less than EC2's StartInstances resource bucket allows (AWS-FACTS §6:
 * 1,000 instances, then 2 a second), plus the quickest start. API calls: ceil(ids / per-call batch) per
 * action, Standby in and out per Auto Scaling group, the poll's pages, and the DescribeInstanceStatus calls
 * verification makes at its poll interval while each round's slowest remedy runs.
 */
import { ACTION_BATCH, DESCRIBE_BATCH, EC2_BUCKETS, STANDBY_BATCH } from '../lambda/core/api-limits';
import { type Config, resolveLimit } from '../lambda/core/config';
import { groupIds } from '../lambda/core/planner';
import { RESCHEDULE_MIN_LEAD } from '../lambda/core/reschedule-timing';
import { DAY } from '../lambda/core/time';
import type { ActiveRemedy, Plan, PlanItem } from '../lambda/core/types';
import { WindowCalendar } from '../lambda/core/windows';
import type { SimBehaviour } from './behaviour';

/** Instances per page of the poll's DescribeInstanceStatus / DescribeInstances (MaxResults). */
const POLL_PAGE = 1000;
const GRID_MS = 1000;

/** The duration ranges one remedy's outage is the sum of, in the simulator. */
export function remedyRanges(
  remedy: ActiveRemedy,
  b: SimBehaviour,
): ReadonlyArray<readonly [number, number]> {
  return remedy === 'stop-start'
    ? [b.stopDuration, b.startDuration, b.statusCheckDelay]
    : [b.rebootDuration, b.statusCheckDelay]; // a reschedule: AWS reboots it at the slot
}

/**
 * The expected longest of k independent durations, each the sum of uniform draws from `ranges` (ms): the
 * sum's distribution on a 1-second grid, then E[max] = min + ∫ (1 − F(x)^k) dx.
 */
export function expectedSlowest(ranges: ReadonlyArray<readonly [number, number]>, k: number): number {
  let pdf = [1];
  let low = 0;
  for (const [a, b] of ranges) {
    low += a;
    const width = Math.max(1, Math.round((b - a) / GRID_MS) + 1);
    const next = new Array<number>(pdf.length + width - 1).fill(0);
    for (let i = 0; i < pdf.length; i++)
      for (let j = 0; j < width; j++) next[i + j] = (next[i + j] ?? 0) + (pdf[i] ?? 0) / width;
    pdf = next;
  }
  let cdf = 0;
  let above = 0;
  for (const p of pdf) {
    cdf += p;
    above += 1 - Math.min(1, cdf) ** Math.max(1, k);
  }
  return low + above * GRID_MS; // the last grid point has F = 1 and adds nothing
}

export interface WaveBound {
  readonly wave: string;
  readonly instances: number;
  readonly rounds: number;
  /** The expected slowest remedy of a full round (the quickest remedy the wave holds), ms. */
  readonly roundMs: number;
  readonly bakeMs: number;
}

export interface LowerBounds {
  readonly makespanSeconds: number;
  /** The rounds, windows and bakes alone. */
  readonly byRoundsSeconds: number;
  /** StartInstances' resource bucket alone (0 without stop-starts). */
  readonly byStartBucketSeconds: number;
  /** AWS's 60-minute minimum ahead for a new start time (0 without reschedules). */
  readonly byRescheduleLeadSeconds: number;
  readonly waves: readonly WaveBound[];
  readonly apiCalls: number;
  readonly apiCallsByAction: Readonly<Record<string, number>>;
}

export interface LowerBoundInput {
  readonly plan: Plan;
  readonly config: Config;
  readonly limits: ReadonlyMap<string, number>;
  readonly behaviour: SimBehaviour;
  readonly start: number;
  /** Instances in the Region, and how many of them have a scheduled event (the poll's pages). */
  readonly fleetSize: number;
  readonly scheduledInstances: number;
  /** Instance id → its Auto Scaling group, for members. */
  readonly asgOf: ReadonlyMap<string, string>;
}

function roundsOf(
  items: readonly PlanItem[],
  maxParallel: number,
  limits: ReadonlyMap<string, number>,
): number {
  const perGroup = new Map<string, number>();
  for (const it of items) for (const g of groupIds(it.groups)) perGroup.set(g, (perGroup.get(g) ?? 0) + 1);
  let rounds = Math.ceil(items.length / Math.max(1, maxParallel));
  for (const [g, n] of perGroup) rounds = Math.max(rounds, Math.ceil(n / Math.max(1, limits.get(g) ?? 1)));
  return rounds;
}

export function waveBounds(input: LowerBoundInput): WaveBound[] {
  const items = input.plan.batches.flatMap((b) => b.items.map((it) => ({ it, wave: b.wave })));
  const out: WaveBound[] = [];
  for (const wave of input.config.waves) {
    const mine = items.filter((x) => x.wave === wave.name).map((x) => x.it);
    if (mine.length === 0) continue;
    const rounds = roundsOf(mine, resolveLimit(wave.maxParallel, mine.length), input.limits);
    const perRound = Math.ceil(mine.length / rounds);
    const remedies = [...new Set(mine.map((it) => it.remedy))];
    const roundMs = Math.min(
      ...remedies.map((r) => expectedSlowest(remedyRanges(r, input.behaviour), perRound)),
    );
    out.push({ wave: wave.name, instances: mine.length, rounds, roundMs, bakeMs: wave.bake });
  }
  return out;
}

/** Rounds one after another from `start`, each starting inside a window, with the bake between rounds. */
function roundsEnd(waves: readonly WaveBound[], config: Config, start: number, anytime: boolean): number {
  const horizon = start + 400 * DAY;
  // Items the planner placed outside every window (none before their deadline) may go at any time.
  const windows = anytime ? [] : config.windows;
  const calendar = new WindowCalendar(windows, start, horizon);
  let t = start;
  let end = start;
  for (const w of waves) {
    for (let r = 0; r < w.rounds; r++) {
      t = calendar.nextOpen(t);
      end = t + w.roundMs;
      t = end + w.bakeMs;
    }
  }
  return end;
}

function apiCallBounds(input: LowerBoundInput, waves: readonly WaveBound[]): Record<string, number> {
  const items = input.plan.batches.flatMap((b) => b.items);
  const count = (r: ActiveRemedy) => items.filter((it) => it.remedy === r).length;
  const perAsg = new Map<string, number>();
  for (const it of items) {
    const asg = input.asgOf.get(it.instanceId);
    if (asg !== undefined && it.remedy !== 'reschedule') perAsg.set(asg, (perAsg.get(asg) ?? 0) + 1);
  }
  const standby = [...perAsg.values()].reduce((n, k) => n + Math.ceil(k / STANDBY_BATCH), 0);
  const poll = input.config.verification.pollInterval;
  const verify = waves.reduce(
    (n, w) =>
      n +
      w.rounds * Math.ceil(Math.ceil(w.instances / w.rounds) / DESCRIBE_BATCH) * Math.ceil(w.roundMs / poll),
    0,
  );
  const stopStarts = count('stop-start');
  const calls: Record<string, number> = {
    DescribeInstanceStatus: Math.ceil(input.scheduledInstances / POLL_PAGE) + verify,
    DescribeInstances: Math.ceil(input.fleetSize / POLL_PAGE),
    RebootInstances: Math.ceil(count('reboot-migrate') / ACTION_BATCH),
    StopInstances: Math.ceil(stopStarts / ACTION_BATCH),
    StartInstances: Math.ceil(stopStarts / ACTION_BATCH),
    ModifyInstanceEventStartTime: count('reschedule'),
    EnterStandby: standby,
    ExitStandby: standby,
  };
  return Object.fromEntries(Object.entries(calls).filter(([, n]) => n > 0));
}

export function lowerBounds(input: LowerBoundInput): LowerBounds {
  const waves = waveBounds(input);
  const anytime = input.plan.batches.some((b) =>
    b.items.some((it) => it.reason?.startsWith('outside-window')),
  );
  const byRounds = roundsEnd(waves, input.config, input.start, anytime) - input.start;
  const starts = input.plan.batches.reduce(
    (n, b) => n + b.items.filter((it) => it.remedy === 'stop-start').length,
    0,
  );
  const bucket = EC2_BUCKETS.startResource;
  const quickestStart = input.behaviour.startDuration[0] + input.behaviour.statusCheckDelay[0];
  const byStartBucket =
    starts === 0
      ? 0
      : (Math.max(0, starts - bucket.capacity) / bucket.refillPerSecond) * 1000 + quickestStart;
  // AWS takes no new start time sooner than 60 minutes ahead (AWS-FACTS §3): a rescheduled event's outage
  // ends no earlier than that, plus the quickest reboot.
  const rescheduled = input.plan.batches.some((bt) => bt.items.some((it) => it.remedy === 'reschedule'));
  const quickestReboot = input.behaviour.rebootDuration[0] + input.behaviour.statusCheckDelay[0];
  const byRescheduleLead = rescheduled ? RESCHEDULE_MIN_LEAD + quickestReboot : 0;
  const apiCallsByAction = apiCallBounds(input, waves);
  return {
    makespanSeconds: Math.round(Math.max(byRounds, byStartBucket, byRescheduleLead) / 1000),
    byRoundsSeconds: Math.round(byRounds / 1000),
    byStartBucketSeconds: Math.round(byStartBucket / 1000),
    byRescheduleLeadSeconds: Math.round(byRescheduleLead / 1000),
    waves,
    apiCalls: Object.values(apiCallsByAction).reduce((n, k) => n + k, 0),
    apiCallsByAction,
  };
}
