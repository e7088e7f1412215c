/**
 * What an AWS error means for a mutating call (AWS-FACTS §5, §6):
 * - `throttle`: nothing happened; retry later (RequestLimitExceeded and the SDK's other throttling codes,
 *   Auto Scaling's `Throttling`, and its `ResourceContention`: another update to the group is pending);
 * - `client`: AWS refused the request (a 4xx naming a bad id, stop protection, a wrong state): nothing
 *   happened, and a batch can be retried id by id to find the culprit;
 * - `ambiguous`: a timeout, a 5xx or a lost connection: the call may have taken effect. Never re-sent.
 */
import type { CallEnv, RetryPolicy } from '../core/batch';
export type ErrorKind = 'throttle' | 'client' | 'ambiguous';

const THROTTLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
]);

/**
 * Auto Scaling refuses a call while another update to the group is pending (AWS-FACTS §9): HTTP 500, yet
 * nothing happened and the same call succeeds later. The SDK names the wire code `ResourceContention`
 * `ResourceContentionFault`.
 */
const CONTENTION_CODES = new Set(['ResourceContention', 'ResourceContentionFault']);

interface SdkErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function shape(e: unknown): SdkErrorShape {
  return typeof e === 'object' && e !== null ? (e as SdkErrorShape) : {};
}

export function classifyError(e: unknown): ErrorKind {
  const { name, $fault, $metadata } = shape(e);
  const status = $metadata?.httpStatusCode;
  if (name !== undefined && (THROTTLE_CODES.has(name) || CONTENTION_CODES.has(name))) return 'throttle';
  if (status === 429) return 'throttle';
  if ($fault === 'client' && status !== undefined && status >= 400 && status < 500 && status !== 408)
    return 'client';
  return 'ambiguous';
}

/** `Code: message`, as the ActionOutcome's `error`. */
export function describeError(e: unknown): string {
  const { name, message } = shape(e);
  if (name === undefined) return String(e);
  return message ? `${name}: ${message}` : name;
}

/** The AWS error code alone (`InvalidInstanceID.NotFound`), or undefined for a non-AWS error. */
export function errorCode(e: unknown): string | undefined {
  return shape(e).name;
}

/** How an adapter's calls are retried and classified: the CallEnv options both AWS adapters take. */
export interface CallEnvOptions {
  readonly retry?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Called for each throttled call before it is retried (or given up). */
  readonly onThrottle?: () => void;
}

/** The CallEnv of an AWS adapter: AWS's error classes, real sleeps, jittered by Math.random by default. */
export function awsCallEnv(options: CallEnvOptions): CallEnv {
  return {
    sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    random: options.random ?? Math.random,
    isThrottle: (e) => {
      const throttled = classifyError(e) === 'throttle';
      if (throttled) options.onThrottle?.();
      return throttled;
    },
    isAmbiguous: (e) => classifyError(e) === 'ambiguous',
    describeError,
    ...(options.retry ? { retry: options.retry } : {}),
  };
}
