/** The CDK app validates the operator config at synth time: a bad field fails synth, naming the field. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

function synth(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'forestall-cdk-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bin', 'forestall.ts')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
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
});
