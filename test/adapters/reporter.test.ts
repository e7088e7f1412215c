/**
 * Partial PutEvents failures, which moto never returns (aws-sdk-client-mock with the documented response
 * shape): only entries that failed with InternalFailure or ThrottlingException are sent again.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeReporter, entrySize, packCalls } from '../../lambda/aws/reporter';

const eb = mockClient(EventBridgeClient);
const events = ['a', 'b', 'c', 'd'].map((id) => ({ detailType: 'Notice Discovered', detail: { id } }));
const sentIds = (call: number) =>
  ((eb.commandCalls(PutEventsCommand)[call]?.args[0].input.Entries ?? []) as PutEventsRequestEntry[]).map(
    (e) => JSON.parse(e.Detail ?? '{}').id,
  );

beforeEach(() => eb.reset());

describe('EventBridgeReporter partial failures', () => {
  it('resends only the failed retryable entries, and reports the others failed', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 3,
        Entries: [
          { EventId: '1' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
          { ErrorCode: 'AccessDeniedException', ErrorMessage: 'no' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' },
        ],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: '2' }, { EventId: '4' }] });
    const reporter = new EventBridgeReporter(new EventBridgeClient({ region: 'us-east-1' }), 'forestall', {
      sleep: async () => {},
    });
    const failed = await reporter.publish(events);
    expect(sentIds(0)).toEqual(['a', 'b', 'c', 'd']);
    expect(sentIds(1)).toEqual(['b', 'd']);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(failed).toEqual([{ event: events[2], error: 'AccessDeniedException: no' }]);
  });

  it('gives up on an entry that keeps failing after maxAttempts sends', async () => {
    eb.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }],
    });
    const reporter = new EventBridgeReporter(new EventBridgeClient({ region: 'us-east-1' }), 'forestall', {
      sleep: async () => {},
      maxAttempts: 3,
    });
    await expect(reporter.emit(events[0] as (typeof events)[number])).rejects.toThrow(
      'Notice Discovered not delivered: InternalFailure: x',
    );
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(3);
  });
});

describe('packCalls and entrySize', () => {
  it('counts Time as 14 bytes and strings in UTF-8', () => {
    expect(entrySize({ Source: 'forestall', DetailType: 'X', Detail: '{"a":"é"}', Time: new Date() })).toBe(
      14 + 9 + 1 + 10,
    );
  });

  it('cuts at 10 entries and before 256 KB', () => {
    const sizes = (n: number, size: number) => Array.from({ length: n }, () => ({ size }));
    expect(packCalls(sizes(25, 10)).map((c) => c.length)).toEqual([10, 10, 5]);
    expect(packCalls(sizes(5, 100_000)).map((c) => c.length)).toEqual([2, 2, 1]);
    expect(packCalls(sizes(2, 131_072)).map((c) => c.length)).toEqual([1, 1]);
  });
});
