/**
 * What an AWS error means for a mutating call (AWS-FACTS §5, §6):
 * - `throttle`: nothing happened; retry later (RequestLimitExceeded and the SDK's other throttling codes,
 *   Auto Scaling's `Throttling`, and its `ResourceContention`: another update to the group is pending);
 * - `client`: AWS refused the request (a 4xx naming a bad id, stop protection, a wrong state): nothing
 *   happened, and a batch can be retried id by id to find the culprit;
 * - `ambiguous`: a timeout, a 5xx or a lost connection: the call may have taken effect. Never re-sent.
 */
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
