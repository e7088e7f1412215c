import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OperatorAws } from '../../cli/aws';
import { run } from '../../cli/main';
import { formatPlan } from '../../cli/plan';
import { parseConfig } from '../../lambda/core/config';

const root = join(__dirname, '..', '..');
const ex = (f: string) => join(root, 'examples', f);

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, () =>
    Date.parse('2026-11-30T00:00:00Z'),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const planArgs = [
  'plan',
  '--instances',
  ex('aws/describe-instances.json'),
  '--statuses',
  ex('aws/describe-instance-status.json'),
  '--config',
  ex('forestall.config.json'),
];

describe('forestall plan', () => {
  it('prints the plan JSON in the documented shape for AWS CLI output', async () => {
    const r = await cli(
      ...planArgs,
      '--instance-types',
      ex('aws/describe-instance-types.json'),
      '--now',
      '2026-11-30T00:00:00Z',
      '--json',
    );
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out);
    expect(Object.keys(plan)).toEqual(['rolloutId', 'generatedAt', 'batches', 'skipped', 'infeasible']);
    expect(plan.generatedAt).toBe('2026-11-30T00:00:00.000Z');
    expect(
      plan.batches.map((w: { index: number; wave: string; startAt: string; endBy: string }) => [
        w.index,
        w.wave,
        w.startAt,
        w.endBy,
      ]),
    ).toEqual([
      [0, 'canary', '2026-12-02T01:00:00.000Z', '2026-12-02T01:20:00.000Z'],
      [1, 'main', '2026-12-02T03:00:00.000Z', '2026-12-02T03:20:00.000Z'], // NotBefore 12-04T03:00 - leadTime 48h
    ]);
    expect(Object.keys(plan.batches[0].items[0])).toEqual([
      'instanceId',
      'eventId',
      'code',
      'remedy',
      'notBefore',
      'deadline',
      'groups',
    ]);
    expect(
      plan.batches.flatMap((w: { items: { instanceId: string; remedy: string }[] }) =>
        w.items.map((i) => [i.instanceId, i.remedy]),
      ),
    ).toEqual([
      ['i-0a1b2c3d4e5f60001', 'reboot-migrate'],
      ['i-0a1b2c3d4e5f60002', 'stop-start'],
    ]);
    expect(
      plan.skipped.map((s: { instanceId: string; reason: string }) => [s.instanceId, s.reason.split(':')[0]]),
    ).toEqual([
      ['i-0a1b2c3d4e5f60003', 'no-remedy'], // r5d instance store, not disposable
      ['i-0a1b2c3d4e5f60004', 'instance-not-running'], // stopped instance with an event
      ['i-0a1b2c3d4e5f60005', 'inactive'], // [Completed]
      ['i-0a1b2c3d4e5f60005', 'report-only'], // second event of the same instance
      ['i-0a1b2c3d4e5f60006', 'inactive'], // [Canceled]
    ]);
    expect(plan.infeasible).toEqual([]);
  });

  it('prints a table by default, with skipped reasons and the dry-run note', async () => {
    const r = await cli(...planArgs, '--now', '2026-11-30T00:00:00Z');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^Rollout fs-\S+, planned at 2026-11-30T00:00:00Z \[dryRun: remedies are recorded, not applied\]$/m,
    );
    expect(r.out).toMatch(/^1 batch, 1 item; 6 skipped; 0 infeasible$/m);
    expect(r.out).not.toContain('EC2 API throughput');
    expect(r.out).not.toContain('.000');
    // A line per batch: UTC, how far ahead, and the window's own time zone; its items under it.
    expect(r.out).toContain(
      [
        'INSTANCE             CODE           REMEDY          DEADLINE (UTC)        ASG      AZ',
        'batch 0 canary, 1 instance: 2026-12-02T01:00:00Z to 2026-12-02T01:20:00Z (in 2d1h; Wed 02:00-02:20 Europe/Berlin)',
        'i-0a1b2c3d4e5f60001  system-reboot  reboot-migrate  2026-12-03T20:00:00Z  web-asg  us-east-1a',
      ].join('\n'),
    );
    // Reasons wrap under their column rather than run past 120 columns.
    expect(r.out).toContain(
      [
        'i-0a1b2c3d4e5f60002  instance-reboot      no-remedy: no allowed remedy applies (reschedule: event has no',
        '                                          NotBeforeDeadline; stop-start: instance store of m5.large unknown (give',
        '                                          describe-instance-types output, or set instanceStoreDisposable)); AWS acts at',
        '                                          NotBefore',
      ].join('\n'),
    );
    for (const line of r.out.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(r.err).toBe(
      'hint: 1 event(s) skipped because the instance store of their type is unknown; add --instance-types with the output of `aws ec2 describe-instance-types --instance-types TYPE...`',
    );
  });

  it('shows which batches EC2 API throughput cut short', () => {
    const batch = (index: number, limitedBy?: 'api') => ({
      index,
      wave: 'all',
      startAt: '2026-12-02T01:00:00.000Z',
      endBy: '2026-12-02T01:20:00.000Z',
      ...(limitedBy ? { limitedBy } : {}),
      items: [
        {
          instanceId: `i-0000000000000000${index}`,
          eventId: `instance-event-${index}`,
          code: 'instance-stop',
          remedy: 'stop-start' as const,
          notBefore: '2026-12-04T00:00:00.000Z',
          deadline: '2026-12-04T00:00:00.000Z',
          groups: { asg: 'web' },
        },
      ],
    });
    const text = formatPlan(
      {
        rolloutId: 'fs-x',
        generatedAt: '2026-11-30T00:00:00.000Z',
        batches: [batch(0, 'api'), batch(1)],
        skipped: [],
        infeasible: [],
      },
      parseConfig({ dryRun: false }),
    );
    expect(text).toMatch(/^2 batches \(1 cut short by EC2 API throughput\), 2 items;/m);
    expect(text).toMatch(/^batch 0 all, 1 instance: .*\(in 2d1h\); cut short by EC2 API throughput$/m);
    expect(text).toMatch(/^batch 1 all, 1 instance: .*\(in 2d1h\)$/m);
  });

  it('fits a wide plan in 120 columns: long group names are shortened in the middle, notes explained once', () => {
    const asg = 'eks-production-general-purpose-nodegroup-2026052912345678-9f8e7d6c';
    const item = (i: number, reason?: string) => ({
      instanceId: `i-0000000000000000${i}`,
      eventId: `instance-event-0000000000000000${i}`,
      code: 'instance-retirement',
      remedy: 'reboot-migrate' as const,
      notBefore: '2026-12-04T00:00:00.000Z',
      deadline: '2026-12-04T00:00:00.000Z',
      groups: { asg, az: 'ap-southeast-3c', 'tag:team': 'payments-platform-reliability' },
      ...(reason ? { reason } : {}),
    });
    const late =
      'outside-window: no allowed window before the deadline; planned at the latest safe slot, which is a long way to say it';
    const text = formatPlan(
      {
        rolloutId: 'fs-x',
        generatedAt: '2026-11-30T00:00:00.000Z',
        batches: [
          {
            index: 0,
            wave: 'canary-for-the-payments-platform-in-every-availability-zone',
            startAt: '2026-12-01T09:00:00.000Z',
            endBy: '2026-12-01T09:20:00.000Z',
            limitedBy: 'api',
            items: [item(1, late), item(2, late), item(3)],
          },
        ],
        skipped: [],
        infeasible: [
          {
            instanceId: 'i-00000000000000004',
            eventId: 'instance-event-00000000000000004',
            code: 'instance-retirement',
            reason: `deadline-too-close: ${'needs more time than there is before the deadline '.repeat(4)}`,
            deadline: '2026-11-30T01:00:00.000Z',
          },
        ],
      },
      parseConfig({
        groupBy: ['asg', 'az', 'tag:team'],
        windows: [{ days: ['TUE'], start: '01:00', end: '05:00', timeZone: 'America/Los_Angeles' }],
      }),
    );
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(text).toMatch(/^INSTANCE +CODE +REMEDY +DEADLINE \(UTC\) +ASG +AZ +tag:team +NOTE$/m);
    // Both ends of a long name stay: they are what tells two groups apart.
    expect(text).toMatch(/^i-00000000000000001 .* eks-\S*…\S*7d6c +ap-\S*…\S*3c +pay\S*…\S*ity +1$/m);
    expect(text).toMatch(/^i-00000000000000003 .* eks-\S*…\S*7d6c +ap-\S*…\S*3c +pay\S*…\S*ity$/m);
    expect(text).toContain(
      'batch 0 canary-for-the-payments-platform-in-every-availability-zone, 3 instances: 2026-12-01T09:00:00Z to\n' +
        '  2026-12-01T09:20:00Z (in 1d9h; Tue 01:00-01:20 America/Los_Angeles); cut short by EC2 API throughput',
    );
    expect(text.split('\n').filter((l) => l.includes('outside-window: no allowed window'))).toHaveLength(1);
    expect(text).toContain(
      'Notes:\n  1  outside-window: no allowed window before the deadline; planned at the latest safe slot, which is a long way to say\n     it',
    );
    expect(text).toMatch(
      /^i-00000000000000004 +instance-retirement +2026-11-30T01:00:00Z +deadline-too-close: needs more/m,
    );
  });

  it('is byte-identical for the same input', async () => {
    const a = await cli(...planArgs, '--now', '2026-11-30T00:00:00Z', '--json');
    const b = await cli(...planArgs, '--now', '2026-11-30T00:00:00Z', '--json');
    expect(b.out).toBe(a.out);
  });

  describe('bad input: one clear line, exit code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forestall-cli-'));
    const file = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    it.each([
      [
        ['--instances', '/nonexistent/di.json'],
        'forestall: cannot read --instances /nonexistent/di.json: no such file',
      ],
      [['--statuses', 'BAD_JSON'], /^forestall: --statuses .*bad\.json is not valid JSON: /],
      [
        ['--config', 'BAD_CONFIG'],
        /^forestall: invalid config .*cfg\.json: waves\[0\]\.maxParallel: expected a count \(integer >= 1\) or a percent like "25%", got "lots"$/,
      ],
      [
        ['--statuses', 'WRONG_FILE'],
        /^forestall: --statuses .*describe-instances\.json: no InstanceStatuses array: is this `aws ec2 describe-instance-status` output\?$/,
      ],
      [
        ['--now', 'yesterday'],
        'forestall: --now "yesterday" is not an ISO-8601 time such as 2026-12-01T00:00:00Z',
      ],
      // Date.parse would take these: as March 2nd, as a time in the machine's own zone.
      [
        ['--now', '2026-02-30T00:00:00Z'],
        'forestall: --now "2026-02-30T00:00:00Z" is not a real time: there is no day 30 in 2026-02 (it has 28 days)',
      ],
      [
        ['--now', '2026-13-01T00:00:00Z'],
        'forestall: --now "2026-13-01T00:00:00Z" is not a real time: there is no month 13 (01-12)',
      ],
      [
        ['--now', '2026-12-01T25:00:00Z'],
        'forestall: --now "2026-12-01T25:00:00Z" is not a real time: there is no hour 25 (00-23)',
      ],
      [
        ['--now', '2026-12-01T00:00:00'],
        'forestall: --now "2026-12-01T00:00:00" has no UTC offset: end it with Z (UTC) or an offset such as +01:00 or -05:00',
      ],
      [
        ['--now', '2026-12-01T00:00:00+0100'],
        'forestall: --now "2026-12-01T00:00:00+0100" has the offset "+0100": give Z or one such as +01:00',
      ],
    ])('%j', async (override, message) => {
      const args = [...planArgs];
      for (let i = 0; i < override.length; i += 2) {
        const flag = override[i] as string;
        let value = override[i + 1] as string;
        if (value === 'BAD_JSON') value = file('bad.json', '{"InstanceStatuses": [');
        if (value === 'BAD_CONFIG')
          value = file('cfg.json', JSON.stringify({ waves: [{ name: 'x', maxParallel: 'lots' }] }));
        if (value === 'WRONG_FILE') value = ex('aws/describe-instances.json');
        const at = args.indexOf(flag);
        if (at >= 0) args[at + 1] = value;
        else args.push(flag, value);
      }
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    });

    it('rejects an unknown flag and a missing one', async () => {
      const unknown = await cli(...planArgs, '--colour');
      expect(unknown).toMatchObject({ code: 2, err: "error: unknown option '--colour'" });
      const missing = await cli('plan', '--instances', ex('aws/describe-instances.json'));
      expect(missing).toMatchObject({
        code: 2,
        err: "error: required option '--statuses <file>' not specified",
      });
    });
  });
});

