/**
 * npm run bench [-- --quick] [-- --only SUBSTRING]: every scenario of bench/scenarios.ts under every
 * strategy; writes bench/results.json and prints the table (progress on stderr).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchRow, benchScenario } from './bench';
import { benchScenarios } from './scenarios';
import { formatBenchTable } from './table';

async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const scenarios = benchScenarios(quick).filter((b) => only === undefined || b.name.includes(only));
  if (scenarios.length === 0) throw new Error(`no scenario matches --only ${only}`);
  const started = performance.now();
  const rows: BenchRow[] = [];
  const bounds: Record<string, unknown> = {};
  for (const [i, b] of scenarios.entries()) {
    process.stderr.write(`[${i + 1}/${scenarios.length}] ${b.name} (${b.instances} instances): ${b.about}\n`);
    const out = await benchScenario(b, (line) => process.stderr.write(`${line}\n`));
    rows.push(...out.rows);
    bounds[b.name] = out.bounds;
  }
  const file = join(__dirname, 'results.json');
  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
  writeFileSync(join(__dirname, 'lower-bounds.json'), `${JSON.stringify(bounds, null, 2)}\n`);
  process.stdout.write(`${formatBenchTable(rows)}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  process.stderr.write(`wrote ${file} (${rows.length} rows) in ${seconds} s on Node ${process.version}\n`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
