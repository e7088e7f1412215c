/** How a mutating call's error is read: throttled (retry), refused (split), or ambiguous (never re-sent). */
import { ResourceContentionFault } from '@aws-sdk/client-auto-scaling';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { classifyError, describeError } from '../../lambda/aws/errors';

const ec2Error = (name: string, status: number, fault: 'client' | 'server') =>
  new EC2ServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    message: `${name} happened`,
  });

describe('classifyError', () => {
  it.each([
    ['RequestLimitExceeded', 400, 'client', 'throttle'],
    ['SomethingNew', 429, 'client', 'throttle'],
    ['OperationNotPermitted', 400, 'client', 'client'],
    ['InvalidInstanceID.NotFound', 400, 'client', 'client'],
    ['RequestTimeout', 408, 'client', 'ambiguous'],
    ['InternalError', 500, 'server', 'ambiguous'],
    ['Unavailable', 503, 'server', 'ambiguous'],
  ] as const)('%s (HTTP %d) is %s', (name, status, fault, kind) => {
    expect(classifyError(ec2Error(name, status, fault))).toBe(
      kind === 'client' && fault === 'client' ? 'client' : kind,
    );
  });

  it('Auto Scaling: Throttling and ResourceContention (HTTP 500, nothing happened) are retried; ValidationError splits', () => {
    const contention = new ResourceContentionFault({
      $metadata: { httpStatusCode: 500 },
      message: 'pending',
    });
    expect(classifyError(contention)).toBe('throttle');
    expect(classifyError(ec2Error('ResourceContention', 500, 'server'))).toBe('throttle');
    expect(classifyError(ec2Error('Throttling', 400, 'client'))).toBe('throttle');
    expect(classifyError(ec2Error('ValidationError', 400, 'client'))).toBe('client');
    expect(classifyError(ec2Error('InternalFailure', 500, 'server'))).toBe('ambiguous');
  });

  it('a timeout or a lost connection (no HTTP status) is ambiguous', () => {
    const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    expect(classifyError(timeout)).toBe('ambiguous');
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ambiguous');
  });

  it('describes an error as code and message', () => {
    expect(describeError(ec2Error('OperationNotPermitted', 400, 'client'))).toBe(
      'OperationNotPermitted: OperationNotPermitted happened',
    );
  });
});
