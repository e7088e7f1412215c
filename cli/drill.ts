/** `forestall drill`: what if AWS had to reboot the whole fleet? AWS CLI JSON in, the drill's report out. */
import type { Command } from 'commander';
import type { Config, CountOrPercent } from '../lambda/core/config';
import {
  type Change,
  type DrillReport,
  makesIt,
  parseDrillDeadline,
  type RolloutSpan,
  runDrill,
  type Suggestion,
  type Unmade,
} from '../lambda/core/drill';
import { parseInstances } from '../lambda/core/facts';
import { formatDuration, isoSeconds } from '../lambda/core/time';
import { loadConfig, type Output, parseNow, readInstanceTypes, readJson, UsageError } from './io';
import { regionOfInput } from './plan';
import { table } from './table';

/** Exit codes of `forestall drill`: 0 every opted-in instance makes it, 3 some cannot (2: usage errors). */
export const DRILL_EXIT = { allMakeIt: 0, someCannot: 3 } as const;

/**
 * Ends a command with an exit code other than 0 after it printed its report: no error line. The program's
 * error handler returns `code` (cli/main.ts: `if (e instanceof ExitStatus) return e.code;`).
 */
export class ExitStatus extends Error {
  override readonly name = 'ExitStatus';
  constructor(readonly code: number) {
    super(`exit status ${code}`);
  }
}

export interface DrillOptions {
  instances: string;
  instanceTypes?: string;
  config: string;
  deadline: string;
  now?: string;
  region?: string;
  json?: boolean;
}

const WIDTH = 120;

export function registerDrillCommand(program: Command, io: Output, clock: () => number): void {
  program
    .command('drill')
    .description(
      'What if AWS had to reboot the whole fleet? Plans a system-reboot due at the deadline for every opted-in ' +
        'instance with the real planner and config: rollout length, peak per group, who cannot make it, and which ' +
        'maxUnavailablePerGroup / wave maxParallel would let them (found by re-planning).',
    )
    .addHelpText('after', '\nExit codes: 0 every opted-in instance makes it, 3 some cannot, 2 usage error.')
    .requiredOption('--instances <file>', 'JSON printed by `aws ec2 describe-instances` (the whole Region)')
    .requiredOption('--config <file>', 'forestall.config.json')
    .requiredOption(
      '--deadline <duration>',
      'time until the events are due: 24h, 3d, 90m, 2d12h or ISO-8601 (PT24H)',
    )
    .option(
      '--instance-types <file>',
      'JSON printed by `aws ec2 describe-instance-types`, to know instance-store volumes',
    )
    .option('--region <region>', 'Region the file came from (default: first of config.regions)')
    .option('--now <iso>', 'drill as if it were this time (default: the current time)')
    .option('--json', 'print the report as JSON')
    .action((opts: DrillOptions) => {
      const code = runDrillCommand(opts, io, clock);
      if (code !== DRILL_EXIT.allMakeIt) throw new ExitStatus(code);
    });
}

/** Runs the drill and prints it; returns the exit code (0 or 3). Bad flags or files throw UsageError. */
export function runDrillCommand(opts: DrillOptions, io: Output, clock: () => number): number {
  const config = loadConfig(opts.config);
  const deadline = parseDrillDeadline(opts.deadline);
  if ('error' in deadline) throw new UsageError(`--deadline ${deadline.error}`);
  const now = parseNow(opts.now, clock);
  const types = readInstanceTypes(opts.instanceTypes);
  const read = parseInstances(readJson(opts.instances, '--instances'), '', types);
  const region = regionOfInput(opts, config, read.facts);
  const parsed = { ...read, facts: read.facts.map((f) => ({ ...f, region })) };
  if (parsed.facts.length === 0 && parsed.rejected.length > 0) {
    throw new UsageError(`--instances ${opts.instances}: ${parsed.rejected[0]?.reason}`);
  }
  for (const r of parsed.rejected) io.err(`warning: ignored ${r.where}: ${r.reason}`);
  const report = runDrill({ facts: parsed.facts, config, now, deadline: deadline.ms });
  if (opts.json) io.out(JSON.stringify(drillJson(report, region), null, 2));
  else io.out(formatDrill(report, config, region));
  return makesIt(report) ? DRILL_EXIT.allMakeIt : DRILL_EXIT.someCannot;
}

