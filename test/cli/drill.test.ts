import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../cli/main';

const root = join(__dirname, '..', '..');
const ex = (f: string) => join(root, 'examples', f);
const NOW = '2026-11-30T00:00:00Z';

async function drill(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(['drill', ...argv], { out: (s) => out.push(s), err: (s) => err.push(s) }, () =>
    Date.parse(NOW),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const exampleArgs = [
  '--instances',
  ex('aws/describe-instances.json'),
  '--instance-types',
  ex('aws/describe-instance-types.json'),
  '--config',
  ex('forestall.config.json'),
  '--now',
  NOW,
];

const dir = mkdtempSync(join(tmpdir(), 'forestall-drill-'));
const file = (name: string, value: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
};

/** `aws ec2 describe-instances` output for n opted-in instances in 2 ASGs (every 10th not opted in). */
function describeInstances(n: number): string {
  const instance = (i: number) => ({
    InstanceId: `i-${i.toString(16).padStart(17, '0')}`,
    InstanceType: 'm5.large',
    Placement: { AvailabilityZone: `us-east-1${'ab'[i % 2]}` },
    State: { Name: 'running' },
    RootDeviceType: 'ebs',
    Tags: [
      { Key: 'aws:autoscaling:groupName', Value: `asg-${i % 2}` },
      ...(i % 10 === 9 ? [] : [{ Key: 'forestall:managed', Value: 'true' }]),
    ],
    MaintenanceOptions: { RebootMigration: 'default' },
  });
  return file(`di-${n}.json`, {
    Reservations: Array.from({ length: n }, (_, i) => ({ Instances: [instance(i)] })),
  });
}

const tightConfig = () =>
  file('tight.json', {
    groupBy: ['asg'],
    maxUnavailablePerGroup: 2,
    waves: [{ name: 'all', maxParallel: '100%', bake: 'PT10M' }],
  });

describe('forestall drill', () => {
  it('exits 0 when every opted-in instance makes it, and prints the rollout and the groups', async () => {
    const r = await drill(...exampleArgs, '--deadline', '3d');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^Drill in us-east-1 at 2026-11-30T00:00:00Z: system-reboot on every opted-in/);
    expect(r.out).toMatch(/instance, due in 3d \(2026-12-03T00:00:00Z\)$/m);
    expect(r.out).toMatch(
      /^Instances: 6; drilled 5; not opted in 1 \(lack forestall:managed=true: excluded, AWS reboots them/m,
    );
    expect(r.out).toMatch(
      /^Current config: planned 4, infeasible 0, no remedy 0, not running 1 \(deadlineMargin 2h\)$/m,
    );
    expect(r.out).toMatch(
      /^Rollout: 4 batches, 2026-12-01T01:00:00Z to 2026-12-01T03:20:00Z \(2h20m\), ends 1d20h40m before the deadline$/m,
    );
    expect(r.out).toMatch(/^GROUP +SIZE +LIMIT +PEAK +PLANNED +INFEASIBLE +NO REMEDY +NOT OPTED IN$/m);
    expect(r.out).toMatch(/^asg=web-asg +2 +1 +1 +2 +0 +0 +0$/m);
    expect(r.out).toMatch(/^Every opted-in instance makes it\. \(1 plan made\)$/m);
  });

  it('exits 3 when some cannot, and says when no limit helps (windows)', async () => {
    const r = await drill(...exampleArgs, '--deadline', '24h');
    expect(r.code).toBe(3);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^Cannot make it, by group \(3: no-slot 3\):$/m);
    expect(r.out).toMatch(/^ {2}az=us-east-1b +2: i-0a1b2c3d4e5f60002 i-0a1b2c3d4e5f60005$/m);
    expect(r.out).toMatch(/^No maxParallel or maxUnavailablePerGroup lets 3 make it \(no-slot 3\):$/m);
    expect(r.out).toMatch(/^ {2}- windows: too few window hours before the deadline/m);
    expect(r.out).toMatch(/^3 opted-in instances cannot make it under the current config\./m);
  });

  it('suggests a limit, found by re-planning, and keeps lines within 120 columns, times without .000', async () => {
    const r = await drill(
      '--instances',
      describeInstances(120),
      '--config',
      tightConfig(),
      '--deadline',
      '6h',
    );
    expect(r.code).toBe(3);
    expect(r.out).toMatch(
      /^ {2}- maxUnavailablePerGroup 2 -> \d+ \(\d+ leaves \d+ infeasible\): every infeasible instance makes it$/m,
    );
    for (const line of r.out.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(r.out).not.toContain('.000');
    expect(r.out).toMatch(/ \+\d+ more$/m); // long id lists are cut to the width
  });

  it('prints the documented JSON shape', async () => {
    const r = await drill(
      '--instances',
      describeInstances(120),
      '--config',
      tightConfig(),
      '--deadline',
      'PT6H',
      '--json',
    );
    expect(r.code).toBe(3);
    const o = JSON.parse(r.out);
    expect(Object.keys(o)).toEqual([
      'region',
      'now',
      'deadline',
      'deadlineSeconds',
      'makesIt',
      'instances',
      'rollout',
      'groups',
      'infeasible',
      'noRemedy',
      'infeasibleReasons',
      'skippedReasons',
      'suggestions',
      'notEnoughAlone',
      'noValueHelps',
      'plans',
    ]);
    expect(o).toMatchObject({
      region: 'us-east-1',
      now: '2026-11-30T00:00:00Z',
      deadline: '2026-11-30T06:00:00Z',
      deadlineSeconds: 21600,
      makesIt: false,
      noValueHelps: null,
    });
    expect(Object.keys(o.instances)).toEqual([
      'total',
      'drilled',
      'notOptedIn',
      'planned',
      'infeasible',
      'noRemedy',
      'notRunning',
    ]);
    expect(o.instances).toMatchObject({ total: 120, drilled: 108, notOptedIn: 12 });
    expect(Object.keys(o.rollout)).toEqual(['batches', 'start', 'end', 'seconds', 'secondsBeforeDeadline']);
    expect(Object.keys(o.groups[0])).toEqual([
      'group',
      'size',
      'limit',
      'peak',
      'planned',
      'infeasible',
      'noRemedy',
      'notOptedIn',
    ]);
    expect(Object.keys(o.infeasible[0])).toEqual(['instanceId', 'reason', 'groups']);
    expect(o.suggestions).toHaveLength(1);
    expect(Object.keys(o.suggestions[0])).toEqual(['changes', 'infeasible', 'rollout']);
    expect(o.suggestions[0].changes[0]).toEqual({
      setting: 'maxUnavailablePerGroup',
      from: 2,
      to: expect.any(Number),
      below: o.suggestions[0].changes[0].to - 1,
      infeasibleBelow: expect.any(Number),
    });
    expect(o.suggestions[0].infeasible).toBe(0);
    expect(o.notEnoughAlone).toEqual([]);
  });

  it('writes percent limits as the config does, and noValueHelps with its causes', async () => {
    const cfg = file('pct.json', {
      groupBy: ['asg'],
      maxUnavailablePerGroup: '2%',
      waves: [{ name: 'all', maxParallel: '100%', bake: 'PT10M' }],
    });
    const o = JSON.parse(
      (await drill('--instances', describeInstances(120), '--config', cfg, '--deadline', '6h', '--json')).out,
    );
    expect(o.suggestions[0].changes[0]).toMatchObject({ from: '2%', to: expect.stringMatching(/^\d+%$/) });
    const short = JSON.parse((await drill(...exampleArgs, '--deadline', '90m', '--json')).out);
    expect(short.noValueHelps).toEqual({
      instances: 4,
      reasons: { 'deadline-too-close': 4 },
      causes: [{ cause: 'deadline', text: expect.stringMatching(/^4 cannot even start: /) }],
    });
    expect(short.rollout).toBeNull();
  });

  it('is byte-identical for the same input', async () => {
    const a = await drill(...exampleArgs, '--deadline', '24h', '--json');
    const b = await drill(...exampleArgs, '--deadline', '24h', '--json');
    expect(b.out).toBe(a.out);
  });

  it('uses the clock without --now, and --region for the data', async () => {
    const args = exampleArgs.slice(0, -2);
    const o = JSON.parse((await drill(...args, '--deadline', '3d', '--region', 'us-east-1', '--json')).out);
    expect(o).toMatchObject({ now: '2026-11-30T00:00:00Z', region: 'us-east-1' });
  });

  it("refuses a --region the instances' zones contradict, as plan does", async () => {
    const r = await drill(...exampleArgs, '--deadline', '3d', '--region', 'eu-west-1');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /^forestall: --region eu-west-1 does not match --instances .*: its instances are in us-east-1 /,
    );
  });

  describe('usage errors: one line, exit 2, nothing on stdout', () => {
    it.each([
      ['2x', 'forestall: --deadline "2x" is not a duration such as 24h, 3d, 90m, 2d12h or PT24H'],
      ['24', 'forestall: --deadline "24" is not a duration such as 24h, 3d, 90m, 2d12h or PT24H'],
      ['P1M', /^forestall: --deadline "P1M" is not a duration .*months and years have no fixed length\)$/],
      ['0h', /^forestall: --deadline "0h" is not after now: give a duration > 0/],
      ['1000d', 'forestall: --deadline "1000d" is longer than 365d'],
    ])('--deadline %s', async (deadline, message) => {
      const r = await drill(...exampleArgs, '--deadline', deadline);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).toMatch(message);
    });

    it.each([
      [
        ['--now', 'yesterday'],
        'forestall: --now "yesterday" is not an ISO-8601 time such as 2026-12-01T00:00:00Z',
      ],
      [
        ['--instances', '/nonexistent/di.json'],
        'forestall: cannot read --instances /nonexistent/di.json: no such file',
      ],
      [
        ['--instances', ex('aws/describe-instance-status.json')],
        /^forestall: --instances .*: no Reservations array: is this `aws ec2 describe-instances` output\?$/,
      ],
      [
        ['--instance-types', ex('aws/describe-instances.json')],
        /^forestall: --instance-types .*: not `aws ec2/,
      ],
      [['--config', 'BAD_CONFIG'], /^forestall: invalid config .*: maxUnavailablePerGroup: expected a count/],
    ])('%j', async (override, message) => {
      const args = [...exampleArgs, '--deadline', '24h'];
      const [flag = '', raw = ''] = override;
      const value = raw === 'BAD_CONFIG' ? file('bad.json', { maxUnavailablePerGroup: 0 }) : raw;
      const at = args.indexOf(flag);
      if (at >= 0) args[at + 1] = value;
      else args.push(flag, value);
      const r = await drill(...args);
      expect(r).toMatchObject({ code: 2, out: '' });
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).toMatch(message);
    });

    it('requires --deadline, --instances and --config, and rejects unknown flags', async () => {
      expect(await drill(...exampleArgs)).toMatchObject({
        code: 2,
        err: "error: required option '--deadline <duration>' not specified",
      });
      expect(await drill('--deadline', '24h', '--config', ex('forestall.config.json'))).toMatchObject({
        code: 2,
        err: "error: required option '--instances <file>' not specified",
      });
      expect(await drill(...exampleArgs, '--deadline', '24h', '--colour')).toMatchObject({
        code: 2,
        err: "error: unknown option '--colour'",
      });
    });
  });

  it('has help that names every flag and the exit codes', async () => {
    const r = await drill('--help');
    expect(r.code).toBe(0);
    for (const flag of [
      '--instances <file>',
      '--config <file>',
      '--deadline <duration>',
      '--instance-types',
      '--now',
      '--region',
      '--json',
    ])
      expect(r.out).toContain(flag);
    expect(r.out).toMatch(
      /^Exit codes: 0 every opted-in instance makes it, 3 some cannot, 2 usage error\.$/m,
    );
  });
});