describe('forestall plan: what a new user meets first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forestall-cli-input-'));
  const write = (name: string, bytes: Buffer | string) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const example = (f: string) => readFileSync(ex(f), 'utf8');
  const withArgs = (flag: string, value: string, args: readonly string[] = planArgs) => {
    const out = [...args];
    const at = out.indexOf(flag);
    if (at >= 0) out[at + 1] = value;
    else out.push(flag, value);
    return out;
  };
  const now = ['--now', '2026-11-30T00:00:00Z'];
  /** describe-instances with every zone of us-east-1 moved to `region`. */
  const instancesIn = (region: string, name = `di-${region}.json`) =>
    write(name, example('aws/describe-instances.json').replaceAll('us-east-1', region));

  it('reads JSON files that start with a UTF-8 byte-order mark', async () => {
    const bom = (f: string, name: string) => write(name, `\uFEFF${example(f)}`);
    const plain = await cli(...planArgs, ...now, '--json');
    let args = withArgs('--instances', bom('aws/describe-instances.json', 'di-bom.json'));
    args = withArgs('--statuses', bom('aws/describe-instance-status.json', 'dis-bom.json'), args);
    args = withArgs('--config', bom('forestall.config.json', 'cfg-bom.json'), args);
    const r = await cli(...args, ...now, '--json');
    expect(r.code).toBe(0);
    expect(r.out).toBe(plain.out);
  });

  it.each([
    [
      'UTF-16LE with a byte-order mark',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{}', 'utf16le')]),
    ],
    ['UTF-16BE with a byte-order mark', Buffer.from([0xfe, 0xff, 0, 0x7b, 0, 0x7d])],
    ['UTF-16LE without one', Buffer.from('{"InstanceStatuses": []}', 'utf16le')],
  ])('refuses %s by name, not as bad JSON', async (_what, bytes) => {
    const p = write('dis-utf16.json', bytes);
    const r = await cli(...withArgs('--statuses', p));
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toBe(
      `forestall: --statuses ${p} is UTF-16; save it as UTF-8 (in Windows PowerShell: ... | Out-File -Encoding utf8 FILE)`,
    );
  });

  it('refuses a UTF-16 config and an empty file, each in one line', async () => {
    const cfg = write('cfg-utf16.json', Buffer.from('{"dryRun": true}', 'utf16le'));
    expect((await cli(...withArgs('--config', cfg))).err).toBe(
      `forestall: --config ${cfg} is UTF-16; save it as UTF-8 (in Windows PowerShell: ... | Out-File -Encoding utf8 FILE)`,
    );
    const empty = write('di-empty.json', '\n');
    expect(await cli(...withArgs('--instances', empty))).toMatchObject({
      code: 2,
      err: `forestall: --instances ${empty} is empty (did the command that wrote it fail?)`,
    });
  });

  it('takes --now with an offset as the same instant', async () => {
    const utc = await cli(...planArgs, ...now, '--json');
    const berlin = await cli(...planArgs, '--now', '2026-11-30T01:00:00+01:00', '--json');
    expect(berlin.code).toBe(0);
    expect(berlin.out).toBe(utc.out);
  });

  it('checks --region against the zones of the instances and the regions of the config', async () => {
    const eu = instancesIn('eu-west-1');
    const zones = 'eu-west-1a, eu-west-1b, eu-west-1c';
    expect(await cli(...withArgs('--instances', eu), ...now, '--region', 'us-east-1')).toMatchObject({
      code: 2,
      err: `forestall: --region us-east-1 does not match --instances ${eu}: its instances are in eu-west-1 (${zones})`,
      out: '',
    });
    // Without --region, the zones say which Region; this config watches another.
    expect(await cli(...withArgs('--instances', eu), ...now)).toMatchObject({
      code: 2,
      err: `forestall: Region eu-west-1 (the Region of the instances' zones ${zones}) is not in the regions of config ${ex('forestall.config.json')} (us-east-1): add it there, or give the config of that Region`,
    });
    const usCfg = ['--config', ex('forestall.config.json')];
    expect((await cli(...withArgs('--region', 'eu-west-1', planArgs), ...usCfg, ...now)).err).toMatch(
      /^forestall: --region eu-west-1 does not match --instances .*: its instances are in us-east-1 \(us-east-1a, us-east-1b, us-east-1c\)$/,
    );
    // With the default config, the Region of the zones is taken; --region naming it is fine too.
    const noConfig = planArgs.slice(0, 5);
    expect((await cli(...withArgs('--instances', eu, noConfig), ...now)).code).toBe(0);
    expect((await cli(...withArgs('--instances', eu, noConfig), ...now, '--region', 'eu-west-1')).code).toBe(
      0,
    );
  });

  it('refuses instances of two Regions in one file', async () => {
    const mixed = write(
      'di-mixed.json',
      example('aws/describe-instances.json').replace('"us-east-1a"', '"eu-west-1a"'),
    );
    const r = await cli(...withArgs('--instances', mixed), ...now);
    expect(r).toMatchObject({
      code: 2,
      err: `forestall: --instances ${mixed} holds instances of 2 Regions (eu-west-1: eu-west-1a; us-east-1: us-east-1a, us-east-1b, us-east-1c): give one Region's describe-instances output`,
    });
  });

  it("says an instance's events were not planned because its record was malformed, not missing", async () => {
    const data = JSON.parse(example('aws/describe-instances.json'));
    delete data.Reservations[0].Instances[0].Placement;
    const di = write('di-malformed.json', JSON.stringify(data));
    const r = await cli(...withArgs('--instances', di), ...now, '--json');
    expect(r.code).toBe(0);
    const why = 'Reservations[0].Instances[0]: Placement: Invalid input: expected object, received undefined';
    expect(r.err.split('\n')).toContain(
      'warning: ignored Reservations[0].Instances[0] (i-0a1b2c3d4e5f60001): Placement: Invalid input: expected object, received undefined',
    );
    expect(JSON.parse(r.out).skipped).toContainEqual({
      instanceId: 'i-0a1b2c3d4e5f60001',
      eventId: 'instance-event-0d59937288b749b32',
      code: 'system-reboot',
      reason: `malformed-instance: its describe-instances record could not be read (${why}); AWS acts at NotBefore`,
    });
  });

  it('exits 3 when some notices are infeasible, with the plan on stdout and why on stderr', async () => {
    const r = await cli(...planArgs, '--now', '2026-12-04T12:00:00Z', '--json');
    expect(r.code).toBe(3);
    const plan = JSON.parse(r.out);
    expect(plan.infeasible.map((i: { reason: string }) => i.reason)).toEqual([
      'already-started: started 16h ago (NotBefore 2026-12-03T20:00:00Z); AWS performs it within its window, on its own schedule',
    ]);
    expect(r.err.split('\n')).toContain(
      'forestall: 1 notice(s) infeasible: AWS performs them on its own schedule (exit code 3)',
    );
    const help = await cli('plan', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('3 some notices are\ninfeasible');
  });

  it('warns of a wave that no opted-in instance joins', async () => {
    const cfg = write(
      'cfg-waves.json',
      JSON.stringify({
        waves: [
          { name: 'canary', match: { tags: { 'forestall:wave': 'canery' } }, maxParallel: 1 },
          { name: 'main', maxParallel: '25%' },
          { name: 'leftover', maxParallel: 1 },
        ],
      }),
    );
    const r = await cli(...withArgs('--config', cfg), ...now);
    expect(r.code).toBe(0);
    expect(r.err.split('\n').filter((l) => l.startsWith('warning: wave'))).toEqual([
      'warning: wave "canary" matches no opted-in instance (match.tags forestall:wave=canery; opt-in tag forestall:managed=true)',
      'warning: wave "leftover" gets no instance: the 5 opted-in instance(s) it matches join an earlier wave first (matches every instance)',
    ]);
    // The example config's waves each get an instance: no warning.
    expect((await cli(...planArgs, ...now)).err).not.toContain('warning: wave');
  });
});

