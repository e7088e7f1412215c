/**
 * `npm run measure:handlers`: bundles each handler as the CDK construct does (lib/handler-function.ts BUNDLING)
 * and prints its size, zipped size, and module init time (a cold-start proxy: the median of 7 fresh Node
 * processes requiring the bundle, on this machine).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';
import { BUNDLING } from '../lib/handler-function';

const handlers = join(__dirname, '..', 'lambda', 'handlers');
const out = mkdtempSync(join(tmpdir(), 'forestall-bundles-'));
const RUNS = 7;

const entries = readdirSync(handlers).filter((f) => /^(poll|health-intake)\.ts$/.test(f));
const rows = entries.map((file) => {
  const outfile = join(out, file.replace(/\.ts$/, '.js'));
  buildSync({
    entryPoints: [join(handlers, file)],
    outfile,
    bundle: true,
    platform: 'node',
    minify: BUNDLING.minify,
    target: BUNDLING.target,
    format: 'cjs',
    mainFields: BUNDLING.mainFields,
    logLevel: 'error',
  });
  const times = Array.from({ length: RUNS }, () =>
    Number(
      execFileSync(process.execPath, [
        '-e',
        `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
      ]).toString(),
    ),
  ).sort((a, b) => a - b);
  return {
    handler: file.replace(/\.ts$/, ''),
    bundleKB: Math.round(statSync(outfile).size / 1024),
    gzipKB: Math.round(gzipSync(readFileSync(outfile)).length / 1024),
    initMsMedian: Math.round(times[Math.floor(RUNS / 2)] ?? 0),
    initMsMin: Math.round(times[0] ?? 0),
  };
});
console.table(rows);
console.log(`node ${process.version}, ${RUNS} runs each`);
