/** Pins each EC2 semantic the simulator promises (AWS-FACTS.md), through its AWS-shaped API. */
import { parseInstanceStatuses } from '../../lambda/core/notice';
import {
  DEFAULT_BEHAVIOUR,
  type SimBehaviour,
  SimEc2,
  type SimEventSpec,
  type SimInstanceSpec,
} from '../../sim/ec2';
import { Rng } from '../../sim/rng';
import { instance as regionInstance } from './region';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

/** One instance with a fixed id in us-east-1a (region.ts builds the fleets). */
function instance(over: Partial<SimInstanceSpec> = {}): SimInstanceSpec {
  return regionInstance(0, { instanceId: 'i-0000000000000000a', az: 'us-east-1a', ...over });
}

function event(code: string, over: Partial<SimEventSpec> = {}): SimEventSpec {
  return {
    instanceId: 'i-0000000000000000a',
    eventId: `instance-event-${code}`,
    code,
    notBefore: T0 + 48 * HOUR,
    notAfter: T0 + 50 * HOUR,
    ...over,
  };
}

/** Deterministic timings (fixed durations) and no throttling unless a test asks for it. */
const FIXED: SimBehaviour = {
  ...DEFAULT_BEHAVIOUR,
  throttling: false,
  rebootDuration: [2 * MIN, 2 * MIN],
  stopDuration: [1 * MIN, 1 * MIN],
  startDuration: [1 * MIN, 1 * MIN],
  statusCheckDelay: [3 * MIN, 3 * MIN],
  maintenanceOutage: [2 * MIN, 2 * MIN],
};

function world(
  instances: SimInstanceSpec[],
  events: SimEventSpec[],
  behaviour: Partial<SimBehaviour> = {},
  seed = 1,
): SimEc2 {
  return new SimEc2(T0, instances, events, { ...FIXED, ...behaviour }, new Rng(seed));
}

function status(w: SimEc2, id = 'i-0000000000000000a') {
  return parseInstanceStatuses(w.describeInstanceStatus([id]), 'us-east-1').statuses[0];
}

function eventState(w: SimEc2, eventId: string): string {
  const n = status(w)?.notices.find((x) => x.eventId === eventId);
  return n ? n.state : 'gone';
}

describe('SimEc2: AWS performs due events at NotBefore when nobody acted', () => {
  it('reboots in place at NotBefore, marks the event [Completed], and the checks reach ok after the delay', () => {
    const w = world([instance()], [event('system-reboot')]);
    w.advanceTo(T0 + 48 * HOUR - 1);
    expect(eventState(w, 'instance-event-system-reboot')).toBe('active');
    expect(status(w)?.instanceStatus).toBe('ok');
    w.advanceTo(T0 + 48 * HOUR);
    expect(eventState(w, 'instance-event-system-reboot')).toBe('completed');
    expect(status(w)?.instanceStatus).toBe('initializing');
    w.advanceTo(T0 + 48 * HOUR + 5 * MIN); // 2 min reboot + 3 min checks
    expect(status(w)?.instanceStatus).toBe('ok');
    expect(w.outagesUntil(T0 + 60 * HOUR)).toEqual([
      { instanceId: 'i-0000000000000000a', from: T0 + 48 * HOUR, to: T0 + 48 * HOUR + 5 * MIN, cause: 'aws' },
    ]);
    expect(w.eventResolutions()[0]?.resolvedBy).toBe('aws');
  });

  it('acts anywhere in [NotBefore, NotAfter] when awsStartSpread is 1', () => {
    const ids = Array.from({ length: 60 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    const w = world(
      ids.map((instanceId) => instance({ instanceId })),
      ids.map((instanceId) => event('system-reboot', { instanceId, eventId: `e-${instanceId}` })),
      { awsStartSpread: 1 },
    );
    w.advanceTo(T0 + 60 * HOUR);
    const starts = w.outagesUntil(T0 + 60 * HOUR).map((o) => o.from - (T0 + 48 * HOUR));
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...starts)).toBeLessThanOrEqual(2 * HOUR);
    expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThan(HOUR);
  });

  it('stops an EBS instance for instance-stop and leaves it stopped (down until someone starts it)', () => {
    const w = world([instance()], [event('instance-stop')]);
    w.advanceTo(T0 + 49 * HOUR);
    expect(status(w)?.state).toBe('stopped');
    expect(w.outagesUntil(T0 + 72 * HOUR)[0]).toMatchObject({
      from: T0 + 48 * HOUR,
      to: T0 + 72 * HOUR,
      cause: 'aws',
    });
  });

  it('terminates an instance-store-root instance for instance-retirement, losing its data', () => {
    const w = world(
      [instance({ rootDevice: 'instance-store', instanceStore: true })],
      [event('instance-retirement')],
    );
    w.advanceTo(T0 + 49 * HOUR);
    expect(status(w)).toBeUndefined(); // terminated instances are not described
    expect(w.instanceStoreLost('aws')).toEqual(['i-0000000000000000a']);
  });
});

