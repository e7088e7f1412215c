/**
 * The drill: "what if AWS had to reboot the whole fleet?" Every opted-in instance gets a synthesized
 * `system-reboot` notice due at now + deadline, and the real planner (planRollout) plans them with the real
 * config. The report says how long the rollout takes, each group's peak against its limit, which instances
 * cannot make it, and which maxUnavailablePerGroup / wave maxParallel would let them: values found by
 * re-planning (a bounded search per setting: a first probe near an estimate, then secant steps safeguarded by
 * bisection, O(log range) plans), never by a formula that could disagree with the planner. Pure: no AWS
 * import, no clock read.
 */
import { MIGRATION_FALLBACK_SHARE } from './api-limits';
import { type Config, type CountOrPercent, isOptedIn, resolveLimit, waveIndexOf } from './config';
import { batchApiCaps, groupIds, groupLimits, groupsOf, planRollout } from './planner';
import { formatDuration, HOUR, MINUTE, parseIsoDuration } from './time';
import type { InstanceFacts, Notice, Plan } from './types';

const DRILL_CODE = 'system-reboot';
/** The drill's event window (NotAfter − NotBefore): what AWS usually gives a reboot event. */
const DRILL_EVENT_WINDOW = 2 * HOUR;
/** The longest deadline a drill accepts: AWS announces events days or weeks ahead, not years. */
const MAX_DRILL_DEADLINE = 365 * 24 * HOUR;

/** The event id of an instance's drill notice: deterministic, so two drills of one fleet compare. */
const drillEventId = (instanceId: string): string => `drill-${instanceId}`;

export type DeadlineParse = { readonly ms: number } | { readonly error: string };

