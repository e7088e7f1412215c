import { ConfigError, parseConfig } from '../../lambda/core/config';

function problems(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected the config to be rejected');
}

describe('parseConfig', () => {
  it('takes verification.impairedFor up to the timeout itself', () => {
    const c = parseConfig({ verification: { timeout: 'PT20M', impairedFor: 'PT20M' } });
    expect(c.verification.impairedFor).toBe(1_200_000);
    expect(parseConfig({ verification: { impairedFor: 'PT1S' } }).verification.impairedFor).toBe(1000);
  });

  it('fills safe defaults: dry run, opt-in tag, 48h lead, 2h margin, 20% per ASG and AZ', () => {
    const c = parseConfig({});
    expect(c.dryRun).toBe(true);
    expect(c.optInTag).toEqual({ key: 'forestall:managed', value: 'true' });
    expect(c.leadTime).toBe(48 * 3_600_000);
    expect(c.deadlineMargin).toBe(2 * 3_600_000);
    expect(c.groupBy).toEqual(['asg', 'az']);
    expect(c.maxUnavailablePerGroup).toEqual({ kind: 'percent', value: 20 });
    expect(c.waves).toEqual([
      {
        name: 'all',
        match: { tags: {} },
        maxParallel: { kind: 'percent', value: 25 },
        bake: 900_000,
        failureBudget: { kind: 'count', value: 0 },
        approval: false,
      },
    ]);
    expect(c.remedies['instance-reboot']).toEqual(['reschedule', 'stop-start']);
    expect(c.verification).toEqual({
      timeout: 1_200_000,
      pollInterval: 60_000,
      impairedFor: 300_000,
      targetHealth: true,
    });
  });

  it('reads the example config of the issue', () => {
    const c = parseConfig({
      optInTag: { key: 'forestall:managed', value: 'true' },
      dryRun: true,
      regions: ['us-east-1'],
      pollIntervalMinutes: 10,
      leadTime: 'PT48H',
      deadlineMargin: 'PT2H',
      groupBy: ['asg', 'az'],
      maxUnavailablePerGroup: '20%',
      windows: [{ days: ['TUE', 'WED', 'THU'], start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' }],
      waves: [
        {
          name: 'canary',
          match: { tags: { 'forestall:wave': 'canary' } },
          maxParallel: 1,
          bake: 'PT30M',
          failureBudget: 0,
          approval: false,
        },
        { name: 'main', match: {}, maxParallel: '25%', bake: 'PT15M', failureBudget: '5%' },
      ],
      remedies: { 'system-maintenance': ['report-only'] },
      instanceStoreDisposable: false,
      verification: { timeout: 'PT20M', targetHealth: true },
    });
    expect(c.waves[1]?.failureBudget).toEqual({ kind: 'percent', value: 5 });
    expect(c.waves[1]?.match).toEqual({ tags: {} });
    expect(c.remedies['system-reboot']).toEqual(['reboot-migrate', 'stop-start', 'reschedule']);
  });

  it('names the field path in the message a user sees', () => {
    expect(() =>
      parseConfig(
        {
          waves: [
            { name: 'canary', maxParallel: 1 },
            { name: 'main', maxParallel: '0%' },
          ],
        },
        'config forestall.config.json',
      ),
    ).toThrow(
      'invalid config forestall.config.json: waves[1].maxParallel: expected a count (integer >= 1) or a percent like "25%", got "0%"',
    );
  });

  it.each([
    [{ leadTime: '48h' }, 'leadTime: "48h" is not an ISO-8601 duration such as "PT2H" or "P1DT30M"'],
    [
      { windows: [{ days: ['TUE'], start: '02:00', end: '05:00', timeZone: 'Berlin' }] },
      'windows[0].timeZone: "Berlin" is not an IANA time zone such as "Europe/Berlin" or "UTC"',
    ],
    [
      { windows: [{ days: ['TUE'], start: '2:00', end: '05:00', timeZone: 'UTC' }] },
      'windows[0].start: expected a 24-hour time "HH:MM"',
    ],
    [
      { windows: [{ days: ['TUE'], start: '02:00', end: '02:00', timeZone: 'UTC' }] },
      'windows[0].end: start and end are equal: the window would be empty',
    ],
    [
      { windows: [{ days: ['TUESDAY'], start: '02:00', end: '05:00', timeZone: 'UTC' }] },
      'windows[0].days[0]: expected one of MON, TUE, WED, THU, FRI, SAT, SUN',
    ],
    [
      { remedies: { 'instance-reboot': ['reboot-migrate'] } },
      'remedies.instance-reboot: reboot-migrate never clears an instance-reboot event (a user reboot leaves it open); use reschedule or stop-start',
    ],
    [
      { remedies: { 'instance-stop': ['reboot-migrate'] } },
      'remedies.instance-stop: reboot-migrate only clears system-reboot events, not instance-stop',
    ],
    [
      { remedies: { 'system-reboot': [] } },
      'remedies.system-reboot: list at least one remedy (use ["report-only"] to take no action)',
    ],
    [
      { remedies: { 'system-reboot': ['needs-replacement'] } },
      'remedies.system-reboot[0]: expected one of reboot-migrate, stop-start, reschedule, report-only',
    ],
    [{ groupBy: ['asg', 'team'] }, 'groupBy[1]: expected "asg", "az" or "tag:KEY"'],
    [
      { maxUnavailablePerGroup: 0 },
      'maxUnavailablePerGroup: expected a count (integer >= 1) or a percent like "20%", got 0',
    ],
    [
      {
        waves: [
          { name: 'a', maxParallel: 1 },
          { name: 'a', maxParallel: 2 },
        ],
      },
      'waves[1].name: wave name "a" is used twice',
    ],
    [{ waves: [] }, 'waves: define at least one wave'],
    [
      { waves: [{ name: 'a', maxParallel: 1, failureBudget: -1 }] },
      'waves[0].failureBudget: expected a count (integer >= 0) or a percent like "5%", got -1',
    ],
    [
      { waves: [{ name: 'a', maxParallel: 1, match: { tag: { x: 'y' } } }] },
      'waves[0].match.tag: unknown field (check its spelling against the config reference)',
    ],
    [{ dryrun: false }, 'dryrun: unknown field (check its spelling against the config reference)'],
    [{ regions: ['US East'] }, 'regions[0]: expected an AWS Region code such as "us-east-1"'],
    [
      { verification: { timeout: 'PT3M' } },
      'verification.timeout: must be at least PT5M: a stop, a start and the status checks take minutes',
    ],
    [
      { verification: { timeout: 'PT20M', impairedFor: 'PT21M' } },
      'verification.impairedFor: must be > 0 and <= verification.timeout',
    ],
    [
      { verification: { impairedFor: 'PT0S' } },
      'verification.impairedFor: must be > 0 and <= verification.timeout',
    ],
  ])('rejects %j', (input, message) => {
    expect(problems(input)).toContain(message);
  });
});
