#!/usr/bin/env node
/**
 * `npm test`: jest's offline `unit` project, plus the `moto` project (test/aws: adapters and handlers against
 * the project's moto launcher) when Python's moto is installed; otherwise one line says they were skipped
 * and why. FORESTALL_REQUIRE_MOTO=1 (set by .ci/run) turns a missing moto into a failure.
 * `npm run test:aws` (`--aws-only`): the moto project alone, which needs moto.
 * `npm run test:e2e` (`--e2e-only`): the end-to-end suite (test/e2e: the synthesized state machine run by
 * aws-local-stepfunctions, the real handlers, moto behind them), which needs moto.
 * Extra arguments go to jest.
 */
const { spawnSync } = require('node:child_process');

const mode = process.argv[2];
const awsOnly = mode === '--aws-only';
const e2eOnly = mode === '--e2e-only';
const jestArgs = process.argv.slice(awsOnly || e2eOnly ? 3 : 2);
const python = process.env.FORESTALL_MOTO_PYTHON || 'python3';

const probe = spawnSync(python, ['-c', 'import moto, moto.server; print(moto.__version__)'], {
  encoding: 'utf8',
});
const hasMoto = probe.status === 0;
const why = probe.error
  ? `${python} was not found`
  : `${python} cannot import moto (${(probe.stderr || '').trim().split('\n').pop()})`;
const required = awsOnly || e2eOnly || process.env.FORESTALL_REQUIRE_MOTO === '1';
const missing = `moto is not installed: ${why}; install it with: pip install 'moto[server]>=5.2,<5.3'`;

if (!hasMoto && required) {
  console.error(`AWS-backed suites (test/aws) cannot run: ${missing}`);
  process.exit(1);
}
const projects = e2eOnly ? ['e2e'] : awsOnly ? ['moto'] : hasMoto ? ['unit', 'moto'] : ['unit'];
const r = spawnSync(
  process.execPath,
  // The paths first: --selectProjects takes every word after it as a project name.
  [require.resolve('jest/bin/jest'), ...jestArgs, '--selectProjects', ...projects],
  {
    stdio: 'inherit',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  },
);
if (hasMoto) console.log(`AWS-backed suites (test/aws) ran against moto ${probe.stdout.trim()}.`);
else console.log(`AWS-backed suites (test/aws) skipped: ${missing}`);
process.exit(r.status ?? 1);