/** An instant to the second, without `.000`: `2026-12-01T02:00:00Z`. */

/** A limit as the config writes it: `14` or `"40%"`. */
const configValue = (l: CountOrPercent): number | string => (l.kind === 'percent' ? `${l.value}%` : l.value);
const shown = (l: CountOrPercent): string => String(configValue(l));

function rolloutJson(span: RolloutSpan | undefined, notBefore: number) {
  if (!span) return null;
  return {
    batches: span.batches,
    start: isoSeconds(span.start),
    end: isoSeconds(span.end),
    seconds: (span.end - span.start) / 1000,
    secondsBeforeDeadline: (notBefore - span.end) / 1000,
  };
}

const changeJson = (c: Change) => ({
  setting: c.setting,
  ...(c.wave === undefined ? {} : { wave: c.wave }),
  from: configValue(c.from),
  to: configValue(c.to),
  below: configValue(c.below),
  infeasibleBelow: c.infeasibleBelow,
});

/** The --json document: times to the second in UTC, durations in seconds, limits as the config writes them. */
export function drillJson(r: DrillReport, region: string) {
  return {
    region,
    now: isoSeconds(r.now),
    deadline: isoSeconds(r.notBefore),
    deadlineSeconds: (r.notBefore - r.now) / 1000,
    makesIt: makesIt(r),
    instances: r.instances,
    rollout: rolloutJson(r.rollout, r.notBefore),
    groups: r.groups,
    infeasible: r.infeasible,
    noRemedy: r.noRemedy,
    infeasibleReasons: r.infeasibleReasons,
    skippedReasons: r.skippedReasons,
    suggestions: r.suggestions.map((s) => ({
      changes: s.changes.map(changeJson),
      infeasible: s.result.infeasible,
      rollout: rolloutJson(s.result.span, r.notBefore),
    })),
    notEnoughAlone: r.notEnoughAlone,
    noValueHelps: r.noValueHelps
      ? {
          instances: r.noValueHelps.instances,
          reasons: r.noValueHelps.reasons,
          causes: r.noValueHelps.causes.map((c) => ({ cause: c.code, text: c.text })),
        }
      : null,
    plans: r.plans,
  };
}