describe('SimEc2: a user reboot', () => {
  it('leaves an instance-reboot event open, even with reboot migration on', () => {
    const w = world([instance()], [event('instance-reboot')], { rebootMigrationSuccess: 1 });
    w.rebootInstances(['i-0000000000000000a']);
    w.advanceTo(T0 + 10 * MIN);
    expect(status(w)?.instanceStatus).toBe('ok');
    expect(eventState(w, 'instance-event-instance-reboot')).toBe('active');
  });

  it('clears system-reboot when reboot migration is default and succeeds', () => {
    const w = world([instance()], [event('system-reboot')], { rebootMigrationSuccess: 1 });
    w.rebootInstances(['i-0000000000000000a']);
    w.advanceTo(T0 + 10 * MIN);
    expect(eventState(w, 'instance-event-system-reboot')).toBe('completed');
    expect(w.eventResolutions()[0]?.resolvedBy).toBe('forestall');
  });

  it('leaves system-reboot open when reboot migration is disabled', () => {
    const w = world([instance({ rebootMigration: 'disabled' })], [event('system-reboot')], {
      rebootMigrationSuccess: 1,
    });
    w.rebootInstances(['i-0000000000000000a']);
    w.advanceTo(T0 + 10 * MIN);
    expect(eventState(w, 'instance-event-system-reboot')).toBe('active');
  });

  it('leaves system-reboot open when the migration fails, at the configured rate', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    const w = world(
      ids.map((instanceId) => instance({ instanceId })),
      ids.map((instanceId) => event('system-reboot', { instanceId, eventId: `e-${instanceId}` })),
      { rebootMigrationSuccess: 0.75 },
    );
    for (let i = 0; i < ids.length; i += 50) w.rebootInstances(ids.slice(i, i + 50));
    w.advanceTo(T0 + 10 * MIN);
    const cleared = w.eventResolutions().filter((r) => r.resolvedBy === 'forestall').length;
    expect(cleared / ids.length).toBeGreaterThan(0.68);
    expect(cleared / ids.length).toBeLessThan(0.82);
  });
});

describe('SimEc2: stop then start', () => {
  it.each(['instance-stop', 'instance-retirement', 'system-maintenance', 'system-reboot'])(
    'clears %s on an EBS root (the event no longer takes place)',
    (code) => {
      const w = world([instance({ rebootMigration: 'disabled' })], [event(code)]);
      w.stopInstances(['i-0000000000000000a']);
      w.advanceTo(T0 + 1 * MIN);
      expect(status(w)?.state).toBe('stopped');
      expect(eventState(w, `instance-event-${code}`)).toBe('active');
      w.startInstances(['i-0000000000000000a']);
      w.advanceTo(T0 + 2 * MIN);
      expect(status(w)?.state).toBe('running');
      expect(status(w)?.instanceStatus).toBe('initializing');
      expect(eventState(w, `instance-event-${code}`)).toBe('gone');
      w.advanceTo(T0 + 5 * MIN);
      expect(status(w)?.instanceStatus).toBe('ok');
      w.advanceTo(T0 + 60 * HOUR);
      expect(w.outagesUntil(T0 + 60 * HOUR)).toHaveLength(1); // AWS did not act later
    },
  );

  it('clears instance-reboot only when the (unverified) knob says it does', () => {
    for (const clears of [true, false]) {
      const w = world([instance()], [event('instance-reboot')], { stopStartClearsInstanceReboot: clears });
      w.stopInstances(['i-0000000000000000a']);
      w.advanceTo(T0 + 1 * MIN);
      w.startInstances(['i-0000000000000000a']);
      w.advanceTo(T0 + 10 * MIN);
      expect(eventState(w, 'instance-event-instance-reboot')).toBe(clears ? 'gone' : 'active');
    }
  });

  it('refuses to stop an instance-store root, failing the whole call', () => {
    const w = world(
      [
        instance(),
        instance({ instanceId: 'i-0000000000000000b', rootDevice: 'instance-store', instanceStore: true }),
      ],
      [],
    );
    expect(() => w.stopInstances(['i-0000000000000000a', 'i-0000000000000000b'])).toThrow(
      "UnsupportedOperation: The instance 'i-0000000000000000b' does not have an 'ebs' root device type and cannot be stopped.",
    );
    expect(status(w)?.state).toBe('running');
  });

  it('loses instance-store data of an EBS-root instance on stop, blamed on whoever stopped it', () => {
    const w = world([instance({ instanceType: 'r5d.large', instanceStore: true })], []);
    w.stopInstances(['i-0000000000000000a']);
    expect(w.instanceStoreLost('forestall')).toEqual(['i-0000000000000000a']);
  });
});