describe('forestall --version', () => {
  it("prints package.json's version", async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(await cli('--version')).toEqual({ code: 0, out: pkg.version, err: '' });
  });
});

describe('forestall simulate', () => {
  it('prints the outcome JSON with the documented keys', async () => {
    const r = await cli(
      'simulate',
      '--scenario',
      ex('demo/scenario.json'),
      '--config',
      ex('demo/forestall.config.json'),
      '--seed',
      '3',
      '--json',
    );
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(Object.keys(o)).toEqual([
      'dryRun',
      'instances',
      'notices',
      'planned',
      'skipped',
      'infeasible',
      'inactive',
      'clearedByForestall',
      'performedByAws',
      'performedByAwsBreakdown',
      'limitViolations',
      'limits',
      'doubleOutages',
      'failed',
      'fallbacks',
      'instanceStoreDataLost',
      'replacedByAsg',
      'disruptedWhileServing',
      'apiCalls',
      'makespanSeconds',
      'halted',
      'awsOnly',
    ]);
    expect(Object.keys(o.performedByAwsBreakdown)).toEqual([
      'notPlanned',
      'afterFailure',
      'afterHalt',
      'dryRun',
      'unexpected',
    ]);
    expect(Object.keys(o.limits['asg=web'])).toEqual([
      'limit',
      'peakWithForestall',
      'peakCausedByForestall',
      'peakAwsAlone',
    ]);
    expect(Object.keys(o.doubleOutages)).toEqual(['count', 'instanceIds']);
    expect(o).toMatchObject({ dryRun: false, instances: 300, limitViolations: 0 });
    expect(o.performedByAwsBreakdown.unexpected).toBe(0);
    expect(o).not.toHaveProperty('timeline');
  });

  it('prints the plan, progress and the comparison with AWS own schedule as text', async () => {
    const r = await cli(
      'simulate',
      '--scenario',
      ex('demo/scenario.json'),
      '--config',
      ex('demo/forestall.config.json'),
      '--progress',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^Simulating "demo: 300 instances, a mass reboot in three slots" \(seed 2014\) from 2026-12-01T00:00:00Z\n/,
    );
    expect(r.out).toMatch(/^Plan fs-\S+: \d+ batches; \d+ skipped, \d+ infeasible\n {2}why: \S+ \d+/m);
    expect(r.out).toMatch(/^batch 0 canary at 2026-12-02T02:00:00Z: 1 to remedy, 0 dropped at preflight$/m);
    // The batches' slots also in the windows' zone (a batch may run on past its window's end).
    expect(r.out).toContain(
      [
        '#   WAVE    START (UTC)           LOCAL (Europe/Berlin)  INSTANCES  REMEDIES',
        '0   canary  2026-12-02T02:00:00Z  Wed 03:00-03:20        1          reboot-migrate:1',
        '1   canary  2026-12-02T02:50:00Z  Wed 03:50-06:10        1          reschedule:1',
      ].join('\n'),
    );
    expect(r.out).not.toContain('.000');
    expect(r.out).toContain(
      "GROUP           LIMIT  AWS'S OWN SCHEDULE  WITH FORESTALL  OF WHICH FORESTALL'S",
    );
    expect(r.out).toMatch(/^asg=web +18 +19 +\d+ +\d+$/m);
    expect(r.out).toMatch(/^Outcome \(not a dry run: Forestall applied its remedies\):$/m);
    expect(r.out).toMatch(/^active notices \d+ = planned \d+ \+ skipped \d+ \+ infeasible 0$/m);
    expect(r.out).toMatch(
      /^ {2}not planned \d+, after a failure \d+, after the halt 0, dry run 0, unexpected 0$/m,
    );
    for (const line of r.out.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(r.out).toMatch(
      /^replaced by Auto Scaling \d+ \(AWS alone \d+\); down while serving traffic: by Forestall \d+, by AWS \d+ \(AWS alone \d+\)$/m,
    );
  });

  it('says when a dry run applied nothing', async () => {
    const r = await cli('simulate', '--scenario', ex('demo/scenario.json'), '--progress');
    expect(r.out.split('\n')[0]).toBe(
      'DRY RUN, nothing is applied: simulating "demo: 300 instances, a mass reboot in three slots" (seed 2014)',
    );
    expect(r.out).toMatch(/^cleared by Forestall 0; /m);
    // Without --progress the outcome comes first, and its first line says it.
    const quiet = await cli('simulate', '--scenario', ex('demo/scenario.json'));
    expect(quiet.out.split('\n')[0]).toMatch(/^Outcome of a DRY RUN: Forestall applied nothing/);
    const json = JSON.parse((await cli('simulate', '--scenario', ex('demo/scenario.json'), '--json')).out);
    expect(json.dryRun).toBe(true);
    expect(json.performedByAwsBreakdown.dryRun).toBe(json.planned);
  });

  it('adds every outage with --timeline, as JSON and as a compact list', async () => {
    const args = [
      'simulate',
      '--scenario',
      ex('demo/scenario.json'),
      '--config',
      ex('demo/forestall.config.json'),
    ];
    const o = JSON.parse((await cli(...args, '--json', '--timeline')).out);
    expect(o.timeline.length).toBeGreaterThan(100);
    expect(o.awsOnly.timeline.length).toBeGreaterThan(100);
    expect(Object.keys(o.timeline[0])).toEqual(['instanceId', 'from', 'to', 'cause', 'groups']);
    const text = (await cli(...args, '--timeline')).out;
    expect(text).toContain(
      `Outages with Forestall (${o.timeline.length}; FROM, TO, CAUSE, INSTANCE, GROUPS):`,
    );
    expect(text).toMatch(/^\S+Z \S+Z (forestall|aws {6}) i-[0-9a-f]{17} asg=\S+ az=\S+$/m);
    expect(text).not.toContain('.000Z');
  });

  it('warns of a wave that no opted-in instance of the simulated fleet joins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forestall-sim-'));
    const cfg = JSON.parse(readFileSync(ex('demo/forestall.config.json'), 'utf8'));
    cfg.waves[0].match.tags = { 'forestall:wave': 'canery' };
    const p = join(dir, 'cfg.json');
    writeFileSync(p, JSON.stringify(cfg));
    const r = await cli('simulate', '--scenario', ex('demo/scenario.json'), '--config', p, '--json');
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      'warning: wave "canary" matches no opted-in instance (match.tags forestall:wave=canery; opt-in tag forestall:managed=true)',
    );
    expect(JSON.parse(r.out).planned).toBeGreaterThan(0);
  });

  it('wraps a progress line longer than 120 columns, and shortens a long group name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forestall-sim-'));
    const scenario = JSON.parse(readFileSync(ex('demo/scenario.json'), 'utf8'));
    scenario.name = `a scenario whose name goes on ${'and on '.repeat(15)}`.trim();
    scenario.groups[0].asg = `web-${'x'.repeat(100)}-end`;
    const p = join(dir, 'long.json');
    writeFileSync(p, JSON.stringify(scenario));
    const r = await cli('simulate', '--scenario', p, '--progress');
    expect(r.code).toBe(0);
    for (const line of r.out.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    // A long Auto Scaling group name is shortened in the limits table, both ends kept.
    expect(r.out).toMatch(/^asg=web-\S*…\S*-end +\d+ +\d+ +\d+ +\d+$/m);
    const [first = '', second = ''] = r.out.split('\n');
    expect(second).toMatch(/^ {2}\S/); // continued, indented
    expect(`${first} ${second.trim()}`).toBe(
      `DRY RUN, nothing is applied: simulating "${scenario.name}" (seed 2014)`,
    );
  });

  it('rejects a bad scenario with the field path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forestall-sim-'));
    const p = join(dir, 's.json');
    writeFileSync(
      p,
      JSON.stringify({
        start: '2026-12-01T00:00:00Z',
        azs: ['a'],
        groups: [{ count: 0 }],
        events: { mix: {}, slots: ['P1D'] },
      }),
    );
    const r = await cli('simulate', '--scenario', p);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `forestall: invalid scenario ${p}: groups[0].count: Too small: expected number to be >=1`,
    );
  });

  it('rejects a bad seed', async () => {
    const r = await cli('simulate', '--scenario', ex('demo/scenario.json'), '--seed', 'abc');
    expect(r).toMatchObject({ code: 2, err: 'forestall: --seed "abc" is not a whole number >= 0' });
  });
});

