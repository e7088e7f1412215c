/**
 * Calling a batched EC2 action safely, shared by the AWS adapter and the simulator's:
 * - throttling is retried with capped exponential backoff and full jitter (as the SDK's standard mode);
 * - when retries run out, every id comes back `retryable` (the runner tries again on its next pass);
 * - an ambiguous error (timeout, 5xx, lost reply: the call may have taken effect) is never retried: every
 *   id comes back `ambiguous`, and the rollout re-reads EC2 (a reboot AWS accepted is never sent twice);
 * - a definite client error (4xx: nothing happened) fails the whole call (one bad id spoils a batch,
 *   AWS-FACTS §5), so the ids are retried one by one to pin the error on the instance that caused it.
 */
import type { ActionOutcome } from './ports';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** SDK v3 standard mode's throttling figures (AWS-FACTS §6), with more attempts than its default 3. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 20_000 };

export interface CallEnv {
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly isThrottle: (e: unknown) => boolean;
  /** True when the call may have taken effect (timeout, 5xx, network): never retried or split. */
  readonly isAmbiguous: (e: unknown) => boolean;
  readonly describeError: (e: unknown) => string;
  readonly retry?: RetryPolicy;
}

export class ThrottledError extends Error {
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`throttled after ${attempts} attempts`, { cause });
    this.name = 'ThrottledError';
  }
}

/** Runs `call`, retrying throttling only. Throws ThrottledError when the attempts run out. */
export async function withThrottleRetry<T>(call: () => Promise<T> | T, env: CallEnv): Promise<T> {
  const policy = env.retry ?? DEFAULT_RETRY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!env.isThrottle(e)) throw e;
      if (attempt >= policy.maxAttempts) throw new ThrottledError(attempt, e);
      await env.sleep(env.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
    }
  }
}

/** One batched mutating call → one outcome per id. */
export async function callIsolating(
  ids: readonly string[],
  call: (ids: readonly string[]) => Promise<void> | void,
  env: CallEnv,
): Promise<ActionOutcome[]> {
  try {
    await withThrottleRetry(() => call(ids), env);
    return ids.map((instanceId) => ({ instanceId, ok: true }));
  } catch (e) {
    if (e instanceof ThrottledError)
      return ids.map((instanceId) => ({
        instanceId,
        ok: false,
        retryable: true,
        error: 'RequestLimitExceeded',
      }));
    if (env.isAmbiguous(e))
      return ids.map((instanceId) => ({
        instanceId,
        ok: false,
        ambiguous: true,
        error: env.describeError(e),
      }));
    if (ids.length === 1) return [{ instanceId: ids[0] as string, ok: false, error: env.describeError(e) }];
    const out: ActionOutcome[] = [];
    for (const id of ids) out.push(...(await callIsolating([id], call, env)));
    return out;
  }
}

/** Follows NextToken to the last page (each page fetched by the caller, retries included); pages in order. */
export async function allPages<P extends { NextToken?: string }>(
  fetch: (token: string | undefined) => Promise<P>,
): Promise<P[]> {
  const pages: P[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    pages.push(page);
    token = page.NextToken;
  } while (token !== undefined);
  return pages;
}