describe('SimEc2: ModifyInstanceEventStartTime (AWS-FACTS §3)', () => {
  const withDeadline = event('system-reboot', { notBeforeDeadline: T0 + 7 * 24 * HOUR });

  it('moves NotBefore (and NotAfter) within NotBeforeDeadline, and AWS acts at the new time instead', () => {
    const w = world([instance()], [withDeadline]);
    w.modifyInstanceEventStartTime('i-0000000000000000a', withDeadline.eventId, T0 + 5 * 24 * HOUR);
    const n = status(w)?.notices[0];
    expect(n?.notBefore).toBe(T0 + 5 * 24 * HOUR);
    expect(n?.notAfter).toBe(T0 + 5 * 24 * HOUR + 2 * HOUR);
    w.advanceTo(T0 + 48 * HOUR + MIN);
    expect(eventState(w, withDeadline.eventId)).toBe('active'); // not performed at the old time
    w.advanceTo(T0 + 5 * 24 * HOUR);
    expect(eventState(w, withDeadline.eventId)).toBe('completed');
    expect(w.eventResolutions()[0]?.resolvedBy).toBe('rescheduled');
  });

  it.each([
    [
      'an event without NotBeforeDeadline',
      event('system-reboot'),
      T0 + 5 * HOUR,
      0,
      'it has no NotBeforeDeadline',
    ],
    ['a time after NotBeforeDeadline', withDeadline, T0 + 8 * 24 * HOUR, 0, 'after the event deadline'],
    ['a new start under 60 minutes away', withDeadline, T0 + 59 * MIN, 0, 'at least 60 minutes from now'],
    [
      'an event starting within 5 minutes',
      withDeadline,
      T0 + 6 * 24 * HOUR,
      48 * HOUR - 4 * MIN,
      'starts within 5 minutes',
    ],
  ])('rejects %s', (_name, ev, to, advance, message) => {
    const w = world([instance()], [ev]);
    w.advanceTo(T0 + advance);
    expect(() => w.modifyInstanceEventStartTime('i-0000000000000000a', ev.eventId, to)).toThrow(message);
  });
});

