/** The CDK app validates the operator config at synth time: a bad field fails synth, naming the field. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

function synth(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'forestall-cdk-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bin', 'forestall.ts')], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
    },
  });
  return { ...r, outdir };
}

describe('bin/forestall.ts', () => {
  it('fails synth on an invalid config with the field path', () => {
    const r = synth({
      forestall: {
        waves: [
          { name: 'canary', maxParallel: 1 },
          { name: 'main', maxParallel: '0%' },
        ],
      },
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      'invalid config (cdk.json context "forestall"): waves[1].maxParallel: expected a count (integer >= 1) or a percent like "25%", got "0%"',
    );
  });

  it('synthesizes with a valid config and says in the template whether it is a dry run', () => {
    const r = synth({ forestall: { dryRun: false } });
    expect(r.status).toBe(0);
    const template = join(r.outdir, 'Forestall.template.json');
    expect(existsSync(template)).toBe(true);
    expect(JSON.parse(readFileSync(template, 'utf8')).Description).toBe(
      'Forestall: EC2 scheduled-maintenance rollouts (dryRun=false)',
    );
  });

  it('fails synth in one line when -c forestallConfig names a missing file', () => {
    const r = synth({ forestallConfig: 'no/such/forestall.json' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('config file no/such/forestall.json (-c forestallConfig) does not exist\n');
  });

  it('fails synth in one line, without a stack trace, when the config file is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forestall-config-'));
    const path = join(dir, 'forestall.json');
    writeFileSync(path, '{ "dryRun": false, }');
    const r = synth({ forestallConfig: path });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^config file ${path} is not valid JSON: `));
  });

  it('puts a Health forwarder stack in each extra Region', () => {
    const r = synth({ forestall: { regions: ['eu-west-1', 'us-west-2'] } });
    expect(r.status).toBe(0);
    expect(existsSync(join(r.outdir, 'ForestallHealthForwarder-us-west-2.template.json'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(r.outdir, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts.Forestall.environment).toMatch(/\/eu-west-1$/);
  });
});