/** Words to lines of at most `width` columns; the first keeps its own leading spaces, the rest get `indent`. */
export function wrap(text: string, indent: string, width = WIDTH): string[] {
  const lead = /^ */.exec(text)?.[0] ?? '';
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    if (line.trim() !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = line.trim() === '' ? `${line}${word}` : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

const reasonsText = (reasons: Readonly<Record<string, number>>): string =>
  Object.entries(reasons)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

function spanText(span: RolloutSpan | undefined, notBefore: number): string {
  if (!span) return 'nothing planned';
  const batches = `${span.batches} ${span.batches === 1 ? 'batch' : 'batches'}`;
  return `${batches}, ${isoSeconds(span.start)} to ${isoSeconds(span.end)} (${formatDuration(span.end - span.start)}), ends ${formatDuration(notBefore - span.end)} before the deadline`;
}

function header(r: DrillReport, config: Config, region: string): string[] {
  const i = r.instances;
  const tag = `${config.optInTag.key}=${config.optInTag.value}`;
  const excluded = i.notOptedIn > 0 ? ` (lack ${tag}: excluded, AWS reboots them on its own schedule)` : '';
  return [
    ...wrap(
      `Drill in ${region} at ${isoSeconds(r.now)}: system-reboot on every opted-in instance, ` +
        `due in ${formatDuration(r.notBefore - r.now)} (${isoSeconds(r.notBefore)})`,
      '  ',
    ),
    ...wrap(`Instances: ${i.total}; drilled ${i.drilled}; not opted in ${i.notOptedIn}${excluded}`, '  '),
    `Current config: planned ${i.planned}, infeasible ${i.infeasible}, no remedy ${i.noRemedy}, ` +
      `not running ${i.notRunning} (deadlineMargin ${formatDuration(r.deadlineMargin)})`,
    ...wrap(`Rollout: ${spanText(r.rollout, r.notBefore)}`, '  '),
  ];
}

function groupTable(r: DrillReport): string {
  return table(
    ['GROUP', 'SIZE', 'LIMIT', 'PEAK', 'PLANNED', 'INFEASIBLE', 'NO REMEDY', 'NOT OPTED IN'],
    r.groups.map((g) => [
      g.group.length > 48 ? `${g.group.slice(0, 47)}…` : g.group,
      String(g.size),
      String(g.limit),
      String(g.peak),
      String(g.planned),
      String(g.infeasible),
      String(g.noRemedy),
      String(g.notOptedIn),
    ]),
  );
}

/** Instances by group, as many ids as fit on one line. */
function byGroup(list: readonly Unmade[]): string[] {
  const ids = new Map<string, string[]>();
  for (const u of list) {
    for (const g of u.groups) {
      const mine = ids.get(g) ?? [];
      mine.push(u.instanceId);
      ids.set(g, mine);
    }
  }
  const width = Math.max(0, ...[...ids.keys()].map((g) => g.length));
  const digits = Math.max(0, ...[...ids.values()].map((l) => String(l.length).length));
  return [...ids.keys()].sort().map((g) => {
    const all = ids.get(g) ?? [];
    let line = `  ${g.padEnd(width)}  ${String(all.length).padStart(digits)}:`;
    let shownIds = 0;
    for (const id of all) {
      const more = all.length - shownIds - 1 > 0 ? ` +${all.length - shownIds - 1} more` : '';
      if (line.length + 1 + id.length + more.length > WIDTH) break;
      line += ` ${id}`;
      shownIds++;
    }
    return shownIds < all.length ? `${line} +${all.length - shownIds} more` : line;
  });
}

function suggestionLines(s: Suggestion, r: DrillReport, first: boolean): string[] {
  const change = (c: Change) =>
    `${c.setting}${c.wave === undefined ? '' : ` (${c.wave})`} ${shown(c.from)} -> ${shown(c.to)} ` +
    `(${shown(c.below)} leaves ${c.infeasibleBelow} infeasible)`;
  const outcome =
    s.result.infeasible === 0
      ? 'every infeasible instance makes it'
      : `as many make it as at the highest values; ${s.result.infeasible} still cannot (below)`;
  return [
    ...wrap(`${first ? '-' : '- or'} ${s.changes.map(change).join(' and ')}: ${outcome}`, '    '),
    ...wrap(`rollout ${spanText(s.result.span, r.notBefore)}`, '    ').map((l, i) =>
      i === 0 ? `    ${l}` : l,
    ),
  ];
}

export function formatDrill(r: DrillReport, config: Config, region: string): string {
  const lines = [...header(r, config, region), '', groupTable(r)];
  if (r.infeasible.length > 0) {
    lines.push('', `Cannot make it, by group (${r.infeasible.length}: ${reasonsText(r.infeasibleReasons)}):`);
    lines.push(...byGroup(r.infeasible));
  }
  if (r.noRemedy.length > 0) {
    const codes = Object.fromEntries(
      Object.entries(r.skippedReasons).filter(([k]) => k !== 'instance-not-running'),
    );
    lines.push(
      '',
      `No remedy the config allows applies (${r.noRemedy.length}: ${reasonsText(codes)}), so no limit helps:`,
    );
    lines.push(...byGroup(r.noRemedy));
    lines.push(...wrap(`  e.g. ${r.noRemedy[0]?.instanceId}: ${r.noRemedy[0]?.reason}`, '    '));
  }
  if (r.suggestions.length > 0) {
    lines.push(
      '',
      'What would let them make it (found by re-planning with the real planner; one lower checked too):',
    );
    r.suggestions.forEach((s, i) => {
      lines.push(...suggestionLines(s, r, i === 0).map((l) => `  ${l}`));
    });
    if (r.notEnoughAlone.length > 0)
      lines.push(...wrap(`  Not enough alone, at any value: ${r.notEnoughAlone.join(', ')}.`, '    '));
  }
  const none = r.noValueHelps;
  if (none) {
    lines.push(
      '',
      `No maxParallel or maxUnavailablePerGroup lets ${none.instances} make it (${reasonsText(none.reasons)}):`,
    );
    for (const c of none.causes) lines.push(...wrap(`  - ${c.text}`, '    '));
  }
  const verdict = makesIt(r)
    ? 'Every opted-in instance makes it.'
    : `${r.instances.infeasible + r.instances.noRemedy} opted-in instances cannot make it under the current config.`;
  lines.push('', `${verdict} (${r.plans} ${r.plans === 1 ? 'plan' : 'plans'} made)`);
  return lines.join('\n');
}
