/** The benchmark's table: one line per scenario and strategy, at most 120 columns. */
import type { BenchRow } from './bench';

const hours = (s: number) => (s / 3600).toFixed(s < 36_000 ? 2 : 1);

const COLUMNS: ReadonlyArray<readonly [string, (r: BenchRow) => string]> = [
  ['SCENARIO', (r) => r.scenario],
  ['STRATEGY', (r) => r.strategy],
  ['NOTICES', (r) => String(r.notices)],
  ['CLEARED', (r) => String(r.clearedByForestall)],
  ['BY AWS', (r) => String(r.performedByAws)],
  ['UNEXP', (r) => String(r.unexpected)],
  ['VIOL', (r) => String(r.limitViolations)],
  ['PEAK', (r) => r.peakUnavailableRatio.toFixed(2)],
  ['DOUBLE', (r) => String(r.doubleOutages)],
  ['HOURS', (r) => hours(r.makespanSeconds)],
  ['xLB', (r) => r.makespanRatio.toFixed(2)],
  ['API', (r) => String(r.apiCalls)],
  ['xLB', (r) => r.apiCallRatio.toFixed(2)],
  ['PLAN ms', (r) => (r.strategy === 'forestall' ? String(r.plannerMs) : '')],
];

export function formatBenchTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((r) => COLUMNS.map(([, f]) => f(r)));
  const widths = COLUMNS.map(([h], i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (cs: readonly string[]) =>
    cs
      .map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join(' ')
      .trimEnd();
  return [line(COLUMNS.map(([h]) => h)), ...cells.map(line)].join('\n');
}