describe('SimEc2: DescribeInstanceStatus and DescribeInstances requests (AWS-FACTS §2)', () => {
  const ids = Array.from({ length: 12 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
  const fleet = () =>
    world(
      ids.map((instanceId, i) => instance({ instanceId, state: i % 4 === 0 ? 'stopped' : 'running' })),
      ids
        .filter((_, i) => i % 2 === 0)
        .map((instanceId) => event('instance-stop', { instanceId, eventId: `e-${instanceId}` })),
    );

  it('returns running instances only unless IncludeAllInstances, so stopped ones with events would be missed', () => {
    const w = fleet();
    const filter = [{ Name: 'event.code', Values: ['instance-stop'] }];
    const running = parseInstanceStatuses(
      w.describeInstanceStatus({ Filters: filter }),
      'us-east-1',
    ).statuses;
    const all = parseInstanceStatuses(
      w.describeInstanceStatus({ Filters: filter, IncludeAllInstances: true }),
      'us-east-1',
    ).statuses;
    expect(running.map((s) => s.state)).toEqual(['running', 'running', 'running']);
    expect(all).toHaveLength(6);
    expect(all.filter((s) => s.state === 'stopped')).toHaveLength(3);
  });

  it('pages with MaxResults and NextToken, and refuses MaxResults with InstanceIds', () => {
    const w = fleet();
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = w.describeInstanceStatus({
        IncludeAllInstances: true,
        MaxResults: 5,
        ...(token ? { NextToken: token } : {}),
      });
      seen.push(...parseInstanceStatuses(page, 'us-east-1').statuses.map((s) => s.instanceId));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    expect(() => w.describeInstanceStatus({ InstanceIds: ids, MaxResults: 5 })).toThrow(
      'InvalidParameterCombination',
    );
    expect(() => w.describeInstances({ MaxResults: 2 })).toThrow('MaxResults must be between 5 and 1000');
  });

  it('pages a filtered listing by its matches, and a filter sees the state as it is at each call', () => {
    const w = fleet();
    const running = (token?: string) =>
      w.describeInstanceStatus({
        Filters: [{ Name: 'instance-state-name', Values: ['running'] }],
        IncludeAllInstances: true,
        MaxResults: 5,
        ...(token ? { NextToken: token } : {}),
      });
    const idsIn = (page: ReturnType<typeof running>) =>
      parseInstanceStatuses(page, 'us-east-1').statuses.map((s) => s.instanceId);
    const first = running();
    expect(idsIn(first)).toEqual(ids.filter((_, i) => i % 4 !== 0).slice(0, 5));
    expect(first.NextToken).toBe('5');
    const second = running(first.NextToken);
    expect(idsIn(second)).toEqual(ids.filter((_, i) => i % 4 !== 0).slice(5));
    expect(second.NextToken).toBeUndefined();
    // A stop, then the same filter: the stopped instance is no longer listed, a stopped one started is.
    w.stopInstances([ids[1] ?? '']);
    w.startInstances([ids[0] ?? '']);
    w.advanceTo(T0 + 10 * MIN);
    const after = [...idsIn(running()), ...idsIn(running('5'))];
    expect(after).toEqual(ids.filter((_, i) => i === 0 || (i % 4 !== 0 && i !== 1)));
    const events = (code: string) =>
      idsIn(
        w.describeInstanceStatus({
          Filters: [{ Name: 'event.code', Values: [code] }],
          IncludeAllInstances: true,
        }),
      );
    // Starting a stopped instance moves its host: its instance-stop event is gone from the listing.
    expect(events('instance-stop')).toEqual(ids.filter((_, i) => i % 2 === 0 && i !== 0));
    expect(() => w.describeInstanceStatus({ Filters: [{ Name: 'tag:x', Values: [] }] })).toThrow(
      "The simulator does not implement the filter 'tag:x'",
    );
  });

  it('draws unfiltered, unpaginated calls from the smaller bucket (50, then 10 per second)', () => {
    const w = world([instance()], [], { throttling: true });
    for (let i = 0; i < 50; i++) w.describeInstanceStatus({});
    expect(() => w.describeInstanceStatus({})).toThrow('RequestLimitExceeded');
    w.describeInstanceStatus({ MaxResults: 1000 }); // paginated: the larger bucket still has tokens
  });
});

describe('SimEc2: status checks and throttling', () => {
  it('keeps a never-healthy instance impaired after a reboot (the 2014 Cassandra nodes)', () => {
    const w = world([instance()], [event('system-reboot')], { neverHealthyRate: 1 });
    w.rebootInstances(['i-0000000000000000a']);
    w.advanceTo(T0 + 2 * HOUR);
    expect(status(w)?.instanceStatus).toBe('impaired');
  });

  it('throttles StartInstances after a burst of 5 calls and refills 2 per second (AWS-FACTS §6)', () => {
    const ids = Array.from({ length: 8 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    const w = world(
      ids.map((instanceId) => instance({ instanceId, state: 'stopped' })),
      [],
      { throttling: true },
    );
    for (const id of ids.slice(0, 5)) w.startInstances([id]);
    expect(() => w.startInstances([ids[5] as string])).toThrow('RequestLimitExceeded');
    w.advanceTo(T0 + 1000);
    w.startInstances([ids[5] as string]);
    w.startInstances([ids[6] as string]);
    expect(() => w.startInstances([ids[7] as string])).toThrow('RequestLimitExceeded');
    expect(w.throttled).toBe(2);
    expect(w.apiCalls.StartInstances).toBe(9);
  });

  it('throttles StopInstances by instances, not calls: 1,000 at once, then 20 per second', () => {
    const ids = Array.from({ length: 1100 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    const w = world(
      ids.map((instanceId) => instance({ instanceId })),
      [],
      { throttling: true },
    );
    for (let i = 0; i < 1000; i += 50) w.stopInstances(ids.slice(i, i + 50));
    expect(() => w.stopInstances(ids.slice(1000, 1050))).toThrow('RequestLimitExceeded');
    w.advanceTo(T0 + 2500);
    w.stopInstances(ids.slice(1000, 1050));
  });

  it('is reproducible: the same seed gives the same run, another seed another', () => {
    const run = (seed: number) => {
      const ids = Array.from({ length: 50 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
      const w = new SimEc2(
        T0,
        ids.map((instanceId) => instance({ instanceId })),
        ids.map((instanceId) => event('system-reboot', { instanceId, eventId: `e-${instanceId}` })),
        { ...DEFAULT_BEHAVIOUR, rebootMigrationSuccess: 0.5 },
        new Rng(seed),
      );
      w.rebootInstances(ids);
      w.advanceTo(T0 + HOUR);
      return JSON.stringify([w.outagesUntil(T0 + HOUR), w.eventResolutions()]);
    };
    expect(run(7)).toBe(run(7));
    expect(run(7)).not.toBe(run(8));
  });
});