describe('operator commands: usage checked before any AWS call', () => {
  // Clients that fail the test if a command reaches them: bad flags must be refused offline.
  const offline = {
    doc: { send: () => Promise.reject(new Error('reached DynamoDB')) },
    sfn: { send: () => Promise.reject(new Error('reached Step Functions')) },
    cfn: { send: () => Promise.reject(new Error('reached CloudFormation')) },
  } as unknown as OperatorAws;
  async function operate(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, Date.now, offline);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('lists approve, halt, status and release in the help', async () => {
    const r = await operate('--help');
    for (const c of [
      'approve [options] <rollout>',
      'halt [options] <rollout>',
      'status [options]',
      'release',
      'drill [options]',
    ])
      expect(r.out).toContain(c);
    expect(r.out).toContain(
      'Exit codes: 0 done; 1 an AWS call failed, or an internal error; 2 bad files, flags or a refused command;\n3 (plan) some notices are infeasible, (drill) some instances cannot make it.',
    );
  });

  it.each([
    [['approve'], "error: missing required argument 'rollout'"],
    [
      ['approve', 'fs-1', '--batch', 'two', '--table', 't'],
      'forestall: --batch "two" is not a whole number >= 0',
    ],
    [['halt', 'fs-1', '--table', 't'], "error: required option '--reason <text>' not specified"],
    [['halt', 'fs-1', '--reason', ' ', '--table', 't'], 'forestall: --reason must say why'],
    [['release', 'us-east-1', '--table', 't'], "error: required option '--rollout <id>' not specified"],
  ])('%j exits 2 with one line', async (argv, line) => {
    const r = await operate(...argv);
    expect(r).toMatchObject({ code: 2, err: line, out: '' });
  });

  it('reports an AWS error from an injected client as one line, exit 1', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: dynamodb:Query'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    // A real document client (the paginators insist) whose every call is answered offline with the error.
    const ddb = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    ddb.middlewareStack.add(() => () => Promise.reject(denied), { step: 'initialize', name: 'denyAll' });
    const aws: OperatorAws = { ...offline, doc: DynamoDBDocumentClient.from(ddb) };
    const err: string[] = [];
    const code = await run(
      ['status', '--region', 'us-east-1', '--table', 't'],
      { out: () => {}, err: (s) => err.push(s) },
      Date.now,
      aws,
    );
    expect(code).toBe(1);
    expect(err).toEqual([
      'forestall: an AWS call failed: AccessDeniedException: User is not authorized to perform: dynamodb:Query',
    ]);
  });
});

describe('the installed binary', () => {
  it('runs through the npm bin entry and exits 2 on bad input, without a stack trace', () => {
    const bin = join(root, 'bin', 'forestall-cli.js');
    expect(execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' })).toContain(
      'Usage: forestall [options] [command]',
    );
    const bad = spawnSync(
      process.execPath,
      [bin, 'plan', '--instances', 'nope.json', '--statuses', 'nope.json'],
      { encoding: 'utf8' },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('forestall: cannot read --statuses nope.json: no such file');
  });
});
