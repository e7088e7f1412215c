/**
 * What operators do today, as drivers of the simulated Region, for the benchmark (bench/bench.ts). None of
 * them is Forestall's logic, and none calls it: each acts on the notices its own way.
 * - `aws-default`: nobody acts; AWS performs every event on its own schedule.
 * - `on-receipt`: a Lambda per notice acts at once (a simple Health-event handler): RebootInstances for the
 *   reboot codes, StopInstances then, on the instance's `stopped` state-change event, StartInstances for the
 *   others. Each invocation makes the SDK's 3 attempts; Lambda's asynchronous retries add 2 invocations.
 * - `fixed-rate`: N instances at a time, a stop after M errors (SSM Automation's MaxConcurrency/MaxErrors
 *   running AWS-RestartEC2Instance): stop, wait for `stopped`, start, wait for running with checks `ok`;
 *   blind to deadlines and groups (instance-id order).
 * Mutating calls go through the simulated EC2 API (token buckets, throttling). Waits are observed free, as
 * EventBridge state-change events are; `polls` counts the DescribeInstances calls a waiting runbook makes.
 */
import { MinHeap } from '../lambda/core/heap';
import { HOUR, MINUTE, SECOND } from '../lambda/core/time';
import { SimApiError, type SimEc2 } from './ec2';
import type { Rng } from './rng';

export const BASELINES = ['aws-default', 'on-receipt', 'fixed-rate'] as const;
export type Baseline = (typeof BASELINES)[number];

/** One instance a baseline acts on, with the active events it saw on it. */
export interface BaselineTask {
  readonly instanceId: string;
  readonly eventIds: readonly string[];
  readonly codes: readonly string[];
}

export interface FixedRateOptions {
  /** MaxConcurrency: instances in flight at once. */
  readonly concurrency: number;
  /** MaxErrors: the run stops starting instances once more than this many failed. */
  readonly maxErrors: number;
  /** How long the runbook waits for running + checks ok before it counts an error. Default 20 min. */
  readonly timeout?: number;
}

export interface BaselineRun {
  /** Event ids on the instances whose action EC2 accepted: the operator believes them handled. */
  readonly actedOn: ReadonlySet<string>;
  /** Instances whose action failed (calls refused after every retry, refused outright, or a wait timed out). */
  readonly errors: number;
  /** fixed-rate: it stopped after more than MaxErrors errors. */
  readonly halted: boolean;
  /** DescribeInstances calls the runbook's waits make (counted here; observed free in the simulator). */
  readonly polls: number;
}

/** SDK v3 standard mode: 3 attempts; throttling backs off up to 0.5 s × 2^attempt, full jitter. */
const SDK_ATTEMPTS = 3;
/** Lambda's asynchronous invocation retries: 2 more invocations, about 1 and 2 minutes apart. */
const LAMBDA_RETRY_DELAYS = [MINUTE, 2 * MINUTE] as const;
/** SSM's wait steps and the SDK's waiters poll every 15 s. */
const WAITER_POLL = 15 * SECOND;

/** A timer queue interleaved with the simulated Region's own timers. */
class Loop {
  private seq = 0;
  private readonly heap = new MinHeap<{ at: number; seq: number; run: () => void }>(
    (a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq),
  );

  constructor(readonly world: SimEc2) {}

  at(t: number, run: () => void): void {
    this.heap.push({ at: Math.max(t, this.world.now), seq: this.seq++, run });
  }

  drain(): void {
    for (let next = this.heap.pop(); next; next = this.heap.pop()) {
      this.world.advanceTo(next.at);
      next.run();
    }
  }
}

const isThrottle = (e: unknown) => e instanceof SimApiError && e.code === 'RequestLimitExceeded';

/** One SDK call with the SDK's retries on throttling; `done(false)` when every attempt failed or EC2 refused. */
function sdkCall(loop: Loop, rng: Rng, call: () => void, done: (ok: boolean) => void, attempt = 0): void {
  try {
    call();
    done(true);
  } catch (e) {
    if (!(e instanceof SimApiError)) throw e;
    if (!isThrottle(e) || attempt + 1 >= SDK_ATTEMPTS) {
      done(false);
      return;
    }
    const backoff = rng.next() * Math.min(20 * SECOND, 500 * 2 ** attempt);
    loop.at(loop.world.now + backoff, () => sdkCall(loop, rng, call, done, attempt + 1));
  }
}

