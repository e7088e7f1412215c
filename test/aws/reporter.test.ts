/** The EventBridge reporter against moto: PutEvents calls of ≤10 entries and <256 KB, delivered once each. */
import { createClients } from '../../lambda/aws/clients';
import { EventBridgeReporter, MAX_BYTES } from '../../lambda/aws/reporter';
import { busToQueue } from './moto/aws-resources';
import { useMoto } from './moto/server';

const moto = useMoto();

describe('EventBridgeReporter on a bus with a rule and an SQS target', () => {
  it('sends 25 events in 3 calls and each arrives once', async () => {
    const bus = await busToQueue('forestall');
    const reporter = new EventBridgeReporter(createClients('us-east-1').events, bus.busName);
    await moto.server().resetRequests();
    const events = Array.from({ length: 25 }, (_, i) => ({
      detailType: 'Notice Discovered',
      detail: { n: i },
    }));
    expect(await reporter.publish(events)).toEqual([]);
    expect(await moto.server().count('PutEvents')).toBe(3);
    const got = await bus.drain();
    expect(got.map((e) => e.detail.n).sort((a, b) => Number(a) - Number(b))).toEqual(
      events.map((e) => e.detail.n),
    );
    expect(got.every((e) => e.source === 'forestall' && e['detail-type'] === 'Notice Discovered')).toBe(true);
  });

  it('keeps each call under 256 KB and refuses an entry that alone is too large', async () => {
    const bus = await busToQueue('sizes');
    const reporter = new EventBridgeReporter(createClients('us-east-1').events, bus.busName);
    await moto.server().resetRequests();
    const big = (n: number) => ({ detailType: 'Rollout Planned', detail: { n, pad: 'x'.repeat(100_000) } });
    const failed = await reporter.publish([
      big(1),
      big(2),
      big(3),
      big(4),
      big(5),
      { detailType: 'X', detail: { pad: 'y'.repeat(MAX_BYTES) } },
    ]);
    expect(failed.map((f) => f.error)).toEqual([expect.stringMatching(/^EntryTooLarge/)]);
    expect(await moto.server().count('PutEvents')).toBe(3);
    expect(await bus.drain()).toHaveLength(5);
  });
});
