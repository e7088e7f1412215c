/**
 * (a) Three waves over ASG members and standalone instances, from the poll to the end of the rollout:
 * every event cleared, ASG members in Standby around their stop-start, the events on the queue in order;
 * every execution's history counted and checked against the model the 100,000-notice bound uses.
 */

import { delivered } from '../aws/moto/handlers';
import { useMoto } from '../aws/moto/server';
import {
  baseConfig,
  group,
  idsIn,
  lifecycles,
  openEvents,
  poll,
  schedule,
  standalone,
  type World,
  world,
} from './fixture';
import { modelled } from './harness';

describe('e2e (a): three waves over ASG members and standalone instances', () => {
  const moto = useMoto();
  let w: World;
  let web: string[];
  let api: string[];
  let solo: string[];
  let canary: string[];

  beforeAll(async () => {
    w = await world(moto.server(), baseConfig());
    web = await group(w, 'web', 4);
    api = await group(w, 'api', 3, { 'forestall:wave': 'early' });
    canary = await standalone(w, 1, { 'forestall:wave': 'canary' });
    solo = await standalone(w, 3);
    await schedule(w, [...web, ...api], 'instance-stop');
    await schedule(w, [...canary, ...solo], 'system-reboot');
    await moto.server().resetRequests();
    const polled = await poll();
    expect(polled['us-east-1']).toMatchObject({ discovered: 11, rollout: { started: expect.any(String) } });
    await w.sfn.drain();
  }, 300_000);

  const all = () => [...web, ...api, ...canary, ...solo];

  it('clears every event and ends with every execution succeeded', async () => {
    expect(w.sfn.runs.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(await openEvents(w, all())).toEqual(new Map());
    expect(w.sfn.runs.length).toBeGreaterThanOrEqual(3);
    expect(w.sfn.runs.filter((r) => r.status !== 'succeeded')).toEqual([]);
  });

  it('puts each ASG member in Standby around its stop-start, and back InService', async () => {
    const log = await moto.server().requests();
    const at = (action: string, id: string) =>
      log.findIndex((r) => r.action === action && idsIn(r).includes(id));
    for (const id of [...web, ...api]) {
      const enter = at('EnterStandby', id);
      const stop = at('StopInstances', id);
      const start = at('StartInstances', id);
      const exit = at('ExitStandby', id);
      expect({ id, ordered: enter >= 0 && enter < stop && stop < start && start < exit }).toEqual({
        id,
        ordered: true,
      });
    }
    for (const id of [...canary, ...solo]) expect(at('EnterStandby', id)).toBe(-1);
    expect(Object.values(await lifecycles(['web', 'api']))).toEqual(Array(7).fill('InService'));
  });

  it('reports on the bus in order: plan, each batch started then completed, in wave order, then the end', async () => {
    const events = await delivered(w.bus);
    const types = events.map((e) => e['detail-type']);
    const rolloutEvents = events.filter((e) => /^(Batch|Rollout)/.test(e['detail-type']));
    const sequence = rolloutEvents.map((e) => `${e['detail-type']}${e.detail.batchIndex ?? ''}`);
    expect(sequence[0]).toBe('Rollout Planned');
    expect(sequence[sequence.length - 1]).toBe('Rollout Completed');
    const batches = rolloutEvents
      .filter((e) => e['detail-type'] === 'Batch Started')
      .map((e) => e.detail.batchIndex);
    expect(batches).toEqual([...batches].sort((a, b) => Number(a) - Number(b)));
    for (const b of batches)
      expect(sequence.indexOf(`Batch Completed${b}`)).toBeGreaterThan(sequence.indexOf(`Batch Started${b}`));
    const waves = rolloutEvents.filter((e) => e['detail-type'] === 'Batch Started').map((e) => e.detail.wave);
    expect(waves[0]).toBe('canary');
    expect(waves.lastIndexOf('early')).toBeLessThan(waves.indexOf('main'));
    expect(types.filter((t) => t === 'Notice Discovered')).toHaveLength(11);
  });

  it('keeps each execution short, one per batch, its history events as the model counts them', () => {
    for (const r of w.sfn.runs)
      expect({ name: r.name, events: r.historyEvents }).toEqual({ name: r.name, events: modelled(r) });
    const largest = Math.max(...w.sfn.runs.map((r) => r.historyEvents));
    process.stdout.write(
      `e2e (a): ${w.sfn.runs.length} executions, history events ${w.sfn.runs.map((r) => r.historyEvents).join(', ')} (largest ${largest})\n`,
    );
    expect(largest).toBeLessThan(6_000);
  });

  it('measures what a remedied instance costs: transitions, Lambda time, DynamoDB and EventBridge requests', async () => {
    const log = await moto.server().requests();
    const by = (service: string) => log.filter((r) => r.service === service).length;
    const remedied = all().length;
    const transitions = w.sfn.runs.reduce((n, r) => n + r.transitions, 0);
    const figures = {
      remedied,
      executions: w.sfn.runs.length,
      transitions,
      lambdaInvocations: w.sfn.lambda.invocations,
      lambdaSeconds: Math.round(w.sfn.lambda.ms) / 1000,
      dynamodbRequests: by('dynamodb'),
      eventbridgeRequests: by('events'),
      ec2Requests: by('ec2'),
    };
    process.stdout.write(`e2e (a) cost figures: ${JSON.stringify(figures)}\n`);
    expect(transitions).toBeGreaterThan(0);
    expect(figures.dynamodbRequests).toBeGreaterThan(0);
  });
});