const SHORT_DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/;
/** ISO-8601 durations of fixed length: weeks, days, hours, minutes, seconds (no months or years). */
const ISO_FIXED_DURATION =
  /^P(?!$)(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$/;

/** `24h`, `3d`, `90m`, `2d12h`, or an ISO-8601 duration (`PT24H`, `P3D`) → milliseconds, or why not. */
export function parseDrillDeadline(text: string): DeadlineParse {
  const forms = 'such as 24h, 3d, 90m, 2d12h or PT24H';
  let ms: number | undefined;
  const short = SHORT_DURATION.exec(text);
  if (short && text !== '') {
    const [, d = '0', h = '0', m = '0'] = short;
    ms = ((Number(d) * 24 + Number(h)) * 60 + Number(m)) * MINUTE;
  } else if (ISO_FIXED_DURATION.test(text)) {
    ms = parseIsoDuration(text);
  } else if (/^P/.test(text)) {
    return {
      error: `"${text}" is not a duration ${forms} (ISO-8601 in weeks, days, hours, minutes or seconds: months and years have no fixed length)`,
    };
  }
  if (ms === undefined) return { error: `"${text}" is not a duration ${forms}` };
  if (ms <= 0) return { error: `"${text}" is not after now: give a duration > 0 ${forms}` };
  if (ms > MAX_DRILL_DEADLINE)
    return { error: `"${text}" is longer than ${formatDuration(MAX_DRILL_DEADLINE)}` };
  return { ms };
}

/** The first fact of each instance id: DescribeInstances may list one twice (two pages, two runs). */
function uniqueFacts(facts: readonly InstanceFacts[]): InstanceFacts[] {
  const byId = new Map<string, InstanceFacts>();
  for (const f of facts) if (!byId.has(f.instanceId)) byId.set(f.instanceId, f);
  return [...byId.values()];
}

/**
 * A `system-reboot` notice for every opted-in instance, in the shape parseInstanceStatuses produces: NotBefore
 * at now + deadline, NotAfter two hours later, no NotBeforeDeadline (a drill asks what is done by the deadline,
 * so it does not count on AWS letting the event be moved past it).
 */
export function drillNotices(
  facts: readonly InstanceFacts[],
  config: Pick<Config, 'optInTag'>,
  now: number,
  deadline: number,
): Notice[] {
  const notBefore = now + deadline;
  return uniqueFacts(facts)
    .filter((f) => isOptedIn(f.tags, config))
    .map((f) => ({
      instanceId: f.instanceId,
      region: f.region,
      eventId: drillEventId(f.instanceId),
      code: DRILL_CODE,
      description: 'Drill: the instance is scheduled for a reboot',
      notBefore,
      notAfter: notBefore + DRILL_EVENT_WINDOW,
      source: 'poll',
      state: 'active',
    }));
}

export interface RolloutSpan {
  readonly batches: number;
  readonly start: number;
  readonly end: number;
}

/** What one plan says, kept small: a search of a 100,000-instance fleet keeps a dozen of them. */
export interface PlanSummary {
  readonly infeasible: number;
  /** Infeasible notices by reason code (`no-slot`, `deadline-too-close`, …). */
  readonly reasons: Readonly<Record<string, number>>;
  /** Batches cut short by EC2's API throughput (AWS-FACTS §6). */
  readonly apiLimited: number;
  readonly span?: RolloutSpan;
}

const reasonCode = (reason: string): string => reason.split(':')[0] ?? reason;

function tally(keys: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

function summarize(plan: Plan): PlanSummary {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const b of plan.batches) {
    start = Math.min(start, Date.parse(b.startAt));
    end = Math.max(end, Date.parse(b.endBy));
  }
  return {
    infeasible: plan.infeasible.length,
    reasons: tally(plan.infeasible.map((n) => reasonCode(n.reason))),
    apiLimited: plan.batches.filter((b) => b.limitedBy === 'api').length,
    ...(plan.batches.length > 0 ? { span: { batches: plan.batches.length, start, end } } : {}),
  };
}

/** Most instances of each group out of service at one instant in the plan (batches as [startAt, endBy)). */
export function peakPerGroup(plan: Plan): Map<string, number> {
  const moves = new Map<string, Array<[number, number]>>();
  for (const b of plan.batches) {
    const start = Date.parse(b.startAt);
    const end = Date.parse(b.endBy);
    for (const [g, n] of Object.entries(tally(b.items.flatMap((it) => groupIds(it.groups))))) {
      const list = moves.get(g) ?? [];
      list.push([start, n], [end, -n]);
      moves.set(g, list);
    }
  }
  const peaks = new Map<string, number>();
  for (const [g, list] of moves) {
    // An end before a start at the same instant: back-to-back batches do not overlap.
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let down = 0;
    let peak = 0;
    for (const [, n] of list) {
      down += n;
      peak = Math.max(peak, down);
    }
    peaks.set(g, peak);
  }
  return peaks;
}

/** The limits a search may change: maxUnavailablePerGroup and each wave's maxParallel. */
export interface Limits {
  readonly group: CountOrPercent;
  readonly waves: readonly CountOrPercent[];
}

const limitsOf = (config: Config): Limits => ({
  group: config.maxUnavailablePerGroup,
  waves: config.waves.map((w) => w.maxParallel),
});

const limitKey = (l: CountOrPercent): string => `${l.kind === 'percent' ? '%' : '#'}${l.value}`;

/** Re-plans the drill with other limits, memoized; counts the plans it made. */
class Replanner {
  plans = 0;
  private readonly memo = new Map<string, PlanSummary>();

  constructor(
    private readonly notices: readonly Notice[],
    private readonly facts: readonly InstanceFacts[],
    readonly config: Config,
    private readonly now: number,
  ) {}

  configWith(limits: Limits, over: Partial<Config> = {}): Config {
    return {
      ...this.config,
      ...over,
      maxUnavailablePerGroup: limits.group,
      waves: this.config.waves.map((w, i) => ({ ...w, maxParallel: limits.waves[i] ?? w.maxParallel })),
    };
  }

  /** Records a plan made elsewhere (the drill's first plan), so that the search does not make it again. */
  seed(limits: Limits, summary: PlanSummary): void {
    this.memo.set(this.key(limits, {}), summary);
  }

  private key(limits: Limits, over: Partial<Config>): string {
    return `${limitKey(limits.group)}|${limits.waves.map(limitKey).join(',')}|${JSON.stringify(over)}`;
  }

  /** The summary of a plan already made, if any. */
  known(limits: Limits): PlanSummary | undefined {
    return this.memo.get(this.key(limits, {}));
  }

  /** `over` changes other settings (the diagnosis drops the windows); it is part of the memo key. */
  summary(limits: Limits, over: Partial<Config> = {}): PlanSummary {
    const key = this.key(limits, over);
    let s = this.memo.get(key);
    if (!s) {
      this.plans++;
      s = summarize(planRollout(this.notices, this.facts, this.configWith(limits, over), this.now));
      this.memo.set(key, s);
    }
    return s;
  }
}

/** The fits check of every search: no more infeasible than the highest limits leave (0 when all can make it). */
const fits = (infeasible: number, target: number): boolean => infeasible <= target;

export interface Probe {
  readonly value: number;
  /** Infeasible notices at this value; undefined when not planned. */
  readonly infeasible?: number;
}

/**
 * Where two failing values predict the count reaches `target`: a straight line through them (counts fall
 * roughly in proportion to a limit until another constraint binds). Undefined without two usable points.
 */
function secant(a: Probe | undefined, b: Probe, target: number): number | undefined {
  if (a?.infeasible === undefined || b.infeasible === undefined) return undefined;
  if (b.value <= a.value || a.infeasible <= b.infeasible) return undefined;
  return b.value + Math.ceil(((b.infeasible - target) * (b.value - a.value)) / (a.infeasible - b.infeasible));
}

/**
 * An integer v in (lo, hi] that passes (at most `target` infeasible) while v − 1 fails (or v − 1 ≤ lo, the
 * value searched from, taken to fail): a checked boundary. Undefined when hi fails too. The first probe is
 * just under `guess` (or under `knownPass`, a value already seen to pass); then secant steps through the two
 * failing values nearest the boundary (lo is planned only when a secant needs its count). A secant step that
 * does not halve the bracket is followed by bisection, except once by checking a passing prediction one
 * lower: at most about 2·log2(hi − lo) + 5 plans. `infeasibleAt` need not be monotone.
 */
export function leastPassing(
  lo: Probe,
  hi: number,
  guess: number,
  target: number,
  infeasibleAt: (v: number) => number,
  knownPass?: number,
): { readonly value: number; readonly below: number } | undefined {
  const min = Math.floor(lo.value) + 1;
  if (min > hi) return undefined;
  let fail: Probe = lo;
  let before: Probe | undefined;
  let pass = knownPass !== undefined && knownPass >= min && knownPass <= hi ? knownPass : undefined;
  if (pass === min) return { value: pass, below: lo.value };
  let fromSecant = false;
  let checkedOneLower = false;
  let next =
    pass !== undefined
      ? pass - 1
      : Math.min(hi, Math.max(min, Math.floor(lo.value + (guess - lo.value) * 0.9)));
  for (;;) {
    const widthBefore = pass === undefined ? Number.POSITIVE_INFINITY : pass - fail.value;
    const infeasible = infeasibleAt(next);
    const passed = fits(infeasible, target);
    if (passed) pass = next;
    else {
      before = fail;
      fail = { value: next, infeasible };
    }
    if (pass !== undefined && pass - fail.value <= 1) return { value: pass, below: fail.value };
    if (pass === undefined && fail.value >= hi) return undefined;
    if (before !== undefined && before.infeasible === undefined)
      before = { value: before.value, infeasible: infeasibleAt(before.value) };
    const predicted = secant(before, fail, target);
    if (pass === undefined) {
      // Nothing passes yet: one secant probe, unless the counts flatten (the secant would leap more than
      // four times the last step); then hi says whether any value passes at all.
      const step = fail.value - (before?.value ?? fail.value);
      const leap = predicted === undefined || predicted - fail.value > 4 * step;
      fromSecant = !leap && !fromSecant;
      next = fromSecant && predicted !== undefined ? Math.min(hi, predicted) : hi;
      continue;
    }
    const stalled = fromSecant && pass - fail.value > widthBefore / 2;
    const oneLower: boolean =
      stalled && passed && !checkedOneLower && predicted !== undefined && predicted >= pass;
    if (predicted === undefined || (stalled && !oneLower)) {
      fromSecant = false;
      next = Math.floor((fail.value + pass) / 2);
    } else {
      checkedOneLower ||= oneLower;
      fromSecant = true;
      next = Math.min(pass - 1, Math.max(Math.floor(fail.value) + 1, predicted));
    }
  }
}

/** One setting a suggestion changes, with the check that one lower does not do. */
export interface Change {
  /** The config path: `maxUnavailablePerGroup` or `waves[1].maxParallel`. */
  readonly setting: string;
  readonly wave?: string;
  readonly from: CountOrPercent;
  readonly to: CountOrPercent;
  /** The next lower value (or the current one), planned with the rest of the suggestion. */
  readonly below: CountOrPercent;
  readonly infeasibleBelow: number;
}

export interface Suggestion {
  readonly changes: readonly Change[];
  /** The plan with the suggested values. */
  readonly result: PlanSummary;
}

export type CauseCode = 'deadline' | 'api' | 'windows' | 'time';
export interface Cause {
  readonly code: CauseCode;
  readonly text: string;
}

/** A setting the search may raise; values are in the kind of the config's own (count or percent). */
interface Knob {
  readonly setting: string;
  readonly wave?: string;
  readonly current: CountOrPercent;
  readonly hi: number;
  readonly guess: number;
  /** The plan reached this limit somewhere: the search starts at the guess, else at its highest value. */
  readonly binds: boolean;
  get(limits: Limits): CountOrPercent;
  set(limits: Limits, value: number): Limits;
}

const raisable = (k: Knob): boolean => Math.floor(k.current.value) + 1 <= k.hi;

/**
 * The search's first probe (only that: re-planning decides): the limit scaled by how many more of its
 * instances must fit, limit × (planned + fixable share of infeasible) / planned.
 */
const scaledNeed = (limit: number, t: Tally, fixable: number): number =>
  Math.ceil((limit * (t.planned + t.infeasible * fixable)) / Math.max(1, t.planned));

interface Tally {
  readonly size: number;
  readonly limit: number;
  /** Most at once in the plan: a group's peak, a wave's fullest batch. */
  readonly peak: number;
  readonly planned: number;
  readonly infeasible: number;
}

function groupKnob(config: Config, groups: ReadonlyMap<string, Tally>, fixable: number): Knob {
  const current = config.maxUnavailablePerGroup;
  let maxSize = 1;
  let guess = Math.floor(current.value) + 1;
  let binds = false;
  for (const t of groups.values()) {
    maxSize = Math.max(maxSize, t.size);
    if (t.infeasible === 0) continue;
    binds ||= t.peak >= t.limit;
    const need = scaledNeed(t.limit, t, fixable);
    guess = Math.max(guess, current.kind === 'count' ? need : Math.ceil((100 * need) / t.size));
  }
  return {
    setting: 'maxUnavailablePerGroup',
    current,
    hi: current.kind === 'percent' ? 100 : maxSize,
    guess,
    binds,
    get: (l) => l.group,
    set: (l, v) => ({ ...l, group: { kind: current.kind, value: v } }),
  };
}

function waveKnob(config: Config, index: number, t: Tally, fixable: number): Knob {
  const wave = config.waves[index];
  if (!wave) throw new Error(`no wave ${index}`);
  const current = wave.maxParallel;
  const need = scaledNeed(t.limit, t, fixable);
  return {
    setting: `waves[${index}].maxParallel`,
    wave: wave.name,
    current,
    hi: current.kind === 'percent' ? 100 : Math.max(1, t.size),
    guess: current.kind === 'count' ? need : Math.ceil((100 * need) / Math.max(1, t.size)),
    binds: t.peak >= t.limit,
    get: (l) => l.waves[index] ?? current,
    set: (l, v) => ({
      ...l,
      waves: l.waves.map((w, i) => (i === index ? { kind: current.kind, value: v } : w)),
    }),
  };
}

interface Search {
  readonly rp: Replanner;
  readonly base: Limits;
  /** What the highest limits achieve: a suggestion must leave no more infeasible than this. */
  readonly target: number;
}

/**
 * The setting's least passing value with `others`. A setting the plan never reached is planned at its
 * highest value first (it likely does not help: one plan says so); one it reached starts at the guess.
 */
function searchKnob(s: Search, k: Knob, others: Limits, knownPass?: number) {
  const at = (v: number) => s.rp.summary(k.set(others, v)).infeasible;
  if (!k.binds && knownPass === undefined && (!raisable(k) || !fits(at(k.hi), s.target))) return undefined;
  const lo = { value: k.current.value, infeasible: s.rp.known(k.set(others, k.current.value))?.infeasible };
  return leastPassing(lo, k.hi, k.guess, s.target, at, knownPass);
}

const atHighest = (knobs: readonly Knob[], from: Limits): Limits =>
  knobs.reduce((l, k) => k.set(l, k.hi), from);

/**
 * The waves' maxParallel one after another: later waves stay at their highest while an earlier one is
 * searched. Undefined when the first cannot pass even with every wave at its highest.
 */
function searchWaves(s: Search, knobs: readonly Knob[], from: Limits): Limits | undefined {
  let limits = atHighest(knobs, from);
  for (const k of knobs) {
    const r = searchKnob(s, k, limits);
    if (!r) return undefined; // only the first: later ones pass at least at their highest
    limits = k.set(limits, r.value);
  }
  return knobs.length > 0 ? limits : undefined;
}

/** The changed settings of `final`, each checked one lower with the rest of the suggestion. */
function suggestionOf(s: Search, knobs: readonly Knob[], final: Limits): Suggestion {
  const changes: Change[] = [];
  for (const k of knobs) {
    const to = k.get(final);
    if (to.value === k.current.value) continue;
    const below = Math.max(k.current.value, to.value - 1);
    changes.push({
      setting: k.setting,
      ...(k.wave === undefined ? {} : { wave: k.wave }),
      from: k.current,
      to,
      below: { kind: to.kind, value: below },
      infeasibleBelow: s.rp.summary(k.set(final, below)).infeasible,
    });
  }
  return { changes, result: s.rp.summary(final) };
}

/**
 * maxUnavailablePerGroup alone; the waves' maxParallel alone; and only when neither does, both: the group
 * limit with the waves at their highest, then the waves with it, then the group limit again with their values.
 * Also names the settings that were searched alone and do not do it alone.
 */
function suggest(
  s: Search,
  group: Knob,
  waves: readonly Knob[],
): Pick<DrillReport, 'suggestions' | 'notEnoughAlone'> {
  const knobs = raisable(group) ? [group, ...waves] : waves;
  const suggestions: Suggestion[] = [];
  const notEnoughAlone: string[] = [];
  if (raisable(group)) {
    const alone = searchKnob(s, group, s.base);
    if (alone) suggestions.push(suggestionOf(s, knobs, group.set(s.base, alone.value)));
    else notEnoughAlone.push(group.setting);
  }
  if (waves.length > 0) {
    const wavesAlone = searchWaves(s, waves, s.base);
    if (wavesAlone) suggestions.push(suggestionOf(s, knobs, wavesAlone));
    else notEnoughAlone.push(...waves.map((k) => k.setting));
  }
  if (suggestions.length > 0 || !raisable(group) || waves.length === 0)
    return { suggestions, notEnoughAlone };
  const first = searchKnob(s, group, atHighest(waves, s.base));
  const withWaves = first && searchWaves(s, waves, group.set(s.base, first.value));
  const again = first && withWaves && searchKnob(s, group, withWaves, group.get(withWaves).value);
  if (withWaves && again) suggestions.push(suggestionOf(s, knobs, group.set(withWaves, again.value)));
  return { suggestions, notEnoughAlone };
}

/** Why the highest limits still leave `top.infeasible` out, each cause checked where a plan can check it. */
function diagnose(rp: Replanner, highest: Limits, top: PlanSummary): Cause[] {
  const config = rp.config;
  const v = formatDuration(config.verification.timeout);
  const m = formatDuration(config.deadlineMargin);
  const causes: Cause[] = [];
  const tooClose = top.reasons['deadline-too-close'] ?? 0;
  if (tooClose > 0)
    causes.push({
      code: 'deadline',
      text: `${tooClose} cannot even start: the deadline leaves less than deadlineMargin ${m} + verification.timeout ${v}`,
    });
  if (top.infeasible === tooClose) return causes;
  if (top.apiLimited > 0) {
    const cap = batchApiCaps(config.verification.timeout).stopStart;
    causes.push({
      code: 'api',
      text: `EC2 API throughput (AWS-FACTS §6): a batch holds at most ${cap} stop-starts within verification.timeout ${v}, a reboot migration counting as ${MIGRATION_FALLBACK_SHARE} of one for its fallback (StartInstances: 1,000 instances, then 2/s; Forestall plans with half), and ${top.apiLimited} of the ${top.span?.batches ?? 0} batches that fit before the deadline are full`,
    });
  }
  if (config.windows.length > 0) {
    const open = rp.summary(highest, { windows: [] });
    if (open.infeasible < top.infeasible)
      causes.push({
        code: 'windows',
        text: `windows: too few window hours before the deadline; without the windows ${top.infeasible - open.infeasible} more would make it`,
      });
  }
  if (causes.length === (tooClose > 0 ? 1 : 0))
    causes.push({
      code: 'time',
      text: `time: even at the highest limits, batches of verification.timeout ${v} plus each wave's bake, one after another, do not all fit before the deadline - deadlineMargin ${m}`,
    });
  return causes;
}

export interface GroupRow {
  readonly group: string;
  /** Every instance of the group in the data, opted in or not (the planner counts the whole group). */
  readonly size: number;
  readonly limit: number;
  /** Most of the group out of service at one instant in the plan. */
  readonly peak: number;
  readonly planned: number;
  readonly infeasible: number;
  readonly noRemedy: number;
  readonly notOptedIn: number;
}

/** An opted-in instance that does not make it: infeasible, or no remedy the config allows applies. */
export interface Unmade {
  readonly instanceId: string;
  readonly reason: string;
  readonly groups: readonly string[];
}

export interface DrillReport {
  readonly now: number;
  /** The drill events' NotBefore: now + deadline. */
  readonly notBefore: number;
  readonly deadlineMargin: number;
  readonly instances: {
    readonly total: number;
    readonly drilled: number;
    readonly notOptedIn: number;
    readonly planned: number;
    readonly infeasible: number;
    /** Opted in and running, but the planner skipped them (no remedy, report-only, no wave matched…). */
    readonly noRemedy: number;
    readonly notRunning: number;
  };
  /** Under the current config; absent when nothing is planned. */
  readonly rollout?: RolloutSpan;
  readonly groups: readonly GroupRow[];
  readonly infeasible: readonly Unmade[];
  readonly noRemedy: readonly Unmade[];
  readonly infeasibleReasons: Readonly<Record<string, number>>;
  readonly skippedReasons: Readonly<Record<string, number>>;
  readonly suggestions: readonly Suggestion[];
  /** Settings searched alone (up to their highest value) that do not let the infeasible make it alone. */
  readonly notEnoughAlone: readonly string[];
  /** Infeasible instances that no value of the limits lets make it, and why. */
  readonly noValueHelps?: {
    readonly instances: number;
    readonly reasons: Readonly<Record<string, number>>;
    readonly causes: readonly Cause[];
  };
  /** Plans made: the drill's own and the search's. */
  readonly plans: number;
}

export const makesIt = (r: DrillReport): boolean => r.instances.infeasible + r.instances.noRemedy === 0;

interface Fleet {
  readonly facts: readonly InstanceFacts[];
  readonly byId: ReadonlyMap<string, InstanceFacts>;
  readonly config: Config;
  readonly plan: Plan;
}

const idsOfGroups = (f: InstanceFacts | undefined, config: Config): string[] =>
  f ? groupIds(groupsOf(f, config.groupBy)) : [];

function unmade(fleet: Fleet, list: readonly { instanceId: string; reason: string }[]): Unmade[] {
  return list.map((n) => ({
    instanceId: n.instanceId,
    reason: n.reason,
    groups: idsOfGroups(fleet.byId.get(n.instanceId), fleet.config),
  }));
}

function groupRows(fleet: Fleet, infeasible: readonly Unmade[], noRemedy: readonly Unmade[]): GroupRow[] {
  const { config, plan } = fleet;
  const limits = groupLimits(fleet.facts, config);
  const peaks = peakPerGroup(plan);
  const count = tally;
  const size = count(fleet.facts.flatMap((f) => idsOfGroups(f, config)));
  const planned = count(plan.batches.flatMap((b) => b.items.flatMap((it) => groupIds(it.groups))));
  const bad = count(infeasible.flatMap((u) => u.groups));
  const none = count(noRemedy.flatMap((u) => u.groups));
  const out = count(
    fleet.facts.filter((f) => !isOptedIn(f.tags, config)).flatMap((f) => idsOfGroups(f, config)),
  );
  return Object.keys(size)
    .sort()
    .map((group) => ({
      group,
      size: size[group] ?? 0,
      limit: limits.get(group) ?? 1,
      peak: peaks.get(group) ?? 0,
      planned: planned[group] ?? 0,
      infeasible: bad[group] ?? 0,
      noRemedy: none[group] ?? 0,
      notOptedIn: out[group] ?? 0,
    }));
}

/** Per wave: units (instances the planner did not skip), planned and infeasible, for the search's first probe. */
function waveTallies(fleet: Fleet, units: readonly Notice[]): Tally[] {
  const { config, plan, byId } = fleet;
  const t = config.waves.map(() => ({ size: 0, limit: 0, peak: 0, planned: 0, infeasible: 0 }));
  const waveOf = (id: string) => {
    const f = byId.get(id);
    return f ? t[waveIndexOf(f.tags, config)] : undefined;
  };
  for (const n of units) {
    const w = waveOf(n.instanceId);
    if (w) w.size++;
  }
  config.waves.forEach((w, i) => {
    const tally = t[i];
    if (tally) tally.limit = resolveLimit(w.maxParallel, tally.size);
  });
  for (const b of plan.batches) {
    const w = t[config.waves.findIndex((x) => x.name === b.wave)];
    if (!w) continue;
    w.planned += b.items.length;
    w.peak = Math.max(w.peak, b.items.length);
  }
  for (const n of plan.infeasible) {
    const w = waveOf(n.instanceId);
    if (w) w.infeasible++;
  }
  return t;
}

/** Searches the limits when some instance is infeasible: the suggestions, and what no limit fixes. */
function searchLimits(
  fleet: Fleet,
  rp: Replanner,
  rows: readonly GroupRow[],
  waves: readonly Tally[],
): Pick<DrillReport, 'suggestions' | 'notEnoughAlone' | 'noValueHelps'> {
  const { config } = fleet;
  const base = limitsOf(config);
  const baseline = rp.summary(base);
  if (baseline.infeasible === 0) return { suggestions: [], notEnoughAlone: [] };
  const knobsWith = (fixable: number) => ({
    group: groupKnob(config, new Map(rows.map((r) => [r.group, r])), fixable),
    waves: waves
      .flatMap((t, i) => (t.infeasible > 0 ? [waveKnob(config, i, t, fixable)] : []))
      .filter(raisable),
  });
  // The highest values do not depend on the guesses: find what they achieve first.
  const probe = knobsWith(1);
  const highest = atHighest(raisable(probe.group) ? [probe.group, ...probe.waves] : probe.waves, base);
  const top = rp.summary(highest);
  // When the highest limits do no better than the config, no value helps any of the infeasible.
  const noneHelps = top.infeasible >= baseline.infeasible;
  const unfixed = noneHelps ? baseline : top;
  const noValueHelps =
    unfixed.infeasible > 0
      ? { instances: unfixed.infeasible, reasons: unfixed.reasons, causes: diagnose(rp, highest, top) }
      : undefined;
  if (noneHelps) return { suggestions: [], notEnoughAlone: [], ...(noValueHelps ? { noValueHelps } : {}) };
  const { group, waves: waveKnobs } = knobsWith(1 - top.infeasible / baseline.infeasible);
  const found = suggest({ rp, base, target: top.infeasible }, group, waveKnobs);
  return { ...found, ...(noValueHelps ? { noValueHelps } : {}) };
}

export interface DrillInput {
  /** Every instance of the Region (DescribeInstances), opted in or not: group limits count whole groups. */
  readonly facts: readonly InstanceFacts[];
  readonly config: Config;
  readonly now: number;
  /** How long from now until the drill's events are due (ms). */
  readonly deadline: number;
}

export function runDrill(input: DrillInput): DrillReport {
  const { config, now, deadline } = input;
  const facts = uniqueFacts(input.facts);
  const notices = drillNotices(facts, config, now, deadline);
  const plan = planRollout(notices, facts, config, now);
  const fleet: Fleet = { facts, byId: new Map(facts.map((f) => [f.instanceId, f])), config, plan };
  const notRunning = plan.skipped.filter((s) => reasonCode(s.reason) === 'instance-not-running');
  const noRemedy = unmade(
    fleet,
    plan.skipped.filter((s) => reasonCode(s.reason) !== 'instance-not-running'),
  );
  const infeasible = unmade(fleet, plan.infeasible);
  const rows = groupRows(fleet, infeasible, noRemedy);
  // The search re-plans only what the planner did not skip: a skip depends on facts and remedies, not on limits.
  const skipped = new Set(plan.skipped.map((s) => s.instanceId));
  const units = notices.filter((n) => !skipped.has(n.instanceId));
  const rp = new Replanner(units, facts, config, now);
  const summary = summarize(plan);
  rp.seed(limitsOf(config), summary);
  const search = searchLimits(fleet, rp, rows, waveTallies(fleet, units));
  return {
    now,
    notBefore: now + deadline,
    deadlineMargin: config.deadlineMargin,
    instances: {
      total: facts.length,
      drilled: notices.length,
      notOptedIn: facts.length - notices.length,
      planned: plan.batches.reduce((n, b) => n + b.items.length, 0),
      infeasible: infeasible.length,
      noRemedy: noRemedy.length,
      notRunning: notRunning.length,
    },
    ...(summary.span ? { rollout: summary.span } : {}),
    groups: rows,
    infeasible,
    noRemedy,
    infeasibleReasons: summary.reasons,
    skippedReasons: tally(plan.skipped.map((s) => reasonCode(s.reason))),
    ...search,
    plans: 1 + rp.plans,
  };
}
