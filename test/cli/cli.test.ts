import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OperatorAws } from '../../cli/aws';
import { run } from '../../cli/main';
import { formatPlan } from '../../cli/plan';

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
    expect(r.out).toContain('[dryRun: remedies are recorded, not applied]');
    expect(r.out).toMatch(/^1 batch, 1 item; 6 skipped; 0 infeasible$/m);
    expect(r.out).not.toContain('LIMIT');
    expect(r.out).toMatch(
      /^0 +canary +2026-12-02T01:00:00.000Z +2026-12-02T01:20:00.000Z +i-0a1b2c3d4e5f60001 +system-reboot +reboot-migrate/m,
    );
    expect(r.out).toContain(
      'instance store of m5.large unknown (give describe-instance-types output, or set instanceStoreDisposable)',
    );
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
      false,
    );
    expect(text).toMatch(/^2 batches \(1 cut short by EC2 API throughput: LIMIT api\), 2 items;/m);
    expect(text).toMatch(/^BATCH +WAVE +START \(UTC\) +END BY \(UTC\) +LIMIT +INSTANCE/m);
    expect(text).toMatch(/^0 +all +\S+ +\S+ +api +i-00000000000000000 /m);
    expect(text).toMatch(/^1 +all +\S+ +\S+ +i-00000000000000001 /m);
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
    expect(r.out).toMatch(
      /^batch 0 canary at 2026-12-02T02:00:00.000Z: 2 to remedy, 0 dropped at preflight$/m,
    );
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
    ])
      expect(r.out).toContain(c);
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
