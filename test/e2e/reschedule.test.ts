/**
 * (f) A reschedule: ModifyInstanceEventStartTime is called just in time (as late as AWS's rules allow with
 * the margin), and AWS's rules hold at the server (the launcher refuses a start < 60 min ahead, past the
 * deadline, or for an event starting within 5 minutes).
 */
import {
  RESCHEDULE_CALL_MARGIN,
  RESCHEDULE_FREEZE,
  RESCHEDULE_MIN_LEAD,
} from '../../lambda/core/reschedule-timing';
import { delivered } from '../aws/moto/handlers';
import { useMoto } from '../aws/moto/server';
import {
  awsPerformsDueEvents,
  baseConfig,
  DAY,
  poll,
  schedule,
  standalone,
  type World,
  world,
} from './fixture';

const MINUTE = 60_000;

describe('e2e (f): a reschedule into the maintenance window, just in time', () => {
  const moto = useMoto();
  let w: World;
  let ids: string[];
  let original = 0;

  beforeAll(async () => {
    const config = baseConfig({
      remedies: { 'instance-reboot': ['reschedule'] },
      windows: [
        {
          days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'],
          start: '02:00',
          end: '04:00',
          timeZone: 'UTC',
        },
      ],
    });
    // AWS reboots the instances at the new time, in the window; the rollout then sees the events completed.
    w = await world(moto.server(), config, { beforeStep: () => awsPerformsDueEvents(w) });
    ids = await standalone(w, 2);
    original = w.time.now() + 3 * DAY;
    await schedule(w, ids, 'instance-reboot');
    await moto.server().resetRequests();
    await poll();
    await w.sfn.drain();
  }, 300_000);

  it('moves each event once, into the window, before its deadline, with AWS accepting it', async () => {
    const calls = (await moto.server().requests()).filter((r) => r.action === 'ModifyInstanceEventStartTime');
    expect(calls.map((c) => c.params?.InstanceId).sort()).toEqual([...ids].sort());
    const events = await (await fetch(`${moto.server().endpoint}/moto-api/forestall/events`)).json();
    for (const c of calls) {
      const [event] =
        (events as Record<string, { NotBefore: string; NotBeforeDeadline: string }[]>)[
          String(c.params?.InstanceId)
        ] ?? [];
      const moved = Date.parse(String(event?.NotBefore));
      expect(moved).toBe(Date.parse(String(c.params?.NotBefore)));
      expect(new Date(moved).getUTCHours()).toBeGreaterThanOrEqual(2);
      expect(new Date(moved).getUTCHours()).toBeLessThan(4);
      expect(moved).toBeLessThanOrEqual(Date.parse(String(event?.NotBeforeDeadline)));
      // Just in time: at the latest moment both of AWS's limits allow with the margin, not earlier.
      const at = Date.parse(String(c.at));
      const callAt = Math.min(
        original - RESCHEDULE_FREEZE - RESCHEDULE_CALL_MARGIN,
        moved - RESCHEDULE_MIN_LEAD - RESCHEDULE_CALL_MARGIN,
      );
      expect(at).toBeGreaterThanOrEqual(callAt);
      expect(at - callAt).toBeLessThan(5 * MINUTE);
      expect(moved - at).toBeGreaterThanOrEqual(RESCHEDULE_MIN_LEAD);
    }
  });

  it('sees AWS perform them in the window and completes the rollout', async () => {
    const events = await delivered(w.bus);
    const types = events.map((e) => e['detail-type']);
    expect(types).toContain('Rollout Completed');
    expect(types).not.toContain('Rollout Halted');
    expect(types).not.toContain('Instance Remedy Failed');
    expect(
      events
        .filter((e) => e['detail-type'] === 'Batch Completed')
        .reduce((n, e) => n + Number(e.detail.verified), 0),
    ).toBe(2);
    expect(w.sfn.runs.every((r) => r.status === 'succeeded')).toBe(true);
  });
});