/** One asynchronous Lambda invocation making `call`, retried as Lambda retries a failed invocation. */
function lambdaCall(loop: Loop, rng: Rng, call: () => void, done: (ok: boolean) => void, retry = 0): void {
  sdkCall(loop, rng, call, (ok) => {
    const delay = LAMBDA_RETRY_DELAYS[retry];
    if (ok || delay === undefined) {
      done(ok);
      return;
    }
    loop.at(loop.world.now + delay, () => lambdaCall(loop, rng, call, done, retry + 1));
  });
}

/** Calls `then` once the instance is in `state` (and, with `healthy`, its checks ok), polling every 15 s. */
function waitFor(
  loop: Loop,
  id: string,
  want: { state: string; healthy?: boolean },
  until: number,
  then: (ok: boolean, polls: number) => void,
  polls = 0,
): void {
  const seen = loop.world.observe(id);
  const reached = seen?.state === want.state && (!want.healthy || seen.check === 'ok');
  const gone = seen === undefined || seen.state === 'terminated' || seen.state === 'shutting-down';
  if (reached || gone || loop.world.now >= until) {
    then(reached, polls + 1);
    return;
  }
  loop.at(loop.world.now + WAITER_POLL, () => waitFor(loop, id, want, until, then, polls + 1));
}

const REBOOT_CODES = new Set(['system-reboot', 'instance-reboot']);

export function runOnReceipt(world: SimEc2, tasks: readonly BaselineTask[], rng: Rng): BaselineRun {
  const loop = new Loop(world);
  const actedOn = new Set<string>();
  let errors = 0;
  const accepted = (t: BaselineTask) => {
    for (const e of t.eventIds) actedOn.add(e);
  };
  for (const t of tasks) {
    const ids = [t.instanceId];
    if (t.codes.every((c) => REBOOT_CODES.has(c))) {
      lambdaCall(
        loop,
        rng,
        () => world.rebootInstances(ids),
        (ok) => (ok ? accepted(t) : errors++),
      );
      continue;
    }
    lambdaCall(
      loop,
      rng,
      () => world.stopInstances(ids),
      (stopped) => {
        if (!stopped) {
          errors++;
          return;
        }
        // The `stopped` state-change event invokes the Lambda again, which starts it.
        // No event comes for an instance that never stops (Auto Scaling replaced it): give up after an hour.
        waitFor(loop, t.instanceId, { state: 'stopped' }, world.now + HOUR, (reached) => {
          if (!reached) {
            errors++;
            return;
          }
          lambdaCall(
            loop,
            rng,
            () => world.startInstances(ids),
            (ok) => (ok ? accepted(t) : errors++),
          );
        });
      },
    );
  }
  loop.drain();
  return { actedOn, errors, halted: false, polls: 0 };
}

export function runFixedRate(
  world: SimEc2,
  tasks: readonly BaselineTask[],
  rng: Rng,
  opts: FixedRateOptions,
): BaselineRun {
  const loop = new Loop(world);
  const queue = [...tasks].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
  const timeout = opts.timeout ?? 20 * MINUTE;
  const actedOn = new Set<string>();
  let errors = 0;
  let polls = 0;
  let next = 0;
  const finish = (t: BaselineTask, ok: boolean) => {
    if (ok) for (const e of t.eventIds) actedOn.add(e);
    else errors++;
    startNext();
  };
  const restart = (t: BaselineTask) => {
    const ids = [t.instanceId];
    sdkCall(
      loop,
      rng,
      () => world.stopInstances(ids),
      (ok) => {
        if (!ok) {
          finish(t, false);
          return;
        }
        waitFor(loop, t.instanceId, { state: 'stopped' }, world.now + timeout, (stopped, n) => {
          polls += n;
          if (!stopped) {
            finish(t, false);
            return;
          }
          sdkCall(
            loop,
            rng,
            () => world.startInstances(ids),
            (started) => {
              if (!started) {
                finish(t, false);
                return;
              }
              const until = world.now + timeout;
              waitFor(loop, t.instanceId, { state: 'running', healthy: true }, until, (up, m) => {
                polls += m;
                finish(t, up);
              });
            },
          );
        });
      },
    );
  };
  const startNext = () => {
    if (errors > opts.maxErrors) return;
    const t = queue[next++];
    if (t) restart(t);
  };
  for (let k = 0; k < opts.concurrency; k++) startNext();
  loop.drain();
  return { actedOn, errors, halted: errors > opts.maxErrors, polls };
}
